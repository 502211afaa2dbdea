//! Hand-written statements for both databases: `$n` placeholders, which SQLite and
//! PostgreSQL both read positionally. For the queries sea-orm's builder cannot say well
//! (search, bulk retention work); every value is bound, never spliced into the text.

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

    /// Binds `items` as the right-hand side of a membership test and returns it: on
    /// PostgreSQL `= ANY($n)` with the items as one array value, so a statement is planned
    /// once whatever their number and keeps its index condition in a cached (generic) plan,
    /// where a list of parameters would be checked against every row the index gives;
    /// `IN ($a, $b, …)` on SQLite, which has no arrays. An empty `items` matches nothing.
    pub fn among(&mut self, tx: &crate::TenantTx, items: &[String]) -> String {
        use sea_orm::ConnectionTrait as _;
        match (**tx).get_database_backend() {
            DbBackend::Postgres => format!("= ANY({})", self.bind(items.to_vec())),
            _ if items.is_empty() => "IN (NULL)".to_owned(),
            _ => format!("IN {}", self.list(items)),
        }
    }

    /// Appends text.
    pub fn push(&mut self, s: &str) {
        self.text.push_str(s);
    }

    /// Runs the finished statement in `tx`; returns the rows it changed.
    ///
    /// # Errors
    /// When the database refuses it.
    pub async fn execute(self, tx: &crate::TenantTx) -> Result<u64, crate::StorageError> {
        use sea_orm::ConnectionTrait as _;
        let stmt = self.statement((**tx).get_database_backend());
        Ok((**tx).execute_raw(stmt).await?.rows_affected())
    }

    /// The finished statement.
    #[must_use]
    pub fn statement(self, backend: DbBackend) -> Statement {
        Statement::from_sql_and_values(backend, self.text, self.values)
    }
}
