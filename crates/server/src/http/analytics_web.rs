//! The council's view of its analytics (`/manage/analytics`, tenant administrators): page
//! views per page over the last 30 days, from the anonymous daily counts the platform
//! keeps for visitors who agreed. The purpose the notice states ("to find out how the
//! website is used") is served here; nothing here can tell visitors apart.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use http::StatusCode;

use crate::http::auth::{Failure, Visitor};
use crate::http::error::not_found;
use crate::http::page::{Chrome, render};
use crate::http::state::AppState;

/// Days the page covers.
const DAYS: i64 = 30;
/// Pages listed at most.
const TOP: u64 = 50;

/// The routes.
pub fn router() -> Router<AppState> {
    Router::new().route("/manage/analytics", get(page))
}

#[derive(Template)]
#[template(path = "analytics.html")]
struct AnalyticsPage<'a> {
    chrome: Chrome<'a>,
    days: i64,
    rows: Vec<(String, i64)>,
    total: i64,
}

async fn page(State(state): State<AppState>, v: Visitor) -> Result<Response, Failure> {
    let who = v.signed_in_or_redirect()?;
    if !v.tenant().config.cookies.analytics
        || !state.identity.is_tenant_admin(&v.tenant().id, who).await?
    {
        return Err(not_found());
    }
    let today = state.clock.now().date_naive();
    let from = today - chrono::Duration::days(DAYS - 1);
    let tx = state
        .db
        .tenant_tx(&v.tenant().id)
        .await
        .map_err(|e| Failure::internal(&e))?;
    let rows = storage::analytics::top_pages(&tx, from, today, TOP)
        .await
        .map_err(|e| Failure::internal(&e))?;
    tx.rollback().await.map_err(|e| Failure::internal(&e))?;
    let page = AnalyticsPage {
        chrome: v.chrome("/manage"),
        days: DAYS,
        total: rows.iter().map(|r| r.views).sum(),
        rows: rows.into_iter().map(|r| (r.path, r.views)).collect(),
    };
    let html = render(StatusCode::OK, &page);
    drop(page);
    Ok(v.respond(html))
}
