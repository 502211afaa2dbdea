//! Hand-written statements for both databases: `$n` placeholders, which SQLite and
//! PostgreSQL both read positionally. For the queries sea-orm's builder cannot say well
//! (search, bulk retention work); every value is bound, never spliced into the text.

use sea_orm::sea_query::Expr;
use sea_orm::{DbBackend, Statement, Value};

/// A statement under construction.
#[derive(Debug, Default)]
pub struct Sql {
    /// The text so far.
    pub text: String,
    /// The bound values, in placeholder order.
    pub values: Vec<Value>,
}

impl Sql {
    /// Binds `v` and returns its placeholder (`$3`).
    pub fn bind(&mut self, v: impl Into<Value>) -> String {
        self.values.push(v.into());
        format!("${}", self.values.len())
    }

    /// Binds each of `items` and returns `($a, $b, …)`.
    pub fn list<T: Clone + Into<Value>>(&mut self, items: &[T]) -> String {
        let marks: Vec<String> = items.iter().map(|i| self.bind(i.clone())).collect();
        format!("({})", marks.join(", "))
    }

    /// Appends text.
    pub fn push(&mut self, s: &str) {
        self.text.push_str(s);
    }

    /// The finished statement.
    #[must_use]
    pub fn statement(self, backend: DbBackend) -> Statement {
        Statement::from_sql_and_values(backend, self.text, self.values)
    }
}

/// A custom SQL expression whose parameters are written `$1`, `$2`, … (each may appear
/// more than once), for either backend: PostgreSQL's builder reads the numbers, SQLite's
/// takes plain `?`s in order, so for SQLite each `$n` becomes `?` with its value repeated
/// (`sql` has no `$n` inside quoted text). For a guard or condition written by hand
/// inside a statement sea-query builds; [`Sql`] is for whole statements.
#[must_use]
pub fn numbered(backend: DbBackend, sql: &'static str, values: &[Value]) -> Expr {
    if backend == DbBackend::Postgres {
        return Expr::cust_with_values(sql, values.iter().cloned());
    }
    let mut plain = String::with_capacity(sql.len());
    let mut in_order = Vec::new();
    let mut rest = sql;
    while let Some(at) = rest.find('$') {
        plain.push_str(&rest[..at]);
        let digits = rest[at + 1..]
            .find(|c: char| !c.is_ascii_digit())
            .map_or(rest.len() - at - 1, |n| n);
        let n: usize = rest[at + 1..at + 1 + digits].parse().unwrap_or(0);
        match n.checked_sub(1).and_then(|i| values.get(i)) {
            Some(v) => {
                plain.push('?');
                in_order.push(v.clone());
            }
            None => plain.push_str(&rest[at..at + 1 + digits]),
        }
        rest = &rest[at + 1 + digits..];
    }
    plain.push_str(rest);
    Expr::cust_with_values(plain, in_order)
}

#[cfg(test)]
mod tests {
    use sea_orm::sea_query::{PostgresQueryBuilder, Query, SqliteQueryBuilder};
    use sea_orm::{DbBackend, Value};

    use super::numbered;

    fn built(backend: DbBackend) -> (String, Vec<Value>) {
        let values: [Value; 2] = ["a".into(), 7i64.into()];
        let q = Query::select()
            .expr(numbered(
                backend,
                "x = $1 AND y = $2 AND z = $1 AND w = '$9'",
                &values,
            ))
            .take();
        let (sql, values) = match backend {
            DbBackend::Postgres => q.build(PostgresQueryBuilder),
            _ => q.build(SqliteQueryBuilder),
        };
        (sql, values.0)
    }

    #[test]
    fn numbered_parameters_are_bound_on_both_backends() {
        let (sql, values) = built(DbBackend::Postgres);
        assert_eq!(sql, "SELECT x = $1 AND y = $2 AND z = $3 AND w = '$9'");
        assert_eq!(values, vec!["a".into(), 7i64.into(), "a".into()]);
        let (sql, values) = built(DbBackend::Sqlite);
        assert_eq!(sql, "SELECT x = ? AND y = ? AND z = ? AND w = '$9'");
        assert_eq!(values, vec!["a".into(), 7i64.into(), "a".into()]);
    }
}
