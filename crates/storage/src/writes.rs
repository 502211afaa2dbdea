//! A transaction's closing writes, sent together.
//!
//! A checkout ends with half a dozen inserts and updates whose results nobody reads (the
//! booking, the order, the confirmation email, the transaction log, the audit event). One
//! round trip each is most of what a checkout costs on PostgreSQL, so they are collected
//! and sent as one statement: data-modifying `WITH` clauses, every value a bound
//! parameter. SQLite runs in-process, so there is no round trip to save: it runs them one
//! by one, in the order they were added.
//!
//! On PostgreSQL the parts of one statement run on the same snapshot in no set order, so
//! two rules hold for everything added: no write reads what another one writes, and no two
//! writes change the same row.

use std::fmt::Write as _;

use sea_orm::sea_query::{
    Alias, CommonTableExpression, DeleteStatement, Expr, Query, ReturningClause, SelectStatement,
    SubQueryStatement, UpdateStatement, WithClause, WithQuery,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue, ConnectionTrait, DbBackend, DbErr, EntityName as _, EntityTrait,
    IdenStatic as _, Iterable as _, QueryResult, RuntimeErr, Statement, StatementBuilder, Value,
};

use crate::TenantTx;
use crate::sql::Sql;

/// Inserts, updates and deletes to run together at the end of a transaction.
#[derive(Debug, Default)]
pub struct Writes {
    parts: Vec<Part>,
    /// Which of `parts` must change a row for any of them to count.
    required: Vec<usize>,
}

/// One write of a [`Writes`].
#[derive(Debug)]
enum Part {
    /// One row: its table, the columns given a value and those values, in column order.
    /// Written out here rather than by sea-query: a checkout's statement is mostly
    /// inserts, and building and rendering their expression trees cost more than the rest
    /// of the checkout's work in this process.
    Insert {
        table: &'static str,
        columns: Vec<&'static str>,
        values: Vec<Value>,
    },
    /// A statement written by hand, with `$1`, `$2`, … placeholders of its own.
    Written(Sql),

    Built(Box<dyn Buildable>),
}

/// An update or delete, for [`Part::Built`]: sea-orm renders it for either database.
trait Buildable: StatementBuilder + std::fmt::Debug + Send {}

impl<T: StatementBuilder + std::fmt::Debug + Send> Buildable for T {}

impl Part {
    /// Appends the statement to `text`, its values to `values`: its `$n` placeholders
    /// follow on from those already in `values` (PostgreSQL reads them; so does SQLite,
    /// for a part run alone, see `crate::sql`).
    fn render(self, text: &mut String, values: &mut Vec<Value>) {
        match self {
            Part::Insert {
                table,
                columns,
                values: row,
            } => {
                text.push_str("INSERT INTO \"");
                text.push_str(table);
                if columns.is_empty() {
                    text.push_str("\" DEFAULT VALUES");
                    return;
                }
                text.push_str("\" (");
                for (i, c) in columns.iter().enumerate() {
                    if i > 0 {
                        text.push_str(", ");
                    }
                    text.push('"');
                    text.push_str(c);
                    text.push('"');
                }
                text.push_str(") VALUES (");
                for i in 0..row.len() {
                    let sep = if i > 0 { ", " } else { "" };
                    let _ = write!(text, "{sep}${}", values.len() + i + 1);
                }
                text.push(')');
                values.extend(row);
            }
            Part::Written(sql) => {
                if values.is_empty() {
                    text.push_str(&sql.text);
                } else {
                    renumber(&sql.text, values.len(), text);
                }
                values.extend(sql.values);
            }
            Part::Built(statement) => {
                let built = statement.build(&DbBackend::Postgres);
                renumber(&built.sql, values.len(), text);
                values.extend(built.values.map(|v| v.0).unwrap_or_default());
            }
        }
    }

    /// Runs the statement on its own; returns the rows it changed.
    async fn run_alone<C: ConnectionTrait>(self, conn: &C) -> Result<u64, DbErr> {
        let backend = conn.get_database_backend();
        let statement = match self {
            Part::Built(statement) => statement.build(&backend),
            Part::Written(sql) => sql.statement(backend),
            insert @ Part::Insert { .. } => {
                let (mut text, mut values) = (String::new(), Vec::new());
                insert.render(&mut text, &mut values);
                Statement::from_sql_and_values(backend, text, values)
            }
        };
        let done = conn.execute_raw(statement).await?;
        Ok(done.rows_affected())
    }
}

