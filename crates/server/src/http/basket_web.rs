//! The basket over HTTP: the page (lines, remove, who pays, book), "Add to basket" on a
//! course page, and the same in JSON.

use std::collections::HashMap;

use askama::Template;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use bookings::basket::{BasketAdd, BasketCheckout, BasketLine};
use catalogue::domain::money::format_pence;
use http::{HeaderMap, StatusCode};

use crate::http::auth::{Failure, Visitor};
use crate::http::bookings_web::signed_in_api;
use crate::http::catalogue_web::{ApiResult, require_json, uk_span};
use crate::http::page::{Chrome, render};
use crate::http::state::AppState;

/// The routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/basket", get(page))
        .route("/basket/items/{id}/remove", post(remove_form))
        .route("/basket/checkout", post(checkout_form))
        .route("/courses/{id}/basket", post(add_form))
        .route("/api/v1/basket", get(api_list))
        .route("/api/v1/basket/items", post(api_add))
        .route(
            "/api/v1/basket/items/{id}",
            axum::routing::delete(api_remove),
        )
        .route("/api/v1/basket/checkout", post(api_checkout))
}

struct LineView {
    id: String,
    title: String,
    when: String,
    delegate: String,
    price: String,
}

#[derive(Template)]
#[template(path = "bookings/basket.html")]
struct BasketPage<'a> {
    chrome: Chrome<'a>,
    csrf: String,
    idempotency_key: String,
    lines: Vec<LineView>,
    total: String,
    /// `(id, name)` of the organisations they are a confirmed member of.
    organisations: Vec<(String, String)>,
    added: bool,
    removed: bool,
}

async fn page(
    State(state): State<AppState>,
    v: Visitor,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, Failure> {
    let s = v.signed_in_or_redirect()?;
    let cfg = &v.tenant().config;
    let lines = state.bookings.basket(cfg, &s.account.id).await?;
    let organisations = state.bookings.billable_for(cfg, &s.account.id).await?;
    let total: i64 = lines.iter().map(|l| l.price_pence).sum();
    let page = BasketPage {
        chrome: v.chrome("/basket"),
        csrf: v.csrf().to_owned(),
        idempotency_key: identity::domain::token::generate()
            .map_err(|e| Failure::from(identity::IdentityError::Internal(e.to_string())))?,
        lines: lines
            .into_iter()
            .map(|l| LineView {
                when: uk_span(l.starts_at, l.ends_at),
                price: format_pence(l.price_pence),
                delegate: l.delegate_name,
                title: l.course_title,
                id: l.id,
            })
            .collect(),
        total: format_pence(total),
        organisations,
        added: q.contains_key("added"),
        removed: q.contains_key("removed"),
    };
    let html = render(StatusCode::OK, &page);
    Ok(v.respond(html))
}

async fn add_form(
    State(state): State<AppState>,
    v: Visitor,
    Path(course_id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, Failure> {
    v.check_csrf(&form)?;
    let s = v.signed_in_or_redirect()?;
    let session_id = form.get("session_id").cloned().unwrap_or_default();
    crate::http::bookings_web::session_of_course(&state, &v, &course_id, &session_id).await?;
    state
        .bookings
        .add_to_basket(
            &v.tenant().config,
            &s.account,
            &BasketAdd {
                session_id,
                delegate_account_id: None,
            },
        )
        .await?;
    Ok(v.respond(Redirect::to("/basket?added").into_response()))
}

async fn remove_form(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, Failure> {
    v.check_csrf(&form)?;
    let s = v.signed_in_or_redirect()?;
    state
        .bookings
        .remove_from_basket(&v.tenant().config, &s.account.id, &id)
        .await?;
    Ok(v.respond(Redirect::to("/basket?removed").into_response()))
}

async fn checkout_form(
    State(state): State<AppState>,
    v: Visitor,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, Failure> {
    v.check_csrf(&form)?;
    let s = v.signed_in_or_redirect()?;
    let how = BasketCheckout {
        organisation_id: form.get("organisation_id").cloned(),
        expected_total_pence: None,
    };
    let key = form.get("idempotency_key").cloned().unwrap_or_default();
    let outcome = state
        .bookings
        .checkout_basket(&v.tenant().config, &s.account, &key, &how)
        .await?;
    let body = format!(
        "Your order number is {}. {} booked, {} on a waiting list. Total: {}.",
        outcome.number,
        outcome.booked.len(),
        outcome.waiting.len(),
        format_pence(outcome.total_pence)
    );
    Ok(crate::http::auth::message(
        v,
        StatusCode::OK,
        "Booking confirmed",
        &body,
    ))
}

/// The signed-in person's basket.
#[utoipa::path(get, path = "/api/v1/basket", operation_id = "list_basket", responses((status = 200, body = Vec<BasketLine>),
    (status = 401, body = crate::http::catalogue_web::api::ApiError)))]
pub(crate) async fn api_list(
    State(state): State<AppState>,
    v: Visitor,
) -> ApiResult<Json<Vec<BasketLine>>> {
    let s = signed_in_api(&v)?;
    Ok(Json(
        state
            .bookings
            .basket(&v.tenant().config, &s.account.id)
            .await?,
    ))
}

/// Adds a place to the basket: 201 with the line's id. A place for someone else needs the
/// caller to be a booker or lead administrator of an organisation where that person is a
/// confirmed member; any other person's id is 404, like an unknown one.
#[utoipa::path(post, path = "/api/v1/basket/items", request_body = BasketAdd,
    responses((status = 201, body = crate::http::catalogue_web::api::Created),
        (status = 404, description = "no such session, or a person the caller may not book for",
            body = crate::http::catalogue_web::api::ApiError),
        (status = 409, body = crate::http::catalogue_web::api::ApiError)))]
