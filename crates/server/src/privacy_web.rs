//! The privacy notice (`/privacy`, and `/privacy.json` for machines), compiled by the
//! privacy engine from the tenant's configuration: what the platform enforces is what the
//! notice says. Its version is the fingerprint of that configuration, the same version the
//! consent ledger and just-in-time notices record.

use askama::Template;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use http::StatusCode;
use privacy_engine::domain::notice::{self, ICO, Notice};
use serde::Serialize;
use tenant_router::Tenant;

use crate::app::AppState;
use crate::web::{Chrome, render};

/// The notice routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/privacy", get(page))
        .route("/privacy.json", get(json))
}

fn version(t: &Tenant) -> String {
    storage::tenants::fingerprint(&t.config, None)
        .map(|v| v.chars().take(12).collect())
        .unwrap_or_default()
}

#[derive(Template)]
#[template(path = "privacy.html")]
struct NoticePage<'a> {
    chrome: Chrome<'a>,
    n: Notice,
    version: String,
    ico: &'static str,
}

async fn page(t: Tenant) -> Response {
    let page = NoticePage {
        n: notice::compile(&t.config),
        version: version(&t),
        ico: ICO,
        chrome: Chrome::new(&t, "/privacy"),
    };
    render(StatusCode::OK, &page)
}

#[derive(Serialize)]
struct Versioned {
    version: String,
    notice: Notice,
    ico: &'static str,
}

async fn json(t: Tenant) -> Response {
    Json(Versioned {
        version: version(&t),
        notice: notice::compile(&t.config),
        ico: ICO,
    })
    .into_response()
}