/// Appends `sql` to `out` with each `$n` placeholder (outside quoted text) moved up by
/// `by`, so a statement written with placeholders of its own can follow others. Returns
/// the highest `n` (0 if none). The statements given to it have plain `'…'` strings and
/// `"…"` identifiers only (no `E'…'` escapes, comments or dollar quoting).
fn renumber(sql: &str, by: usize, out: &mut String) -> usize {
    let mut highest = 0;
    let mut quote = None;
    let mut chars = sql.char_indices().peekable();
    while let Some((_, c)) = chars.next() {
        match (quote, c) {
            (None, '\'' | '"') => quote = Some(c),
            (Some(q), _) if q == c => quote = None,
            (None, '$') if chars.peek().is_some_and(|(_, d)| d.is_ascii_digit()) => {
                let mut n = 0usize;
                while let Some((_, d)) = chars.peek().copied().filter(|(_, d)| d.is_ascii_digit()) {
                    n = n * 10 + d.to_digit(10).map_or(0, |d| d as usize);
                    chars.next();
                }
                let _ = write!(out, "${}", n + by);
                highest = highest.max(n);
                continue;
            }
            _ => {}
        }
        out.push(c);
    }
    highest
}

/// The message of the error [`Writes::run`] returns when a required update changed no row.
pub const UNMET: &str = "a required update changed no row";

/// Whether `e` is [`Writes::run`]'s "a required update changed no row" (nothing was
/// written; on SQLite the caller's transaction is still to be rolled back).
#[must_use]
pub fn is_unmet(e: &DbErr) -> bool {
    matches!(e, DbErr::Custom(m) if m == UNMET)
}

/// PostgreSQL's `division_by_zero`, which is how a required update that changed no row
/// stops the one statement (see [`Writes::require`]).
const DIVISION_BY_ZERO: &str = "22012";

impl Writes {
    /// Nothing yet.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds the insert of one row: the columns `row` sets, as sea-orm's own insert has
    /// them (the entities here have no database enums, whose values sea-orm would cast).
    pub fn insert<A: ActiveModelTrait>(&mut self, mut row: A) {
        let mut columns = Vec::new();
        let mut values = Vec::new();
        for col in <A::Entity as EntityTrait>::Column::iter() {
            if let ActiveValue::Set(v) | ActiveValue::Unchanged(v) = row.take(col) {
                columns.push(col.as_str());
                values.push(v);
            }
        }
        self.parts.push(Part::Insert {
            table: A::Entity::default().table_name(),
            columns,
            values,
        });
    }

    /// Adds an update.
    pub fn update(&mut self, statement: UpdateStatement) {
        self.parts.push(Part::Built(Box::new(statement)));
    }

    /// Adds a delete.
    pub fn delete(&mut self, statement: DeleteStatement) {
        self.parts.push(Part::Built(Box::new(statement)));
    }

    /// Adds an update that must change at least one row: if it changes none, nothing of
    /// the batch is written and [`Writes::run`] fails with [`is_unmet`]. This is what lets
    /// work that read without locks write in one statement and stay all or nothing (a
    /// place taken by someone else since the read, say). On PostgreSQL the statement's
    /// final `SELECT` divides by the number of rows the update changed, so a zero fails
    /// the whole statement; on SQLite the update runs in its turn, its count is checked,
    /// and the caller rolls its transaction back (add required updates first, so nothing
    /// else runs before a refusal).
    pub fn require(&mut self, statement: UpdateStatement) {
        self.required.push(self.parts.len());
        self.parts.push(Part::Built(Box::new(statement)));
    }

    /// [`Writes::require`] for an `UPDATE` written by hand (`$1`, `$2`, … placeholders,
    /// no `RETURNING`): for an update on a hot path, whose text need not be built anew
    /// each time.
    pub fn require_written(&mut self, update: Sql) {
        debug_assert!(
            renumber(&update.text, 0, &mut String::new()) <= update.values.len(),
            "a placeholder without a value: {}",
            update.text
        );
        self.required.push(self.parts.len());
        self.parts.push(Part::Written(update));
    }

