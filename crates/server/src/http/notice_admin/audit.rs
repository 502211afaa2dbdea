//! Checking the tenant's audit chain (`/manage/privacy/audit`), for tenant administrators.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use http::StatusCode;

use super::{admin, internal};
use crate::http::auth::{Failure, Visitor};
use crate::http::page::{Chrome, render};
use crate::http::state::AppState;

#[derive(Template)]
#[template(path = "privacy_admin/audit.html")]
struct AuditPage<'a> {
    chrome: Chrome<'a>,
    /// Events checked, when the chain is intact.
    intact: Option<usize>,
    /// The first broken event, when it is not.
    broken_at: Option<i64>,
}

/// Walks the tenant's audit chain and says whether it is intact, or where it breaks.
pub(super) async fn audit_check(
    State(state): State<AppState>,
    v: Visitor,
) -> Result<Response, Failure> {
    admin(&state, &v).await?;
    let checked = state
        .privacy
        .verify_audit(&v.tenant().id)
        .await
        .map_err(internal)?;
    let (intact, broken_at) = match checked {
        privacy_engine::AuditCheck::Intact(n) => (Some(n), None),
        privacy_engine::AuditCheck::BrokenAt(at) => (None, Some(at)),
    };
    let status = if broken_at.is_some() {
        StatusCode::CONFLICT
    } else {
        StatusCode::OK
    };
    let html = render(
        status,
        &AuditPage {
            chrome: v.chrome("/manage/privacy"),
            intact,
            broken_at,
        },
    );
    let res = v.respond(html);
    Ok(if broken_at.is_some() {
        crate::http::error::with_code(res, "audit_chain_broken")
    } else {
        res
    })
}
