//! Tenant-branded pages: the home page, "who controls your data", the per-tenant brand
//! stylesheet and logo, and a branded 404. All content comes from the tenant's
//! configuration; none of it is typed into templates per council.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use http::{StatusCode, header};
use tenant_router::config::Module;
use tenant_router::{Tenant, TenantConfig};

use crate::app::AppState;
use crate::visitor::Visitor;

/// The compiled GOV.UK Frontend styles with our header (see `assets/`).
const APP_CSS: &str = include_str!("../assets/app.css");

/// Cache-busting version of [`APP_CSS`]: changes whenever the file does.
fn css_version() -> &'static str {
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

/// Routes that need no tenant.
pub fn shared_assets() -> Router {
    Router::new().route("/assets/app.css", get(app_css))
}

/// Routes served per tenant (behind the tenant layer).
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/data-controller", get(data_controller))
        .route("/assets/tenant.css", get(tenant_css))
        .route("/assets/logo", get(logo))
        .merge(identity::api::router())
        .merge(privacy_engine::api::router())
        .fallback(not_found)
}

async fn app_css() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
        ],
        APP_CSS,
    )
        .into_response()
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
            (
                "/courses",
                "Courses and events",
                crate::catalogue_web::offers_courses(cfg),
            ),
            (
                "/services",
                "Services",
                crate::catalogue_web::offers_services(cfg),
            ),
            (
                "/resources",
                "Resources",
                crate::catalogue_web::offers_resources(cfg),
            ),
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

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage<'a> {
    chrome: Chrome<'a>,
    intro: String,
    offers: Vec<&'static str>,
}

#[derive(Template)]
#[template(path = "controller.html")]
struct ControllerPage<'a> {
    chrome: Chrome<'a>,
}

#[derive(Template)]
#[template(path = "not_found.html")]
struct NotFoundPage<'a> {
    chrome: Chrome<'a>,
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

/// Where a form's `back` field sends the browser: `default` when there is none, the path
/// when it is on this site, and a 400 otherwise.
pub(crate) fn back_to<'a>(
    form: &'a std::collections::HashMap<String, String>,
    default: &'a str,
) -> Result<&'a str, crate::visitor::PageError> {
    match form.get("back").map(String::as_str) {
        None | Some("") => Ok(default),
        Some(b) => same_site_path(b).ok_or_else(|| {
            crate::visitor::PageError::new(
                StatusCode::BAD_REQUEST,
                "invalid_back",
                "The page to return to is not on this site.",
            )
        }),
    }
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

async fn home(v: Visitor) -> Response {
    let c = v.chrome("/");
    let cfg = c.tenant;
    let offers = [
        (Module::Courses, "Find and book training courses and events"),
        (
            Module::TradedServices,
            "Buy traded services and service level agreements for your organisation",
        ),
        (Module::Resources, "Download resources"),
        (
            Module::Induction,
            "Register early career teachers for statutory induction",
        ),
        (
            Module::InclusionCasework,
            "Work with the inclusion service on support for pupils",
        ),
        (Module::IctServices, "Order ICT services and certificates"),
    ]
    .into_iter()
    .filter(|(m, _)| cfg.has_module(*m))
    .map(|(_, text)| text)
    .chain(
        cfg.has_module(Module::Courses)
            .then_some("Keep your CPD records and certificates in one place"),
    )
    .collect();
    let intro = format!(
        "The education services portal of {}, for {}.",
        cfg.controller.name,
        audience_phrase(cfg)
    );
    let html = render(
        StatusCode::OK,
        &HomePage {
            chrome: c,
            intro,
            offers,
        },
    );
    v.respond(html)
}

fn audience_phrase(cfg: &TenantConfig) -> String {
    let words: Vec<&str> = cfg.audiences.iter().map(|a| a.label()).collect();
    match words.as_slice() {
        [] => "education settings".to_owned(),
        [one] => (*one).to_owned(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

async fn data_controller(v: Visitor) -> Response {
    let html = render(
        StatusCode::OK,
        &ControllerPage {
            chrome: v.chrome("/data-controller"),
        },
    );
    v.respond(html)
}

async fn not_found(v: Visitor) -> Response {
    let html = render(
        StatusCode::NOT_FOUND,
        &NotFoundPage {
            chrome: v.chrome(""),
        },
    );
    v.respond(html)
}

fn brand_version(t: &Tenant) -> String {
    let b = &t.config.branding;
    let mut key = format!("{}{}", b.colour, b.accent_colour).into_bytes();
    if let Some((_, bytes)) = &t.logo {
        key.extend_from_slice(bytes);
    }
    short_hash(&key)
}

/// The tenant's colours as custom properties; the shared stylesheet reads them. Colours
/// were validated as `#rrggbb` on load, so nothing here can inject CSS.
async fn tenant_css(t: Tenant) -> Response {
    let b = &t.config.branding;
    let css = format!(
        ":root{{--brand-colour:{};--brand-colour-text:#ffffff;--brand-accent:{};}}\n",
        b.colour, b.accent_colour
    );
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
        ],
        css,
    )
        .into_response()
}

async fn logo(t: Tenant, State(_): State<AppState>) -> Response {
    match &t.logo {
        Some((content_type, bytes)) => (
            [
                (header::CONTENT_TYPE, *content_type),
                (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
            ],
            bytes.clone(),
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "This portal has no logo.").into_response(),
    }
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
