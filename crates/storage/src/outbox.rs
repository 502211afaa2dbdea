//! The email outbox: mail is queued in the same transaction as the work that causes it, so a
//! rolled-back action sends nothing and a committed one is never lost. A sender (SMTP when
//! configured) drains it; until then the outbox is where mail can be read.

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};

use crate::entity::outbox_email::{self, Column, Entity};
use crate::{StorageError, TenantTx, Writes};
use tenant_router::TenantId;

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

/// A text attachment.
#[derive(Debug, Clone)]
pub struct Attachment<'a> {
    /// File name, e.g. `booking.ics`.
    pub name: &'a str,
    /// Media type, e.g. `text/calendar; charset=utf-8`.
    pub content_type: &'a str,
    /// Content.
    pub text: &'a str,
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
    insert(tx, now, email, None).await
}

/// Queues an email with one attachment.
///
/// # Errors
/// [`StorageError::Db`] when the insert fails.
pub async fn enqueue_with_attachment(
    tx: &TenantTx,
    now: DateTime<Utc>,
    email: Email<'_>,
    attachment: Attachment<'_>,
) -> Result<String, StorageError> {
    insert(tx, now, email, Some(attachment)).await
}

async fn insert(
    tx: &TenantTx,
    now: DateTime<Utc>,
    email: Email<'_>,
    attachment: Option<Attachment<'_>>,
) -> Result<String, StorageError> {
    let mut writes = Writes::new();
    let id = add(&mut writes, tx.tenant(), now, email, attachment);
    writes.run(tx).await?;
    Ok(id)
}

/// Adds an email (with an attachment, if any) to `writes`, for a transaction of `tenant`;
/// returns its id. It is queued when the writes run, with the rest of the transaction.
pub fn add(
    writes: &mut Writes,
    tenant: &TenantId,
    now: DateTime<Utc>,
    email: Email<'_>,
    attachment: Option<Attachment<'_>>,
) -> String {
    let id = uuid::Uuid::now_v7().to_string();
    writes.insert(model(tenant, &id, now, email, attachment, None));
    id
}

/// The row of an email to queue.
pub(crate) fn model(
    tenant: &TenantId,
    id: &str,
    now: DateTime<Utc>,
    email: Email<'_>,
    attachment: Option<Attachment<'_>>,
    unsubscribe_url: Option<&str>,
) -> outbox_email::ActiveModel {
    outbox_email::ActiveModel {
        tenant_id: Set(tenant.to_string()),
        id: Set(id.to_owned()),
        to_address: Set(email.to.to_owned()),
        subject: Set(email.subject.to_owned()),
        body_text: Set(email.body.to_owned()),
        created_at: Set(now),
        sent_at: Set(None),
        claimed_until: Set(None),
        attempts: Set(0),
        last_error: Set(None),
        attachment_name: Set(attachment.as_ref().map(|a| a.name.to_owned())),
        attachment_type: Set(attachment.as_ref().map(|a| a.content_type.to_owned())),
        attachment_text: Set(attachment.map(|a| a.text.to_owned())),
        unsubscribe_url: Set(unsubscribe_url.map(str::to_owned)),
        digest: Set(None),
        about_account: Set(None),
    }
}

