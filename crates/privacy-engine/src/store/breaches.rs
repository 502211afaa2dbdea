//! Tenant-scoped persistence for the breach log (`breach`) and its history
//! (`breach_event`).

use chrono::{DateTime, Utc};
use sea_orm::{FromQueryResult, Value};
use storage::sql::Sql;
use storage::{StorageError, TenantTx};

use crate::PrivacyError;
use crate::store::record::{self, EventRow, History};

const HISTORY: History = History {
    table: "breach_event",
    parent: "breach_id",
    with_account: false,
};

/// A stored breach.
#[derive(Clone, Debug, PartialEq, Eq, FromQueryResult)]
pub struct BreachRow {
    /// Id.
    pub id: String,
    /// What happened.
    pub summary: String,
    /// Whose data, described (how many, which group).
    pub people_affected: String,
    /// The inventory categories involved, comma-separated.
    pub categories: String,
    /// When the council became aware of it: the ICO's 72 hours run from here.
    pub discovered_at: DateTime<Utc>,
    /// [`crate::domain::breach::Risk`]'s name.
    pub risk: String,
    /// Why that risk.
    pub risk_reason: String,
    /// [`crate::domain::breach::Decision`]'s name, for the ICO.
    pub ico_decision: String,
    /// When it was reported.
    pub ico_reported_at: Option<DateTime<Utc>>,
    /// The ICO's reference.
    pub ico_reference: Option<String>,
    /// Why it was not reported.
    pub ico_reason: Option<String>,
    /// [`crate::domain::breach::Decision`]'s name, for telling the people.
    pub people_decision: String,
    /// When they were told.
    pub people_told_at: Option<DateTime<Utc>>,
    /// How they were told, or why not.
    pub people_reason: Option<String>,
    /// `open` or `closed`.
    pub status: String,
    /// Who recorded it.
    pub created_by: String,
    /// When.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    /// When it was closed.
    pub closed_at: Option<DateTime<Utc>>,
}

const COLUMNS: &str = "id, summary, people_affected, categories, discovered_at, risk, \
    risk_reason, ico_decision, ico_reported_at, ico_reference, ico_reason, people_decision, \
    people_told_at, people_reason, status, created_by, created_at, updated_at, closed_at";

fn values(r: &BreachRow) -> Vec<Value> {
    vec![
        r.id.clone().into(),
        r.summary.clone().into(),
        r.people_affected.clone().into(),
        r.categories.clone().into(),
        r.discovered_at.into(),
        r.risk.clone().into(),
        r.risk_reason.clone().into(),
        r.ico_decision.clone().into(),
        r.ico_reported_at.into(),
        r.ico_reference.clone().into(),
        r.ico_reason.clone().into(),
        r.people_decision.clone().into(),
        r.people_told_at.into(),
        r.people_reason.clone().into(),
        r.status.clone().into(),
        r.created_by.clone().into(),
        r.created_at.into(),
        r.updated_at.into(),
        r.closed_at.into(),
    ]
}

/// Stores a new breach.
///
/// # Errors
/// When the insert fails.
pub async fn insert(tx: &TenantTx, r: &BreachRow) -> Result<(), PrivacyError> {
    record::insert(tx, "breach", COLUMNS, values(r)).await
}

/// Writes back everything about `r` that can change.
///
/// # Errors
/// When the update fails.
pub async fn save(tx: &TenantTx, r: &BreachRow) -> Result<(), PrivacyError> {
    record::save(tx, "breach", COLUMNS, values(r)).await
}

/// Breaches, open ones first (oldest discovery first), then closed ones newest first; one
/// breach with `id`.
///
/// # Errors
/// When the query fails.
pub async fn list(tx: &TenantTx, id: Option<&str>) -> Result<Vec<BreachRow>, PrivacyError> {
    let mut sql = Sql::default();
    let t = sql.bind(tx.tenant().as_str());
    let one = match id {
        Some(id) => format!(" AND id = {}", sql.bind(id)),
        None => String::new(),
    };
    sql.text = format!(
        "SELECT {COLUMNS} FROM breach WHERE tenant_id = {t}{one} \
         ORDER BY CASE WHEN status = 'open' THEN 0 ELSE 1 END, \
         CASE WHEN status = 'open' THEN discovered_at END, closed_at DESC"
    );
    let backend = sea_orm::ConnectionTrait::get_database_backend(&**tx);
    Ok(BreachRow::find_by_statement(sql.statement(backend))
        .all(&**tx)
        .await
        .map_err(StorageError::from)?)
}

/// Adds an entry to the history of `r`.
///
/// # Errors
/// When the insert fails.
pub async fn add_event(
    tx: &TenantTx,
    r: &BreachRow,
    now: DateTime<Utc>,
    actor: &str,
    action: &str,
    note: Option<&str>,
) -> Result<(), PrivacyError> {
    record::add_event(tx, HISTORY, &r.id, None, now, actor, action, note).await
}

/// The history of breach `id`, oldest first.
///
/// # Errors
/// When the query fails.
pub async fn events(tx: &TenantTx, id: &str) -> Result<Vec<EventRow>, PrivacyError> {
    record::events(tx, HISTORY, id).await
}