    /// How many writes wait.
    #[must_use]
    pub fn len(&self) -> usize {
        self.parts.len()
    }

    /// Whether none do.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.parts.is_empty()
    }

    /// Runs them all in `tx`: one statement on PostgreSQL, each in turn on SQLite.
    ///
    /// # Errors
    /// The database's error for the first write it refuses (a unique index, say); the
    /// caller's transaction is then to be rolled back.
    pub async fn run(self, tx: &TenantTx) -> Result<(), DbErr> {
        self.run_on(&**tx).await
    }

    /// [`Writes::run`] on any connection: on a PostgreSQL connection outside a transaction
    /// the one statement is its own transaction, which is what makes the batch all or
    /// nothing there.
    ///
    /// # Errors
    /// As [`Writes::run`]; [`is_unmet`] when a required update changed no row.
    pub async fn run_on<C: ConnectionTrait>(self, conn: &C) -> Result<(), DbErr> {
        let Self { parts, required } = self;
        if conn.get_database_backend() == DbBackend::Postgres
            && (parts.len() > 1 || !required.is_empty())
        {
            let (text, values) = one_statement(parts, &required);
            return match conn
                .execute_raw(Statement::from_sql_and_values(
                    DbBackend::Postgres,
                    text,
                    values,
                ))
                .await
            {
                Err(e) if sqlstate(&e).as_deref() == Some(DIVISION_BY_ZERO) => {
                    Err(DbErr::Custom(UNMET.to_owned()))
                }
                other => other.map(|_| ()),
            };
        }
        for (i, part) in parts.into_iter().enumerate() {
            if part.run_alone(conn).await? == 0 && required.contains(&i) {
                return Err(DbErr::Custom(UNMET.to_owned()));
            }
        }
        Ok(())
    }
}

/// `parts` as one PostgreSQL statement: data-modifying `WITH` clauses `w0`, `w1`, …; with
/// `required` parts, a final `SELECT` that divides by whether each changed a row, or else
/// the last part as the statement itself.
fn one_statement(parts: Vec<Part>, required: &[usize]) -> (String, Vec<Value>) {
    let mut text = String::with_capacity(4096);
    let mut values = Vec::with_capacity(64);
    let last = parts.len().saturating_sub(1);
    let mut divisors = String::new();
    for (i, part) in parts.into_iter().enumerate() {
        if i == last && required.is_empty() {
            text.push(' ');
            part.render(&mut text, &mut values);
            return (text, values);
        }
        let _ = write!(text, "{}\"w{i}\" AS (", if i == 0 { "WITH " } else { ", " });
        part.render(&mut text, &mut values);
        if required.contains(&i) {
            text.push_str(" RETURNING 1");
            let _ = write!(divisors, " / (SELECT LEAST(COUNT(*), 1) FROM \"w{i}\")");
        }
        text.push(')');
    }
    text.push_str(" SELECT 1");
    text.push_str(&divisors);
    (text, values)
}

/// `with` followed by `query`, without copying either.
fn with_query(with: WithClause, query: impl Into<SubQueryStatement>) -> WithQuery {
    let mut q = WithQuery::new();
    q.with_clause(with).query(query);
    q
}

/// The SQLSTATE of a database error, if `e` is one.
fn sqlstate(e: &DbErr) -> Option<String> {
    let (DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e))) = e else {
        return None;
    };
    match &**e {
        sea_orm::sqlx::Error::Database(d) => d.code().map(|c| c.into_owned()),
        _ => None,
    }
}

/// The column of [`update_then_select`]'s row that counts the rows the update changed.
pub const UPDATED: &str = "updated_rows";

