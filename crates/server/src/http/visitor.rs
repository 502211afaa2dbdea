//! Who is making the request (`Visitor`): the tenant, the CSRF token every form carries, and
//! the signed-in account; plus the conversion of identity's errors into [`Failure`].
//!
//! Every form carries a CSRF token: before sign-in it is a random value in the
//! `portal_csrf` cookie (double submit); after sign-in it is the session's own token
//! (synchroniser). Both cookies are HttpOnly, SameSite=Lax and host-only, so the browser
//! never sends one tenant's cookie to another tenant's host; the session store is keyed by
//! tenant too, so a copied cookie finds nothing elsewhere.

use std::collections::HashMap;

use axum::extract::FromRequestParts;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar};
use http::StatusCode;
use http::request::Parts;
use identity::sessions::Session;
use identity::{IdentityError, SignedIn};
use tenant_router::Tenant;

pub(crate) use crate::http::cookie::{
    CSRF_COOKIE, NOTICE_ACK_COOKIE, SESSION_COOKIE, cookie, named, removal,
};
pub(crate) use crate::http::error::{Failure, with_code};
use crate::http::page::{Chrome, UserChrome};
use crate::http::state::AppState;

const CSRF_FIELD: &str = "csrf_token";

/// Whoever is making the request: their CSRF token, and their account when signed in.
pub struct Visitor {
    tenant: Tenant,
    jar: CookieJar,
    csrf: String,
    signed_in: Option<SignedIn>,
    /// A sign-in part-way through: password accepted, second factor owed.
    pending: Option<(Session, identity::store::entity::account::Model)>,
    secure: bool,
    base_url: String,
    /// `scheme://host` of the configured name this request came in on.
    site_url: String,
    /// A significant notice change the signed-in person has yet to acknowledge.
    announcement: Option<crate::http::page::Announcement>,
    /// The path asked for (pages return here after a banner's form).
    path: String,
}

impl FromRequestParts<AppState> for Visitor {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let tenant = Tenant::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let mut jar = CookieJar::from_headers(&parts.headers);
        let secure = state.secure_cookies;
        let bearer = crate::http::api_tokens::bearer(state, &tenant, parts).await?;
        let signed_in = match (bearer, jar.get(&named(SESSION_COOKIE, secure))) {
            (Some(who), _) => Some(who),
            (None, Some(c)) => state
                .identity
                .current(&tenant.id, c.value())
                .await
                .map_err(|e| Failure::from(e).into_response())?,
            (None, None) => None,
        };
        let pending = match (&signed_in, jar.get(&named(SESSION_COOKIE, secure))) {
            (None, Some(c)) => state
                .identity
                .pending(&tenant.id, c.value())
                .await
                .map_err(|e| Failure::from(e).into_response())?,
            _ => None,
        };
        let session_csrf = signed_in
            .as_ref()
            .map(|s| &s.session.csrf)
            .or(pending.as_ref().map(|(s, _)| &s.csrf));
        // Before sign-in the token is the cookie's value, which must carry our signature
        // for this tenant: a value planted in the browser by anyone else is replaced.
        let csrf = match session_csrf {
            Some(c) => c.clone(),
            None => {
                let (value, new) = anonymous_csrf(&state.identity, &tenant.id, &jar, secure)
                    .map_err(|e| Failure::from(e).into_response())?;
                if let Some(c) = new {
                    jar = jar.add(c);
                }
                value
            }
        };
        let announcement = match &signed_in {
            Some(who) => announcement(state, &tenant, &jar, who)
                .await
                .map_err(IntoResponse::into_response)?
                .map(|mut a| {
                    a.back = parts.uri.path().to_owned();
                    a
                }),
            None => None,
        };
        Ok(Self {
            base_url: state.base_url(&tenant.config),
            site_url: {
                // The name the request came in on (the proxy's forwarded host first), if it
                // is one of the tenant's configured names; any other value is ignored.
                let host = [tenant_router::X_FORWARDED_HOST, "host"]
                    .into_iter()
                    .filter_map(|h| parts.headers.get(h)?.to_str().ok())
                    .filter_map(|h| tenant_router::normalise_host(h.split(',').next()?.trim()).ok())
                    .find(|h| tenant.config.hostnames.contains(h))
                    .unwrap_or_default();
                state.site_url(&tenant.config, &host)
            },
            tenant,
            jar,
            csrf,
            signed_in,
            pending,
            secure: state.secure_cookies,
            announcement,
            path: parts.uri.path().to_owned(),
        })
    }
}

/// The CSRF token of a visitor not signed in: their cookie's value when it carries our
/// signature for this tenant, otherwise a new one with the cookie that gives it to them.
///
/// # Errors
/// When no randomness is available.
pub(crate) fn anonymous_csrf(
    identity: &identity::Identity,
    tenant: &tenant_router::TenantId,
    jar: &CookieJar,
    secure: bool,
) -> Result<(String, Option<Cookie<'static>>), IdentityError> {
    match jar.get(&named(CSRF_COOKIE, secure)) {
        Some(c) if identity.csrf_is_ours(tenant, c.value()) => Ok((c.value().to_owned(), None)),
        _ => {
            let value = identity.new_csrf(tenant)?;
            Ok((value.clone(), Some(cookie(CSRF_COOKIE, value, secure))))
        }
    }
}

