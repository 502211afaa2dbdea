//! Connecting, migrating and scoping transactions to a tenant.

use std::collections::HashMap;
use std::ops::Deref;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use migration::{APP_ROLE, Migrator, MigratorTrait, TENANT_SETTING};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend,
    SqliteTransactionMode, Statement, TransactionOptions, TransactionTrait,
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
    /// Pool size; `None` picks a default for the backend. On PostgreSQL each tenant's pool
    /// (see [`Db::tenant_tx`]) has this many connections at most too (8 by default).
    pub max_connections: Option<u32>,
}

/// How long a tenant transaction on PostgreSQL waits for a lock (a session's row, say)
/// before it fails: a request refuses rather than hangs behind a stuck transaction.
pub const LOCK_WAIT: Duration = Duration::from_secs(5);

/// A pooled connection idle this long is checked (pinged) before it is handed out; one in
/// use since is handed out as it is (a ping on every checkout would add a round trip to
/// every transaction).
const IDLE_BEFORE_PING: Duration = Duration::from_secs(10);

/// The database handle.
#[derive(Debug, Clone)]
pub struct Db {
    conn: DatabaseConnection,
    backend: Backend,
    /// SQLite's one writer: each tenant transaction of this process takes its turn.
    writer: std::sync::Arc<tokio::sync::Mutex<()>>,
    /// PostgreSQL: a pool per tenant, made when the tenant is first used.
    tenant_pools: std::sync::Arc<TenantPools>,
    /// Transactions this process has committed (see [`Db::commits`]).
    commits: std::sync::Arc<Commits>,
}

/// Transactions this process has committed: those on platform tables, and those of each
/// tenant in one of [`SHARDS`] counters (tenants sharing a counter only see their caches
/// emptied a little more often).
#[derive(Debug, Default)]
struct Commits {
    platform: AtomicU64,
    tenants: [AtomicU64; SHARDS],
}

/// How many counters the tenants' commits are spread over.
const SHARDS: usize = 32;

impl Commits {
    /// The counter `tenant`'s commits move.
    fn of(&self, tenant: &TenantId) -> &AtomicU64 {
        use std::hash::{Hash as _, Hasher as _};
        let mut h = std::hash::DefaultHasher::new();
        tenant.hash(&mut h);
        let shard = usize::try_from(h.finish() % SHARDS as u64).unwrap_or(0);
        &self.tenants[shard]
    }
}

/// PostgreSQL pools whose connections are bound to one tenant for their whole life: the
/// restricted role, the tenant setting and the lock-wait bound are startup parameters of
/// the connection, so no statement on it runs unscoped or for another tenant, and a
/// transaction needs no statement of its own to be scoped.
#[derive(Debug)]
struct TenantPools {
    url: String,
    options: DbOptions,
    pools: tokio::sync::RwLock<HashMap<TenantId, DatabaseConnection>>,
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
            .test_before_acquire_if_idle_for(IDLE_BEFORE_PING)
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
            tenant_pools: std::sync::Arc::new(TenantPools {
                url: url.to_owned(),
                options: options.clone(),
                pools: tokio::sync::RwLock::default(),
            }),
            commits: std::sync::Arc::default(),
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