/// Runs `update`, then `select`, and returns how many rows the update changed and the
/// select's first row. On PostgreSQL it is one statement (the update as a data-modifying
/// `WITH` clause), so the select reads the rows as they were before the update: it must
/// not need what the update changes. On SQLite they run one after the other.
///
/// # Errors
/// The database's error.
pub async fn update_then_select<C: ConnectionTrait>(
    conn: &C,
    mut update: UpdateStatement,
    mut select: SelectStatement,
) -> Result<(u64, Option<QueryResult>), DbErr> {
    if conn.get_database_backend() == DbBackend::Postgres {
        update.returning(ReturningClause::Exprs(vec![Expr::val(1)]));
        let changed = Alias::new("changed");
        select.expr_as(
            Expr::SubQuery(
                None,
                Box::new(
                    Query::select()
                        .expr(Expr::cust("COUNT(*)"))
                        .from(changed.clone())
                        .take()
                        .into(),
                ),
            ),
            Alias::new(UPDATED),
        );
        let mut cte = CommonTableExpression::new();
        cte.table_name(changed).query(update);
        let query = with_query(WithClause::from(cte), select);
        let row = conn.query_one(&query).await?;
        let updated = match &row {
            Some(r) => u64::try_from(r.try_get::<i64>("", UPDATED)?).unwrap_or(0),
            None => 0,
        };
        return Ok((updated, row));
    }
    let updated = conn.execute(&update).await?.rows_affected();
    Ok((updated, conn.query_one(&select).await?))
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone as _, Utc};
    use sea_orm::sea_query::PostgresQueryBuilder;
    use sea_orm::{ActiveValue::Set, EntityTrait as _, QueryTrait as _, Value};

    use super::{Part, Writes, one_statement, renumber};
    use crate::entity::outbox_email;
    use crate::sql::Sql;

    fn email() -> outbox_email::ActiveModel {
        outbox_email::ActiveModel {
            tenant_id: Set("somerset".into()),
            id: Set("m1".into()),
            to_address: Set("a@school.example".into()),
            subject: Set("Hello".into()),
            body_text: Set("It's $1 'quoted'".into()),
            created_at: Set(Utc.with_ymd_and_hms(2027, 1, 12, 9, 30, 0).unwrap()),
            attempts: Set(0),
            ..Default::default()
        }
    }

    #[test]
    fn an_insert_is_written_as_sea_orm_writes_it() {
        let (expected, expected_values) = outbox_email::Entity::insert(email())
            .into_query()
            .build(PostgresQueryBuilder);
        let mut writes = Writes::new();
        writes.insert(email());
        let (text, values) = one_statement(writes.parts, &[]);
        assert_eq!(text.trim(), expected);
        assert_eq!(values, expected_values.0);
    }

    #[test]
    fn placeholders_outside_quotes_follow_on() {
        let mut out = String::new();
        let highest = renumber(r#"a = $1 AND "b$2" = '$3' AND c IN ($2, $10)"#, 4, &mut out);
        assert_eq!(highest, 10);
        assert_eq!(out, r#"a = $5 AND "b$2" = '$3' AND c IN ($6, $14)"#);
    }

    #[test]
    fn required_writes_are_one_statement_that_fails_if_any_changed_nothing() {
        let mut writes = Writes::new();
        writes.require_written(Sql {
            text: "UPDATE t SET n = n + 1 WHERE id = $1 AND k = $1".into(),
            values: vec!["x".into()],
        });
        writes.insert(email());
        writes.require_written(Sql {
            text: "UPDATE u SET n = 0 WHERE id = $1".into(),
            values: vec!["y".into()],
        });
        assert!(matches!(writes.parts[1], Part::Insert { .. }));
        let (text, values) = one_statement(writes.parts, &writes.required);
        assert!(
            text.starts_with(
                r#"WITH "w0" AS (UPDATE t SET n = n + 1 WHERE id = $1 AND k = $1 RETURNING 1), "w1" AS (INSERT INTO "outbox_email" ("#
            ),
            "{text}"
        );
        assert!(
            text.ends_with(
                r#""w2" AS (UPDATE u SET n = 0 WHERE id = $9 RETURNING 1) SELECT 1 / (SELECT LEAST(COUNT(*), 1) FROM "w0") / (SELECT LEAST(COUNT(*), 1) FROM "w2")"#
            ),
            "{text}"
        );
        assert_eq!(values.len(), 9);
        assert_eq!(values[0], Value::from("x"));
        assert_eq!(values[8], Value::from("y"));
    }
}
