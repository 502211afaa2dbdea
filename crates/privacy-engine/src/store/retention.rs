//! Retention in the database: the facts the sweep decides on, holds, warnings, disposal
//! records, and erasing a person from every table that declares them.
//!
//! Erasure is driven by declarations ([`SubjectTable`]): each crate lists its tables that
//! hold rows about a person, keyed by account id or email address, and whether deleting
//! the person deletes those rows or keeps them with the person replaced by a pseudonym
//! (records with their own retention, such as purchases). A test fails when a table
//! holding personal data has no such declaration.
//!
//! The sweep runs as the connecting role in [`storage::Db::system_tx`] (it deletes from
//! tables the request path may only append to), still scoped to one tenant.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ConnectionTrait as _, DbBackend, FromQueryResult};
use storage::sql::Sql;
use storage::{StorageError, TenantTx};

use crate::PrivacyError;
use crate::domain::retention::{AccountFacts, HoldKind};

/// How a table's rows name the person they are about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SubjectKey {
    /// A column holding the account id.
    AccountId(&'static str),
    /// A column holding the account's email address (mail not yet sent).
    Email(&'static str),
}

impl SubjectKey {
    /// The column.
    #[must_use]
    pub const fn column(self) -> &'static str {
        match self {
            Self::AccountId(c) | Self::Email(c) => c,
        }
    }
}

/// What erasing the person does to a table's rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Erase {
    /// The rows are deleted.
    Delete,
    /// The rows are kept under their own retention rule, with the person's id replaced
    /// by a pseudonym that leads nowhere.
    Pseudonymise {
        /// The inventory category whose rule keeps them.
        category: &'static str,
    },
}

/// A table holding rows about a person.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SubjectTable {
    /// Table name.
    pub table: &'static str,
    /// How rows name the person.
    pub key: SubjectKey,
    /// What erasure does.
    pub erase: Erase,
}

/// This crate's tables about a person. (The `account` row itself is deleted last, by the
/// account owner: [`crate::accounts::Accounts::delete`].)
pub const SUBJECT_TABLES: &[SubjectTable] = &[
    SubjectTable {
        table: "consent_event",
        key: SubjectKey::AccountId("account_id"),
        erase: Erase::Delete,
    },
    SubjectTable {
        table: "outbox_email",
        key: SubjectKey::Email("to_address"),
        erase: Erase::Delete,
    },
    SubjectTable {
        table: "retention_hold",
        key: SubjectKey::AccountId("account_id"),
        erase: Erase::Delete,
    },
    // Reviews of the person's records (accounts and induction records are named by the
    // account id); the decisions stay as disposal records.
    SubjectTable {
        table: "retention_review",
        key: SubjectKey::AccountId("record_id"),
        erase: Erase::Delete,
    },
    SubjectTable {
        table: "notice_ack",
        key: SubjectKey::AccountId("account_id"),
        erase: Erase::Delete,
    },
    SubjectTable {
        table: "retention_warning",
        key: SubjectKey::AccountId("account_id"),
        erase: Erase::Delete,
    },
    // Complaints (history first), then rights requests (bundles and history first).
    SubjectTable {
        table: "complaint_event",
        key: SubjectKey::AccountId("account_id"),
        erase: Erase::Delete,
    },
    SubjectTable {
        table: "complaint",
        key: SubjectKey::AccountId("account_id"),
        erase: Erase::Delete,
    },
    SubjectTable {
        table: "rights_bundle",
        key: SubjectKey::AccountId("account_id"),
        erase: Erase::Delete,
    },
    SubjectTable {
        table: "rights_request_event",
        key: SubjectKey::AccountId("account_id"),
        erase: Erase::Delete,
    },
    SubjectTable {
        table: "rights_request",
        key: SubjectKey::AccountId("account_id"),
        erase: Erase::Delete,
    },
];

fn backend(tx: &TenantTx) -> DbBackend {
    (**tx).get_database_backend()
}

async fn execute(tx: &TenantTx, sql: Sql) -> Result<u64, PrivacyError> {
    Ok(sql.execute(tx).await?)
}

/// A candidate account with what the sweep needs beyond the facts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
    /// The facts retention decides on.
    pub facts: AccountFacts,
    /// Where warnings go.
    pub email: String,
}

