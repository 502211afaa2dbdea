//! A short-lived in-process cache of the public catalogue's GET responses for anonymous
//! visitors: the course list and course pages are the platform's hottest paths.
//!
//! The key is (tenant, the catalogue's change counter, path and query), so a replica never
//! serves a page older than its own last change; other replicas' changes show within the
//! time-to-live. Signed-in visitors (a session cookie) always get a fresh page, since their
//! pages name them and may show drafts, except for the JSON lists, which are the same for
//! everyone. Pages for visitors still to be asked about analytics
//! cookies are kept apart: the banner's form carries the visitor's own token, so the page is
//! kept with the token cut out and each visitor's token (their signed cookie's, or a new one
//! with its cookie) put back in as it is served; the rest of the page is the same for every
//! such visitor. The JSON API has no banner. Only 200 responses of known, modest size are
//! kept, and never their cookies. Either way the data comes from the published catalogue in
//! memory (`catalogue::published`), so a page not served from here is still answered
//! without a query.

use std::sync::Arc;

use axum::body::{Body, Bytes, HttpBody as _};
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar};
use http::{HeaderValue, Method, StatusCode, header};
use tenant_router::Tenant;

use crate::http::cookie::{CSRF_COOKIE, SESSION_COOKIE, named};
use crate::http::error::Failure;
pub use crate::http::public_cache::PublicCache;

/// Largest body kept.
const MAX_BODY: u64 = 512 * 1024;

/// `body` cut at each `token` (the pieces between them, zero-copy); `None` when the body
/// does not carry the token, as a banner page must.
fn cut_at(body: &Bytes, token: &str) -> Option<Arc<[Bytes]>> {
    let mut pieces = Vec::new();
    let mut from = 0;
    for (at, _) in std::str::from_utf8(body).ok()?.match_indices(token) {
        pieces.push(body.slice(from..at));
        from = at + token.len();
    }
    if pieces.is_empty() {
        return None;
    }
    pieces.push(body.slice(from..));
    Some(pieces.into())
}

/// A kept page's body for a visitor: its pieces joined around `token`.
fn joined(pieces: &[Bytes], token: &str) -> Bytes {
    if let [whole] = pieces {
        return whole.clone();
    }
    let size = pieces.iter().map(Bytes::len).sum::<usize>() + token.len() * (pieces.len() - 1);
    let mut out = Vec::with_capacity(size);
    for (i, piece) in pieces.iter().enumerate() {
        if i > 0 {
            out.extend_from_slice(token.as_bytes());
        }
        out.extend_from_slice(piece);
    }
    Bytes::from(out)
}

/// The token a freshly rendered banner page carries: the one its response gives the visitor
/// in a cookie, or else the visitor's own (valid) cookie's.
fn token_of(res: &Response, jar: &CookieJar, secure: bool) -> Option<String> {
    let name = named(CSRF_COOKIE, secure);
    res.headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| Cookie::parse(v.to_str().ok()?.to_owned()).ok())
        .find(|c| c.name() == name)
        .map(|c| c.value().to_owned())
        .or_else(|| jar.get(&name).map(|c| c.value().to_owned()))
        .filter(|t| !t.is_empty())
}

/// What a kept page is kept under besides the tenant: its path, and its query with the
/// parameters in one order (no page reads them in order, save a repeated name, whose values
/// keep theirs) and without the tracking parameters campaigns add to links
/// (`utm_…`, `fbclid`, `gclid`, `mc_cid`, `mc_eid`), which no page reads. A newsletter's
/// link and the same page found another way are then one page kept.
fn address(uri: &http::Uri) -> String {
    let Some(query) = uri.query().filter(|q| !q.is_empty()) else {
        return uri.path().to_owned();
    };
    let mut pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .filter(|(name, _)| {
            !name.starts_with("utm_")
                && !matches!(&**name, "fbclid" | "gclid" | "mc_cid" | "mc_eid")
        })
        .map(|(name, value)| (name.into_owned(), value.into_owned()))
        .collect();
    if pairs.is_empty() {
        return uri.path().to_owned();
    }
    pairs.sort_by(|a, b| a.0.cmp(&b.0));
    let query = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    format!("{}?{query}", uri.path())
}

fn has_session(req: &Request) -> bool {
    req.headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains(SESSION_COOKIE))
}

