//! The state every handler and job sees ([`AppState`]), and the addresses links are built
//! from.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use chrono::{DateTime, Utc};
use storage::Db;
use tenant_router::{LiveRegistry, TenantId};

/// Shared state handed to handlers: one allocation, so handing it to every handler and
/// middleware of a request (axum clones the state for each) is one counter, not a clone of
/// every service in it.
#[derive(Clone)]
pub struct AppState(Arc<Services>);

impl AppState {
    /// The state holding `services`.
    #[must_use]
    pub fn new(services: Services) -> Self {
        Self(Arc::new(services))
    }
}

impl std::ops::Deref for AppState {
    type Target = Services;

    fn deref(&self) -> &Services {
        &self.0
    }
}

/// What [`AppState`] holds.
pub struct Services {
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
    pub public_cache: crate::http::public_cache::PublicCache,
    /// The one source of "now" (tests move it forward).
    pub clock: storage::Clock,
    /// Mark cookies `Secure` (the portal is served over HTTPS).
    pub secure_cookies: bool,
    /// The SMTP sender, when `smtp.url` is set (otherwise mail stays in the outbox).
    pub mailer: Option<Arc<crate::mail::Mailer>>,
    /// Each tenant's latest significant privacy-notice change.
    pub announced: Announced,
    /// The privacy engine: retention, holds and disposal records.
    pub privacy: privacy_engine::Privacy,
    /// The port this process listens on (set when serving starts), for links to a
    /// tenant's development host.
    pub port: Arc<std::sync::atomic::AtomicU16>,
    /// SHA-256 of the platform operator's API token; no operator API without it.
    pub operator_token_sha256: Option<[u8; 32]>,
    /// The Redis channel on which replicas tell each other the tenant rows changed.
    pub tenants_channel: String,
    /// How often a replica checks the tenant rows itself.
    pub tenants_poll: std::time::Duration,
}

impl AppState {
    /// The address of the tenant's portal on `host`, one of its configured names (the one
    /// a request came in on): HTTPS when cookies are secure, and this process's port on a
    /// development (`.localhost`) name. For redirects back to the same browser (OpenID
    /// Connect), whose cookies are on that host.
    #[must_use]
    pub fn site_url(&self, cfg: &tenant_router::TenantConfig, host: &str) -> String {
        match cfg.hostnames.iter().find(|h| h.as_str() == host) {
            Some(h) => address_of(
                h,
                self.secure_cookies,
                self.port.load(std::sync::atomic::Ordering::Relaxed),
            ),
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

/// The address links in emails use, from the tenant's configuration alone: served over
/// HTTPS (secure cookies), its first public host name; in development, its `.localhost`
/// host on this process's port (a tenant with no such host falls back to its first name).
fn tenant_base_url(cfg: &tenant_router::TenantConfig, secure: bool, port: u16) -> String {
    let public = cfg.hostnames.iter().find(|h| !h.ends_with(".localhost"));
    let development = cfg.hostnames.iter().find(|h| h.ends_with(".localhost"));
    let host = if secure {
        public.or(development)
    } else {
        development.or(public)
    };
    host.map_or_else(String::new, |h| address_of(h, secure, port))
}

/// `scheme://host` of one configured name: a development (`.localhost`) name over HTTP on
/// this process's port, any other over HTTPS when cookies are secure, else plain HTTP.
fn address_of(host: &str, secure: bool, port: u16) -> String {
    if host.ends_with(".localhost") {
        format!("http://{host}:{port}")
    } else if secure {
        format!("https://{host}")
    } else {
        format!("http://{host}")
    }
}

/// The latest significant version per tenant: its number and when it was published.
#[derive(Clone, Default)]
pub struct Announced(Arc<RwLock<Latest>>);

/// Tenant → (version, published at).
type Latest = HashMap<TenantId, (i32, DateTime<Utc>)>;

impl Announced {
    /// The latest significant version of a tenant's notice, if any.
    #[must_use]
    pub fn latest(&self, tenant: &TenantId) -> Option<(i32, DateTime<Utc>)> {
        self.0.read().ok().and_then(|m| m.get(tenant).copied())
    }

    /// Re-reads one tenant's latest significant version.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn refresh(&self, db: &storage::Db, tenant: &TenantId) -> anyhow::Result<()> {
        let tx = db.tenant_tx(tenant).await?;
        let list = privacy_engine::store::notice::list(&tx).await?;
        tx.rollback().await?;
        let latest = list
            .into_iter()
            .find(|l| l.significant)
            .map(|l| (l.version, l.published_at));
        if let Ok(mut m) = self.0.write() {
            match latest {
                Some(l) => m.insert(tenant.clone(), l),
                None => m.remove(tenant),
            };
        }
        Ok(())
    }
}
