//! Building the application: database, tenants, router; then serving it on a listener the
//! caller bound (tests bind port 0 first, so the server is reachable the moment it exists).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use axum::Router;
use axum::extract::Request;
use http::{HeaderName, HeaderValue, header};
use secrecy::ExposeSecret;
use storage::{Db, DbOptions};
use tenant_router::{LiveRegistry, TenantLayer, load};
use tokio::net::TcpListener;
use tower::ServiceBuilder;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};

use crate::settings::Settings;
use crate::{
    auth, bookings_web, catalogue_web, cookies, delegates_web, health, induction, notice_admin,
    oidc, orgs, privacy_web, profile, second_factor, web,
};

/// Shared state handed to handlers.
#[derive(Clone)]
pub struct AppState {
    /// The database.
    pub db: Db,
    /// Redis, when configured.
    pub redis: Option<redis::Client>,
    /// The running tenants.
    pub registry: LiveRegistry,
    /// Accounts, sessions and sign-in.
    pub identity: identity::Identity,
    /// Courses, sessions and services.
    pub catalogue: catalogue::Catalogue,
    /// Checkout, bookings and cancellations.
    pub bookings: bookings::Bookings,
    /// Recent public catalogue responses for anonymous visitors.
    pub public_cache: catalogue_web::cache::PublicCache,
    /// The one source of "now" (tests move it forward).
    pub clock: storage::Clock,
    /// Mark cookies `Secure` (the portal is served over HTTPS).
    pub secure_cookies: bool,
    /// The SMTP sender, when `smtp.url` is set (otherwise mail stays in the outbox).
    pub mailer: Option<Arc<crate::mail::Mailer>>,
    /// Each tenant's latest significant privacy-notice change.
    pub announced: crate::notices::Announced,
    /// The privacy engine: retention, holds and disposal records.
    pub privacy: privacy_engine::Privacy,
    /// The port this process listens on (set when serving starts), for links to a
    /// tenant's development host.
    pub port: Arc<std::sync::atomic::AtomicU16>,
}

impl AppState {
    /// The address of the tenant's portal on `host`, one of its configured names (the one
    /// a request came in on): HTTPS when cookies are secure, and this process's port on a
    /// development (`.localhost`) name. For redirects back to the same browser (OpenID
    /// Connect), whose cookies are on that host.
    #[must_use]
    pub fn site_url(&self, cfg: &tenant_router::TenantConfig, host: &str) -> String {
        match cfg.hostnames.iter().find(|h| h.as_str() == host) {
            Some(h) if h.ends_with(".localhost") => format!(
                "http://{h}:{}",
                self.port.load(std::sync::atomic::Ordering::Relaxed)
            ),
            Some(h) if self.secure_cookies => format!("https://{h}"),
            Some(h) => format!("http://{h}"),
            None => self.base_url(cfg),
        }
    }

    /// The address every link in this tenant's emails starts with: its configured public
    /// host (HTTPS when cookies are secure), else its development host on this process's
    /// port. Never the request's `Host` or forwarded host, which a client chooses.
    #[must_use]
    pub fn base_url(&self, cfg: &tenant_router::TenantConfig) -> String {
        tenant_base_url(
            cfg,
            self.secure_cookies,
            self.port.load(std::sync::atomic::Ordering::Relaxed),
        )
    }
}

/// A built application, ready to serve.
pub struct Application {
    state: AppState,
    settings: Settings,
}

static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
/// Where a client's own `X-Request-Id` is kept (when it is a plain token), beside ours.
static X_CLIENT_REQUEST_ID: HeaderName = HeaderName::from_static("x-client-request-id");