impl Visitor {
    /// The tenant of the request.
    pub(crate) fn tenant(&self) -> &Tenant {
        &self.tenant
    }

    /// The CSRF token forms on this page must carry.
    pub(crate) fn csrf(&self) -> &str {
        &self.csrf
    }

    /// A sign-in part-way through (second factor owed), if any.
    pub(crate) fn pending(&self) -> Option<&(Session, identity::store::entity::account::Model)> {
        self.pending.as_ref()
    }

    /// The signed-in person, if any.
    pub(crate) fn signed_in(&self) -> Option<&SignedIn> {
        self.signed_in.as_ref()
    }

    /// The signed-in person, or a [`Failure`] that sends the browser to the sign-in page.
    pub(crate) fn signed_in_or_redirect(&self) -> Result<&SignedIn, Failure> {
        self.signed_in().ok_or_else(Failure::sign_in)
    }

    /// `scheme://host` of this tenant's portal, for links in emails.
    pub(crate) fn base_url(&self) -> &str {
        &self.base_url
    }

    /// `scheme://host` of the tenant's configured name this request came in on (never a
    /// port or host the client chose), for redirects back to this browser.
    pub(crate) fn site_url(&self) -> &str {
        &self.site_url
    }

    /// The request's cookies (with any this request has set).
    pub(crate) fn jar(&self) -> &CookieJar {
        &self.jar
    }

    /// The value of one of the portal's cookies (by its unprefixed name).
    pub(crate) fn cookie_value(&self, name: &'static str) -> Option<&str> {
        self.jar.get(&named(name, self.secure)).map(Cookie::value)
    }

    /// The session token, when the browser sent one.
    pub(crate) fn session_token(&self) -> Option<String> {
        self.cookie_value(SESSION_COOKIE).map(str::to_owned)
    }

    /// Whether cookies are marked `Secure`.
    pub(crate) fn secure(&self) -> bool {
        self.secure
    }

    /// The response, with any cookie this request set.
    pub(crate) fn respond(self, response: Response) -> Response {
        (self.jar, response).into_response()
    }

    pub(crate) fn chrome(&self, path: &str) -> Chrome<'_> {
        let mut c = Chrome::new(&self.tenant, path);
        c.user = self.signed_in.as_ref().map(|s| UserChrome {
            name: format!("{} {}", s.account.first_name, s.account.last_name),
            csrf: s.session.csrf.clone(),
            manages: s.manages,
        });
        c.offer_sign_in = c.user.is_none();
        c.announcement.clone_from(&self.announcement);
        c.cookie_banner = self.tenant.config.cookies.analytics
            && crate::http::cookie::choice(&self.jar, self.secure).is_none()
            && path != "/cookies";
        c.csrf.clone_from(&self.csrf);
        c.path = self.path.clone();
        c
    }

    /// Refuses a form whose CSRF token is missing or wrong.
    pub(crate) fn check_csrf(&self, form: &HashMap<String, String>) -> Result<(), Failure> {
        let sent = form.get(CSRF_FIELD).map(String::as_str).unwrap_or_default();
        if identity::domain::token::same(sent, &self.csrf) {
            Ok(())
        } else {
            Err(Failure::csrf())
        }
    }
}

/// The significant notice change `who` should be told about, if any: the tenant's latest,
/// when it came after their account was made and they have not acknowledged it.
async fn announcement(
    state: &AppState,
    tenant: &Tenant,
    jar: &CookieJar,
    who: &SignedIn,
) -> Result<Option<crate::http::page::Announcement>, Failure> {
    let Some((latest, published_at)) = state.announced.latest(&tenant.id) else {
        return Ok(None);
    };
    let seen = jar
        .get(&named(NOTICE_ACK_COOKIE, state.secure_cookies))
        .and_then(|c| c.value().parse::<i32>().ok());
    if published_at <= who.account.created_at || seen.is_some_and(|v| v >= latest) {
        return Ok(None);
    }
    let owed = state
        .privacy
        .unacknowledged(&tenant.id, &who.account.id, who.account.created_at)
        .await
        .map_err(|e| Failure::internal(&e))?;
    Ok(owed.map(|l| crate::http::page::Announcement {
        version: l.version,
        summary: l.summary,
        csrf: who.session.csrf.clone(),
        back: String::new(),
    }))
}

impl From<IdentityError> for Failure {
    fn from(e: IdentityError) -> Self {
        match e {
            IdentityError::SessionStore(cause) => {
                tracing::error!(%cause, "session store unavailable");
                Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "session_store_unavailable",
                    "Signing in is not available at the moment. Try again in a few minutes.",
                )
            }
            other => {
                tracing::error!(error = %other, "identity request failed");
                Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "Sorry, there is a problem with the service. Try again later.",
                )
            }
        }
    }
}
