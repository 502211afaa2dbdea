//! Tenant-scoped persistence for retention reviews (`retention_review`): a record a review
//! rule put in front of an administrator, and what they decided.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{FromQueryResult, Value};
use storage::sql::Sql;
use storage::{StorageError, TenantTx};

use crate::PrivacyError;

/// A stored review.
#[derive(Clone, Debug, PartialEq, Eq, FromQueryResult)]
pub struct ReviewRow {
    /// Id.
    pub id: String,
    /// Index of the rule in the tenant's list when it was opened.
    pub rule_index: i32,
    /// The rule as the notice stated it then.
    pub rule: String,
    /// [`crate::domain::executor::ReviewKind`]'s stored name.
    pub record_kind: String,
    /// The record's id (an account id, or the induction record's account id).
    pub record_id: String,
    /// The day the rule reached the record.
    pub due_on: NaiveDate,
    /// When the review was opened.
    pub created_at: DateTime<Utc>,
    /// `open`, `kept` or `disposed`.
    pub status: String,
    /// When it was decided.
    pub decided_at: Option<DateTime<Utc>>,
    /// Who decided.
    pub decided_by: Option<String>,
    /// Why it is kept.
    pub reason: Option<String>,
    /// Kept until this day; reviewed again after it.
    pub keep_until: Option<NaiveDate>,
}

const COLUMNS: &str = "id, rule_index, rule, record_kind, record_id, due_on, created_at, \
    status, decided_at, decided_by, reason, keep_until";

fn values(r: &ReviewRow) -> Vec<Value> {
    vec![
        r.id.clone().into(),
        r.rule_index.into(),
        r.rule.clone().into(),
        r.record_kind.clone().into(),
        r.record_id.clone().into(),
        r.due_on.into(),
        r.created_at.into(),
        r.status.clone().into(),
        r.decided_at.into(),
        r.decided_by.clone().into(),
        r.reason.clone().into(),
        r.keep_until.into(),
    ]
}

/// Stores new reviews, one statement per 500 (a sweep opens up to a page's worth; 500 rows
/// stay well inside SQLite's limit on bound values).
///
/// # Errors
/// When the insert fails.
pub async fn insert_many(tx: &TenantTx, rows: &[ReviewRow]) -> Result<(), PrivacyError> {
    for chunk in rows.chunks(500) {
        insert_chunk(tx, chunk).await?;
    }
    Ok(())
}

async fn insert_chunk(tx: &TenantTx, rows: &[ReviewRow]) -> Result<(), PrivacyError> {
    let mut sql = Sql::default();
    let t = sql.bind(tx.tenant().as_str());
    let tuples: Vec<String> = rows
        .iter()
        .map(|r| {
            let v: Vec<String> = values(r).into_iter().map(|x| sql.bind(x)).collect();
            format!("({t}, {})", v.join(", "))
        })
        .collect();
    sql.text = format!(
        "INSERT INTO retention_review (tenant_id, {COLUMNS}) VALUES {}",
        tuples.join(", ")
    );
    sql.execute(tx).await?;
    Ok(())
}

/// Counts `n` reviews opened by sweep `run_id` towards the announcement the sweep sends
/// when it ends (`review_announcement`, one row per run; a run that stopped before sending
/// it leaves the row for the next sweep). One row written per page, however many reviews
/// the page opened, so announcing never has to touch the reviews themselves. A row another
/// sweep (one run from the command line beside the daily job) announced while this one
/// was still paging is reopened with this page's count alone, so no review goes untold.
///
/// # Errors
/// When the upsert fails.
pub async fn note_opened(
    tx: &TenantTx,
    run_id: &str,
    n: u64,
    now: DateTime<Utc>,
) -> Result<(), PrivacyError> {
    if n == 0 {
        return Ok(());
    }
    let mut sql = Sql::default();
    let t = sql.bind(tx.tenant().as_str());
    let r = sql.bind(run_id);
    let n = sql.bind(i64::try_from(n).unwrap_or(i64::MAX));
    let at = sql.bind(now);
    sql.text = format!(
        "INSERT INTO review_announcement (tenant_id, run_id, reviews, created_at) \
         VALUES ({t}, {r}, {n}, {at}) ON CONFLICT (tenant_id, run_id) \
         DO UPDATE SET reviews = CASE WHEN review_announcement.sent_at IS NULL \
           THEN review_announcement.reviews + excluded.reviews ELSE excluded.reviews END, \
           sent_at = NULL"
    );
    sql.execute(tx).await?;
    Ok(())
}

/// Marks every announcement not yet sent (this sweep's, and any an earlier sweep stopped
/// before sending) as sent at `now`; returns how many reviews they opened.
///
/// # Errors
/// When the update fails.
pub async fn announce(tx: &TenantTx, now: DateTime<Utc>) -> Result<u64, PrivacyError> {
    #[derive(FromQueryResult)]
    struct Opened {
        reviews: i64,
    }
    let mut sql = Sql::default();
    let at = sql.bind(now);
    let t = sql.bind(tx.tenant().as_str());
    sql.text = format!(
        "UPDATE review_announcement SET sent_at = {at} \
         WHERE tenant_id = {t} AND sent_at IS NULL RETURNING reviews"
    );
    let backend = sea_orm::ConnectionTrait::get_database_backend(&**tx);
    let rows = Opened::find_by_statement(sql.statement(backend))
        .all(&**tx)
        .await
        .map_err(StorageError::from)?;
    Ok(rows
        .iter()
        .map(|r| u64::try_from(r.reviews).unwrap_or(0))
        .sum())
}

