//! Tenant-scoped persistence for rights requests (`rights_request`) and their history
//! (`rights_request_event`).

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{FromQueryResult, Value};
use storage::sql::Sql;
use storage::{StorageError, TenantTx};
use tenant_router::config::Period;

use crate::PrivacyError;
use crate::store::record::{self, History};

const HISTORY: History = History {
    table: "rights_request_event",
    parent: "request_id",
    with_account: true,
};
use crate::domain::rights::{Outcome, RequestClock, Stage};

/// A stored request.
#[derive(Clone, Debug, PartialEq, Eq, FromQueryResult)]
pub struct RequestRow {
    /// Id.
    pub id: String,
    /// [`crate::domain::rights::Kind`], stored name.
    pub kind: String,
    /// [`crate::domain::rights::Channel`], stored name.
    pub channel: String,
    /// The person's account, when they have one here.
    pub account_id: Option<String>,
    /// Who asked.
    pub requester_name: String,
    /// Where to answer, when known.
    pub requester_email: Option<String>,
    /// What they asked for, in their words or the officer's note of them.
    pub details: String,
    /// The day it arrived.
    pub received_on: NaiveDate,
    /// The day the clock started.
    pub started_on: Option<NaiveDate>,
    /// The day the clock stopped for clarification, while stopped.
    pub paused_since: Option<NaiveDate>,
    /// Days stopped so far.
    pub paused_days: i32,
    /// Further months taken.
    pub extension_months: i32,
    /// Why the extension was taken.
    pub extension_reason: Option<String>,
    /// The deadline as things stand (`None` while it depends on the requester).
    pub due_on: Option<NaiveDate>,
    /// `awaiting_identity`, `open`, `awaiting_clarification` or `closed`.
    pub stage: String,
    /// How it ended, once closed.
    pub outcome: Option<String>,
    /// The privacy officer handling it (account id).
    pub assignee: Option<String>,
    /// The retention hold it placed on the person's account.
    pub hold_id: Option<String>,
    /// Who filed or logged it (`account:…`).
    pub created_by: String,
    /// When it was recorded.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    /// When it was closed.
    pub closed_at: Option<DateTime<Utc>>,
}

const COLUMNS: &str = "id, kind, channel, account_id, requester_name, requester_email, details, \
    received_on, started_on, paused_since, paused_days, extension_months, extension_reason, \
    due_on, stage, outcome, assignee, hold_id, created_by, created_at, updated_at, closed_at";

impl RequestRow {
    /// The request's clock, answered within `respond` (the tenant's
    /// `subject_rights.respond_within`).
    #[must_use]
    pub fn clock(&self, respond: Period) -> RequestClock {
        RequestClock {
            respond,
            received_on: self.received_on,
            started_on: self.started_on,
            paused_since: self.paused_since,
            paused_days: u32::try_from(self.paused_days).unwrap_or(0),
            extension_months: u32::try_from(self.extension_months).unwrap_or(0),
            stage: match (
                self.stage.as_str(),
                self.outcome.as_deref().and_then(Outcome::parse),
            ) {
                ("closed", Some(o)) => Stage::Closed(o),
                ("closed", None) => Stage::Closed(Outcome::Completed),
                ("awaiting_identity", _) => Stage::AwaitingIdentity,
                ("awaiting_clarification", _) => Stage::AwaitingClarification,
                _ => Stage::Open,
            },
        }
    }

    /// Takes on `clock`'s state (and the deadline it gives).
    pub fn set_clock(&mut self, clock: &RequestClock) {
        self.started_on = clock.started_on;
        self.paused_since = clock.paused_since;
        self.paused_days = i32::try_from(clock.paused_days).unwrap_or(i32::MAX);
        self.extension_months = i32::try_from(clock.extension_months).unwrap_or(0);
        self.due_on = clock.due().map(|d| d.day);
        let (stage, outcome) = match clock.stage {
            Stage::AwaitingIdentity => ("awaiting_identity", None),
            Stage::Open => ("open", None),
            Stage::AwaitingClarification => ("awaiting_clarification", None),
            Stage::Closed(o) => ("closed", Some(o.as_str().to_owned())),
        };
        stage.clone_into(&mut self.stage);
        self.outcome = outcome;
    }
}

