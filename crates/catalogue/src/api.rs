//! HTTP surface of the catalogue: browse, search and management pages and their JSON API
//! arrive with the catalogue issue.

use axum::Router;

/// The catalogue's routes, to be nested in the tenant router.
pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
}
