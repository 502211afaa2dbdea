//! The in-process cache of public catalogue pages for anonymous visitors (the middleware
//! that fills and serves it is `catalogue_web::cache`), and of the parts of pages that are
//! the same for every visitor (the course list's filters and results, a course's
//! description and dates), which pages for signed-in people are rendered around.

use std::time::Duration;

use std::sync::Arc;

use axum::body::Bytes;
use http::HeaderValue;

/// A kept page: its content type, and its body in pieces, cut where each visitor's own
/// token goes (one piece when the page carries none). Serving it joins the pieces around
/// the visitor's token: no search through the page, no check of its text.
pub(crate) type KeptPage = (HeaderValue, Arc<[Bytes]>);

/// The cache: at most 20,000 pages and 20,000 parts, each for `ttl`.
#[derive(Clone)]
pub struct PublicCache {
    pub(crate) pages: Option<moka::sync::Cache<String, KeptPage>>,
    parts: Option<moka::sync::Cache<String, Arc<str>>>,
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
            parts: (!ttl.is_zero()).then(|| {
                moka::sync::Cache::builder()
                    .max_capacity(20_000)
                    .time_to_live(ttl)
                    .build()
            }),
        }
    }

    /// A part of a page kept under `key` (which must say everything the part depends on).
    #[must_use]
    pub fn part(&self, key: &str) -> Option<Arc<str>> {
        self.parts.as_ref()?.get(key)
    }

    /// Keeps a part of a page under `key`, and gives it back to be used.
    pub fn keep_part(&self, key: String, html: String) -> Arc<str> {
        let part: Arc<str> = html.into();
        if let Some(p) = &self.parts {
            p.insert(key, Arc::clone(&part));
        }
        part
    }

    /// Forgets every page (the tenant's chrome changed: a notice put new contacts in force).
    pub fn clear(&self) {
        if let Some(p) = &self.pages {
            p.invalidate_all();
        }
        if let Some(p) = &self.parts {
            p.invalidate_all();
        }
    }
}
