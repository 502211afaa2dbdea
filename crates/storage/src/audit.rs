//! The per-tenant audit log: insert-only and hash-chained, so a removed or altered event
//! breaks verification. It is written in the same transaction as the change it records:
//! if the audit write fails, the change fails too.

use chrono::{DateTime, SubsecRound, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait as _, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use sha2::{Digest, Sha256};

use crate::entity::audit_event::{self, Column, Entity};
use crate::{StorageError, TenantTx};

const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What to record.
#[derive(Debug, Clone)]
pub struct AuditEntry<'a> {
    /// Who acted.
    pub actor: &'a str,
    /// What they did, `noun.verb` (e.g. `tenant.imported`).
    pub action: &'a str,
    /// What it was done to.
    pub subject: &'a str,
    /// Details (no secrets; personal data only where the action needs it).
    pub detail: serde_json::Value,
}

/// Appends an event to the transaction's tenant's chain and returns its sequence number.
///
/// # Errors
/// [`StorageError::Db`] when reading the chain head or inserting fails.
pub async fn record(
    tx: &TenantTx,
    now: DateTime<Utc>,
    entry: AuditEntry<'_>,
) -> Result<i64, StorageError> {
    let tenant = tx.tenant().as_str();
    if (**tx).get_database_backend() == sea_orm::DbBackend::Postgres {
        // The chain has one head per tenant: concurrent writers queue here (until their
        // transaction ends) instead of both claiming the next sequence number.
        (**tx)
            .execute_raw(sea_orm::Statement::from_sql_and_values(
                sea_orm::DbBackend::Postgres,
                "SELECT pg_advisory_xact_lock(hashtext('audit:' || $1))",
                [tenant.into()],
            ))
            .await?;
    }
    let head = Entity::find()
        .filter(Column::TenantId.eq(tenant))
        .order_by_desc(Column::Seq)
        .limit(1)
        .one(&**tx)
        .await?;
    let (seq, prev_hash) = head.map_or((1, GENESIS.to_owned()), |h| (h.seq + 1, h.hash));
    // PostgreSQL keeps microseconds; hash what is stored so verification agrees.
    let occurred_at = now.trunc_subsecs(6);
    let detail = entry.detail.to_string();
    let hash = chain_hash(
        &prev_hash,
        tenant,
        seq,
        occurred_at,
        entry.actor,
        entry.action,
        entry.subject,
        &detail,
    );
    Entity::insert(audit_event::ActiveModel {
        tenant_id: Set(tenant.to_owned()),
        seq: Set(seq),
        occurred_at: Set(occurred_at),
        actor: Set(entry.actor.to_owned()),
        action: Set(entry.action.to_owned()),
        subject: Set(entry.subject.to_owned()),
        detail: Set(detail),
        prev_hash: Set(prev_hash),
        hash: Set(hash),
    })
    .exec_without_returning(&**tx)
    .await?;
    Ok(seq)
}

/// The events of the transaction's tenant, oldest first.
///
/// # Errors
/// [`StorageError::Db`] when reading fails.
pub async fn list(tx: &TenantTx) -> Result<Vec<audit_event::Model>, StorageError> {
    Ok(Entity::find()
        .filter(Column::TenantId.eq(tx.tenant().as_str()))
        .order_by_asc(Column::Seq)
        .all(&**tx)
        .await?)
}

/// Walks the tenant's chain and returns how many events it holds.
///
/// # Errors
/// [`StorageError::AuditChainBroken`] at the first event whose hash or link does not match.
pub async fn verify(tx: &TenantTx) -> Result<usize, StorageError> {
    let events = list(tx).await?;
    let mut prev = GENESIS.to_owned();
    for (i, e) in events.iter().enumerate() {
        let expected_seq = i64::try_from(i).unwrap_or(i64::MAX).saturating_add(1);
        let hash = chain_hash(
            &prev,
            &e.tenant_id,
            e.seq,
            e.occurred_at,
            &e.actor,
            &e.action,
            &e.subject,
            &e.detail,
        );
        if e.seq != expected_seq || e.prev_hash != prev || e.hash != hash {
            return Err(StorageError::AuditChainBroken(tx.tenant().clone(), e.seq));
        }
        prev = hash;
    }
    Ok(events.len())
}

#[allow(clippy::too_many_arguments)]
fn chain_hash(
    prev: &str,
    tenant: &str,
    seq: i64,
    at: DateTime<Utc>,
    actor: &str,
    action: &str,
    subject: &str,
    detail: &str,
) -> String {
    let mut h = Sha256::new();
    // Length-prefixed fields, so moving bytes between fields changes the hash.
    for field in [
        prev,
        tenant,
        &seq.to_string(),
        &at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        actor,
        action,
        subject,
        detail,
    ] {
        h.update((field.len() as u64).to_be_bytes());
        h.update(field.as_bytes());
    }
    hex::encode(h.finalize())
}
