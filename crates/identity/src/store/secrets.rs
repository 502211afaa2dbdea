//! Tenant keys, subject keys and encrypted special-category values (see [`crate::crypto`]).

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use storage::TenantTx;

use super::entity::account_secret;
use crate::IdentityError;
use crate::crypto::{Key, field_aad, subject_key_aad};
use crate::keyring::Keyring;

/// The field name special requirements are bound to.
pub const SPECIAL_REQUIREMENTS: &str = "special_requirements";

async fn secret_row(
    tx: &TenantTx,
    account_id: &str,
) -> Result<Option<account_secret::Model>, IdentityError> {
    Ok(account_secret::Entity::find()
        .filter(account_secret::Column::TenantId.eq(tx.tenant().as_str()))
        .filter(account_secret::Column::AccountId.eq(account_id))
        .one(&**tx)
        .await?)
}

/// The account's special requirements, decrypted; `None` when none are recorded.
///
/// # Errors
/// When the database fails or the value does not open.
pub async fn special_requirements(
    tx: &TenantTx,
    keys: &Keyring,
    account_id: &str,
    now: DateTime<Utc>,
) -> Result<Option<String>, IdentityError> {
    let Some(row) = secret_row(tx, account_id).await? else {
        return Ok(None);
    };
    let Some(sealed) = row.special_requirements else {
        return Ok(None);
    };
    let tenant = tx.tenant().as_str();
    let tkey = keys.tenant_key(tx, now).await?;
    let skey = tkey.unwrap_key(&row.subject_key, &subject_key_aad(tenant, account_id))?;
    let plain = skey.open(
        &sealed,
        &field_aad(tenant, account_id, SPECIAL_REQUIREMENTS),
    )?;
    String::from_utf8(plain)
        .map_err(|_| IdentityError::Undecryptable)
        .map(Some)
}

/// Records (or, with `None`, clears) the account's special requirements.
///
/// # Errors
/// When the database or encryption fails.
pub async fn set_special_requirements(
    tx: &TenantTx,
    keys: &Keyring,
    account_id: &str,
    value: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), IdentityError> {
    let tenant = tx.tenant().as_str();
    let tkey = keys.tenant_key(tx, now).await?;
    let subject_aad = subject_key_aad(tenant, account_id);
    let existing = secret_row(tx, account_id).await?;
    let (skey, wrapped) = match &existing {
        Some(row) => (
            tkey.unwrap_key(&row.subject_key, &subject_aad)?,
            row.subject_key.clone(),
        ),
        None => {
            let k = Key::generate()?;
            let w = tkey.wrap(&k, &subject_aad)?;
            (k, w)
        }
    };
    let sealed = value
        .map(|v| {
            skey.seal(
                v.as_bytes(),
                &field_aad(tenant, account_id, SPECIAL_REQUIREMENTS),
            )
        })
        .transpose()?;
    let model = account_secret::ActiveModel {
        tenant_id: Set(tenant.to_owned()),
        account_id: Set(account_id.to_owned()),
        subject_key: Set(wrapped),
        special_requirements: Set(sealed),
        updated_at: Set(now),
    };
    if existing.is_some() {
        model.update(&**tx).await?;
    } else {
        model.insert(&**tx).await?;
    }
    Ok(())
}

/// Destroys the account's subject key and every value under it (crypto-shredding: copies
/// in backups can no longer be opened either).
///
/// # Errors
/// When the database fails.
pub async fn shred(tx: &TenantTx, account_id: &str) -> Result<(), IdentityError> {
    account_secret::Entity::delete_many()
        .filter(account_secret::Column::TenantId.eq(tx.tenant().as_str()))
        .filter(account_secret::Column::AccountId.eq(account_id))
        .exec(&**tx)
        .await?;
    Ok(())
}
