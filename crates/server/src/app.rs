//! Building the application: database, tenants, router; then serving it on a listener the
//! caller bound (tests bind port 0 first, so the server is reachable the moment it exists).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use axum::Router;
use secrecy::ExposeSecret;
use storage::{Db, DbOptions};
use tenant_router::{LiveRegistry, load};
use tokio::net::TcpListener;

pub use crate::http::state::AppState;
use crate::settings::Settings;

/// A built application, ready to serve.
pub struct Application {
    state: AppState,
    settings: Settings,
}

impl Application {
    /// Connects to the database, applies migrations (when configured), loads and imports
    /// the tenant folder, and builds the tenant registry from the database.
    ///
    /// # Errors
    /// When the tenant folder is invalid (the message lists every problem by file and key),
    /// the database cannot be reached or migrated, or Redis' URL is unusable.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        Self::build_with(settings, true).await
    }

    /// The application on the tenants already in the database, importing no folder: for an
    /// operator's command that applies one folder itself, checked first
    /// ([`crate::onboarding`]).
    ///
    /// # Errors
    /// As [`Self::build`].
    pub async fn build_without_folders(settings: Settings) -> anyhow::Result<Self> {
        Self::build_with(settings, false).await
    }

    async fn build_with(settings: Settings, import: bool) -> anyhow::Result<Self> {
        let loaded = if import {
            load::load_dir(&settings.tenants.dir)?
        } else {
            Vec::new()
        };
        let db = connect(&settings).await?;
        if settings.database.migrate_on_start {
            db.migrate().await.context("cannot apply migrations")?;
        } else {
            let pending = db.pending_migrations().await?;
            anyhow::ensure!(
                pending.is_empty(),
                "the database needs migrations ({}): run `portal migrate`",
                pending.join(", ")
            );
        }
        let report = storage::tenants::import_new(&db, &loaded, chrono::Utc::now()).await?;
        for id in &report.imported {
            tracing::info!(tenant = %id, "tenant imported from its folder");
        }
        for (id, why) in &report.refused {
            tracing::error!(tenant = %id, reason = %why, "tenant folder not imported");
        }
        let registry = LiveRegistry::new(storage::tenants::load_registry(&db).await?);
        let announced = crate::http::state::Announced::default();
        crate::notices::publish_first_versions(&db, &registry, chrono::Utc::now()).await?;
        crate::notices::draft_changed_folders(
            &db,
            &registry,
            &loaded,
            &report.changed,
            chrono::Utc::now(),
        )
        .await?;
        crate::notices::reload(&db, &registry, &announced).await?;
        let redis = match &settings.redis.url {
            Some(url) if !url.expose_secret().is_empty() => {
                Some(redis::Client::open(url.expose_secret()).context("redis.url is not usable")?)
            }
            _ => None,
        };
        let clock = storage::Clock::system();
        let objects = objects(&settings).await?;
        let catalogue = catalogue::Catalogue::new(db.clone(), clock.clone(), objects)
            .with_on_cancel(Arc::new(bookings::cancellation::CancelBookings::new(
                clock.clone(),
            )));
        let kv = match &redis {
            Some(client) => identity::sessions::Kv::redis(client.clone()),
            None => identity::sessions::Kv::memory(),
        };
        let hasher = identity::passwords::Hasher::new(settings.security.hash_workers)?;
        let identity = identity::Identity::new(
            db.clone(),
            hasher,
            identity::sessions::Sessions::new(kv, &settings.redis.key_prefix),
            clock.clone(),
            master_keys(&settings)?,
            key_store(&settings).await?,
        )
        .with_oidc_secrets(settings.oidc_secrets.clone());
        // Every tenant has its data key in the key store before the first request (one
        // made before the key store existed moves there now).
        for t in registry.current().iter() {
            identity.ensure_tenant_key(&t.id).await.with_context(|| {
                format!(
                    "{}'s data key (it must open under security.master_key or a key in \
                         security.previous_master_keys)",
                    t.id
                )
            })?;
        }
        let bookings = bookings::Bookings::new(db.clone(), clock.clone(), catalogue.clone());
        let privacy = privacy_engine::Privacy::new(
            db.clone(),
            clock.clone(),
            catalogue.objects().clone(),
            crate::subject_tables().copied().collect(),
            Arc::new(identity.clone()),
            Arc::new(bookings.clone()),
        )
        .with_declarations(crate::personal_data().copied(), crate::other_columns());
        Ok(Self {
            state: AppState::new(crate::http::state::Services {
                bookings,
                privacy,
                catalogue,
                public_cache: crate::http::public_cache::PublicCache::new(Duration::from_secs(
                    settings.http.public_cache_secs,
                )),
                db,
                redis,
                registry,
                identity,
                clock,
                secure_cookies: settings.http.secure_cookies,
                mailer: crate::mail::Mailer::from_settings(&settings.smtp)?.map(Arc::new),
                announced,
                port: Arc::new(std::sync::atomic::AtomicU16::new(settings.http.port)),
                operator_token_sha256: settings.operator.digest(),
                tenants_channel: format!("{}:tenants-changed", settings.redis.key_prefix),
                tenants_poll: Duration::from_secs(settings.tenants.poll_secs.max(1)),
            }),
            settings,
        })
    }

    /// The address links in this tenant's emails start with, when sent from here.
    #[must_use]
    pub fn base_url(&self, cfg: &tenant_router::TenantConfig) -> String {
        self.state.base_url(cfg)
    }

    /// The state handlers see.
    #[must_use]
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// The complete HTTP service.
    pub fn router(&self) -> Router {
        crate::http::router(self.state.clone(), &self.settings)
    }

    /// Serves until `shutdown` completes, then drains in-flight requests.
    ///
    /// # Errors
    /// When the listener fails.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let addr = listener.local_addr()?;
        self.state
            .port
            .store(addr.port(), std::sync::atomic::Ordering::Relaxed);
        tracing::info!(%addr, tenants = self.state.registry.current().len(), "serving");
        let (stop, stopping) = tokio::sync::watch::channel(false);
        let stopped = move |mut rx: tokio::sync::watch::Receiver<bool>| async move {
            let _ = rx.wait_for(|s| *s).await;
        };
        let operator = match &self.settings.operator.listen {
            Some(at) => {
                let listener = TcpListener::bind(at)
                    .await
                    .map_err(|e| anyhow::anyhow!("cannot listen on {at} (operator.listen): {e}"))?;
                tracing::info!(addr = %listener.local_addr()?, "operator API listening");
                let app = crate::http::operator_router(self.state.clone())
                    .into_make_service_with_connect_info::<std::net::SocketAddr>();
                let done = stopped(stopping.clone());
                Some(tokio::spawn(async move {
                    axum::serve(listener, app)
                        .with_graceful_shutdown(done)
                        .await
                }))
            }
            None => None,
        };
        crate::jobs::spawn(self.state.clone());
        tokio::spawn(async move {
            shutdown.await;
            let _ = stop.send(true);
        });
        // The peer address feeds sign-in throttling per client.
        axum::serve(
            listener,
            self.router()
                .into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .with_graceful_shutdown(stopped(stopping))
        .await?;
        if let Some(task) = operator {
            task.await??;
        }
        Ok(())
    }
}

