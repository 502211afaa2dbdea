//! HTTP surface of identity: sign-up, sign-in, profile and user management arrive with the
//! identity issue.

use axum::Router;

/// Identity's routes, to be nested in the tenant router.
pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
}