#[derive(Debug, FromQueryResult)]
struct HoldRow {
    account_id: String,
    kind: String,
}

/// Holds in force at `now` for `accounts`.
///
/// # Errors
/// When the query fails.
pub async fn holds_in_force(
    tx: &TenantTx,
    accounts: &[String],
    now: DateTime<Utc>,
) -> Result<HashMap<String, Vec<HoldKind>>, PrivacyError> {
    let mut out: HashMap<String, Vec<HoldKind>> = HashMap::new();
    if accounts.is_empty() {
        return Ok(out);
    }
    let mut sql = Sql::default();
    let t = sql.bind(tx.tenant().as_str());
    let n = sql.bind(now);
    let ids = sql.among(tx, accounts);
    sql.text = format!(
        "SELECT account_id, kind FROM retention_hold WHERE tenant_id = {t} \
         AND released_at IS NULL AND (until IS NULL OR until > {n}) AND account_id {ids}"
    );
    for row in HoldRow::find_by_statement(sql.statement(backend(tx)))
        .all(&**tx)
        .await
        .map_err(StorageError::from)?
    {
        if let Some(kind) = HoldKind::parse(&row.kind) {
            out.entry(row.account_id).or_default().push(kind);
        }
    }
    Ok(out)
}

/// What erasure kept of one person: rows per table, now under a pseudonym.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Kept {
    /// Table.
    pub table: &'static str,
    /// Inventory category whose rule keeps them.
    pub category: &'static str,
    /// Rows.
    pub rows: i64,
}

/// Records that `account` was warned of `step` due on `due_on`; `false` when it already
/// was (so each warning is sent once).
///
/// # Errors
/// When the insert fails.
pub async fn note_warning(
    tx: &TenantTx,
    account: &str,
    step: &str,
    due_on: NaiveDate,
    now: DateTime<Utc>,
) -> Result<bool, PrivacyError> {
    let mut sql = Sql::default();
    let t = sql.bind(tx.tenant().as_str());
    let a = sql.bind(account);
    let s = sql.bind(step);
    let d = sql.bind(due_on);
    let n = sql.bind(now);
    sql.text = format!(
        "INSERT INTO retention_warning (tenant_id, account_id, step, due_on, warned_at) \
         VALUES ({t}, {a}, {s}, {d}, {n}) ON CONFLICT DO NOTHING"
    );
    Ok(execute(tx, sql).await? == 1)
}

/// One disposal record to write.
#[derive(Clone, Debug)]
pub struct Disposal<'a> {
    /// The sweep run.
    pub run_id: &'a str,
    /// Index of the rule in the tenant's list.
    pub rule_index: usize,
    /// The rule in words.
    pub rule: &'a str,
    /// `deactivate`, `delete`, `anonymise`.
    pub action: &'a str,
    /// `account`, `booking` or `purchase`.
    pub record_kind: &'a str,
    /// The account acted on, for account actions.
    pub account_ref: Option<&'a str>,
    /// How many records.
    pub records: i64,
    /// What personal data remains and why (JSON).
    pub remaining: serde_json::Value,
}

/// A stored disposal record.
#[derive(Clone, Debug, FromQueryResult, PartialEq, Eq)]
pub struct DisposalRow {
    /// Id.
    pub id: String,
    /// The sweep run.
    pub run_id: String,
    /// Rule index.
    pub rule_index: i32,
    /// The rule in words.
    pub rule: String,
    /// What was done.
    pub action: String,
    /// To what kind of record.
    pub record_kind: String,
    /// The account, for account actions.
    pub account_ref: Option<String>,
    /// How many records.
    pub records: i64,
    /// What remains and why (JSON).
    pub remaining: String,
    /// When.
    pub occurred_at: DateTime<Utc>,
}