/// The JSON lists, which say nothing of who asks (no drafts, no names): served from here to
/// signed-in people too. Their session's idle timer is then not restarted by these reads.
/// (API tokens are still never served from here: each use of one is recorded.)
fn same_for_everyone(path: &str) -> bool {
    matches!(
        path,
        "/api/v1/courses" | "/api/v1/services" | "/api/v1/providers"
    )
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
    /// Signs and checks visitors' tokens.
    pub(crate) identity: identity::Identity,
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
        || (has_session(&req) && !same_for_everyone(req.uri().path()))
        || req.headers().contains_key(header::AUTHORIZATION)
    {
        return next.run(req).await;
    }
    let banner = asks_about_cookies(&tenant, &req, state.secure);
    let key = format!(
        "{}|{}|{}|{}",
        tenant.id,
        state.catalogue.generation(&tenant.id),
        if banner { "banner" } else { "" },
        address(req.uri())
    );
    let jar = banner.then(|| CookieJar::from_headers(req.headers()));
    if let Some((content_type, pieces)) = pages.get(&key) {
        let Some(jar) = jar else {
            return ([(header::CONTENT_TYPE, content_type)], joined(&pieces, "")).into_response();
        };
        let (token, new) = match crate::http::visitor::anonymous_csrf(
            &state.identity,
            &tenant.id,
            &jar,
            state.secure,
        ) {
            Ok(t) => t,
            Err(e) => return Failure::from(e).into_response(),
        };
        let body = joined(&pieces, &token);
        let mut res = ([(header::CONTENT_TYPE, content_type)], body).into_response();
        if let Some(c) = new.and_then(|c| HeaderValue::from_str(&c.to_string()).ok()) {
            res.headers_mut().append(header::SET_COOKIE, c);
        }
        return res;
    }
    let res = next.run(req).await;
    let size = res.body().size_hint().exact();
    if res.status() != StatusCode::OK || size.is_none_or(|n| n > MAX_BODY) {
        return res;
    }
    let token = jar.as_ref().map(|j| token_of(&res, j, state.secure));
    let (parts, body) = res.into_parts();
    let Ok(bytes) =
        axum::body::to_bytes(body, usize::try_from(MAX_BODY).unwrap_or(usize::MAX)).await
    else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let kept = match &token {
        None => Some(Arc::from([bytes.clone()])),
        Some(Some(t)) => cut_at(&bytes, t),
        // A banner page whose token cannot be told is not kept.
        Some(None) => None,
    };
    if let (Some(ct), Some(kept)) = (parts.headers.get(header::CONTENT_TYPE), kept) {
        pages.insert(key, (ct.clone(), kept));
    }
    Response::from_parts(parts, Body::from(bytes))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use axum::body::Bytes;

    use super::{address, cut_at, joined};

    #[test]
    fn a_kept_banner_page_is_cut_at_each_token_and_joined_around_another() {
        let page = Bytes::from_static("<p>tok1</p><form>tok1</form>ł".as_bytes());
        let pieces = cut_at(&page, "tok1").unwrap();
        assert_eq!(pieces.len(), 3);
        assert_eq!(joined(&pieces, "tok1"), page);
        assert_eq!(
            joined(&pieces, "other"),
            Bytes::from_static("<p>other</p><form>other</form>ł".as_bytes())
        );
        // A page without the token is not kept as a banner page.
        assert!(cut_at(&page, "tok2").is_none());
        // A page kept whole is served as it is, whatever the token.
        assert_eq!(joined(std::slice::from_ref(&page), "x"), page);
    }

    fn kept(uri: &str) -> String {
        address(&uri.parse().unwrap())
    }

    #[test]
    fn one_page_is_kept_once_however_its_address_is_spelt() {
        let page = kept("/courses?q=phonics+ks1&provider=ss4e");
        assert_eq!(kept("/courses?provider=ss4e&q=phonics%20ks1"), page);
        assert_eq!(
            kept(
                "/courses?utm_source=newsletter&provider=ss4e&utm_medium=email&q=phonics+ks1&fbclid=x"
            ),
            page,
            "tracking parameters"
        );
        assert_ne!(kept("/courses?q=phonics&provider=ss4e"), page);
        assert_ne!(kept("/services?q=phonics+ks1&provider=ss4e"), page);
        // A repeated name keeps its values' order.
        assert_ne!(kept("/courses?a=1&a=2"), kept("/courses?a=2&a=1"));
        assert_eq!(kept("/courses"), "/courses");
        assert_eq!(kept("/courses?"), "/courses");
        assert_eq!(kept("/courses?utm_source=x"), "/courses");
    }
}
