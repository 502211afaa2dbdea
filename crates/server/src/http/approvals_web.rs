//! Authorisation of staff bookings over HTTP: an organisation's approvals page (places
//! waiting, approve or decline each) and its setting, for its lead administrators.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use catalogue::domain::money::format_pence;
use http::StatusCode;

use crate::http::auth::{Failure, Visitor};
use crate::http::catalogue_web::uk_span;
use crate::http::page::{Chrome, render};
use crate::http::state::AppState;

/// The routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/organisations/{org}/approvals", get(page))
        .route("/organisations/{org}/approvals/setting", post(setting))
        .route("/organisations/{org}/approvals/{booking}", post(decide))
}

struct Row {
    id: String,
    delegate: String,
    title: String,
    when: String,
    price: String,
}

#[derive(Template)]
#[template(path = "bookings/approvals.html")]
struct ApprovalsPage<'a> {
    chrome: Chrome<'a>,
    csrf: String,
    org_id: String,
    org_name: String,
    on: bool,
    rows: Vec<Row>,
    done: Option<&'static str>,
}

async fn page(
    State(state): State<AppState>,
    v: Visitor,
    Path(org): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, Failure> {
    let s = v.signed_in_or_redirect()?;
    let (o, pending) = state
        .bookings
        .pending_approvals(&v.tenant().config, &s.account.id, &org)
        .await?;
    let done = match q.get("done").map(String::as_str) {
        Some("approved") => Some("The place is approved and the delegate has been told."),
        Some("declined") => Some("The place is declined and the delegate has been told."),
        Some("saved") => Some("The setting is saved."),
        _ => None,
    };
    let page = ApprovalsPage {
        chrome: v.chrome(""),
        csrf: v.csrf().to_owned(),
        on: o.approve_bookings,
        org_id: o.id,
        org_name: o.name,
        rows: pending
            .into_iter()
            .map(|p| Row {
                when: uk_span(p.session.starts_at, p.session.ends_at),
                price: format_pence(p.price_pence),
                id: p.booking_id,
                delegate: p.delegate,
                title: p.course_title,
            })
            .collect(),
        done,
    };
    let html = render(StatusCode::OK, &page);
    Ok(v.respond(html))
}

async fn decide(
    State(state): State<AppState>,
    v: Visitor,
    Path((org, booking)): Path<(String, String)>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, Failure> {
    v.check_csrf(&form)?;
    let s = v.signed_in_or_redirect()?;
    let approve = match form.get("decision").map(String::as_str) {
        Some("approve") => true,
        Some("decline") => false,
        _ => {
            return Err(Failure::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "choose_a_decision",
                "Choose approve or decline.",
            ));
        }
    };
    state
        .bookings
        .decide(
            &v.tenant().config,
            &s.account.id,
            &org,
            &booking,
            approve,
            v.base_url(),
        )
        .await?;
    let done = if approve { "approved" } else { "declined" };
    Ok(v.respond(
        Redirect::to(&format!("/organisations/{org}/approvals?done={done}")).into_response(),
    ))
}

async fn setting(
    State(state): State<AppState>,
    v: Visitor,
    Path(org): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, Failure> {
    v.check_csrf(&form)?;
    let s = v.signed_in_or_redirect()?;
    let on = form.get("approve_bookings").is_some_and(|x| x == "yes");
    state
        .bookings
        .set_approval(&v.tenant().config, &s.account.id, &org, on)
        .await?;
    Ok(v.respond(
        Redirect::to(&format!("/organisations/{org}/approvals?done=saved")).into_response(),
    ))
}
