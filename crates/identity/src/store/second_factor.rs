//! TOTP enrolments and recovery codes.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait as _};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use storage::TenantTx;

use super::entity::{account_totp, recovery_code};
use super::secrets::tenant_key;
use crate::IdentityError;
use crate::crypto::{Key, field_aad};
use crate::domain::token;

const TOTP_FIELD: &str = "totp_secret";

/// The account's enrolment, if any, with its secret decrypted.
///
/// # Errors
/// When the database fails or the secret does not open.
pub async fn enrolment(
    tx: &TenantTx,
    master: &Key,
    account_id: &str,
    now: DateTime<Utc>,
) -> Result<Option<(account_totp::Model, Vec<u8>)>, IdentityError> {
    let Some(row) = account_totp::Entity::find()
        .filter(account_totp::Column::TenantId.eq(tx.tenant().as_str()))
        .filter(account_totp::Column::AccountId.eq(account_id))
        .one(&**tx)
        .await?
    else {
        return Ok(None);
    };
    let key = tenant_key(tx, master, now).await?;
    let aad = field_aad(tx.tenant().as_str(), account_id, TOTP_FIELD);
    let secret = key.open(&row.secret_sealed, &aad)?;
    Ok(Some((row, secret)))
}

/// Replaces any enrolment with a new, unconfirmed one holding `secret`.
///
/// # Errors
/// When the database or encryption fails.
pub async fn begin(
    tx: &TenantTx,
    master: &Key,
    account_id: &str,
    secret: &[u8],
    now: DateTime<Utc>,
) -> Result<(), IdentityError> {
    let key = tenant_key(tx, master, now).await?;
    let aad = field_aad(tx.tenant().as_str(), account_id, TOTP_FIELD);
    account_totp::Entity::delete_many()
        .filter(account_totp::Column::TenantId.eq(tx.tenant().as_str()))
        .filter(account_totp::Column::AccountId.eq(account_id))
        .exec(&**tx)
        .await?;
    account_totp::ActiveModel {
        tenant_id: Set(tx.tenant().to_string()),
        account_id: Set(account_id.to_owned()),
        secret_sealed: Set(key.seal(secret, &aad)?),
        confirmed_at: Set(None),
        last_step: Set(None),
        created_at: Set(now),
    }
    .insert(&**tx)
    .await?;
    Ok(())
}

/// Records that a code for `step` was accepted (and confirms the enrolment). Succeeds only
/// when `step` is later than any step used before, in one conditional update, so the same
/// code cannot be used twice even by two simultaneous requests.
///
/// # Errors
/// [`IdentityError::BadSecondFactor`] for a replayed step.
pub async fn accept_step(
    tx: &TenantTx,
    account_id: &str,
    step: i64,
    now: DateTime<Utc>,
) -> Result<(), IdentityError> {
    let done = account_totp::Entity::update_many()
        .filter(account_totp::Column::TenantId.eq(tx.tenant().as_str()))
        .filter(account_totp::Column::AccountId.eq(account_id))
        .filter(
            account_totp::Column::LastStep
                .is_null()
                .or(account_totp::Column::LastStep.lt(step)),
        )
        .col_expr(account_totp::Column::LastStep, Expr::value(step))
        .col_expr(
            account_totp::Column::ConfirmedAt,
            Expr::col(account_totp::Column::ConfirmedAt).if_null(now),
        )
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