pub(crate) async fn api_add(
    State(state): State<AppState>,
    v: Visitor,
    headers: HeaderMap,
    body: Result<Json<BasketAdd>, JsonRejection>,
) -> ApiResult<Response> {
    require_json(&headers)?;
    let s = signed_in_api(&v)?;
    let Json(add) = body?;
    let id = state
        .bookings
        .add_to_basket(&v.tenant().config, &s.account, &add)
        .await?;
    Ok((StatusCode::CREATED, Json(serde_json::json!({ "id": id }))).into_response())
}

/// Takes a line out of the basket.
#[utoipa::path(delete, path = "/api/v1/basket/items/{id}", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = crate::http::catalogue_web::api::ApiError)))]
pub(crate) async fn api_remove(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let s = signed_in_api(&v)?;
    state
        .bookings
        .remove_from_basket(&v.tenant().config, &s.account.id, &id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Books the whole basket as one order (201), or answers a retry with the same
/// `Idempotency-Key` with the first result (200).
#[utoipa::path(post, path = "/api/v1/basket/checkout", operation_id = "basket_checkout", request_body = BasketCheckout,
    params(("Idempotency-Key" = String, Header, description = "8 to 100 printable characters; a retry sends the same key")),
    responses((status = 201, body = bookings::domain::CheckoutOutcome), (status = 200, body = bookings::domain::CheckoutOutcome),
        (status = 400, body = crate::http::catalogue_web::api::ApiError), (status = 403, body = crate::http::catalogue_web::api::ApiError),
        (status = 409, body = crate::http::catalogue_web::api::ApiError)))]
pub(crate) async fn api_checkout(
    State(state): State<AppState>,
    v: Visitor,
    headers: HeaderMap,
    body: Result<Json<BasketCheckout>, JsonRejection>,
) -> ApiResult<Response> {
    let (s, key, how) = crate::http::bookings_web::idempotent_call(&v, &headers, body)?;
    let outcome = state
        .bookings
        .checkout_basket(&v.tenant().config, &s.account, key, &how)
        .await?;
    Ok(crate::http::bookings_web::first_or_replayed(
        outcome.replayed,
        outcome,
    ))
}

/// The basket: this area's part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(api_list, api_add, api_remove, api_checkout),
    components(schemas(
        bookings::basket::BasketAdd,
        bookings::basket::BasketCheckout,
        bookings::basket::BasketLine
    ))
)]
pub(crate) struct Doc;
