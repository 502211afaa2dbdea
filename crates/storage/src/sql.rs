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
