//! Erasing people from every declared table, and the disposal records that say what was
//! done: the retention sweep's bulk writes, also used by erasure requests and review
//! decisions.
//!
//! On PostgreSQL each is one statement whatever the number of tables or rows, with the lists
//! bound as arrays; the general forms (which SQLite runs) send a statement per table and a
//! parameter per value. At a page of 2,000 people that is one round trip where there were
//! about forty, and nine parameters where there were 22,000.

use std::collections::HashMap;

use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait as _, DbBackend, FromQueryResult};
use storage::sql::Sql;
use storage::{StorageError, TenantTx};

use super::retention::{Disposal, Erase, Kept, SubjectKey, SubjectTable};
use crate::PrivacyError;

#[derive(Debug, FromQueryResult)]
struct CountRow {
    key: String,
    n: i64,
}

/// Erases `accounts` (id and email pairs) from every declared table (the account rows
/// themselves are the account owner's to delete, after). Rows with their own retention are kept with the person's id replaced by
/// a pseudonym (`pseudonym:` and a random id, one per person, recorded nowhere).
/// Returns, per account id, what was kept.
///
/// # Errors
/// When a statement fails; the caller's transaction then keeps nothing.
pub async fn erase_subjects(
    tx: &TenantTx,
    accounts: &[(String, String)],
    tables: &[SubjectTable],
) -> Result<HashMap<String, Vec<Kept>>, PrivacyError> {
    let mut kept: HashMap<String, Vec<Kept>> = HashMap::new();
    if accounts.is_empty() {
        return Ok(kept);
    }
    let ids: Vec<String> = accounts.iter().map(|(id, _)| id.clone()).collect();
    let emails: Vec<String> = accounts.iter().map(|(_, e)| e.clone()).collect();
    let pseudonyms: HashMap<&str, String> = accounts
        .iter()
        .map(|(id, _)| (id.as_str(), format!("pseudonym:{}", uuid::Uuid::new_v4())))
        .collect();
    if (**tx).get_database_backend() == DbBackend::Postgres {
        return erase_together(tx, (&ids, &emails), &pseudonyms, tables).await;
    }
    for table in tables {
        let column = table.key.column();
        let keys = match table.key {
            SubjectKey::AccountId(_) => &ids,
            SubjectKey::Email(_) => &emails,
        };
        match table.erase {
            Erase::Delete => {
                let mut sql = Sql::default();
                let t = sql.bind(tx.tenant().as_str());
                let list = sql.among(tx, keys);
                sql.text = format!(
                    "DELETE FROM {} WHERE tenant_id = {t} AND {column} {list}",
                    table.table
                );
                sql.execute(tx).await?;
            }
            Erase::Pseudonymise { .. } => {
                let mut sql = Sql::default();
                let t = sql.bind(tx.tenant().as_str());
                let list = sql.among(tx, keys);
                sql.text = format!(
                    "SELECT {column} AS key, COUNT(*) AS n FROM {} WHERE tenant_id = {t} \
                     AND {column} {list} GROUP BY {column}",
                    table.table
                );
                let found =
                    CountRow::find_by_statement(sql.statement((**tx).get_database_backend()))
                        .all(&**tx)
                        .await
                        .map_err(StorageError::from)?;
                for row in found {
                    pseudonymise(tx, table, (row.key, row.n), &pseudonyms, &mut kept).await?;
                }
            }
        }
    }
    Ok(kept)
}

/// Replaces `key` (holding `n` rows of `table`) with its person's pseudonym, and notes
/// what was kept. Nothing happens for a key that names no one being erased.
async fn pseudonymise(
    tx: &TenantTx,
    table: &SubjectTable,
    (key, n): (String, i64),
    pseudonyms: &HashMap<&str, String>,
    kept: &mut HashMap<String, Vec<Kept>>,
) -> Result<(), PrivacyError> {
    let (Some(pseudonym), Erase::Pseudonymise { category }) =
        (pseudonyms.get(key.as_str()), table.erase)
    else {
        return Ok(());
    };
    let column = table.key.column();
    let mut sql = Sql::default();
    let p = sql.bind(pseudonym.clone());
    let t = sql.bind(tx.tenant().as_str());
    let k = sql.bind(key.clone());
    sql.text = format!(
        "UPDATE {} SET {column} = {p} WHERE tenant_id = {t} AND {column} = {k}",
        table.table
    );
    sql.execute(tx).await?;
    kept.entry(key).or_default().push(Kept {
        table: table.table,
        category,
        rows: n,
    });
    Ok(())
}

