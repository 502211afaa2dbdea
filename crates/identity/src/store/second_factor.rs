//! TOTP enrolments and recovery codes.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait as _};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use storage::TenantTx;

use super::entity::{account_totp, account_totp_pending, recovery_code};
use crate::IdentityError;
use crate::crypto::{TOTP_FIELD, field_aad};
use crate::domain::token;
use crate::keyring::Keyring;

/// The account's second factor in force (confirmed), if any, with its secret decrypted.
///
/// # Errors
/// When the database fails or the secret does not open.
pub async fn enrolment(
    tx: &TenantTx,
    keys: &Keyring,
    account_id: &str,
    now: DateTime<Utc>,
) -> Result<Option<(account_totp::Model, Vec<u8>)>, IdentityError> {
    let Some(row) = account_totp::Entity::find()
        .filter(account_totp::Column::TenantId.eq(tx.tenant().as_str()))
        .filter(account_totp::Column::AccountId.eq(account_id))
        .filter(account_totp::Column::ConfirmedAt.is_not_null())
        .one(&**tx)
        .await?
    else {
        return Ok(None);
    };
    let secret = open(tx, keys, account_id, &row.secret_sealed, now).await?;
    Ok(Some((row, secret)))
}

async fn open(
    tx: &TenantTx,
    keys: &Keyring,
    account_id: &str,
    sealed: &[u8],
    now: DateTime<Utc>,
) -> Result<Vec<u8>, IdentityError> {
    let key = keys.tenant_key(tx, now).await?;
    let aad = field_aad(tx.tenant().as_str(), account_id, TOTP_FIELD);
    key.open(sealed, &aad)
}

async fn seal(
    tx: &TenantTx,
    keys: &Keyring,
    account_id: &str,
    secret: &[u8],
    now: DateTime<Utc>,
) -> Result<Vec<u8>, IdentityError> {
    let key = keys.tenant_key(tx, now).await?;
    let aad = field_aad(tx.tenant().as_str(), account_id, TOTP_FIELD);
    key.seal(secret, &aad)
}

/// How long a set-up in progress waits for its first code: after that it is gone, and
/// someone with the account's session but not its proof cannot finish it.
pub const PENDING_LIFETIME: chrono::Duration = chrono::Duration::minutes(15);

/// The secret of a set-up in progress begun within [`PENDING_LIFETIME`], if any.
///
/// # Errors
/// When the database fails or the secret does not open.
pub async fn pending(
    tx: &TenantTx,
    keys: &Keyring,
    account_id: &str,
    now: DateTime<Utc>,
) -> Result<Option<Vec<u8>>, IdentityError> {
    let Some(row) = account_totp_pending::Entity::find()
        .filter(account_totp_pending::Column::TenantId.eq(tx.tenant().as_str()))
        .filter(account_totp_pending::Column::AccountId.eq(account_id))
        .filter(account_totp_pending::Column::CreatedAt.gt(now - PENDING_LIFETIME))
        .one(&**tx)
        .await?
    else {
        return Ok(None);
    };
    Ok(Some(
        open(tx, keys, account_id, &row.secret_sealed, now).await?,
    ))
}

/// Starts a set-up with `secret`, replacing any set-up in progress. The factor in force,
/// if any, is untouched until [`promote`].
///
/// # Errors
/// When the database or encryption fails.
pub async fn begin(
    tx: &TenantTx,
    keys: &Keyring,
    account_id: &str,
    secret: &[u8],
    now: DateTime<Utc>,
) -> Result<(), IdentityError> {
    let sealed = seal(tx, keys, account_id, secret, now).await?;
    delete_pending(tx, account_id).await?;
    account_totp_pending::ActiveModel {
        tenant_id: Set(tx.tenant().to_string()),
        account_id: Set(account_id.to_owned()),
        secret_sealed: Set(sealed),
        created_at: Set(now),
    }
    .insert(&**tx)
    .await?;
    Ok(())
}

async fn delete_pending(tx: &TenantTx, account_id: &str) -> Result<(), IdentityError> {
    account_totp_pending::Entity::delete_many()
        .filter(account_totp_pending::Column::TenantId.eq(tx.tenant().as_str()))
        .filter(account_totp_pending::Column::AccountId.eq(account_id))
        .exec(&**tx)
        .await?;
    Ok(())
}

