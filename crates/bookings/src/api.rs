//! HTTP surface of bookings: basket, checkout, delegate lists and My CPD arrive with the
//! bookings issue.

use axum::Router;

/// The bookings routes, to be nested in the tenant router.
pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
}
