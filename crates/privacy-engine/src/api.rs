//! HTTP surface of the privacy engine. The notice, consent and subject-rights pages arrive
//! with the privacy-engine issues; until then the server serves the data-controller page.

use axum::Router;

/// The privacy engine's routes, to be nested in the tenant router.
pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
}
