//! The portal's cookies: their names (with the `__Host-` prefix where cookies are secure),
//! how they are set and removed, and the visitor's cookie choice. Every cookie is HttpOnly,
//! SameSite=Lax, host-only and for the whole site.

use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};

pub(crate) const SESSION_COOKIE: &str = "portal_session";
pub(crate) const CSRF_COOKIE: &str = "portal_csrf";
/// The last privacy-notice version this browser's person acknowledged: saves asking the
/// database on every page.
pub(crate) const NOTICE_ACK_COOKIE: &str = "portal_notice_seen";
/// The visitor's choice: `yes` or `no`.
pub(crate) const CHOICE_COOKIE: &str = "portal_cookies";
/// The analytics visitor id, set only after the visitor agrees.
pub(crate) const ANALYTICS_COOKIE: &str = "portal_analytics";

/// A cookie's name as sent: with the `__Host-` prefix when cookies are secure, so the
/// browser accepts it only from this very host, over HTTPS, for the whole site, and no
/// sibling host (another tenant's, say) can plant one of the same name.
pub(crate) fn named(name: &'static str, secure: bool) -> std::borrow::Cow<'static, str> {
    if secure {
        format!("__Host-{name}").into()
    } else {
        name.into()
    }
}

/// What removes one of the portal's cookies from the browser.
pub(crate) fn removal(name: &'static str, secure: bool) -> Cookie<'static> {
    let mut c = cookie(name, String::new(), secure);
    c.make_removal();
    c
}

/// A cookie set by the portal: HttpOnly, SameSite=Lax, host-only, for the whole site.
pub(crate) fn cookie(name: &'static str, value: String, secure: bool) -> Cookie<'static> {
    let mut c = Cookie::new(named(name, secure), value);
    c.set_http_only(true);
    c.set_same_site(SameSite::Lax);
    c.set_path("/");
    c.set_secure(secure);
    c
}

/// The visitor's choice about analytics cookies, if made.
pub(crate) fn choice(jar: &CookieJar, secure: bool) -> Option<bool> {
    match jar.get(&named(CHOICE_COOKIE, secure)).map(Cookie::value) {
        Some("yes") => Some(true),
        Some("no") => Some(false),
        _ => None,
    }
}
