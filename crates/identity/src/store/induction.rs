//! Tenant-scoped reads and writes of induction records.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use storage::TenantTx;

use super::entity::induction_record;
use crate::IdentityError;
use crate::domain::induction::Induction;

/// The account's induction record, if any.
///
/// # Errors
/// When the query fails.
pub async fn find(
    tx: &TenantTx,
    account_id: &str,
) -> Result<Option<induction_record::Model>, IdentityError> {
    Ok(induction_record::Entity::find()
        .filter(induction_record::Column::TenantId.eq(tx.tenant().as_str()))
        .filter(induction_record::Column::AccountId.eq(account_id))
        .one(&**tx)
        .await?)
}

/// Creates or replaces the account's induction record.
///
/// # Errors
/// When the write fails.
pub async fn save(
    tx: &TenantTx,
    account_id: &str,
    record: &Induction,
    now: DateTime<Utc>,
) -> Result<(), IdentityError> {
    let existing = find(tx, account_id).await?;
    let model = induction_record::ActiveModel {
        tenant_id: Set(tx.tenant().to_string()),
        account_id: Set(account_id.to_owned()),
        trn: Set(record.trn.clone()),
        qualification_institution: Set(record.qualification_institution.clone()),
        key_stage: Set(record.key_stage.clone()),
        year_group: Set(record.year_group.clone()),
        start_date: Set(record.start_date),
        date_of_birth: Set(record.date_of_birth),
        updated_at: Set(now),
        // Made once; edits keep the day it was made.
        created_at: Set(Some(
            existing.as_ref().and_then(|e| e.created_at).unwrap_or(now),
        )),
    };
    if existing.is_some() {
        model.update(&**tx).await?;
    } else {
        model.insert(&**tx).await?;
    }
    Ok(())
}