/// Disposal records of the transaction's tenant, newest first; only those about
/// `account` when given.
///
/// # Errors
/// When the query fails.
pub async fn disposals(
    tx: &TenantTx,
    account: Option<&str>,
    limit: u64,
) -> Result<Vec<DisposalRow>, PrivacyError> {
    let mut sql = Sql::default();
    let t = sql.bind(tx.tenant().as_str());
    let filter = match account {
        Some(a) => {
            let p = sql.bind(a);
            format!(" AND account_ref = {p}")
        }
        None => String::new(),
    };
    let l = sql.bind(i64::try_from(limit).unwrap_or(i64::MAX));
    sql.text = format!(
        "SELECT id, run_id, rule_index, rule, action, record_kind, account_ref, records, \
         remaining, occurred_at FROM disposal_record WHERE tenant_id = {t}{filter} \
         ORDER BY id DESC LIMIT {l}"
    );
    Ok(DisposalRow::find_by_statement(sql.statement(backend(tx)))
        .all(&**tx)
        .await
        .map_err(StorageError::from)?)
}

/// A hold to place.
#[derive(Clone, Debug)]
pub struct NewHold<'a> {
    /// On whose account.
    pub account_id: &'a str,
    /// Why.
    pub kind: HoldKind,
    /// In words (for the administrators).
    pub reason: &'a str,
    /// Who placed it (account id, or `operator`).
    pub placed_by: &'a str,
    /// When it lapses by itself; `None` until released.
    pub until: Option<DateTime<Utc>>,
}

/// Places a hold; returns its id.
///
/// # Errors
/// When the insert fails (e.g. the account is not in the tenant).
pub async fn place_hold(
    tx: &TenantTx,
    now: DateTime<Utc>,
    hold: &NewHold<'_>,
) -> Result<String, PrivacyError> {
    let id = uuid::Uuid::now_v7().to_string();
    let mut sql = Sql::default();
    let values = [
        sql.bind(tx.tenant().as_str()),
        sql.bind(id.clone()),
        sql.bind(hold.account_id),
        sql.bind(hold.kind.as_str()),
        sql.bind(hold.reason),
        sql.bind(hold.placed_by),
        sql.bind(now),
        sql.bind(hold.until),
    ];
    sql.text = format!(
        "INSERT INTO retention_hold (tenant_id, id, account_id, kind, reason, placed_by, \
         created_at, until) VALUES ({})",
        values.join(", ")
    );
    execute(tx, sql).await?;
    Ok(id)
}

/// Releases a hold in force; `false` when there is none with that id.
///
/// # Errors
/// When the update fails.
pub async fn release_hold(
    tx: &TenantTx,
    id: &str,
    now: DateTime<Utc>,
) -> Result<bool, PrivacyError> {
    let mut sql = Sql::default();
    let n = sql.bind(now);
    let t = sql.bind(tx.tenant().as_str());
    let i = sql.bind(id);
    sql.text = format!(
        "UPDATE retention_hold SET released_at = {n} WHERE tenant_id = {t} AND id = {i} \
         AND released_at IS NULL"
    );
    Ok(execute(tx, sql).await? == 1)
}

/// A stored hold.
#[derive(Clone, Debug, FromQueryResult, PartialEq, Eq)]
pub struct HoldDetail {
    /// Id.
    pub id: String,
    /// Account.
    pub account_id: String,
    /// Kind (stored name).
    pub kind: String,
    /// Reason.
    pub reason: String,
    /// Placed when.
    pub created_at: DateTime<Utc>,
    /// Lapses when.
    pub until: Option<DateTime<Utc>>,
}

/// Holds in force at `now`, for one account or all.
///
/// # Errors
/// When the query fails.
pub async fn holds(
    tx: &TenantTx,
    account: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Vec<HoldDetail>, PrivacyError> {
    let mut sql = Sql::default();
    let t = sql.bind(tx.tenant().as_str());
    let n = sql.bind(now);
    let filter = match account {
        Some(a) => {
            let p = sql.bind(a);
            format!(" AND account_id = {p}")
        }
        None => String::new(),
    };
    sql.text = format!(
        "SELECT id, account_id, kind, reason, created_at, until FROM retention_hold \
         WHERE tenant_id = {t} AND released_at IS NULL AND (until IS NULL OR until > {n}){filter} \
         ORDER BY id"
    );
    Ok(HoldDetail::find_by_statement(sql.statement(backend(tx)))
        .all(&**tx)
        .await
        .map_err(StorageError::from)?)
}
