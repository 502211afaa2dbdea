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

use sea_orm::sea_query::{
    Alias, CommonTableExpression, DeleteStatement, Expr, Query, ReturningClause, SelectStatement,
    SubQueryStatement, UpdateStatement, WithClause, WithQuery,
};
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, QueryResult, QueryTrait,
    RuntimeErr,
};

use crate::TenantTx;

/// Inserts, updates and deletes to run together at the end of a transaction.
#[derive(Debug, Default)]
pub struct Writes {
    statements: Vec<SubQueryStatement>,
    /// Which of `statements` must change a row for any of them to count.
    required: Vec<usize>,
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

    /// Adds the insert of one row.
    pub fn insert<A: ActiveModelTrait>(&mut self, row: A) {
        self.statements
            .push(<A::Entity as EntityTrait>::insert(row).into_query().into());
    }

    /// Adds an update.
    pub fn update(&mut self, statement: UpdateStatement) {
        self.statements.push(statement.into());
    }

    /// Adds a delete.
    pub fn delete(&mut self, statement: DeleteStatement) {
        self.statements.push(statement.into());
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
        self.required.push(self.statements.len());
        self.statements.push(statement.into());
    }

    /// How many writes wait.
    #[must_use]
    pub fn len(&self) -> usize {
        self.statements.len()
    }

    /// Whether none do.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.statements.is_empty()
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
        let Self {
            mut statements,
            required,
        } = self;
        if conn.get_database_backend() == DbBackend::Postgres && !required.is_empty() {
            let mut divisors = Vec::new();
            let statements =
                statements
                    .into_iter()
                    .enumerate()
                    .map(|(i, statement)| match statement {
                        SubQueryStatement::UpdateStatement(mut u) if required.contains(&i) => {
                            u.returning(ReturningClause::Exprs(vec![Expr::val(1)]));
                            divisors.push(format!("(SELECT LEAST(COUNT(*), 1) FROM \"w{i}\")"));
                            u.into()
                        }
                        other => other,
                    });
            let with = with_clause(statements);
            let check = Query::select()
                .expr(Expr::cust(format!("1 / {}", divisors.join(" / "))))
                .take();
            return match conn.execute(&with_query(with, check)).await {
                Err(e) if sqlstate(&e).as_deref() == Some(DIVISION_BY_ZERO) => {
                    Err(DbErr::Custom(UNMET.to_owned()))
                }
                other => other.map(|_| ()),
            };
        }
        if conn.get_database_backend() == DbBackend::Postgres && statements.len() > 1 {
            let last = statements.remove(statements.len() - 1);
            conn.execute(&with_query(with_clause(statements), last))
                .await?;
            return Ok(());
        }
        for (i, statement) in statements.into_iter().enumerate() {
            match statement {
                SubQueryStatement::InsertStatement(s) => conn.execute(&s).await?,
                SubQueryStatement::UpdateStatement(s) if required.contains(&i) => {
                    let done = conn.execute(&s).await?;
                    if done.rows_affected() == 0 {
                        return Err(DbErr::Custom(UNMET.to_owned()));
                    }
                    done
                }
                SubQueryStatement::UpdateStatement(s) => conn.execute(&s).await?,
                SubQueryStatement::DeleteStatement(s) => conn.execute(&s).await?,
                SubQueryStatement::SelectStatement(s) => conn.execute(&s).await?,
                SubQueryStatement::WithStatement(s) => conn.execute(&s).await?,
            };
        }
        Ok(())
    }
}

/// `statements` as the data-modifying `WITH` clauses `w0`, `w1`, … (built in place: sea-query's
/// own `to_owned`/`WithClause::query` would copy every statement).
fn with_clause(statements: impl IntoIterator<Item = SubQueryStatement>) -> WithClause {
    let mut with = WithClause::new();
    for (i, statement) in statements.into_iter().enumerate() {
        let mut cte = CommonTableExpression::new();
        cte.table_name(Alias::new(format!("w{i}"))).query(statement);
        with.cte(cte);
    }
    with
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
