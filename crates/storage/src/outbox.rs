//! The email outbox: mail is queued in the same transaction as the work that causes it, so a
//! rolled-back action sends nothing and a committed one is never lost. A sender (SMTP when
//! configured) drains it; until then the outbox is where mail can be read.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};

use crate::entity::outbox_email::{self, Column, Entity};
use crate::{StorageError, TenantTx};

/// An email to queue.
#[derive(Debug, Clone)]
pub struct Email<'a> {
    /// Recipient address.
    pub to: &'a str,
    /// Subject line.
    pub subject: &'a str,
    /// Plain-text body.
    pub body: &'a str,
}

/// Queues an email for the transaction's tenant.
///
/// # Errors
/// [`StorageError::Db`] when the insert fails.
pub async fn enqueue(
    tx: &TenantTx,
    now: DateTime<Utc>,
    email: Email<'_>,
) -> Result<String, StorageError> {
    let id = uuid::Uuid::now_v7().to_string();
    outbox_email::ActiveModel {
        tenant_id: Set(tx.tenant().to_string()),
        id: Set(id.clone()),
        to_address: Set(email.to.to_owned()),
        subject: Set(email.subject.to_owned()),
        body_text: Set(email.body.to_owned()),
        created_at: Set(now),
        sent_at: Set(None),
    }
    .insert(&**tx)
    .await?;
    Ok(id)
}

/// Every email queued for `to` in the transaction's tenant, oldest first.
///
/// # Errors
/// [`StorageError::Db`] when the query fails.
pub async fn for_recipient(
    tx: &TenantTx,
    to: &str,
) -> Result<Vec<outbox_email::Model>, StorageError> {
    Ok(Entity::find()
        .filter(Column::TenantId.eq(tx.tenant().as_str()))
        .filter(Column::ToAddress.eq(to))
        .order_by_asc(Column::Id)
        .all(&**tx)
        .await?)
}
