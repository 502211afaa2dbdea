//! What the desk's records (rights requests, complaints, breaches) share in storage: a row
//! written and rewritten whole from its column list, and a history of who did what to it.

use chrono::{DateTime, Utc};
use sea_orm::{FromQueryResult, Value};
use storage::sql::Sql;
use storage::{StorageError, TenantTx};

use crate::PrivacyError;

fn backend(tx: &TenantTx) -> sea_orm::DbBackend {
    sea_orm::ConnectionTrait::get_database_backend(&**tx)
}

/// Inserts a row of `table`: `columns` (comma-separated, `id` first) with `values` in the
/// same order, in the transaction's tenant.
///
/// # Errors
/// When the insert fails.
pub(crate) async fn insert(
    tx: &TenantTx,
    table: &str,
    columns: &str,
    values: Vec<Value>,
) -> Result<(), PrivacyError> {
    let mut sql = Sql::default();
    let t = sql.bind(tx.tenant().as_str());
    let v = values
        .into_iter()
        .map(|x| sql.bind(x))
        .collect::<Vec<_>>()
        .join(", ");
    sql.text = format!("INSERT INTO {table} (tenant_id, {columns}) VALUES ({t}, {v})");
    sql.execute(tx).await?;
    Ok(())
}

/// Rewrites every column but the first (`id`) of the row of `table` whose id is the first
/// of `values`.
///
/// # Errors
/// When the update fails.
pub(crate) async fn save(
    tx: &TenantTx,
    table: &str,
    columns: &str,
    values: Vec<Value>,
) -> Result<(), PrivacyError> {
    let mut sql = Sql::default();
    let t = sql.bind(tx.tenant().as_str());
    let v: Vec<String> = values.into_iter().map(|x| sql.bind(x)).collect();
    let set = columns
        .split(',')
        .map(str::trim)
        .zip(&v)
        .skip(1)
        .map(|(n, v)| format!("{n} = {v}"))
        .collect::<Vec<_>>()
        .join(", ");
    sql.text = format!(
        "UPDATE {table} SET {set} WHERE tenant_id = {t} AND id = {}",
        v[0]
    );
    sql.execute(tx).await?;
    Ok(())
}

/// One entry of a record's history.
#[derive(Clone, Debug, PartialEq, Eq, FromQueryResult)]
pub struct EventRow {
    /// When.
    pub occurred_at: DateTime<Utc>,
    /// Who (`account:…`, `public`, `system`).
    pub actor: String,
    /// What happened, e.g. `paused`.
    pub action: String,
    /// Anything written with it.
    pub note: Option<String>,
}

/// Where a kind of record keeps its history: the table, the column naming the record, and
/// whether entries also name the person's account (so erasure finds them).
#[derive(Clone, Copy, Debug)]
pub(crate) struct History {
    pub table: &'static str,
    pub parent: &'static str,
    pub with_account: bool,
}

/// Adds an entry to the history of record `parent_id` (about `account`, where entries name
/// one).
///
/// # Errors
/// When the insert fails.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn add_event(
    tx: &TenantTx,
    h: History,
    parent_id: &str,
    account: Option<&str>,
    now: DateTime<Utc>,
    actor: &str,
    action: &str,
    note: Option<&str>,
) -> Result<(), PrivacyError> {
    let mut sql = Sql::default();
    let mut v = vec![
        sql.bind(tx.tenant().as_str()),
        sql.bind(uuid::Uuid::now_v7().to_string()),
        sql.bind(parent_id),
    ];
    let mut columns = format!("tenant_id, id, {}", h.parent);
    if h.with_account {
        v.push(sql.bind(account.map(str::to_owned)));
        columns.push_str(", account_id");
    }
    v.extend([
        sql.bind(now),
        sql.bind(actor),
        sql.bind(action),
        sql.bind(note.map(str::to_owned)),
    ]);
    sql.text = format!(
        "INSERT INTO {table} ({columns}, occurred_at, actor, action, note) VALUES ({v})",
        table = h.table,
        v = v.join(", "),
    );
    sql.execute(tx).await?;
    Ok(())
}

/// The history of record `parent_id`, oldest first.
///
/// # Errors
/// When the query fails.
pub(crate) async fn events(
    tx: &TenantTx,
    h: History,
    parent_id: &str,
) -> Result<Vec<EventRow>, PrivacyError> {
    let mut sql = Sql::default();
    let t = sql.bind(tx.tenant().as_str());
    let i = sql.bind(parent_id);
    sql.text = format!(
        "SELECT occurred_at, actor, action, note FROM {table} \
         WHERE tenant_id = {t} AND {parent} = {i} ORDER BY occurred_at, id",
        table = h.table,
        parent = h.parent,
    );
    Ok(EventRow::find_by_statement(sql.statement(backend(tx)))
        .all(&**tx)
        .await
        .map_err(StorageError::from)?)
}

/// Deletes the records of `table` (and their history) closed before `before`; returns how
/// many records went.
///
/// # Errors
/// When a statement fails (the caller's transaction then keeps every row).
pub(crate) async fn delete_closed_before(
    tx: &TenantTx,
    table: &str,
    h: History,
    before: DateTime<Utc>,
) -> Result<u64, PrivacyError> {
    // The history first (it names the record), then the records themselves.
    let statement = |delete_from: &str, key: &str| {
        let mut sql = Sql::default();
        let t = sql.bind(tx.tenant().as_str());
        let b = sql.bind(before);
        sql.text = format!(
            "DELETE FROM {delete_from} WHERE tenant_id = {t} AND {key} IN (SELECT id FROM {table} \
             WHERE tenant_id = {t} AND closed_at IS NOT NULL AND closed_at < {b})"
        );
        sql
    };
    statement(h.table, h.parent).execute(tx).await?;
    Ok(statement(table, "id").execute(tx).await?)
}