/// The master keys: the current one (see [`master_key`]) and any previous ones being
/// replaced (`security.previous_master_keys`, comma-separated).
///
/// # Errors
/// As [`master_key`]; when a previous key is not 32 base64-encoded bytes or is the
/// current key.
pub fn master_keys(settings: &Settings) -> anyhow::Result<identity::crypto::MasterKeys> {
    let current = master_key(settings)?;
    let mut previous = Vec::new();
    if let Some(list) = &settings.security.previous_master_keys {
        let texts = list.expose_secret().split(',').map(str::trim);
        for (i, text) in texts.filter(|t| !t.is_empty()).enumerate() {
            let from = format!("security.previous_master_keys (key {})", i + 1);
            let key = decode_key(text, &from)?;
            anyhow::ensure!(
                key.mac("same-key") != current.mac("same-key"),
                "{from} is the current master key: list only the keys being replaced"
            );
            previous.push(key);
        }
    }
    Ok(identity::crypto::MasterKeys::new(current, previous))
}

/// A key from 32 random bytes, base64-encoded, read from `from`.
fn decode_key(text: &str, from: &str) -> anyhow::Result<identity::crypto::Key> {
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .ok()
        .filter(|b| b.len() == 32);
    let bytes = bytes.ok_or_else(|| {
        anyhow::anyhow!(
            "{from} must hold 32 random bytes, base64-encoded (make one with \
             `openssl rand -base64 32`)"
        )
    })?;
    identity::crypto::Key::from_bytes(&bytes).map_err(anyhow::Error::from)
}

