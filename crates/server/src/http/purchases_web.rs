//! Buying traded services and SLAs over HTTP: the JSON purchase (with an `Idempotency-Key`
//! header) and the form on a service's page.

use std::collections::HashMap;

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::post;
use axum::{Form, Json, Router};
use bookings::domain::PurchaseRequest;
use catalogue::domain::money::format_pence;
use http::{HeaderMap, StatusCode};

use crate::http::auth::{Failure, Visitor};
use crate::http::catalogue_web::ApiResult;
use crate::http::state::AppState;

/// The routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/services/{id}/purchase", post(api_purchase))
        .route("/services/{id}/buy", post(buy_form))
}

/// Buys a service for an organisation: 201 with the order, or 200 with the first answer
/// when the same `Idempotency-Key` is sent again with the same request.
#[utoipa::path(post, path = "/api/v1/services/{id}/purchase", params(("id" = String, Path),
        ("Idempotency-Key" = String, Header, description = "8 to 100 printable characters; a retry sends the same key")),
    request_body = PurchaseRequest,
    responses((status = 201, body = bookings::domain::PurchaseOutcome), (status = 200, body = bookings::domain::PurchaseOutcome),
        (status = 403, body = crate::http::catalogue_web::api::ApiError), (status = 404, body = crate::http::catalogue_web::api::ApiError),
        (status = 409, body = crate::http::catalogue_web::api::ApiError), (status = 422, body = crate::http::catalogue_web::api::ApiError)))]
pub(crate) async fn api_purchase(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Result<Json<PurchaseRequest>, JsonRejection>,
) -> ApiResult<Response> {
    let (s, key, req) = crate::http::bookings_web::idempotent_call(&v, &headers, body)?;
    let outcome = state
        .bookings
        .purchase(&v.tenant().config, &s.account, key, &id, &req)
        .await?;
    Ok(crate::http::bookings_web::first_or_replayed(
        outcome.replayed,
        outcome,
    ))
}

/// The form on a service's page.
async fn buy_form(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, Failure> {
    v.check_csrf(&form)?;
    let s = v.signed_in_or_redirect()?;
    let field = |name: &str| form.get(name).cloned().unwrap_or_default();
    let req = PurchaseRequest {
        organisation_id: field("organisation_id"),
        band: field("band"),
        expected_total_pence: None,
    };
    if req.band.is_empty() {
        return Err(Failure::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "choose_a_band",
            "Choose a price band.",
        ));
    }
    let outcome = state
        .bookings
        .purchase(
            &v.tenant().config,
            &s.account,
            &field("idempotency_key"),
            &id,
            &req,
        )
        .await?;
    let body = format!(
        "Your order number is {}. Total: {}. It covers {} to {}.",
        outcome.number,
        format_pence(outcome.total_pence),
        outcome.period_start.format("%-d %B %Y"),
        outcome.period_end.format("%-d %B %Y"),
    );
    Ok(crate::http::auth::message(
        v,
        StatusCode::OK,
        "Order confirmed",
        &body,
    ))
}

/// Traded-service purchases: this area's part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(api_purchase),
    components(schemas(bookings::domain::PurchaseRequest, bookings::domain::PurchaseOutcome))
)]
pub(crate) struct Doc;
