//! The running set of tenants, looked up by host name.
//!
//! Built from the database's tenant rows at start-up (the database is the running truth).
//! Lookups are a single hash-map probe on the request path.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use crate::TenantId;
use crate::config::TenantConfig;

/// One tenant as requests see it.
#[derive(Debug)]
pub struct TenantContext {
    /// The tenant's id.
    pub id: TenantId,
    /// Its configuration.
    pub config: TenantConfig,
    /// Its logo (content type, bytes), when it has one.
    pub logo: Option<(&'static str, Vec<u8>)>,
}

/// Why a registry could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistryError {
    /// Two tenants claim one host.
    #[error("hostname `{host}` belongs to both `{first}` and `{second}`")]
    DuplicateHost {
        /// The host.
        host: String,
        /// The tenant that claimed it first.
        first: TenantId,
        /// The tenant that claimed it again.
        second: TenantId,
    },
    /// Two rows with one id.
    #[error("tenant `{0}` appears twice")]
    DuplicateTenant(TenantId),
}

/// Tenants by host and by id.
#[derive(Debug, Default)]
pub struct TenantRegistry {
    by_host: HashMap<String, Arc<TenantContext>>,
    by_id: BTreeMap<TenantId, Arc<TenantContext>>,
}

impl TenantRegistry {
    /// Builds the registry.
    ///
    /// # Errors
    /// [`RegistryError`] when two tenants share an id or a hostname.
    pub fn new(tenants: impl IntoIterator<Item = TenantContext>) -> Result<Self, RegistryError> {
        let mut reg = Self::default();
        for t in tenants {
            let t = Arc::new(t);
            if reg.by_id.insert(t.id.clone(), Arc::clone(&t)).is_some() {
                return Err(RegistryError::DuplicateTenant(t.id.clone()));
            }
            for h in &t.config.hostnames {
                if let Some(first) = reg.by_host.insert(h.clone(), Arc::clone(&t)) {
                    return Err(RegistryError::DuplicateHost {
                        host: h.clone(),
                        first: first.id.clone(),
                        second: t.id.clone(),
                    });
                }
            }
        }
        Ok(reg)
    }

    /// The tenant serving a normalised host name.
    #[must_use]
    pub fn by_host(&self, host: &str) -> Option<&Arc<TenantContext>> {
        self.by_host.get(host)
    }

    /// The tenant with an id.
    #[must_use]
    pub fn get(&self, id: &TenantId) -> Option<&Arc<TenantContext>> {
        self.by_id.get(id)
    }

    /// Every tenant, in id order.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<TenantContext>> {
        self.by_id.values()
    }

    /// How many tenants there are.
    #[must_use]
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// Whether there are none.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }
}

/// The content type for a logo file name.
#[must_use]
pub fn logo_content_type(name: &str) -> &'static str {
    if name.ends_with(".svg") {
        "image/svg+xml"
    } else {
        "image/png"
    }
}

/// The registry requests and jobs read, replaced whole when a tenant's configuration changes
/// (a published privacy notice brings new retention rules, contacts or prose). A request
/// keeps the tenant it resolved for its whole life; the next request sees the new one.
#[derive(Debug, Clone)]
pub struct LiveRegistry(Arc<arc_swap::ArcSwap<TenantRegistry>>);

impl LiveRegistry {
    /// Starts with `registry`.
    #[must_use]
    pub fn new(registry: TenantRegistry) -> Self {
        Self(Arc::new(arc_swap::ArcSwap::from_pointee(registry)))
    }

    /// The registry now: a cheap snapshot that later replacements do not change.
    #[must_use]
    pub fn current(&self) -> Arc<TenantRegistry> {
        self.0.load_full()
    }

    /// Puts `registry` in place for every later lookup.
    pub fn replace(&self, registry: TenantRegistry) {
        self.0.store(Arc::new(registry));
    }
}