/// Queues a newsletter or marketing email that carries `unsubscribe_url` as its one-click
/// unsubscribe (`List-Unsubscribe` and `List-Unsubscribe-Post`, RFC 8058).
///
/// # Errors
/// [`StorageError::Db`] when the insert fails.
pub async fn enqueue_with_unsubscribe(
    tx: &TenantTx,
    now: DateTime<Utc>,
    email: Email<'_>,
    unsubscribe_url: &str,
) -> Result<String, StorageError> {
    let mut writes = Writes::new();
    let id = uuid::Uuid::now_v7().to_string();
    writes.insert(model(
        tx.tenant(),
        &id,
        now,
        email,
        None,
        Some(unsubscribe_url),
    ));
    writes.run(tx).await?;
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

/// Attempts after which a message is left for an operator (its last error says why).
pub const MAX_ATTEMPTS: i32 = 8;

/// Claims up to `limit` unsent messages of the transaction's tenant for a sender until
/// `until`, oldest first, and returns them. A message already claimed by another sender
/// (whose claim has not lapsed) or past [`MAX_ATTEMPTS`] is left alone; on PostgreSQL rows
/// another transaction is claiming are skipped, not waited for.
///
/// # Errors
/// [`StorageError::Db`] when the database fails.
pub async fn claim(
    tx: &TenantTx,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<outbox_email::Model>, StorageError> {
    use sea_orm::{ConnectionTrait as _, DbBackend, FromQueryResult as _};
    let backend = (**tx).get_database_backend();
    let lock = if backend == DbBackend::Postgres {
        " FOR UPDATE SKIP LOCKED"
    } else {
        ""
    };
    let mut sql = crate::sql::Sql::default();
    let t = sql.bind(tx.tenant().as_str());
    let u = sql.bind(until);
    let n = sql.bind(now);
    let max = sql.bind(MAX_ATTEMPTS);
    let l = sql.bind(i64::try_from(limit).unwrap_or(i64::MAX));
    sql.push(&format!(
        "UPDATE outbox_email SET claimed_until = {u} WHERE tenant_id = {t} AND id IN \
         (SELECT id FROM outbox_email WHERE tenant_id = {t} AND sent_at IS NULL AND digest IS NULL \
          AND (claimed_until IS NULL OR claimed_until <= {n}) AND attempts < {max} \
          ORDER BY id LIMIT {l}{lock}) \
         RETURNING tenant_id, id, to_address, subject, body_text, created_at, sent_at, \
           claimed_until, attempts, last_error, attachment_name, attachment_type, attachment_text, \
           unsubscribe_url, digest, about_account"
    ));
    let mut claimed = outbox_email::Model::find_by_statement(sql.statement(backend))
        .all(&**tx)
        .await?;
    claimed.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(claimed)
}

/// Deletes the messages sent before `before`, and those given up on (every attempt
/// failed) that were queued before it. Returns how many went.
///
/// # Errors
/// [`StorageError::Db`] when the delete fails.
pub async fn delete_sent_before(tx: &TenantTx, before: DateTime<Utc>) -> Result<u64, StorageError> {
    use sea_orm::sea_query::Condition;
    Ok(Entity::delete_many()
        .filter(Column::TenantId.eq(tx.tenant().as_str()))
        .filter(
            Condition::any().add(Column::SentAt.lt(before)).add(
                Condition::all()
                    .add(Column::SentAt.is_null())
                    .add(Column::Attempts.gte(MAX_ATTEMPTS))
                    .add(Column::CreatedAt.lt(before)),
            ),
        )
        .exec(&**tx)
        .await?
        .rows_affected)
}

/// Records that message `id` was handed to the mail server.
///
/// # Errors
/// [`StorageError::Db`] when the update fails.
pub async fn mark_sent(tx: &TenantTx, id: &str, now: DateTime<Utc>) -> Result<(), StorageError> {
    Entity::update_many()
        .filter(Column::TenantId.eq(tx.tenant().as_str()))
        .filter(Column::Id.eq(id))
        .col_expr(Column::SentAt, sea_orm::sea_query::Expr::value(now))
        .col_expr(
            Column::LastError,
            sea_orm::sea_query::Expr::value(Option::<String>::None),
        )
        .exec(&**tx)
        .await?;
    Ok(())
}

/// Records a failed attempt; the message is tried again after `retry_at`.
///
/// # Errors
/// [`StorageError::Db`] when the update fails.
pub async fn mark_failed(
    tx: &TenantTx,
    id: &str,
    error: &str,
    retry_at: DateTime<Utc>,
) -> Result<(), StorageError> {
    Entity::update_many()
        .filter(Column::TenantId.eq(tx.tenant().as_str()))
        .filter(Column::Id.eq(id))
        .col_expr(
            Column::Attempts,
            sea_orm::sea_query::ExprTrait::add(sea_orm::sea_query::Expr::col(Column::Attempts), 1),
        )
        .col_expr(
            Column::LastError,
            sea_orm::sea_query::Expr::value(error.chars().take(500).collect::<String>()),
        )
        .col_expr(
            Column::ClaimedUntil,
            sea_orm::sea_query::Expr::value(retry_at),
        )
        .exec(&**tx)
        .await?;
    Ok(())
}