fn backend(tx: &TenantTx) -> sea_orm::DbBackend {
    sea_orm::ConnectionTrait::get_database_backend(&**tx)
}

async fn rows(tx: &TenantTx, sql: Sql) -> Result<Vec<RequestRow>, PrivacyError> {
    Ok(RequestRow::find_by_statement(sql.statement(backend(tx)))
        .all(&**tx)
        .await
        .map_err(StorageError::from)?)
}

fn values(r: &RequestRow) -> Vec<Value> {
    let v: [Value; 22] = [
        r.id.clone().into(),
        r.kind.clone().into(),
        r.channel.clone().into(),
        r.account_id.clone().into(),
        r.requester_name.clone().into(),
        r.requester_email.clone().into(),
        r.details.clone().into(),
        r.received_on.into(),
        r.started_on.into(),
        r.paused_since.into(),
        r.paused_days.into(),
        r.extension_months.into(),
        r.extension_reason.clone().into(),
        r.due_on.into(),
        r.stage.clone().into(),
        r.outcome.clone().into(),
        r.assignee.clone().into(),
        r.hold_id.clone().into(),
        r.created_by.clone().into(),
        r.created_at.into(),
        r.updated_at.into(),
        r.closed_at.into(),
    ];
    v.into()
}

/// Stores a new request.
///
/// # Errors
/// When the insert fails.
pub async fn insert(tx: &TenantTx, r: &RequestRow) -> Result<(), PrivacyError> {
    record::insert(tx, "rights_request", COLUMNS, values(r)).await
}

/// Writes back everything about `r` that can change.
///
/// # Errors
/// When the update fails.
pub async fn save(tx: &TenantTx, r: &RequestRow) -> Result<(), PrivacyError> {
    record::save(tx, "rights_request", COLUMNS, values(r)).await
}

/// The request `id`, if the tenant has it.
///
/// # Errors
/// When the query fails.
pub async fn find(tx: &TenantTx, id: &str) -> Result<Option<RequestRow>, PrivacyError> {
    let mut sql = Sql::default();
    let t = sql.bind(tx.tenant().as_str());
    let i = sql.bind(id);
    sql.text = format!("SELECT {COLUMNS} FROM rights_request WHERE tenant_id = {t} AND id = {i}");
    Ok(rows(tx, sql).await?.into_iter().next())
}

/// Requests, oldest deadline first (closed ones last, newest first): those still open, or
/// with `closed` every one; only `account`'s when given.
///
/// # Errors
/// When the query fails.
pub async fn list(
    tx: &TenantTx,
    account: Option<&str>,
    closed: bool,
) -> Result<Vec<RequestRow>, PrivacyError> {
    let mut sql = Sql::default();
    let t = sql.bind(tx.tenant().as_str());
    let mut filter = String::new();
    if let Some(a) = account {
        filter.push_str(&format!(" AND account_id = {}", sql.bind(a)));
    }
    if !closed {
        filter.push_str(" AND stage <> 'closed'");
    }
    sql.text = format!(
        "SELECT {COLUMNS} FROM rights_request WHERE tenant_id = {t}{filter} \
         ORDER BY CASE WHEN stage = 'closed' THEN 1 ELSE 0 END, \
         CASE WHEN due_on IS NULL THEN 1 ELSE 0 END, due_on, received_on, created_at DESC"
    );
    rows(tx, sql).await
}

pub use crate::store::record::EventRow;

/// Adds an entry to the history of `r`.
///
/// # Errors
/// When the insert fails.
pub async fn add_event(
    tx: &TenantTx,
    r: &RequestRow,
    now: DateTime<Utc>,
    actor: &str,
    action: &str,
    note: Option<&str>,
) -> Result<(), PrivacyError> {
    record::add_event(
        tx,
        HISTORY,
        &r.id,
        r.account_id.as_deref(),
        now,
        actor,
        action,
        note,
    )
    .await
}

/// The history of request `id`, oldest first.
///
/// # Errors
/// When the query fails.
pub async fn events(tx: &TenantTx, id: &str) -> Result<Vec<EventRow>, PrivacyError> {
    record::events(tx, HISTORY, id).await
}

