//! Connecting, migrating and scoping transactions to a tenant.

use std::ops::Deref;
use std::time::Duration;

use migration::{APP_ROLE, Migrator, MigratorTrait, TENANT_SETTING};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction,
    TransactionTrait,
};
use tenant_router::TenantId;

use crate::StorageError;

/// Which database is behind a [`Db`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// The embedded default.
    Sqlite,
    /// Production, with row-level security.
    Postgres,
}

/// Connection settings beyond the URL.
#[derive(Debug, Clone, Default)]
pub struct DbOptions {
    /// PostgreSQL schema to work in (tests use a fresh one each); `None` uses the default.
    pub pg_schema: Option<String>,
    /// Pool size; `None` picks a default for the backend.
    pub max_connections: Option<u32>,
}

/// The database handle.
#[derive(Debug, Clone)]
pub struct Db {
    conn: DatabaseConnection,
    backend: Backend,
    /// SQLite's one writer: each tenant transaction of this process takes its turn.
    writer: std::sync::Arc<tokio::sync::Mutex<()>>,
}

impl Db {
    /// Connects to `url` (`sqlite://path?mode=rwc`, `sqlite::memory:` or `postgres://…`).
    ///
    /// # Errors
    /// [`StorageError`] when the URL is unsupported or the database cannot be reached.
    pub async fn connect(url: &str, options: &DbOptions) -> Result<Self, StorageError> {
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            return Err(StorageError::UnsupportedUrl(redact(url)));
        };
        let mut opts = ConnectOptions::new(url.to_owned());
        opts.connect_timeout(Duration::from_secs(5))
            .acquire_timeout(Duration::from_secs(5))
            .sqlx_logging(false);
        match backend {
            Backend::Sqlite => {
                // One writer at a time is SQLite's model; WAL lets readers run beside it and
                // the busy timeout makes writers queue instead of failing.
                opts.max_connections(options.max_connections.unwrap_or(8))
                    .map_sqlx_sqlite_opts(|o| {
                        o.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                            .busy_timeout(Duration::from_secs(5))
                            .foreign_keys(true)
                    });
            }
            Backend::Postgres => {
                opts.max_connections(options.max_connections.unwrap_or(16));
                if let Some(schema) = &options.pg_schema {
                    opts.set_schema_search_path(schema.clone());
                }
            }
        }
        let conn = Database::connect(opts).await?;
        Ok(Self {
            conn,
            backend,
            writer: std::sync::Arc::default(),
        })
    }

    /// Applies every pending migration.
    ///
    /// # Errors
    /// [`StorageError::Db`] when a migration fails; nothing of that migration is kept on
    /// PostgreSQL (each runs in a transaction).
    pub async fn migrate(&self) -> Result<(), StorageError> {
        Migrator::up(&self.conn, None).await?;
        Ok(())
    }

    /// Names of migrations not yet applied.
    ///
    /// # Errors
    /// [`StorageError::Db`] when the database cannot be read.
    pub async fn pending_migrations(&self) -> Result<Vec<String>, StorageError> {
        Ok(Migrator::get_pending_migrations(&self.conn)
            .await?
            .iter()
            .map(|m| m.name().to_owned())
            .collect())
    }

    /// The backend.
    #[must_use]
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Checks the database answers.
    ///
    /// # Errors
    /// [`StorageError::Db`] when it does not.
    pub async fn ping(&self) -> Result<(), StorageError> {
        Ok(self.conn.ping().await?)
    }

    /// A transaction confined to one tenant: the only way request-path code reaches
    /// tenant-owned tables. On PostgreSQL it runs as [`APP_ROLE`] with `app.tenant_id` set
    /// for this transaction only (never per connection, so a pooled connection cannot leak
    /// one tenant's scope into the next borrower). If either step fails the transaction is
    /// refused, never run unscoped.
    ///
    /// # Errors
    /// [`StorageError::Db`] when the transaction cannot begin or be scoped.
    pub async fn tenant_tx(&self, tenant: &TenantId) -> Result<TenantTx, StorageError> {
        self.begin(tenant, true, None).await
    }

    /// A [`Db::tenant_tx`] whose waits for a row lock end in an error after `lock_wait`
    /// (PostgreSQL), for request paths that would rather refuse than hang behind a stuck
    /// transaction.
    ///
    /// # Errors
    /// [`StorageError::Db`] when the transaction cannot begin or be scoped.
    pub async fn tenant_tx_bounded(
        &self,
        tenant: &TenantId,
        lock_wait: Duration,
    ) -> Result<TenantTx, StorageError> {
        self.begin(tenant, true, Some(lock_wait)).await
    }

    /// A transaction as the connecting (migrating) role, for platform work such as importing
    /// tenants. Tenant-owned tables are still scoped: pass the tenant whose rows it touches.
    ///
    /// # Errors
    /// [`StorageError::Db`] when the transaction cannot begin.
    pub async fn system_tx(&self, tenant: &TenantId) -> Result<TenantTx, StorageError> {
        self.begin(tenant, false, None).await
    }

    async fn begin(
        &self,
        tenant: &TenantId,
        restricted: bool,
        lock_wait: Option<Duration>,
    ) -> Result<TenantTx, StorageError> {
        // SQLite has one writer, and a transaction that read first cannot start writing once
        // another has committed since (SQLITE_BUSY_SNAPSHOT, which no timeout cures). With
        // background senders and sweeps writing beside requests, every tenant transaction
        // of this process takes its turn; short transactions keep the queue short.
        let guard = self.writer_turn().await;
        let tx = self.conn.begin().await?;
        if self.backend == Backend::Postgres {
            tx.execute_unprepared(&scope(tenant, restricted, lock_wait))
                .await?;
        }
        Ok(TenantTx {
            tx,
            tenant: tenant.clone(),
            _writer: guard,
        })
    }

    /// On SQLite, waits for the one writer's turn; on PostgreSQL there is no queue.
    async fn writer_turn(&self) -> Option<tokio::sync::OwnedMutexGuard<()>> {
        match self.backend {
            Backend::Sqlite => Some(std::sync::Arc::clone(&self.writer).lock_owned().await),
            Backend::Postgres => None,
        }
    }

    /// The raw connection, for platform tables that are not tenant-owned (the tenant list).
    #[must_use]
    pub fn platform(&self) -> &DatabaseConnection {
        &self.conn
    }

    /// Closes the pool.
    ///
    /// # Errors
    /// [`StorageError::Db`] when closing fails.
    pub async fn close(self) -> Result<(), StorageError> {
        Ok(self.conn.close().await?)
    }
}