    /// How many transactions this process has committed (or tried to: a commit whose
    /// outcome is unknown counts) in `tenant`, or on the platform's tables. A value of the
    /// tenant's kept in memory that was read from the database when this stood at `n`
    /// reflects every write of this process while it still stands at `n`: caches of
    /// request-path reads key on it (writes of other processes need a check of their own).
    /// Another tenant's commits do not move it (unless the two share a counter).
    /// [`TenantStatements`] on PostgreSQL commit each statement alone and are not counted.
    #[must_use]
    pub fn commits(&self, tenant: &TenantId) -> u64 {
        // Both only grow, so their sum moves whenever either does.
        self.commits
            .platform
            .load(Ordering::Acquire)
            .wrapping_add(self.commits.of(tenant).load(Ordering::Acquire))
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
    /// tenant-owned tables. On PostgreSQL it runs on a connection of the tenant's own pool,
    /// which is [`APP_ROLE`] with `app.tenant_id` set from the moment it connects (so a
    /// connection never serves two tenants and no transaction on it runs unscoped), and
    /// waits at most [`LOCK_WAIT`] for a lock.
    ///
    /// # Errors
    /// [`StorageError::Db`] when the transaction cannot begin.
    pub async fn tenant_tx(&self, tenant: &TenantId) -> Result<TenantTx, StorageError> {
        // SQLite has one writer, and a transaction that read first cannot start writing once
        // another has committed since (SQLITE_BUSY_SNAPSHOT, which no timeout cures). With
        // background senders and sweeps writing beside requests, every tenant transaction
        // of this process takes its turn; short transactions keep the queue short.
        let guard = self.writer_turn().await;
        let tx = match self.backend {
            Backend::Postgres => self.tenant_pool(tenant).await?.begin().await?,
            Backend::Sqlite => self.begin_writing().await?,
        };
        Ok(TenantTx {
            tx,
            tenant: tenant.clone(),
            _writer: guard,
            commits: std::sync::Arc::clone(&self.commits),
        })
    }

    /// A transaction confined to one tenant, **for reads only**: as [`Db::tenant_tx`] on
    /// PostgreSQL; on SQLite it neither waits for the writer's turn nor takes the write lock
    /// (a deferred `BEGIN`, reading one snapshot beside the writer, which WAL allows), so
    /// pages that only read (who is signed in, the published catalogue) do not queue behind
    /// writes. A write in it may fail on SQLite; use [`Db::tenant_tx`] for anything that
    /// writes.
    ///
    /// # Errors
    /// [`StorageError::Db`] when the transaction cannot begin.
    pub async fn tenant_read(&self, tenant: &TenantId) -> Result<TenantTx, StorageError> {
        let tx = match self.backend {
            Backend::Postgres => self.tenant_pool(tenant).await?.begin().await?,
            Backend::Sqlite => self.conn.begin().await?,
        };
        Ok(TenantTx {
            tx,
            tenant: tenant.clone(),
            _writer: None,
            commits: std::sync::Arc::clone(&self.commits),
        })
    }

    /// Statements confined to one tenant, for work whose only write is one statement (see
    /// [`crate::Writes::require`]): on PostgreSQL each statement runs on its own on the
    /// tenant's pool (no `BEGIN` or `COMMIT` round trips), on SQLite they run in one
    /// transaction, which [`TenantStatements::finish`] commits.
    ///
    /// # Errors
    /// [`StorageError::Db`] when the pool or the transaction cannot be had.
    pub async fn tenant_statements(
        &self,
        tenant: &TenantId,
    ) -> Result<TenantStatements, StorageError> {
        Ok(match self.backend {
            Backend::Postgres => TenantStatements::Alone {
                pool: self.tenant_pool(tenant).await?,
                tenant: tenant.clone(),
            },
            Backend::Sqlite => TenantStatements::Together(self.tenant_tx(tenant).await?),
        })
    }

    /// The pool of `tenant`'s connections (PostgreSQL), made on first use.
    async fn tenant_pool(&self, tenant: &TenantId) -> Result<DatabaseConnection, StorageError> {
        let pools = &self.tenant_pools;
        if let Some(pool) = pools.pools.read().await.get(tenant) {
            return Ok(pool.clone());
        }
        let mut all = pools.pools.write().await;
        if let Some(pool) = all.get(tenant) {
            return Ok(pool.clone());
        }
        let mut opts = ConnectOptions::new(pools.url.clone());
        opts.connect_timeout(Duration::from_secs(5))
            .acquire_timeout(Duration::from_secs(5))
            .test_before_acquire_if_idle_for(IDLE_BEFORE_PING)
            // A tenant seldom used gives its connections back.
            .idle_timeout(Duration::from_secs(60))
            .max_connections(pools.options.max_connections.unwrap_or(8))
            .sqlx_logging(false);
        if let Some(schema) = &pools.options.pg_schema {
            opts.set_schema_search_path(schema.clone());
        }
        let slug = tenant.to_string();
        let lock_wait = format!("{}ms", LOCK_WAIT.as_millis());
        opts.map_sqlx_postgres_opts(move |o| {
            o.options([
                ("role", APP_ROLE),
                (TENANT_SETTING, slug.as_str()),
                ("lock_timeout", lock_wait.as_str()),
            ])
        });
        let pool = Database::connect(opts).await?;
        all.insert(tenant.clone(), pool.clone());
        Ok(pool)
    }

    /// A transaction as the connecting (migrating) role, for platform work such as importing
    /// tenants. Tenant-owned tables are still scoped (the tenant setting is set for this
    /// transaction only): pass the tenant whose rows it touches.
    ///
    /// # Errors
    /// [`StorageError::Db`] when the transaction cannot begin.
    pub async fn system_tx(&self, tenant: &TenantId) -> Result<TenantTx, StorageError> {
        let guard = self.writer_turn().await;
        let tx = match self.backend {
            Backend::Postgres => self.conn.begin().await?,
            Backend::Sqlite => self.begin_writing().await?,
        };
        if self.backend == Backend::Postgres {
            tx.execute_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                format!("SELECT set_config('{TENANT_SETTING}', $1, true)"),
                [tenant.as_str().into()],
            ))
            .await?;
        }
        Ok(TenantTx {
            tx,
            tenant: tenant.clone(),
            _writer: guard,
            commits: std::sync::Arc::clone(&self.commits),
        })
    }

    /// A SQLite transaction that holds the database's write lock from its `BEGIN`
    /// (`BEGIN IMMEDIATE`), so it never has to upgrade a read to a write: such an upgrade
    /// fails outright (`SQLITE_BUSY_SNAPSHOT`, no busy timeout helps) when another writer,
    /// in this process or another (the CLI), committed since the read began. Waiting for
    /// the lock at `BEGIN` is covered by the busy timeout.
    async fn begin_writing(&self) -> Result<DatabaseTransaction, StorageError> {
        Ok(self
            .conn
            .begin_with_options(TransactionOptions {
                sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                ..TransactionOptions::default()
            })
            .await?)
    }

    /// A transaction on the platform's own tables (leases), as the connecting role, taking
    /// SQLite's writer turn like every other write.
    ///
    /// # Errors
    /// [`StorageError::Db`] when the transaction cannot begin.
    pub async fn platform_tx(&self) -> Result<PlatformTx, StorageError> {
        let guard = self.writer_turn().await;
        let tx = match self.backend {
            Backend::Postgres => self.conn.begin().await?,
            Backend::Sqlite => self.begin_writing().await?,
        };
        Ok(PlatformTx {
            tx,
            _writer: guard,
            commits: std::sync::Arc::clone(&self.commits),
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
        let pools: Vec<DatabaseConnection> = self
            .tenant_pools
            .pools
            .write()
            .await
            .drain()
            .map(|(_, pool)| pool)
            .collect();
        for pool in pools {
            pool.close().await?;
        }
        Ok(self.conn.close().await?)
    }
}

/// Moves [`Db::commits`] when dropped, however the commit it guards ended: the tenant's
/// counter, or the platform's (`None`).
struct Counted(std::sync::Arc<Commits>, Option<TenantId>);

impl Drop for Counted {
    fn drop(&mut self) {
        match &self.1 {
            Some(tenant) => self.0.of(tenant).fetch_add(1, Ordering::AcqRel),
            None => self.0.platform.fetch_add(1, Ordering::AcqRel),
        };
    }
}

/// A transaction on platform tables (not tenant-owned). Dropped without
/// [`PlatformTx::commit`], it rolls back.
#[derive(Debug)]
pub struct PlatformTx {
    tx: DatabaseTransaction,
    _writer: Option<tokio::sync::OwnedMutexGuard<()>>,
    commits: std::sync::Arc<Commits>,
}

impl PlatformTx {
    /// Commits.
    ///
    /// # Errors
    /// [`StorageError::Db`] when the commit fails.
    pub async fn commit(self) -> Result<(), StorageError> {
        // Counted even when this future is dropped part-way (a request timed out after
        // `COMMIT` was sent): the write may have happened.
        let _counted = Counted(self.commits, None);
        Ok(self.tx.commit().await?)
    }
}

impl Deref for PlatformTx {
    type Target = DatabaseTransaction;

    fn deref(&self) -> &DatabaseTransaction {
        &self.tx
    }
}

/// A transaction scoped to one tenant. Dropped without [`TenantTx::commit`], it rolls back.
#[derive(Debug)]
pub struct TenantTx {
    tx: DatabaseTransaction,
    tenant: TenantId,
    /// Held until the transaction ends (SQLite's turn).
    _writer: Option<tokio::sync::OwnedMutexGuard<()>>,
    commits: std::sync::Arc<Commits>,
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
        // Counted even when this future is dropped part-way (a request timed out after
        // `COMMIT` was sent): the write may have happened.
        let _counted = Counted(self.commits, Some(self.tenant));
        Ok(self.tx.commit().await?)
    }

    /// Commits without moving [`Db::commits`]: only for writes that no cache keyed on it
    /// reads (the page-view counters), so a busy counter does not empty those caches.
    ///
    /// # Errors
    /// [`StorageError::Db`] when the commit fails (nothing is kept).
    pub async fn commit_uncounted(self) -> Result<(), StorageError> {
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

/// Statements confined to one tenant, from [`Db::tenant_statements`]. Code running on them
/// must write in one statement only (reads before it see no lock and no snapshot shared
/// with it): what the write depends on is re-checked by the write itself.
#[derive(Debug)]
pub enum TenantStatements {
    /// PostgreSQL: each statement on its own, on a connection of the tenant's pool.
    Alone {
        /// The tenant's pool.
        pool: DatabaseConnection,
        /// The tenant.
        tenant: TenantId,
    },
    /// SQLite: one transaction.
    Together(TenantTx),
}

impl TenantStatements {
    /// Rolls the SQLite transaction back now (on PostgreSQL there is nothing to undo: the
    /// one write either happened whole or not at all).
    ///
    /// # Errors
    /// [`StorageError::Db`] when the database cannot be told.
    pub async fn abandon(self) -> Result<(), StorageError> {
        match self {
            Self::Alone { .. } => Ok(()),
            Self::Together(tx) => tx.rollback().await,
        }
    }

    /// Commits the SQLite transaction (on PostgreSQL each statement is already committed).
    /// Dropped without this, the SQLite transaction rolls back.
    ///
    /// # Errors
    /// [`StorageError::Db`] when the commit fails.
    pub async fn finish(self) -> Result<(), StorageError> {
        match self {
            Self::Alone { .. } => Ok(()),
            Self::Together(tx) => tx.commit().await,
        }
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
