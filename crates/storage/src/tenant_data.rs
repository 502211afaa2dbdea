//! A tenant's rows as a whole, for offboarding: every tenant-owned table (any table with a
//! `tenant_id` column, found in the database's own catalogue, so a table added later is
//! never missed), its rows as JSON, and deleting them in an order the foreign keys allow.

use std::collections::{BTreeMap, BTreeSet};

use futures_util::{Stream, StreamExt as _};
use sea_orm::{ConnectionTrait as _, DbBackend, FromQueryResult, Statement};

use crate::sql::Sql;
use crate::{StorageError, TenantTx};

/// A tenant-owned table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    /// Its name.
    pub name: String,
    /// Its columns, in order.
    pub columns: Vec<String>,
    /// A derived index (SQLite's full-text search table): deleted, never exported.
    pub derived: bool,
}

#[derive(FromQueryResult)]
struct Column {
    table_name: String,
    column_name: String,
    derived: bool,
}

#[derive(FromQueryResult)]
struct Edge {
    child: String,
    parent: String,
}

fn backend(tx: &TenantTx) -> DbBackend {
    (**tx).get_database_backend()
}

/// Every tenant-owned table, ordered so that deleting them one after another never
/// breaks a foreign key (a table comes before every table it refers to).
///
/// # Errors
/// When the catalogue cannot be read, or the foreign keys form a cycle.
pub async fn tables(tx: &TenantTx) -> Result<Vec<Table>, StorageError> {
    let b = backend(tx);
    let (columns, edges) = match b {
        DbBackend::Postgres => (
            "SELECT c.table_name::text AS table_name, c.column_name::text AS column_name, \
                    false AS derived \
             FROM information_schema.columns c \
             JOIN information_schema.tables t \
               ON t.table_schema = c.table_schema AND t.table_name = c.table_name \
             WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE' \
               AND EXISTS (SELECT 1 FROM information_schema.columns k \
                           WHERE k.table_schema = c.table_schema \
                             AND k.table_name = c.table_name AND k.column_name = 'tenant_id') \
             ORDER BY c.table_name, c.ordinal_position",
            "SELECT ch.relname::text AS child, pa.relname::text AS parent \
             FROM pg_constraint co \
             JOIN pg_class ch ON ch.oid = co.conrelid \
             JOIN pg_class pa ON pa.oid = co.confrelid \
             JOIN pg_namespace n ON n.oid = ch.relnamespace \
             WHERE co.contype = 'f' AND n.nspname = current_schema()",
        ),
        _ => (
            "SELECT m.name AS table_name, c.name AS column_name, \
                    (m.sql LIKE 'CREATE VIRTUAL%') AS derived \
             FROM sqlite_master m JOIN pragma_table_info(m.name) c \
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' \
               AND EXISTS (SELECT 1 FROM pragma_table_info(m.name) k WHERE k.name = 'tenant_id') \
             ORDER BY m.name, c.cid",
            "SELECT m.name AS child, f.\"table\" AS parent \
             FROM sqlite_master m JOIN pragma_foreign_key_list(m.name) f \
             WHERE m.type = 'table'",
        ),
    };
    let rows = Column::find_by_statement(Statement::from_string(b, columns))
        .all(&**tx)
        .await?;
    let mut found: BTreeMap<String, Table> = BTreeMap::new();
    for r in rows {
        found
            .entry(r.table_name.clone())
            .or_insert_with(|| Table {
                name: r.table_name,
                columns: Vec::new(),
                derived: r.derived,
            })
            .columns
            .push(r.column_name);
    }
    let edges = Edge::find_by_statement(Statement::from_string(b, edges))
        .all(&**tx)
        .await?;
    // Kahn's algorithm: a table is deleted once nothing left refers to it.
    let mut referred_by: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for e in &edges {
        if e.child != e.parent && found.contains_key(&e.child) && found.contains_key(&e.parent) {
            referred_by
                .entry(e.parent.as_str())
                .or_default()
                .insert(e.child.as_str());
        }
    }
    let mut left: BTreeSet<&str> = found.keys().map(String::as_str).collect();
    let mut order: Vec<String> = Vec::with_capacity(left.len());
    while !left.is_empty() {
        let free: Vec<&str> = left
            .iter()
            .copied()
            .filter(|t| {
                referred_by
                    .get(t)
                    .is_none_or(|children| children.iter().all(|c| !left.contains(c)))
            })
            .collect();
        if free.is_empty() {
            return Err(StorageError::Schema(format!(
                "the foreign keys among {} form a cycle",
                left.iter().copied().collect::<Vec<_>>().join(", ")
            )));
        }
        for t in free {
            left.remove(t);
            order.push(t.to_owned());
        }
    }
    Ok(order
        .into_iter()
        .filter_map(|name| found.remove(&name))
        .collect())
}

/// The tenant's rows of `table`, with `columns` only, each as a JSON object, streamed from
/// the database as they are read (a large table is never held whole). `table` and
/// `columns` come from [`tables`], never from input.
///
/// # Errors
/// When the query fails, then or while streaming.
pub async fn rows_json<'a>(
    tx: &'a TenantTx,
    table: &str,
    columns: &[&str],
) -> Result<impl Stream<Item = Result<String, StorageError>> + Send + 'a, StorageError> {
    #[derive(FromQueryResult)]
    struct Row {
        row: String,
    }
    let mut sql = Sql::default();
    let t = sql.bind(tx.tenant().as_str());
    let quoted: Vec<String> = columns.iter().map(|c| format!("\"{c}\"")).collect();
    sql.text = match backend(tx) {
        DbBackend::Postgres if columns.is_empty() => {
            format!("SELECT '{{}}' AS row FROM \"{table}\" WHERE tenant_id = {t}")
        }
        DbBackend::Postgres => format!(
            "SELECT row_to_json(r)::text AS row FROM \
             (SELECT {} FROM \"{table}\" WHERE tenant_id = {t}) r",
            quoted.join(", ")
        ),
        _ => format!(
            "SELECT json_object({}) AS row FROM \"{table}\" WHERE tenant_id = {t}",
            columns
                .iter()
                .map(|c| format!(
                    "'{c}', CASE typeof(\"{c}\") WHEN 'blob' THEN hex(\"{c}\") ELSE \"{c}\" END"
                ))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let rows = Row::find_by_statement(sql.statement(backend(tx)))
        .stream(&**tx)
        .await?;
    Ok(rows.map(|r| r.map(|r| r.row).map_err(StorageError::from)))
}

/// Deletes the tenant's rows of `table`; returns how many went.
///
/// # Errors
/// When the database refuses (a foreign key, a trigger).
pub async fn delete_rows(tx: &TenantTx, table: &str) -> Result<u64, StorageError> {
    let mut sql = Sql::default();
    let t = sql.bind(tx.tenant().as_str());
    sql.text = format!("DELETE FROM \"{table}\" WHERE tenant_id = {t}");
    sql.execute(tx).await
}