/// The statements that confine a PostgreSQL transaction to `tenant`, sent in one round
/// trip: the restricted role (unless `restricted` is false), the transaction-local tenant
/// setting and, if given, the lock-wait bound. The slug is written into the text rather than
/// bound (a round trip of several statements cannot bind values); a [`TenantId`] holds only
/// `a-z`, `0-9` and `-`, so it cannot end the quoted string.
fn scope(tenant: &TenantId, restricted: bool, lock_wait: Option<Duration>) -> String {
    debug_assert!(
        tenant
            .as_str()
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    );
    let mut sql = String::new();
    if restricted {
        sql.push_str(&format!("SET LOCAL ROLE {APP_ROLE}; "));
    }
    sql.push_str(&format!(
        "SELECT set_config('{TENANT_SETTING}', '{tenant}', true);"
    ));
    if let Some(wait) = lock_wait {
        sql.push_str(&format!(" SET LOCAL lock_timeout = {};", wait.as_millis()));
    }
    sql
}

/// A transaction scoped to one tenant. Dropped without [`TenantTx::commit`], it rolls back.
#[derive(Debug)]
pub struct TenantTx {
    tx: DatabaseTransaction,
    tenant: TenantId,
    /// Held until the transaction ends (SQLite's turn).
    _writer: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl TenantTx {
    /// The tenant this transaction is confined to.
    #[must_use]
    pub fn tenant(&self) -> &TenantId {
        &self.tenant
    }

    /// Commits.
    ///
    /// # Errors
    /// [`StorageError::Db`] when the commit fails (nothing is kept).
    pub async fn commit(self) -> Result<(), StorageError> {
        Ok(self.tx.commit().await?)
    }

    /// Rolls back now. Prefer this to dropping the transaction: a drop only queues the
    /// rollback, which runs when the connection is next used.
    ///
    /// # Errors
    /// [`StorageError::Db`] when the database cannot be told.
    pub async fn rollback(self) -> Result<(), StorageError> {
        Ok(self.tx.rollback().await?)
    }
}

impl Deref for TenantTx {
    type Target = DatabaseTransaction;

    fn deref(&self) -> &DatabaseTransaction {
        &self.tx
    }
}

/// The URL without its password, for messages.
#[must_use]
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            let user = creds.split(':').next().unwrap_or("");
            format!("{}{user}:***{}", &url[..s + 3], &url[at..])
        }
        _ => url.to_owned(),
    }
}
