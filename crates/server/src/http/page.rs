//! What every page shares: the layout's data ([`Chrome`]: tenant, navigation, who is
//! signed in, banners), rendering a template, the stylesheet's version, and which areas a
//! tenant offers. Nothing here knows a request.

use askama::Template;
use axum::response::{Html, IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use tenant_router::config::Module;
use tenant_router::{Tenant, TenantConfig};

use crate::http::error::Failure;

/// The compiled GOV.UK Frontend styles with our header (see `assets/`).
pub(crate) const APP_CSS: &str = include_str!("../../assets/app.css");

/// Cache-busting version of [`APP_CSS`]: changes whenever the file does.
pub(crate) fn css_version() -> &'static str {
    static V: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    V.get_or_init(|| short_hash(APP_CSS.as_bytes()))
}

fn short_hash(bytes: &[u8]) -> String {
    // FNV-1a: a cache key, not a security boundary.
    let h = bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("{h:016x}")
}

pub(crate) fn offers_courses(cfg: &TenantConfig) -> bool {
    cfg.has_module(Module::Courses)
}

pub(crate) fn offers_resources(cfg: &TenantConfig) -> bool {
    cfg.has_module(Module::Resources)
}

pub(crate) fn offers_services(cfg: &TenantConfig) -> bool {
    cfg.has_module(Module::TradedServices) || cfg.has_module(Module::IctServices)
}

pub(crate) struct NavItem {
    pub(crate) href: &'static str,
    pub(crate) label: &'static str,
    pub(crate) current: bool,
}

/// The signed-in person, as the header shows them.
pub(crate) struct UserChrome {
    /// Name to show.
    pub name: String,
    /// CSRF token for the sign-out button.
    pub csrf: String,
    /// Whether the header leads to the administrators' console.
    pub manages: bool,
}

/// A significant privacy-notice change shown at the top of every page until acknowledged.
#[derive(Clone)]
pub(crate) struct Announcement {
    pub(crate) version: i32,
    pub(crate) summary: String,
    pub(crate) csrf: String,
    /// The page to return to once acknowledged.
    pub(crate) back: String,
}

/// What every page's layout needs.
pub(crate) struct Chrome<'a> {
    pub tenant: &'a TenantConfig,
    pub(crate) nav: Vec<NavItem>,
    pub(crate) has_logo: bool,
    /// The logo's text alternative (`branding.logo_alt`); empty when it only repeats the
    /// service name, which follows the logo in the same link.
    pub(crate) logo_alt: String,
    pub(crate) css_version: &'static str,
    pub(crate) brand_version: String,
    /// Who is signed in, if anyone (`None` on pages that do not look).
    pub user: Option<UserChrome>,
    /// Whether the header offers "Sign in" (pages that looked and found no one).
    pub offer_sign_in: bool,
    /// A notice change to announce to the signed-in person.
    pub(crate) announcement: Option<Announcement>,
    /// Ask about analytics cookies (the tenant uses them and the visitor has not chosen).
    pub(crate) cookie_banner: bool,
    /// The form token the banner's form carries.
    pub(crate) csrf: String,
    /// This page's path, to return to after choosing.
    pub(crate) path: String,
}

impl<'a> Chrome<'a> {
    pub(crate) fn new(t: &'a Tenant, path: &str) -> Self {
        let cfg = &t.config;
        let nav = [
            ("/", "Home", true),
            ("/courses", "Courses and events", offers_courses(cfg)),
            ("/services", "Services", offers_services(cfg)),
            ("/resources", "Resources", offers_resources(cfg)),
            ("/data-controller", "Who controls your data", true),
        ]
        .into_iter()
        .filter(|(_, _, shown)| *shown)
        .map(|(href, label, _)| (href, label))
        .map(|(href, label)| NavItem {
            href,
            label,
            current: href == path,
        })
        .collect();
        Self {
            tenant: &t.config,
            nav,
            has_logo: t.logo.is_some(),
            logo_alt: cfg
                .branding
                .logo_alt
                .clone()
                .filter(|a| a.trim() != cfg.display_name)
                .unwrap_or_default(),
            css_version: css_version(),
            brand_version: brand_version(t),
            user: None,
            offer_sign_in: false,
            announcement: None,
            cookie_banner: false,
            csrf: String::new(),
            path: path.to_owned(),
        }
    }
}

pub(crate) fn brand_version(t: &Tenant) -> String {
    let b = &t.config.branding;
    let mut key = format!("{}{}", b.colour, b.accent_colour).into_bytes();
    if let Some((_, bytes)) = &t.logo {
        key.extend_from_slice(bytes);
    }
    short_hash(&key)
}

/// A `back` value from a form, if it is a path on this very site: one leading `/`, no
/// second `/` or `\` after it (which browsers read as another host), no control
/// characters or spaces, and a valid path and query. Anything else is refused.
pub(crate) fn same_site_path(back: &str) -> Option<&str> {
    let rest = back.strip_prefix('/')?;
    if rest.starts_with(['/', '\\'])
        || back.contains('\\')
        || back.chars().any(|c| c.is_control() || c.is_whitespace())
        || back.len() > 2048
    {
        return None;
    }
    let parsed = back.parse::<http::uri::PathAndQuery>().ok()?;
    (parsed.as_str() == back).then_some(back)
}

pub(crate) fn render(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template failed to render");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "Sorry, there is a problem with the service.",
            )
                .into_response()
        }
    }
}

/// A CSV download.
pub(crate) fn csv_response(filename: &str, rows: Vec<Vec<String>>) -> Result<Response, Failure> {
    let mut w = csv::Writer::from_writer(Vec::new());
    for row in rows {
        w.write_record(row.iter().map(|v| storage::spreadsheet::safe_cell(v)))
            .map_err(|e| Failure::internal(&e))?;
    }
    let body = w.into_inner().map_err(|e| Failure::internal(&e))?;
    let mut res = (StatusCode::OK, body).into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::same_site_path;

    #[test]
    fn back_paths_stay_on_this_site() {
        assert_eq!(same_site_path("/courses?q=maths"), Some("/courses?q=maths"));
        assert_eq!(same_site_path("/"), Some("/"));
        for bad in [
            "//evil.example/",
            "/\\evil.example/",
            "\\/evil.example",
            "/\tevil",
            "/a\nb",
            "/a b",
            "https://evil.example/",
            "evil",
            "",
            "/%0d%0a\r",
        ] {
            assert_eq!(same_site_path(bad), None, "{bad:?}");
        }
    }
}