/// Puts the set-up's `secret` in force, confirmed now with `step` as its last used step,
/// in place of any factor before it; the set-up is done.
///
/// # Errors
/// When the database or encryption fails.
pub async fn promote(
    tx: &TenantTx,
    keys: &Keyring,
    account_id: &str,
    secret: &[u8],
    step: i64,
    now: DateTime<Utc>,
) -> Result<(), IdentityError> {
    let sealed = seal(tx, keys, account_id, secret, now).await?;
    delete_in_force(tx, account_id).await?;
    delete_pending(tx, account_id).await?;
    account_totp::ActiveModel {
        tenant_id: Set(tx.tenant().to_string()),
        account_id: Set(account_id.to_owned()),
        secret_sealed: Set(sealed),
        confirmed_at: Set(Some(now)),
        last_step: Set(Some(step)),
        created_at: Set(now),
    }
    .insert(&**tx)
    .await?;
    Ok(())
}

async fn delete_in_force(tx: &TenantTx, account_id: &str) -> Result<(), IdentityError> {
    account_totp::Entity::delete_many()
        .filter(account_totp::Column::TenantId.eq(tx.tenant().as_str()))
        .filter(account_totp::Column::AccountId.eq(account_id))
        .exec(&**tx)
        .await?;
    Ok(())
}

/// Removes the account's second factor: the one in force, any set-up and the recovery
/// codes.
///
/// # Errors
/// When the database fails.
pub async fn remove(tx: &TenantTx, account_id: &str) -> Result<(), IdentityError> {
    delete_in_force(tx, account_id).await?;
    delete_pending(tx, account_id).await?;
    recovery_code::Entity::delete_many()
        .filter(recovery_code::Column::TenantId.eq(tx.tenant().as_str()))
        .filter(recovery_code::Column::AccountId.eq(account_id))
        .exec(&**tx)
        .await?;
    Ok(())
}

/// Records that a code for `step` was accepted. Succeeds only
/// when `step` is later than any step used before, in one conditional update, so the same
/// code cannot be used twice even by two simultaneous requests.
///
/// # Errors
/// [`IdentityError::BadSecondFactor`] for a replayed step.
pub async fn accept_step(tx: &TenantTx, account_id: &str, step: i64) -> Result<(), IdentityError> {
    let done = account_totp::Entity::update_many()
        .filter(account_totp::Column::TenantId.eq(tx.tenant().as_str()))
        .filter(account_totp::Column::AccountId.eq(account_id))
        .filter(
            account_totp::Column::LastStep
                .is_null()
                .or(account_totp::Column::LastStep.lt(step)),
        )
        .col_expr(account_totp::Column::LastStep, Expr::value(step))
        .exec(&**tx)
        .await?;
    if done.rows_affected == 1 {
        Ok(())
    } else {
        Err(IdentityError::BadSecondFactor)
    }
}

/// Replaces the account's recovery codes with `count` new ones and returns them (shown
/// once; only their hashes are kept).
///
/// # Errors
/// When the database fails or no randomness is available.
pub async fn new_recovery_codes(
    tx: &TenantTx,
    account_id: &str,
    count: usize,
) -> Result<Vec<String>, IdentityError> {
    recovery_code::Entity::delete_many()
        .filter(recovery_code::Column::TenantId.eq(tx.tenant().as_str()))
        .filter(recovery_code::Column::AccountId.eq(account_id))
        .exec(&**tx)
        .await?;
    let mut codes = Vec::with_capacity(count);
    for _ in 0..count {
        // 10 characters from the token alphabet, grouped for reading aloud: ~60 bits.
        let raw = token::generate().map_err(IdentityError::random)?;
        let code: String = raw
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .take(10)
            .collect::<String>()
            .to_lowercase();
        let shown = format!("{}-{}", &code[..5], &code[5..]);
        recovery_code::ActiveModel {
            tenant_id: Set(tx.tenant().to_string()),
            account_id: Set(account_id.to_owned()),
            code_hash: Set(token::digest(&code)),
            used_at: Set(None),
        }
        .insert(&**tx)
        .await?;
        codes.push(shown);
    }
    Ok(codes)
}

/// Uses a recovery code once.
///
/// # Errors
/// [`IdentityError::BadSecondFactor`] when unknown or used.
pub async fn use_recovery_code(
    tx: &TenantTx,
    account_id: &str,
    code: &str,
    now: DateTime<Utc>,
) -> Result<(), IdentityError> {
    let normalised: String = code
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_lowercase();
    let done = recovery_code::Entity::update_many()
        .filter(recovery_code::Column::TenantId.eq(tx.tenant().as_str()))
        .filter(recovery_code::Column::AccountId.eq(account_id))
        .filter(recovery_code::Column::CodeHash.eq(token::digest(&normalised)))
        .filter(recovery_code::Column::UsedAt.is_null())
        .col_expr(recovery_code::Column::UsedAt, Expr::value(now))
        .exec(&**tx)
        .await?;
    if done.rows_affected == 1 {
        Ok(())
    } else {
        Err(IdentityError::BadSecondFactor)
    }
}