/// A prepared copy of a person's data, waiting to be fetched once.
#[derive(Clone, Debug, PartialEq, Eq, FromQueryResult)]
pub struct BundleRow {
    /// Id.
    pub id: String,
    /// The request it answers.
    pub request_id: String,
    /// Whose data it is (only they may fetch it).
    pub account_id: String,
    /// Where the archive is kept.
    pub object_key: String,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When its link lapses.
    pub expires_at: DateTime<Utc>,
    /// When it was fetched (the link then works no more).
    pub used_at: Option<DateTime<Utc>>,
}

const BUNDLE_COLUMNS: &str =
    "id, request_id, account_id, object_key, created_at, expires_at, used_at";

/// Records a bundle whose link's token has digest `token_hash`.
///
/// # Errors
/// When the insert fails.
pub async fn insert_bundle(
    tx: &TenantTx,
    b: &BundleRow,
    token_hash: &str,
) -> Result<(), PrivacyError> {
    let mut sql = Sql::default();
    let v = [
        sql.bind(tx.tenant().as_str()),
        sql.bind(b.id.as_str()),
        sql.bind(b.request_id.as_str()),
        sql.bind(b.account_id.as_str()),
        sql.bind(b.object_key.as_str()),
        sql.bind(token_hash),
        sql.bind(b.created_at),
        sql.bind(b.expires_at),
    ]
    .join(", ");
    sql.text = format!(
        "INSERT INTO rights_bundle (tenant_id, id, request_id, account_id, object_key, \
         token_hash, created_at, expires_at) VALUES ({v})"
    );
    sql.execute(tx).await?;
    Ok(())
}

/// The bundle whose link's token has digest `token_hash`, if any.
///
/// # Errors
/// When the query fails.
pub async fn bundle_by_token(
    tx: &TenantTx,
    token_hash: &str,
) -> Result<Option<BundleRow>, PrivacyError> {
    let mut sql = Sql::default();
    let t = sql.bind(tx.tenant().as_str());
    let h = sql.bind(token_hash);
    sql.text = format!(
        "SELECT {BUNDLE_COLUMNS} FROM rights_bundle WHERE tenant_id = {t} AND token_hash = {h}"
    );
    Ok(BundleRow::find_by_statement(sql.statement(backend(tx)))
        .one(&**tx)
        .await
        .map_err(StorageError::from)?)
}

/// Marks bundle `id` fetched at `now`; `false` when it already was (someone else won).
///
/// # Errors
/// When the update fails.
pub async fn use_bundle(tx: &TenantTx, id: &str, now: DateTime<Utc>) -> Result<bool, PrivacyError> {
    let mut sql = Sql::default();
    let n = sql.bind(now);
    let t = sql.bind(tx.tenant().as_str());
    let i = sql.bind(id);
    sql.text = format!(
        "UPDATE rights_bundle SET used_at = {n} WHERE tenant_id = {t} AND id = {i} \
         AND used_at IS NULL"
    );
    Ok(sql.execute(tx).await? == 1)
}

/// Bundles whose archives should go: fetched, or lapsed before `now`; or, with `accounts`,
/// every bundle of those accounts.
///
/// # Errors
/// When the query fails.
pub async fn spent_bundles(
    tx: &TenantTx,
    now: DateTime<Utc>,
    accounts: Option<&[String]>,
) -> Result<Vec<BundleRow>, PrivacyError> {
    let mut sql = Sql::default();
    let t = sql.bind(tx.tenant().as_str());
    let which = match accounts {
        Some([]) => return Ok(Vec::new()),
        Some(ids) => format!("account_id {}", sql.among(tx, ids)),
        None => format!("(used_at IS NOT NULL OR expires_at <= {})", sql.bind(now)),
    };
    sql.text =
        format!("SELECT {BUNDLE_COLUMNS} FROM rights_bundle WHERE tenant_id = {t} AND {which}");
    Ok(BundleRow::find_by_statement(sql.statement(backend(tx)))
        .all(&**tx)
        .await
        .map_err(StorageError::from)?)
}

