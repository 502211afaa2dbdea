//! The per-tenant audit log: insert-only and hash-chained, so a removed or altered event
//! breaks verification. An event is written in the same transaction as the change it
//! records (if the audit write fails, the change fails too), into a waiting table; sealing
//! links waiting events into the chain after they commit, so the chain's single head does
//! not make a tenant's transactions commit one at a time.

use chrono::{DateTime, SubsecRound, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait as _, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use sha2::{Digest, Sha256};

use crate::entity::audit_event::{self, Column, Entity};
use crate::entity::audit_pending;
use crate::{StorageError, TenantTx, Writes};
use tenant_router::TenantId;

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

/// Records an event with the change in hand: it commits or rolls back with `tx`, and is
/// sealed into the tenant's chain soon after it commits (see [`seal`]). Nothing is locked,
/// so a tenant's transactions do not queue behind one another here.
///
/// # Errors
/// [`StorageError::Db`] when inserting fails.
pub async fn record(
    tx: &TenantTx,
    now: DateTime<Utc>,
    entry: AuditEntry<'_>,
) -> Result<(), StorageError> {
    let mut writes = Writes::new();
    add(&mut writes, tx.tenant(), now, entry);
    writes.run(tx).await?;
    Ok(())
}

/// Adds an event to `writes`, for a transaction of `tenant`: recorded when the writes run,
/// as [`record`] does.
pub fn add(writes: &mut Writes, tenant: &TenantId, now: DateTime<Utc>, entry: AuditEntry<'_>) {
    writes.insert(audit_pending::ActiveModel {
        tenant_id: Set(tenant.to_string()),
        id: Set(uuid::Uuid::now_v7().to_string()),
        // PostgreSQL keeps microseconds; hash what is stored so verification agrees.
        occurred_at: Set(now.trunc_subsecs(6)),
        actor: Set(entry.actor.to_owned()),
        action: Set(entry.action.to_owned()),
        subject: Set(entry.subject.to_owned()),
        detail: Set(entry.detail.to_string()),
    });
}

/// Links every committed waiting event of the transaction's tenant into its chain, in the
/// order they were recorded, and returns how many. One sealer at a time per tenant (a
/// transaction-scoped lock on PostgreSQL; SQLite has one writer anyway).
///
/// # Errors
/// [`StorageError::Db`] when reading or writing fails.
pub async fn seal(tx: &TenantTx) -> Result<usize, StorageError> {
    let tenant = tx.tenant().as_str();
    if (**tx).get_database_backend() == sea_orm::DbBackend::Postgres {
        (**tx)
            .execute_raw(sea_orm::Statement::from_sql_and_values(
                sea_orm::DbBackend::Postgres,
                "SELECT pg_advisory_xact_lock(hashtext('audit:' || $1))",
                [tenant.into()],
            ))
            .await?;
    }
    let waiting = audit_pending::Entity::find()
        .filter(audit_pending::Column::TenantId.eq(tenant))
        .order_by_asc(audit_pending::Column::Id)
        .limit(SEAL_BATCH as u64)
        .all(&**tx)
        .await?;
    if waiting.is_empty() {
        return Ok(0);
    }
    let head = Entity::find()
        .filter(Column::TenantId.eq(tenant))
        .order_by_desc(Column::Seq)
        .limit(1)
        .one(&**tx)
        .await?;
    let (mut seq, mut prev_hash) = head.map_or((0, GENESIS.to_owned()), |h| (h.seq, h.hash));
    let mut sealed = Vec::with_capacity(waiting.len());
    for e in &waiting {
        seq += 1;
        let hash = chain_hash(
            &prev_hash,
            tenant,
            seq,
            e.occurred_at,
            &e.actor,
            &e.action,
            &e.subject,
            &e.detail,
        );
        sealed.push(audit_event::ActiveModel {
            tenant_id: Set(tenant.to_owned()),
            seq: Set(seq),
            occurred_at: Set(e.occurred_at),
            actor: Set(e.actor.clone()),
            action: Set(e.action.clone()),
            subject: Set(e.subject.clone()),
            detail: Set(e.detail.clone()),
            prev_hash: Set(std::mem::replace(&mut prev_hash, hash.clone())),
            hash: Set(hash),
        });
    }
    for chunk in sealed.chunks(100) {
        Entity::insert_many(chunk.to_vec())
            .exec_without_returning(&**tx)
            .await?;
    }
    audit_pending::Entity::delete_many()
        .filter(audit_pending::Column::TenantId.eq(tenant))
        .filter(audit_pending::Column::Id.is_in(waiting.iter().map(|e| e.id.as_str())))
        .exec(&**tx)
        .await?;
    Ok(waiting.len())
}

/// Most events sealed in one go.
pub const SEAL_BATCH: usize = 1_000;

/// The events of the transaction's tenant, oldest first (sealing any waiting first).
///
/// # Errors
/// [`StorageError::Db`] when reading fails.
pub async fn list(tx: &TenantTx) -> Result<Vec<audit_event::Model>, StorageError> {
    while seal(tx).await? > 0 {}
    Ok(Entity::find()
        .filter(Column::TenantId.eq(tx.tenant().as_str()))
        .order_by_asc(Column::Seq)
        .all(&**tx)
        .await?)
}

/// The events about account `id` or done by it, oldest first (for a copy of their data).
///
/// # Errors
/// [`StorageError::Db`] when reading fails.
pub async fn about(tx: &TenantTx, id: &str) -> Result<Vec<audit_event::Model>, StorageError> {
    while seal(tx).await? > 0 {}
    Ok(Entity::find()
        .filter(Column::TenantId.eq(tx.tenant().as_str()))
        .filter(
            sea_orm::Condition::any()
                .add(Column::Subject.eq(id))
                .add(Column::Actor.eq(format!("account:{id}"))),
        )
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