/// Writes disposal records, one statement for the lot.
///
/// # Errors
/// When the insert fails.
pub async fn record_disposals(
    tx: &TenantTx,
    now: DateTime<Utc>,
    records: &[Disposal<'_>],
) -> Result<(), PrivacyError> {
    if records.is_empty() {
        return Ok(());
    }
    if (**tx).get_database_backend() == DbBackend::Postgres {
        return record_disposals_as_arrays(tx, now, records).await;
    }
    for chunk in records.chunks(500) {
        let mut sql = Sql::default();
        let mut text = String::from(
            "INSERT INTO disposal_record (tenant_id, id, run_id, rule_index, rule, action, \
             record_kind, account_ref, records, remaining, occurred_at) VALUES ",
        );
        for (i, d) in chunk.iter().enumerate() {
            if i > 0 {
                text.push_str(", ");
            }
            let values = [
                sql.bind(tx.tenant().as_str()),
                sql.bind(uuid::Uuid::now_v7().to_string()),
                sql.bind(d.run_id),
                sql.bind(i32::try_from(d.rule_index).unwrap_or(i32::MAX)),
                sql.bind(d.rule),
                sql.bind(d.action),
                sql.bind(d.record_kind),
                sql.bind(d.account_ref.map(str::to_owned)),
                sql.bind(d.records),
                sql.bind(d.remaining.to_string()),
                sql.bind(now),
            ];
            let _ = write!(text, "({})", values.join(", "));
        }
        sql.text = text;
        sql.execute(tx).await?;
    }
    Ok(())
}

/// [`erase_subjects`] on PostgreSQL. First one statement counts, in every
/// table whose rows are kept, the rows of each person (their pseudonymising updates follow,
/// one per person and table with rows); then one statement deletes from every other table
/// (each table a data-modifying `WITH` part; all of them run to completion, and the
/// foreign-key checks that follow see every part's deletions).
async fn erase_together(
    tx: &TenantTx,
    (ids, emails): (&[String], &[String]),
    pseudonyms: &HashMap<&str, String>,
    tables: &[SubjectTable],
) -> Result<HashMap<String, Vec<Kept>>, PrivacyError> {
    #[derive(FromQueryResult)]
    struct Found {
        part: i32,
        key: String,
        n: i64,
    }
    let mut kept: HashMap<String, Vec<Kept>> = HashMap::new();
    let (deleted_tables, kept_tables): (Vec<(usize, &SubjectTable)>, Vec<_>) = tables
        .iter()
        .enumerate()
        .partition(|(_, table)| table.erase == Erase::Delete);
    let mut counts = Sql::default();
    let t = counts.bind(tx.tenant().as_str());
    let lists = Lists::bind(&mut counts, &kept_tables, ids, emails);
    let arms: Vec<String> = kept_tables
        .iter()
        .map(|(i, table)| {
            let column = table.key.column();
            format!(
                "SELECT {i}::int4 AS part, {column} AS key, COUNT(*) AS n FROM {} \
                 WHERE tenant_id = {t} AND {column} = ANY({}) GROUP BY {column}",
                table.table,
                lists.of(table.key)
            )
        })
        .collect();
    if !arms.is_empty() {
        // In the order the tables are declared, as the statement per table gives them.
        counts.text = format!("{} ORDER BY part, key", arms.join(" UNION ALL "));
        let found = Found::find_by_statement(counts.statement(DbBackend::Postgres))
            .all(&**tx)
            .await
            .map_err(StorageError::from)?;
        for row in found {
            let Some(table) = usize::try_from(row.part).ok().and_then(|i| tables.get(i)) else {
                continue;
            };
            pseudonymise(tx, table, (row.key, row.n), pseudonyms, &mut kept).await?;
        }
    }
    let mut deletes = Sql::default();
    let t = deletes.bind(tx.tenant().as_str());
    let lists = Lists::bind(&mut deletes, &deleted_tables, ids, emails);
    let parts: Vec<String> = deleted_tables
        .iter()
        .map(|(i, table)| {
            format!(
                "d{i} AS (DELETE FROM {} WHERE tenant_id = {t} AND {} = ANY({}))",
                table.table,
                table.key.column(),
                lists.of(table.key)
            )
        })
        .collect();
    if !parts.is_empty() {
        deletes.text = format!("WITH {} SELECT 1", parts.join(", "));
        deletes.execute(tx).await?;
    }
    Ok(kept)
}

/// The placeholders of the people's ids and email addresses, each bound once, and only
/// when one of the tables names people that way (a parameter no part uses would be sent
/// for nothing).
struct Lists {
    ids: String,
    emails: String,
}

impl Lists {
    fn bind(
        sql: &mut Sql,
        tables: &[(usize, &SubjectTable)],
        ids: &[String],
        emails: &[String],
    ) -> Self {
        let uses = |email: bool| {
            tables
                .iter()
                .any(|(_, t)| matches!(t.key, SubjectKey::Email(_)) == email)
        };
        Self {
            ids: if uses(false) {
                sql.bind(ids.to_vec())
            } else {
                String::new()
            },
            emails: if uses(true) {
                sql.bind(emails.to_vec())
            } else {
                String::new()
            },
        }
    }

    fn of(&self, key: SubjectKey) -> &str {
        match key {
            SubjectKey::AccountId(_) => &self.ids,
            SubjectKey::Email(_) => &self.emails,
        }
    }
}

/// [`record_disposals`] on PostgreSQL: each column bound as one array
/// (`unnest`), where a row of values costs eleven parameters to send, parse and bind.
async fn record_disposals_as_arrays(
    tx: &TenantTx,
    now: DateTime<Utc>,
    records: &[Disposal<'_>],
) -> Result<(), PrivacyError> {
    fn column<T>(records: &[Disposal<'_>], f: impl Fn(&Disposal<'_>) -> T) -> Vec<T> {
        records.iter().map(f).collect()
    }
    let mut sql = Sql::default();
    let t = sql.bind(tx.tenant().as_str());
    let at = sql.bind(now);
    let ids = sql.bind(column(records, |_| uuid::Uuid::now_v7().to_string()));
    let runs = sql.bind(column(records, |d| d.run_id.to_owned()));
    let indexes = sql.bind(column(records, |d| {
        i32::try_from(d.rule_index).unwrap_or(i32::MAX)
    }));
    let rules = sql.bind(column(records, |d| d.rule.to_owned()));
    let actions = sql.bind(column(records, |d| d.action.to_owned()));
    let kinds = sql.bind(column(records, |d| d.record_kind.to_owned()));
    // An array's elements are bound as text, never null: an empty reference stands for none.
    let refs = sql.bind(column(records, |d| d.account_ref.unwrap_or("").to_owned()));
    let counts = sql.bind(column(records, |d| d.records));
    let remaining = sql.bind(column(records, |d| d.remaining.to_string()));
    sql.text = format!(
        "INSERT INTO disposal_record (tenant_id, id, run_id, rule_index, rule, action, \
         record_kind, account_ref, records, remaining, occurred_at) \
         SELECT {t}, x.id, x.run_id, x.rule_index, x.rule, x.action, x.record_kind, \
           NULLIF(x.account_ref, ''), x.records, x.remaining, {at} \
         FROM unnest({ids}::text[], {runs}::text[], {indexes}::int4[], {rules}::text[], \
           {actions}::text[], {kinds}::text[], {refs}::text[], {counts}::int8[], \
           {remaining}::text[]) \
           AS x(id, run_id, rule_index, rule, action, record_kind, account_ref, records, remaining)"
    );
    sql.execute(tx).await?;
    Ok(())
}