/// The master key: configured, or (embedded default only) kept in `data_dir/master.key`.
///
/// # Errors
/// When the configured key is not 32 base64-encoded bytes, or PostgreSQL is used without
/// one (a key beside the database would protect nothing).
pub fn master_key(settings: &Settings) -> anyhow::Result<identity::crypto::Key> {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    if let Some(key) = &settings.security.master_key {
        return decode_key(key.expose_secret(), "security.master_key");
    }
    anyhow::ensure!(
        settings.database.url.is_none(),
        "security.master_key is required with PostgreSQL: set APP__SECURITY__MASTER_KEY or \
         APP__SECURITY__MASTER_KEY_FILE (make one with `openssl rand -base64 32`)"
    );
    let file = settings.database.data_dir.join("master.key");
    if let Ok(text) = std::fs::read_to_string(&file) {
        return decode_key(&text, &file.display().to_string());
    }
    std::fs::create_dir_all(&settings.database.data_dir)?;
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("random source: {e}"))?;
    write_private(&file, STANDARD.encode(bytes).as_bytes())
        .with_context(|| format!("cannot write {}", file.display()))?;
    tracing::warn!(file = %file.display(), "made a new master key for the embedded database");
    Ok(identity::crypto::Key::from_bytes(&bytes)?)
}

#[cfg(unix)]
fn write_private(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?
        .write_all(bytes)
}

#[cfg(not(unix))]
fn write_private(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, bytes)
}

/// The configured object store; an S3 bucket is created if missing.
///
/// # Errors
/// When the S3 store cannot be reached.
pub async fn objects(settings: &Settings) -> anyhow::Result<storage::Objects> {
    store(settings, &settings.objects, "objects").await
}

/// The configured key store (tenants' data keys); an S3 bucket is created if missing.
///
/// # Errors
/// When the S3 store cannot be reached.
pub async fn key_store(settings: &Settings) -> anyhow::Result<storage::Objects> {
    store(settings, &settings.keys, "keys").await
}

async fn store(
    settings: &Settings,
    which: &crate::settings::ObjectSettings,
    name: &str,
) -> anyhow::Result<storage::Objects> {
    use crate::settings::ObjectBackend;
    match (&which.backend, &which.s3) {
        (ObjectBackend::S3, Some(s3)) => {
            let store = storage::Objects::s3(s3);
            store
                .ensure_bucket()
                .await
                .with_context(|| format!("cannot reach the S3 bucket ({name}.s3)"))?;
            Ok(store)
        }
        _ => Ok(storage::Objects::local(
            &which
                .local_dir
                .clone()
                .unwrap_or_else(|| settings.database.data_dir.join(name)),
        )),
    }
}

/// Connects to the configured database.
///
/// # Errors
/// When the data folder cannot be created or the database cannot be reached.
pub async fn connect(settings: &Settings) -> anyhow::Result<Db> {
    if settings.database.url.is_none() {
        std::fs::create_dir_all(&settings.database.data_dir).with_context(|| {
            format!(
                "cannot create the data folder {}",
                settings.database.data_dir.display()
            )
        })?;
    }
    let options = DbOptions {
        pg_schema: settings.database.schema.clone(),
        max_connections: settings.database.max_connections,
    };
    Db::connect(settings.database.connect_url().expose_secret(), &options)
        .await
        .context("cannot connect to the database")
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down");
}