/// Records the decision on `r` if it is still open; whether it was.
///
/// # Errors
/// When the update fails.
pub async fn decide(tx: &TenantTx, r: &ReviewRow) -> Result<bool, PrivacyError> {
    let mut sql = Sql::default();
    let s = sql.bind(r.status.as_str());
    let at = sql.bind(r.decided_at);
    let by = sql.bind(r.decided_by.clone());
    let why = sql.bind(r.reason.clone());
    let until = sql.bind(r.keep_until);
    let t = sql.bind(tx.tenant().as_str());
    let i = sql.bind(r.id.as_str());
    sql.text = format!(
        "UPDATE retention_review SET status = {s}, decided_at = {at}, decided_by = {by}, \
         reason = {why}, keep_until = {until} \
         WHERE tenant_id = {t} AND id = {i} AND status = 'open'"
    );
    Ok(sql.execute(tx).await? == 1)
}

async fn select(tx: &TenantTx, sql: Sql) -> Result<Vec<ReviewRow>, PrivacyError> {
    let backend = sea_orm::ConnectionTrait::get_database_backend(&**tx);
    Ok(ReviewRow::find_by_statement(sql.statement(backend))
        .all(&**tx)
        .await
        .map_err(StorageError::from)?)
}

/// Open reviews, longest due first (the first 200); or the one review with `id`, whatever
/// its status.
///
/// # Errors
/// When the query fails.
pub async fn list(tx: &TenantTx, id: Option<&str>) -> Result<Vec<ReviewRow>, PrivacyError> {
    let mut sql = Sql::default();
    let t = sql.bind(tx.tenant().as_str());
    let which = match id {
        Some(id) => format!("id = {}", sql.bind(id)),
        None => "status = 'open'".to_owned(),
    };
    // The list shows the longest waiting first, a page at a time.
    let limit = if id.is_none() { " LIMIT 200" } else { "" };
    sql.text = format!(
        "SELECT {COLUMNS} FROM retention_review WHERE tenant_id = {t} AND {which} \
         ORDER BY due_on, id{limit}"
    );
    select(tx, sql).await
}

/// Of `ids` (records of `kind`), those not waiting on a review: no open review and no
/// decision to keep them beyond `today`.
///
/// # Errors
/// When the query fails.
pub async fn not_under_review(
    tx: &TenantTx,
    kind: &str,
    ids: &[String],
    today: NaiveDate,
) -> Result<Vec<String>, PrivacyError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    #[derive(FromQueryResult)]
    struct Id {
        record_id: String,
    }
    let mut sql = Sql::default();
    let t = sql.bind(tx.tenant().as_str());
    let k = sql.bind(kind);
    let d = sql.bind(today);
    let waits = format!("(status = 'open' OR (status = 'kept' AND keep_until >= {d}))");
    let backend = sea_orm::ConnectionTrait::get_database_backend(&**tx);
    sql.text = if backend == sea_orm::DbBackend::Postgres {
        // Each id looked up in the index, whatever the planner believes of the table: the
        // sweep fills it from empty faster than statistics follow, and a plan made for an
        // empty table checked every id against every review of the kind.
        let list = sql.bind(ids.to_vec());
        format!(
            "SELECT x.record_id FROM unnest({list}::text[]) AS x(record_id) \
             CROSS JOIN LATERAL (SELECT 1 FROM retention_review r WHERE r.tenant_id = {t} \
             AND r.record_kind = {k} AND r.record_id = x.record_id AND {waits} LIMIT 1) w"
        )
    } else {
        let list = sql.among(tx, ids);
        format!(
            "SELECT DISTINCT record_id FROM retention_review WHERE tenant_id = {t} \
             AND record_kind = {k} AND record_id {list} AND {waits}"
        )
    };
    let waiting: std::collections::HashSet<String> = Id::find_by_statement(sql.statement(backend))
        .all(&**tx)
        .await
        .map_err(StorageError::from)?
        .into_iter()
        .map(|r| r.record_id)
        .collect();
    Ok(ids
        .iter()
        .filter(|i| !waiting.contains(*i))
        .cloned()
        .collect())
}

/// How many reviews are open.
///
/// # Errors
/// When the query fails.
pub async fn open_count(tx: &TenantTx) -> Result<i64, PrivacyError> {
    #[derive(FromQueryResult)]
    struct Count {
        n: i64,
    }
    let mut sql = Sql::default();
    let t = sql.bind(tx.tenant().as_str());
    sql.text = format!(
        "SELECT COUNT(*) AS n FROM retention_review WHERE tenant_id = {t} AND status = 'open'"
    );
    let backend = sea_orm::ConnectionTrait::get_database_backend(&**tx);
    Ok(Count::find_by_statement(sql.statement(backend))
        .one(&**tx)
        .await
        .map_err(StorageError::from)?
        .map_or(0, |c| c.n))
}