impl Application {
    /// Connects to the database, applies migrations (when configured), loads and imports
    /// the tenant folder, and builds the tenant registry from the database.
    ///
    /// # Errors
    /// When the tenant folder is invalid (the message lists every problem by file and key),
    /// the database cannot be reached or migrated, or Redis' URL is unusable.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let loaded = load::load_dir(&settings.tenants.dir)?;
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
        let registry = LiveRegistry::new(storage::tenants::load_registry(&db).await?);
        let announced = crate::notices::Announced::default();
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
            master_key(&settings)?,
        )
        .with_oidc_secrets(settings.oidc_secrets.clone());
        let bookings = bookings::Bookings::new(db.clone(), clock.clone(), catalogue.clone());
        let privacy = privacy_engine::Privacy::new(
            db.clone(),
            clock.clone(),
            catalogue.objects().clone(),
            crate::subject_tables().copied().collect(),
            Arc::new(identity.clone()),
            Arc::new(bookings.clone()),
        );
        Ok(Self {
            state: AppState {
                bookings,
                privacy,
                catalogue,
                public_cache: catalogue_web::cache::PublicCache::new(Duration::from_secs(
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
            },
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
        router(self.state.clone(), &self.settings)
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
        spawn_jobs(self.state.clone());
        // The peer address feeds sign-in throttling per client.
        axum::serve(
            listener,
            self.router()
                .into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await?;
        Ok(())
    }
}

/// Background work every minute: lapsed waiting-list offers pass to the next person, and
/// course reminders due are queued. Every replica may run it; each offer and each reminder
/// is claimed by a conditional update, so none is handled twice.
fn spawn_jobs(state: AppState) {
    tokio::spawn(daily_retention(state.clone()));
    tokio::spawn(crate::notices::follow_changes(state.clone()));
    tokio::spawn(seal_audit(state.clone()));
    if let Some(mailer) = state.mailer.clone() {
        tokio::spawn(send_mail(state.clone(), mailer));
    }
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        loop {
            tick.tick().await;
            minute_jobs(&state).await;
        }
    });
}

/// The minute's work for every tenant: lapsed waiting-list offers pass on, due course
/// reminders are queued. Failures are logged; the next minute tries again.
pub async fn minute_jobs(state: &AppState) {
    for t in state.registry.current().iter() {
        let base = state.base_url(&t.config);
        match state.bookings.expire_offers(&t.id, &base).await {
            Ok(0) => {}
            Ok(n) => {
                tracing::info!(tenant = %t.id, lapsed = n, "waiting-list offers passed on")
            }
            Err(e) => {
                tracing::warn!(tenant = %t.id, error = %e, "waiting-list offers could not be checked")
            }
        }
        match state.bookings.send_reminders(&t.config).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(tenant = %t.id, queued = n, "course reminders queued"),
            Err(e) => {
                tracing::warn!(tenant = %t.id, error = %e, "course reminders could not be queued")
            }
        }
    }
}

/// Every second, links each tenant's newly committed audit events into its chain. Every
/// replica may run it: sealing takes the tenant's chain lock for the moment it needs.
async fn seal_audit(state: AppState) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        for t in state.registry.current().iter() {
            let sealed = async {
                // A full batch means more may wait: keep going until the backlog is gone.
                loop {
                    let tx = state.db.tenant_tx(&t.id).await?;
                    let n = storage::audit::seal(&tx).await?;
                    tx.commit().await?;
                    if n < storage::audit::SEAL_BATCH {
                        return Ok::<_, storage::StorageError>(());
                    }
                }
            }
            .await;
            if let Err(e) = sealed {
                tracing::warn!(tenant = %t.id, error = %e, "audit events could not be sealed yet");
            }
        }
    }
}