/// Forgets bundle `id` (its archive deleted).
///
/// # Errors
/// When the delete fails.
pub async fn delete_bundle(tx: &TenantTx, id: &str) -> Result<(), PrivacyError> {
    let mut sql = Sql::default();
    let t = sql.bind(tx.tenant().as_str());
    let i = sql.bind(id);
    sql.text = format!("DELETE FROM rights_bundle WHERE tenant_id = {t} AND id = {i}");
    sql.execute(tx).await?;
    Ok(())
}

/// Rows of `table` about one person (`key` = `value`), with `columns`, as JSON objects.
/// `table`, `key` and `columns` come from the crates' declarations, never from input.
///
/// # Errors
/// When the query fails.
pub async fn rows_about(
    tx: &TenantTx,
    table: &str,
    key: &str,
    value: &str,
    columns: &[&str],
) -> Result<Vec<serde_json::Value>, PrivacyError> {
    if columns.is_empty() {
        return Ok(Vec::new());
    }
    #[derive(FromQueryResult)]
    struct Agg {
        rows: String,
    }
    let mut sql = Sql::default();
    let t = sql.bind(tx.tenant().as_str());
    let v = sql.bind(value);
    // The database builds the JSON (one string for all the rows): decoding each value of a
    // heavy user's thousands of rows one by one took most of a copy's time.
    sql.text = match backend(tx) {
        sea_orm::DbBackend::Postgres => format!(
            "SELECT COALESCE(json_agg(r), '[]'::json)::text AS rows FROM \
             (SELECT {} FROM {table} WHERE tenant_id = {t} AND {key} = {v}) r",
            columns.join(", ")
        ),
        _ => format!(
            "SELECT COALESCE(json_group_array(json_object({})), '[]') AS rows FROM {table} \
             WHERE tenant_id = {t} AND {key} = {v}",
            columns
                .iter()
                .map(|c| format!("'{c}', CASE typeof({c}) WHEN 'blob' THEN hex({c}) ELSE {c} END"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let agg = Agg::find_by_statement(sql.statement(backend(tx)))
        .one(&**tx)
        .await
        .map_err(StorageError::from)?;
    match agg {
        Some(a) => serde_json::from_str(&a.rows).map_err(|e| PrivacyError::Corrupt(e.to_string())),
        None => Ok(Vec::new()),
    }
}

/// Keeps the rights requests and complaints of `accounts` (with their history) as records
/// once the accounts are erased: they stop naming the account, and keep the requester's
/// name and address, to which the reply goes, until the tenant's `keep_records` after they
/// close ([`crate::kept`]). Copies of their data go.
///
/// # Errors
/// When an update fails.
pub async fn detach_accounts(tx: &TenantTx, accounts: &[String]) -> Result<(), PrivacyError> {
    if accounts.is_empty() {
        return Ok(());
    }
    for table in [
        "rights_request",
        "rights_request_event",
        "rights_bundle",
        "complaint",
        "complaint_event",
    ] {
        let mut sql = Sql::default();
        let t = sql.bind(tx.tenant().as_str());
        let ids = sql.among(tx, accounts);
        sql.text = if table == "rights_bundle" {
            format!("DELETE FROM {table} WHERE tenant_id = {t} AND account_id {ids}")
        } else {
            format!(
                "UPDATE {table} SET account_id = NULL WHERE tenant_id = {t} AND account_id {ids}"
            )
        };
        sql.execute(tx).await?;
    }
    Ok(())
}

/// Deletes unsent mail that names `email` anywhere in its text (mail to the address itself
/// goes with the person's other rows). Returns how many went.
///
/// # Errors
/// When the delete fails.
pub async fn delete_unsent_mail_naming(tx: &TenantTx, email: &str) -> Result<u64, PrivacyError> {
    let pattern = format!(
        "%{}%",
        email
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    );
    let mut sql = Sql::default();
    let t = sql.bind(tx.tenant().as_str());
    let p = sql.bind(pattern);
    sql.text = format!(
        "DELETE FROM outbox_email WHERE tenant_id = {t} AND sent_at IS NULL \
         AND body_text LIKE {p} ESCAPE '\\'"
    );
    Ok(sql.execute(tx).await?)
}
