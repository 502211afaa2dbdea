//! Tenant-scoped persistence for complaints (`complaint`) and their history
//! (`complaint_event`).

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{FromQueryResult, Value};
use storage::sql::Sql;
use storage::{StorageError, TenantTx};

use crate::PrivacyError;

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

fn values(sql: &mut Sql, r: &ComplaintRow) -> Vec<String> {
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
    v.into_iter().map(|x| sql.bind(x)).collect()
}

/// Stores a new complaint.
///
/// # Errors
/// When the insert fails.
pub async fn insert(tx: &TenantTx, r: &ComplaintRow) -> Result<(), PrivacyError> {
    let mut sql = Sql::default();
    let t = sql.bind(tx.tenant().as_str());
    let v = values(&mut sql, r).join(", ");
    sql.text = format!("INSERT INTO complaint (tenant_id, {COLUMNS}) VALUES ({t}, {v})");
    sql.execute(tx).await?;
    Ok(())
}

/// Writes back everything about `r` that can change.
///
/// # Errors
/// When the update fails.
pub async fn save(tx: &TenantTx, r: &ComplaintRow) -> Result<(), PrivacyError> {
    let mut sql = Sql::default();
    let t = sql.bind(tx.tenant().as_str());
    let v = values(&mut sql, r);
    let set = COLUMNS
        .split(',')
        .map(str::trim)
        .zip(&v)
        .skip(1)
        .map(|(n, v)| format!("{n} = {v}"))
        .collect::<Vec<_>>()
        .join(", ");
    sql.text = format!(
        "UPDATE complaint SET {set} WHERE tenant_id = {t} AND id = {}",
        v[0]
    );
    sql.execute(tx).await?;
    Ok(())
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

/// One entry of a complaint's history.
#[derive(Clone, Debug, PartialEq, Eq, FromQueryResult)]
pub struct ComplaintEventRow {
    /// When.
    pub occurred_at: DateTime<Utc>,
    /// Who (`account:…`, `public`).
    pub actor: String,
    /// What happened, e.g. `escalated`.
    pub action: String,
    /// Anything written with it.
    pub note: Option<String>,
}

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
    let mut sql = Sql::default();
    let v = [
        sql.bind(tx.tenant().as_str()),
        sql.bind(uuid::Uuid::now_v7().to_string()),
        sql.bind(c.id.as_str()),
        sql.bind(c.account_id.clone()),
        sql.bind(now),
        sql.bind(actor),
        sql.bind(action),
        sql.bind(note.map(str::to_owned)),
    ]
    .join(", ");
    sql.text = format!(
        "INSERT INTO complaint_event \
         (tenant_id, id, complaint_id, account_id, occurred_at, actor, action, note) VALUES ({v})"
    );
    sql.execute(tx).await?;
    Ok(())
}

/// The history of complaint `id`, oldest first.
///
/// # Errors
/// When the query fails.
pub async fn events(tx: &TenantTx, id: &str) -> Result<Vec<ComplaintEventRow>, PrivacyError> {
    let mut sql = Sql::default();
    let t = sql.bind(tx.tenant().as_str());
    let i = sql.bind(id);
    sql.text = format!(
        "SELECT occurred_at, actor, action, note FROM complaint_event \
         WHERE tenant_id = {t} AND complaint_id = {i} ORDER BY occurred_at, id"
    );
    Ok(
        ComplaintEventRow::find_by_statement(sql.statement(backend(tx)))
            .all(&**tx)
            .await
            .map_err(StorageError::from)?,
    )
}
