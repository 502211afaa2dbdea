//! The HTTP side: the state handlers see, the router that puts every area together behind
//! the tenant layer, and the cross-cutting layers (request ids, security headers, cache
//! headers). One module per area; the OpenAPI document is assembled in [`openapi`].

use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use http::{HeaderName, HeaderValue, header};
use tenant_router::TenantLayer;
use tower::ServiceBuilder;
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};

use crate::settings::Settings;
use state::AppState;

pub mod after_course_web;
pub mod analytics_web;
pub mod api_tokens;
pub mod approvals_web;
pub mod auth;
pub mod basket_web;
pub mod bookings_web;
pub mod breaches_web;
pub mod catalogue_web;
pub mod close_account;
pub mod communications_web;
pub mod complaints_web;
pub mod console;
pub mod cookie;
pub mod cookies;
pub mod corrections_web;
pub mod delegates_web;
pub mod error;
pub mod health;
pub mod induction;
pub mod invoices_web;
pub mod notice_admin;
pub mod oidc;
pub mod openapi;
pub mod operator;
pub mod orgs;
pub mod page;
pub mod privacy_web;
pub mod profile;
pub mod public_cache;
pub mod purchasers_web;
pub mod purchases_web;
pub mod reviews_web;
pub mod rights_web;
pub mod second_factor;
pub mod state;
pub mod visitor;
pub mod web;

static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
/// Where a client's own `X-Request-Id` is kept (when it is a plain token), beside ours.
static X_CLIENT_REQUEST_ID: HeaderName = HeaderName::from_static("x-client-request-id");

/// The operator's API on a listener of its own (`operator.listen`), with the probes.
pub fn operator_router(state: AppState) -> Router {
    Router::new()
        .merge(health::router().with_state(state.clone()))
        .merge(operator::router(state))
        .layer(TraceLayer::new_for_http())
}

/// The complete HTTP service.
pub fn router(state: AppState, settings: &Settings) -> Router {
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
                .merge(after_course_web::router())
                .merge(purchases_web::router())
                .merge(basket_web::router())
                .merge(approvals_web::router())
                .merge(privacy_web::router())
                .merge(rights_web::router())
                .merge(corrections_web::router())
                .merge(close_account::router())
                .merge(complaints_web::router())
                .merge(breaches_web::router())
                .merge(reviews_web::router())
                .merge(purchasers_web::router())
                .merge(invoices_web::router())
                .merge(communications_web::router())
                .merge(analytics_web::router())
                .merge(notice_admin::router())
                .merge(cookies::router())
                .merge(openapi::router())
                .merge(profile::router())
                .merge(second_factor::router())
                .merge(console::router())
                .merge(api_tokens::router())
                .layer(axum::middleware::from_fn_with_state(
                    state.clone(),
                    cookies::analytics,
                ))
                .layer(axum::middleware::from_fn(error::json_errors))
                .with_state(state.clone()),
        );
    let secure = state.secure_cookies;
    // The operator's API answers here only when it has no listener of its own.
    let operator_here = settings.operator.listen.is_none();
    // Probes and the shared stylesheet answer on any host (load balancers use IPs).
    Router::new()
        .merge(health::router().with_state(state.clone()))
        .merge(if operator_here {
            operator::router(state)
        } else {
            // Not here, whatever the host or token: 404 before any tenant is resolved.
            Router::new().route(
                "/operator/{*rest}",
                axum::routing::any(|| async { http::StatusCode::NOT_FOUND }),
            )
        })
        .merge(web::shared_assets())
        .fallback_service(tenant_app)
        .layer(
            // Outermost first: the request id exists before the span that logs it.
            ServiceBuilder::new()
                .map_request(client_request_id)
                .layer(SetRequestIdLayer::new(
                    X_REQUEST_ID.clone(),
                    RequestIds::new(),
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

/// Request ids in the form of random UUIDs, made from a random base drawn once and a count,
/// so a request costs no call to the operating system's random source. They tell log lines
/// apart and tie them together; nothing relies on their being unpredictable.
#[derive(Clone)]
struct RequestIds {
    base: u128,
    count: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl RequestIds {
    fn new() -> Self {
        let mut base = [0u8; 16];
        // Should the random source fail, the count alone still tells requests apart.
        let _ = getrandom::fill(&mut base);
        Self {
            base: u128::from_le_bytes(base),
            count: std::sync::Arc::default(),
        }
    }
}

impl MakeRequestId for RequestIds {
    fn make_request_id<B>(&mut self, _: &http::Request<B>) -> Option<RequestId> {
        let n = self
            .count
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        // The count is in the low half, below the variant bits (it would take 2^62
        // requests to wrap).
        let id =
            uuid::Builder::from_random_bytes((self.base ^ u128::from(n)).to_be_bytes()).into_uuid();
        let mut text = [0u8; uuid::fmt::Hyphenated::LENGTH];
        HeaderValue::from_str(id.hyphenated().encode_lower(&mut text))
            .ok()
            .map(RequestId::new)
    }
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
    "/complaints",
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

/// `Cache-Control: no-store` on every answer to a request with a session or a token and on every
/// personal or management path: a shared computer's browser history or back button, or a
/// proxy, must not show them to the next person.
async fn no_store(req: Request, next: axum::middleware::Next) -> axum::response::Response {
    let path = req.uri().path();
    let private = PRIVATE_PATHS.iter().any(|p| {
        path == *p
            || path
                .strip_prefix(p)
                .is_some_and(|rest| rest.starts_with(['/', '.']))
    }) || has_session_cookie(req.headers())
        || req.headers().contains_key(header::AUTHORIZATION);
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
            name == crate::http::cookie::SESSION_COOKIE
                || name == format!("__Host-{}", crate::http::cookie::SESSION_COOKIE)
        })
}

fn security_header(name: HeaderName, value: &'static str) -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use tower_http::request_id::MakeRequestId as _;

    #[test]
    fn request_ids_are_random_uuids_in_form_and_never_repeat() {
        let mut ids = super::RequestIds::new();
        let mut other = super::RequestIds::new();
        let req = http::Request::new(());
        let mut seen = std::collections::HashSet::new();
        for _ in 0..1000 {
            let id = ids.make_request_id(&req).unwrap();
            let id = uuid::Uuid::parse_str(id.header_value().to_str().unwrap()).unwrap();
            assert_eq!(id.get_version(), Some(uuid::Version::Random));
            assert_eq!(id.get_variant(), uuid::Variant::RFC4122);
            assert!(seen.insert(id), "{id} repeated");
        }
        // Another process (or replica) starts from another base.
        let theirs = other.make_request_id(&req).unwrap();
        let theirs = uuid::Uuid::parse_str(theirs.header_value().to_str().unwrap()).unwrap();
        assert!(!seen.contains(&theirs));
    }
}
