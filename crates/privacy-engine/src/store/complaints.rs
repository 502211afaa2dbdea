//! Tenant-scoped persistence for complaints (`complaint`) and their history
//! (`complaint_event`).

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{FromQueryResult, Value};
use storage::sql::Sql;
use storage::{StorageError, TenantTx};

use crate::PrivacyError;
use crate::store::record::{self, History};

const HISTORY: History = History {
    table: "complaint_event",
    parent: "complaint_id",
    with_account: true,
};

/// A stored complaint.
#[derive(Clone, Debug, PartialEq, Eq, FromQueryResult)]
pub struct ComplaintRow {
    /// Id.
    pub id: String,
    /// The complainant's account, when they were signed in or have one.
    pub account_id: Option<String>,
    /// Who complained.
    pub complainant_name: String,
    /// Where to answer, when known.
    pub complainant_email: Option<String>,
    /// What it is about, in their words or the officer's note of them.
    pub about: String,
    /// How it arrived ([`crate::domain::rights::Channel`]'s names).
    pub channel: String,
    /// The day it arrived.
    pub received_on: NaiveDate,
    /// The day it must be acknowledged by.
    pub acknowledge_by: NaiveDate,
    /// When it was acknowledged.
    pub acknowledged_at: Option<DateTime<Utc>>,
    /// Its stage: 0 with the service, then the tenant's escalation steps in order.
    pub stage: i32,
    /// `open` or `closed`.
    pub status: String,
    /// What was decided, once closed.
    pub outcome: Option<String>,
    /// Who recorded it.
    pub created_by: String,
    /// When it was recorded.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    /// When it was closed.
    pub closed_at: Option<DateTime<Utc>>,
}

const COLUMNS: &str = "id, account_id, complainant_name, complainant_email, about, channel, \
    received_on, acknowledge_by, acknowledged_at, stage, status, outcome, created_by, \
    created_at, updated_at, closed_at";

fn backend(tx: &TenantTx) -> sea_orm::DbBackend {
    sea_orm::ConnectionTrait::get_database_backend(&**tx)
}

fn values(r: &ComplaintRow) -> Vec<Value> {
    let v: [Value; 16] = [
        r.id.clone().into(),
        r.account_id.clone().into(),
        r.complainant_name.clone().into(),
        r.complainant_email.clone().into(),
        r.about.clone().into(),
        r.channel.clone().into(),
        r.received_on.into(),
        r.acknowledge_by.into(),
        r.acknowledged_at.into(),
        r.stage.into(),
        r.status.clone().into(),
        r.outcome.clone().into(),
        r.created_by.clone().into(),
        r.created_at.into(),
        r.updated_at.into(),
        r.closed_at.into(),
    ];
    v.into()
}

/// Stores a new complaint.
///
/// # Errors
/// When the insert fails.
pub async fn insert(tx: &TenantTx, r: &ComplaintRow) -> Result<(), PrivacyError> {
    record::insert(tx, "complaint", COLUMNS, values(r)).await
}

/// Writes back everything about `r` that can change.
///
/// # Errors
/// When the update fails.
pub async fn save(tx: &TenantTx, r: &ComplaintRow) -> Result<(), PrivacyError> {
    record::save(tx, "complaint", COLUMNS, values(r)).await
}

/// Complaints, open ones first (by the day they must be acknowledged), then closed ones
/// newest first; one complaint with `id`.
///
/// # Errors
/// When the query fails.
pub async fn list(tx: &TenantTx, id: Option<&str>) -> Result<Vec<ComplaintRow>, PrivacyError> {
    let mut sql = Sql::default();
    let t = sql.bind(tx.tenant().as_str());
    let one = match id {
        Some(id) => format!(" AND id = {}", sql.bind(id)),
        None => String::new(),
    };
    sql.text = format!(
        "SELECT {COLUMNS} FROM complaint WHERE tenant_id = {t}{one} \
         ORDER BY CASE WHEN status = 'open' THEN 0 ELSE 1 END, acknowledge_by, created_at DESC"
    );
    Ok(ComplaintRow::find_by_statement(sql.statement(backend(tx)))
        .all(&**tx)
        .await
        .map_err(StorageError::from)?)
}

pub use crate::store::record::EventRow as ComplaintEventRow;

/// Adds an entry to the history of `c`.
///
/// # Errors
/// When the insert fails.
pub async fn add_event(
    tx: &TenantTx,
    c: &ComplaintRow,
    now: DateTime<Utc>,
    actor: &str,
    action: &str,
    note: Option<&str>,
) -> Result<(), PrivacyError> {
    record::add_event(
        tx,
        HISTORY,
        &c.id,
        c.account_id.as_deref(),
        now,
        actor,
        action,
        note,
    )
    .await
}

/// The history of complaint `id`, oldest first.
///
/// # Errors
/// When the query fails.
pub async fn events(tx: &TenantTx, id: &str) -> Result<Vec<ComplaintEventRow>, PrivacyError> {
    record::events(tx, HISTORY, id).await
}
