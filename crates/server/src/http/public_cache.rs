//! The in-process cache of public catalogue pages for anonymous visitors (the middleware
//! that fills and serves it is `catalogue_web::cache`).

use std::time::Duration;

use axum::body::Bytes;
use http::HeaderValue;

/// The cache: at most 20,000 pages, each for `ttl`.
#[derive(Clone)]
pub struct PublicCache {
    pub(crate) pages: Option<moka::sync::Cache<String, (HeaderValue, Bytes)>>,
}

impl PublicCache {
    /// An empty cache whose entries live for `ttl`; a zero `ttl` caches nothing.
    #[must_use]
    pub fn new(ttl: Duration) -> Self {
        Self {
            pages: (!ttl.is_zero()).then(|| {
                moka::sync::Cache::builder()
                    .max_capacity(20_000)
                    .time_to_live(ttl)
                    .build()
            }),
        }
    }

    /// Forgets every page (the tenant's chrome changed: a notice put new contacts in force).
    pub fn clear(&self) {
        if let Some(p) = &self.pages {
            p.invalidate_all();
        }
    }
}
