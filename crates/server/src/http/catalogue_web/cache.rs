//! A short-lived in-process cache of the public catalogue's GET responses for anonymous
//! visitors: the course list and course pages are the platform's hottest paths.
//!
//! The key is (tenant, the catalogue's change counter, path and query), so a replica never
//! serves a page older than its own last change; other replicas' changes show within the
//! time-to-live. Signed-in visitors (a session cookie) always get a fresh page, since their
//! pages name them and may show drafts. Nor do visitors still to be asked about analytics
//! cookies, on pages: the banner's form carries their own token (the JSON API has no banner).
//! Only 200 responses of known, modest size are kept, and never their cookies. Either way the
//! data comes from the published catalogue in memory (`catalogue::published`), so a page not
//! served from here is still answered without a query.

use axum::body::{Body, HttpBody as _};
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::{Method, StatusCode, header};
use tenant_router::Tenant;

use crate::http::cookie::SESSION_COOKIE;
pub use crate::http::public_cache::PublicCache;

/// Largest body kept.
const MAX_BODY: u64 = 512 * 1024;

fn has_session(req: &Request) -> bool {
    req.headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains(SESSION_COOKIE))
}

/// Whether the page will carry the cookie banner, whose form holds this visitor's own token.
/// The JSON API never does.
fn asks_about_cookies(tenant: &Tenant, req: &Request, secure: bool) -> bool {
    tenant.config.cookies.analytics
        && !req.uri().path().starts_with("/api/")
        && crate::http::cookie::choice(
            &axum_extra::extract::cookie::CookieJar::from_headers(req.headers()),
            secure,
        )
        .is_none()
}

/// What the middleware needs: the cache, the catalogue's change counter, and whether
/// cookies are secure (their names). Shared behind an `Arc`, so a request's copy is one
/// counter.
pub(crate) struct Cached {
    /// The pages.
    pub(crate) cache: PublicCache,
    /// Whose change counter keys them.
    pub(crate) catalogue: catalogue::Catalogue,
    /// Cookies are secure (`__Host-` names).
    pub(crate) secure: bool,
}

/// The middleware (`axum::middleware::from_fn_with_state`).
pub(crate) async fn serve_cached(
    State(state): State<std::sync::Arc<Cached>>,
    tenant: Tenant,
    req: Request,
    next: Next,
) -> Response {
    let Some(pages) = &state.cache.pages else {
        return next.run(req).await;
    };
    if req.method() != Method::GET
        || has_session(&req)
        || req.headers().contains_key(header::AUTHORIZATION)
        || asks_about_cookies(&tenant, &req, state.secure)
    {
        return next.run(req).await;
    }
    let key = format!(
        "{}|{}|{}",
        tenant.id,
        state.catalogue.generation(&tenant.id),
        req.uri().path_and_query().map_or("/", |p| p.as_str())
    );
    if let Some((content_type, body)) = pages.get(&key) {
        return ([(header::CONTENT_TYPE, content_type)], body).into_response();
    }
    let res = next.run(req).await;
    let size = res.body().size_hint().exact();
    if res.status() != StatusCode::OK || size.is_none_or(|n| n > MAX_BODY) {
        return res;
    }
    let (parts, body) = res.into_parts();
    let Ok(bytes) =
        axum::body::to_bytes(body, usize::try_from(MAX_BODY).unwrap_or(usize::MAX)).await
    else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    if let Some(ct) = parts.headers.get(header::CONTENT_TYPE) {
        pages.insert(key, (ct.clone(), bytes.clone()));
    }
    Response::from_parts(parts, Body::from(bytes))
}
