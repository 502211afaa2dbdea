//! Host → tenant resolution as a tower layer, and the `Tenant` extractor.
//!
//! Invariant: a request that passes this layer carries exactly one `Arc<TenantContext>`
//! extension; any other request has already been answered 400 (bad host) or 404 (no such
//! tenant). There is no default tenant. The layer must wrap the whole tenant router (not
//! `Router::layer`) so resolution happens before route matching and unknown hosts never
//! reach a handler.

use std::sync::Arc;
use std::task::{Context, Poll};

use axum::extract::FromRequestParts;
use axum::response::{Html, IntoResponse, Response};
use http::request::Parts;
use http::{HeaderMap, Request, StatusCode, header};
use tower::{Layer, Service};

use crate::host::{HostError, normalise_host};
use crate::registry::{LiveRegistry, TenantContext, TenantRegistry};

/// The header a trusted reverse proxy sets to the host the client asked for.
pub const X_FORWARDED_HOST: &str = "x-forwarded-host";

/// Resolves the tenant of every request from its host.
#[derive(Clone)]
pub struct TenantLayer {
    registry: LiveRegistry,
    trust_forwarded_host: bool,
}

impl TenantLayer {
    /// A layer over `registry`. `trust_forwarded_host` must only be true behind a proxy that
    /// overwrites `X-Forwarded-Host`; otherwise any client could pick its tenant.
    #[must_use]
    pub fn new(registry: LiveRegistry, trust_forwarded_host: bool) -> Self {
        Self {
            registry,
            trust_forwarded_host,
        }
    }
}

impl<S> Layer<S> for TenantLayer {
    type Service = TenantService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        TenantService {
            inner,
            layer: self.clone(),
        }
    }
}

/// The service [`TenantLayer`] produces.
#[derive(Clone)]
pub struct TenantService<S> {
    inner: S,
    layer: TenantLayer,
}

/// How a request's host was judged.
#[derive(Debug, PartialEq, Eq)]
pub enum Resolution {
    /// A known tenant.
    Tenant(Arc<TenantContext>),
    /// A valid host no tenant serves, or no host at all.
    Unknown,
    /// A host no DNS name can be.
    Bad(HostError),
}

impl PartialEq for TenantContext {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}
impl Eq for TenantContext {}

/// Judges the host of a request from its headers and URI authority.
#[must_use]
pub fn resolve(
    registry: &TenantRegistry,
    trust_forwarded_host: bool,
    headers: &HeaderMap,
    authority: Option<&str>,
) -> Resolution {
    let mut hosts = headers.get_all(header::HOST).iter();
    let host = hosts.next();
    if hosts.next().is_some() {
        return Resolution::Bad(HostError::Ambiguous);
    }
    // An absolute-form target (`GET http://a/ HTTP/1.1`) must name the host `Host` names.
    if let (Some(target), Some(Ok(named))) = (authority, host.map(|h| h.to_str())) {
        match (normalise_host(target), normalise_host(named)) {
            (Ok(a), Ok(b)) if a == b => {}
            (Err(e), _) | (_, Err(e)) => return Resolution::Bad(e),
            _ => return Resolution::Bad(HostError::Ambiguous),
        }
    }
    let forwarded = trust_forwarded_host
        .then(|| headers.get(X_FORWARDED_HOST))
        .flatten()
        // A proxy chain appends; the first value is what the client asked for.
        .map(|v| v.to_str().map(|s| s.split(',').next().unwrap_or("").trim()));
    let raw = match forwarded {
        Some(Ok(h)) => Some(h),
        Some(Err(_)) => return Resolution::Bad(HostError::Malformed),
        None => match host.map(|v| v.to_str()) {
            Some(Ok(h)) => Some(h),
            Some(Err(_)) => return Resolution::Bad(HostError::Malformed),
            None => authority,
        },
    };
    let Some(raw) = raw else {
        return Resolution::Unknown;
    };
    match normalise_host(raw) {
        Ok(host) => registry
            .by_host(&host)
            .map_or(Resolution::Unknown, |t| Resolution::Tenant(Arc::clone(t))),
        Err(e) => Resolution::Bad(e),
    }
}

impl<S, B> Service<Request<B>> for TenantService<S>
where
    S: Service<Request<B>, Response = Response> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = S::Error;
    type Future =
        futures_util::future::Either<S::Future, std::future::Ready<Result<Response, S::Error>>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<B>) -> Self::Future {
        use futures_util::future::Either;
        let resolution = resolve(
            &self.layer.registry.current(),
            self.layer.trust_forwarded_host,
            req.headers(),
            req.uri().authority().map(|a| a.as_str()),
        );
        match resolution {
            Resolution::Tenant(t) => {
                tracing::Span::current().record("tenant", t.id.as_str());
                req.extensions_mut().insert(t);
                Either::Left(self.inner.call(req))
            }
            Resolution::Unknown => Either::Right(std::future::ready(Ok(unknown_host()))),
            Resolution::Bad(e) => Either::Right(std::future::ready(Ok(bad_host(e)))),
        }
    }
}

const PAGE_HEAD: &str = "<!DOCTYPE html><html lang=\"en-GB\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>";

fn plain_page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "{PAGE_HEAD}{title}</title></head><body><main><h1>{title}</h1><p>{body}</p></main></body></html>"
    );
    (status, Html(html)).into_response()
}

/// The answer for a host no tenant serves. It names no tenant, so it cannot be used to list them.
#[must_use]
pub fn unknown_host() -> Response {
    plain_page(
        StatusCode::NOT_FOUND,
        "Page not found",
        "There is no education services portal at this address. Check the address you typed.",
    )
}

fn bad_host(e: HostError) -> Response {
    let reason = match e {
        HostError::TooLong => "The address is too long.",
        HostError::Malformed => "The address is not a valid web address.",
        HostError::Ambiguous => "The request names more than one address.",
    };
    plain_page(
        StatusCode::BAD_REQUEST,
        "Bad request",
        &format!("{reason} Check the address you typed."),
    )
}

/// The request's tenant. Only a route behind [`TenantLayer`] can extract it; elsewhere the
/// extraction fails with a 500, because that is a wiring bug, never a default tenant.
#[derive(Debug, Clone)]
pub struct Tenant(pub Arc<TenantContext>);

/// A route outside the tenant layer asked for a tenant.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("the request has no resolved tenant")]
pub struct TenantNotResolved;

impl IntoResponse for TenantNotResolved {
    fn into_response(self) -> Response {
        tracing::error!("{self}: a tenant route is mounted outside TenantLayer");
        StatusCode::INTERNAL_SERVER_ERROR.into_response()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Tenant {
    type Rejection = TenantNotResolved;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Arc<TenantContext>>()
            .cloned()
            .map(Tenant)
            .ok_or(TenantNotResolved)
    }
}

impl std::ops::Deref for Tenant {
    type Target = TenantContext;

    fn deref(&self) -> &TenantContext {
        &self.0
    }
}