/// Drains every tenant's outbox to the SMTP server, every `smtp.poll_secs`. Every replica
/// may run it: messages are claimed before they are sent.
async fn send_mail(state: AppState, mailer: Arc<crate::mail::Mailer>) {
    let mut tick = tokio::time::interval(mailer.poll);
    loop {
        tick.tick().await;
        for t in state.registry.current().iter() {
            match mailer
                .drain(&state.db, &state.clock, &t.id, &t.config.display_name)
                .await
            {
                Ok(d) if d.sent + d.failed > 0 => {
                    tracing::info!(tenant = %t.id, sent = d.sent, failed = d.failed, "outbox drained");
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(tenant = %t.id, error = %e, "outbox could not be drained"),
            }
        }
    }
}

/// The retention sweep, once a day on one replica: every replica tries each hour to take
/// the day's lease, and the one that gets it sweeps every tenant. A sweep cut short (the
/// replica stopped) is finished by the next day's, and every action is recorded once.
async fn daily_retention(state: AppState) {
    let holder = uuid::Uuid::new_v4().to_string();
    // Not at once: a starting server has its own writes to make (imports, demo data).
    let first = tokio::time::Instant::now() + Duration::from_secs(60);
    let mut tick = tokio::time::interval_at(first, Duration::from_secs(3600));
    loop {
        tick.tick().await;
        daily_jobs(&state, &holder).await;
    }
}

/// The day's work, when `holder` can take the day's lease: the retention sweep of every
/// tenant. Returns whether the lease was taken. Failures are logged.
pub async fn daily_jobs(state: &AppState, holder: &str) -> bool {
    let now = state.clock.now();
    match storage::lease::try_acquire(
        &state.db,
        "retention-sweep",
        holder,
        now,
        chrono::Duration::hours(23),
    )
    .await
    {
        Ok(true) => {}
        Ok(false) => return false,
        Err(e) => {
            tracing::warn!(error = %e, "retention lease could not be checked");
            return false;
        }
    }
    for t in state.registry.current().iter() {
        let base = state.base_url(&t.config);
        let outcome = state
            .privacy
            .sweep(
                &t.id,
                &t.config,
                state.privacy.today(),
                privacy_engine::sweep::Mode::Run,
                &base,
                &mut |_| std::ops::ControlFlow::Continue(()),
            )
            .await;
        match outcome {
            Ok(r) => tracing::info!(
                tenant = %t.id,
                run = %r.run_id,
                checked = r.accounts_checked,
                warned = r.warned,
                acted = r.rules.iter().map(|x| x.count).sum::<u64>(),
                "retention sweep done"
            ),
            Err(e) => tracing::warn!(tenant = %t.id, error = %e, "retention sweep failed"),
        }
    }
    true
}

/// The address links in emails use, from the tenant's configuration alone: served over
/// HTTPS (secure cookies), its first public host name; in development, its `.localhost`
/// host on this process's port (a tenant with no such host falls back to its first name).
fn tenant_base_url(cfg: &tenant_router::TenantConfig, secure: bool, port: u16) -> String {
    let public = cfg.hostnames.iter().find(|h| !h.ends_with(".localhost"));
    let development = cfg.hostnames.iter().find(|h| h.ends_with(".localhost"));
    match (secure, public, development) {
        (true, Some(h), _) => format!("https://{h}"),
        (_, _, Some(h)) => format!("http://{h}:{port}"),
        (false, Some(h), None) => format!("http://{h}"),
        (true, None, None) | (false, None, None) => String::new(),
    }
}

/// The master key: configured, or (embedded default only) kept in `data_dir/master.key`.
///
/// # Errors
/// When the configured key is not 32 base64-encoded bytes, or PostgreSQL is used without
/// one (a key beside the database would protect nothing).
pub fn master_key(settings: &Settings) -> anyhow::Result<identity::crypto::Key> {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    let decode = |text: &str, from: &str| {
        let bytes = STANDARD.decode(text.trim()).ok().filter(|b| b.len() == 32);
        let bytes = bytes.ok_or_else(|| {
            anyhow::anyhow!(
                "{from} must hold 32 random bytes, base64-encoded (make one with \
                 `openssl rand -base64 32`)"
            )
        })?;
        identity::crypto::Key::from_bytes(&bytes).map_err(anyhow::Error::from)
    };
    if let Some(key) = &settings.security.master_key {
        return decode(key.expose_secret(), "security.master_key");
    }
    anyhow::ensure!(
        settings.database.url.is_none(),
        "security.master_key is required with PostgreSQL: set APP__SECURITY__MASTER_KEY or \
         APP__SECURITY__MASTER_KEY_FILE (make one with `openssl rand -base64 32`)"
    );
    let file = settings.database.data_dir.join("master.key");
    if let Ok(text) = std::fs::read_to_string(&file) {
        return decode(&text, &file.display().to_string());
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
    use crate::settings::ObjectBackend;
    match (&settings.objects.backend, &settings.objects.s3) {
        (ObjectBackend::S3, Some(s3)) => {
            let store = storage::Objects::s3(s3);
            store
                .ensure_bucket()
                .await
                .context("cannot reach the S3 bucket (objects.s3)")?;
            Ok(store)
        }
        _ => Ok(storage::Objects::local(
            &settings
                .objects
                .local_dir
                .clone()
                .unwrap_or_else(|| settings.database.data_dir.join("objects")),
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

fn router(state: AppState, settings: &Settings) -> Router {
    // Resolution wraps the whole tenant router, so an unknown host never reaches routing.
    let tenant_app = tower::ServiceBuilder::new()
        .layer(TenantLayer::new(
            state.registry.clone(),
            settings.http.trust_forwarded_host,
        ))
        .service(
            web::router()
                .merge(auth::router())
                .merge(orgs::router())
                .merge(oidc::router())
                .merge(induction::router())
                .merge(catalogue_web::router(&state))
                .merge(bookings_web::router())
                .merge(delegates_web::router())
                .merge(crate::after_course_web::router())
                .merge(crate::purchases_web::router())
                .merge(crate::basket_web::router())
                .merge(crate::approvals_web::router())
                .merge(privacy_web::router())
                .merge(notice_admin::router())
                .merge(cookies::router())
                .merge(profile::router())
                .merge(second_factor::router())
                .layer(axum::middleware::from_fn_with_state(
                    state.clone(),
                    cookies::analytics,
                ))
                .with_state(state.clone()),
        );
    let secure = state.secure_cookies;
    // Probes and the shared stylesheet answer on any host (load balancers use IPs).
    Router::new()
        .merge(health::router().with_state(state))
        .merge(web::shared_assets())
        .fallback_service(tenant_app)
        .layer(
            // Outermost first: the request id exists before the span that logs it.
            ServiceBuilder::new()
                .map_request(client_request_id)
                .layer(SetRequestIdLayer::new(
                    X_REQUEST_ID.clone(),
                    MakeRequestUuid,
                ))
                .layer(
                    TraceLayer::new_for_http()
                        .make_span_with(|req: &Request| {
                            let request_id = req
                                .headers()
                                .get(&X_REQUEST_ID)
                                .and_then(|v| v.to_str().ok())
                                .unwrap_or("");
                            let client_request_id = req
                                .headers()
                                .get(&X_CLIENT_REQUEST_ID)
                                .and_then(|v| v.to_str().ok())
                                .unwrap_or("");
                            tracing::info_span!(
                                "http",
                                method = %req.method(),
                                path = %req.uri().path(),
                                request_id,
                                client_request_id,
                                tenant = tracing::field::Empty,
                            )
                        })
                        .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
                )
                .layer(PropagateRequestIdLayer::new(X_REQUEST_ID.clone()))
                .layer(axum::middleware::from_fn(no_store))
                .option_layer(secure.then(|| {
                    security_header(header::STRICT_TRANSPORT_SECURITY, "max-age=31536000")
                }))
                .layer(TimeoutLayer::with_status_code(
                    http::StatusCode::REQUEST_TIMEOUT,
                    Duration::from_secs(settings.http.request_timeout_secs),
                ))
                .layer(security_header(
                    header::CONTENT_SECURITY_POLICY,
                    "default-src 'self'; img-src 'self' data:; style-src 'self'; \
                     script-src 'none'; object-src 'none'; base-uri 'none'; \
                     form-action 'self'; frame-ancestors 'none'",
                ))
                .layer(security_header(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
                .layer(security_header(header::X_FRAME_OPTIONS, "DENY"))
                .layer(security_header(
                    header::REFERRER_POLICY,
                    "strict-origin-when-cross-origin",
                )),
        )
}

/// Our request id is always our own: a client's `X-Request-Id` is moved to
/// `X-Client-Request-Id` (kept only when it is a short plain token, so nothing a client
/// sends is logged as if it were ours or can forge a log line).
fn client_request_id(mut req: Request) -> Request {
    if let Some(theirs) = req.headers_mut().remove(&X_REQUEST_ID) {
        let plain = theirs.len() <= 128
            && theirs
                .as_bytes()
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
        if plain && !theirs.is_empty() {
            req.headers_mut()
                .insert(X_CLIENT_REQUEST_ID.clone(), theirs);
        }
    }
    req
}

/// Paths whose answers are personal or for managers, cached by no one even when the
/// request carries no session (a link's page, a sign-in form).
const PRIVATE_PATHS: &[&str] = &[
    "/account",
    "/admin",
    "/manage",
    "/organisations",
    "/basket",
    "/sign-in",
    "/sign-up",
    "/sign-out",
    "/reset-password",
    "/set-password",
    "/verify-email",
    "/waiting-list",
    "/unsubscribe",
    "/privacy/acknowledge",
    "/api/v1/basket",
    "/api/v1/bookings",
    "/api/v1/checkout",
    "/api/v1/sessions",
    "/api/v1/waiting-list",
];

/// `Cache-Control: no-store` on every answer to a request with a session and on every
/// personal or management path: a shared computer's browser history or back button, or a
/// proxy, must not show them to the next person.
async fn no_store(req: Request, next: axum::middleware::Next) -> axum::response::Response {
    let path = req.uri().path();
    let private = PRIVATE_PATHS.iter().any(|p| {
        path == *p
            || path
                .strip_prefix(p)
                .is_some_and(|rest| rest.starts_with(['/', '.']))
    }) || has_session_cookie(req.headers());
    let mut res = next.run(req).await;
    let says_no_store = res
        .headers()
        .get(header::CACHE_CONTROL)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("no-store"));
    if private && !says_no_store {
        res.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}

fn has_session_cookie(headers: &http::HeaderMap) -> bool {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.split_once('=').map(|(name, _)| name.trim()))
        .any(|name| {
            name == crate::visitor::SESSION_COOKIE
                || name == format!("__Host-{}", crate::visitor::SESSION_COOKIE)
        })
}

fn security_header(name: HeaderName, value: &'static str) -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
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
