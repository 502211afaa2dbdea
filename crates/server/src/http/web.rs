//! Tenant-branded pages: the home page, "who controls your data", the accessibility
//! statement, the per-tenant brand
//! stylesheet and logo, and a branded 404. All content comes from the tenant's
//! configuration; none of it is typed into templates per council.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http::{StatusCode, header};
use tenant_router::config::Module;
use tenant_router::{Tenant, TenantConfig};

pub(crate) use crate::http::page::{APP_CSS, Chrome, render, same_site_path};
use crate::http::state::AppState;
use crate::http::visitor::Visitor;

/// Routes that need no tenant.
pub fn shared_assets() -> Router {
    Router::new().route("/assets/app.css", get(app_css))
}

/// Routes served per tenant (behind the tenant layer).
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/data-controller", get(data_controller))
        .route("/accessibility", get(accessibility))
        .route("/assets/tenant.css", get(tenant_css))
        .route("/assets/logo", get(logo))
        .route("/assets/favicon.svg", get(favicon))
        .route("/favicon.ico", get(favicon))
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
#[template(path = "accessibility.html")]
struct AccessibilityPage<'a> {
    chrome: Chrome<'a>,
    s: &'static crate::accessibility::Statement,
}

impl AccessibilityPage<'_> {
    fn day(d: &chrono::NaiveDate) -> String {
        d.format("%-d %B %Y").to_string()
    }
}

#[derive(Template)]
#[template(path = "not_found.html")]
struct NotFoundPage<'a> {
    chrome: Chrome<'a>,
}

/// Where a form's `back` field sends the browser: `default` when there is none, the path
/// when it is on this site, and a 400 otherwise.
pub(crate) fn back_to<'a>(
    form: &'a std::collections::HashMap<String, String>,
    default: &'a str,
) -> Result<&'a str, crate::http::visitor::Failure> {
    match form.get("back").map(String::as_str) {
        None | Some("") => Ok(default),
        Some(b) => same_site_path(b).ok_or_else(|| {
            crate::http::visitor::Failure::new(
                StatusCode::BAD_REQUEST,
                "invalid_back",
                "The page to return to is not on this site.",
            )
        }),
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

async fn accessibility(v: Visitor) -> Response {
    let html = match crate::accessibility::statement() {
        Ok(s) => render(
            StatusCode::OK,
            &AccessibilityPage {
                chrome: v.chrome("/accessibility"),
                s,
            },
        ),
        Err(e) => crate::http::error::Failure::internal(&e).into_response(),
    };
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

/// The tenant's icon for browser tabs and bookmarks: its initial in white on its brand
/// colour (validated `#rrggbb`), drawn here so no council has to supply one.
async fn favicon(t: Tenant) -> Response {
    let initial = t
        .config
        .display_name
        .chars()
        .find(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase().to_string())
        .unwrap_or_default();
    let svg = format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" fill="{}"/><text x="16" y="23" font-family="Arial, sans-serif" font-size="20" font-weight="700" text-anchor="middle" fill="#ffffff">{initial}</text></svg>"##,
        t.config.branding.colour
    );
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        svg,
    )
        .into_response()
}

async fn logo(t: Tenant, State(_): State<AppState>) -> Response {
    match &t.logo {
        Some((content_type, bytes)) => (
            [
                (header::CONTENT_TYPE, *content_type),
                (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
                // Opened on its own, the image may draw and nothing else.
                (
                    header::CONTENT_SECURITY_POLICY,
                    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox",
                ),
            ],
            bytes.clone(),
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "This portal has no logo.").into_response(),
    }
}
