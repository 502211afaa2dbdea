//! Booking over HTTP: the JSON checkout (with an `Idempotency-Key` header), the person's
//! bookings and cancellation, and the same from the pages (the course page's booking form
//! and "Your bookings").

use std::collections::HashMap;

use askama::Template;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use bookings::BookingError;
use bookings::domain::{CheckoutItem, CheckoutOutcome, CheckoutRequest};
use catalogue::domain::money::format_pence;
use http::{HeaderMap, StatusCode};
use serde::Serialize;
use utoipa::ToSchema;

use crate::http::auth::{Failure, Visitor};
use crate::http::catalogue_web::{ApiResult, require_json, uk_span};
use crate::http::page::{Chrome, render};
use crate::http::state::AppState;

/// The booking routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/checkout", post(api_checkout))
        .route("/api/v1/bookings", get(api_mine))
        .route("/api/v1/bookings/{id}/cancel", post(api_cancel))
        .route("/courses/{id}/book", post(book_form))
        .route("/account/bookings", get(my_bookings))
        .route("/account/bookings/{id}/cancel", post(cancel_form))
        .route("/organisations/{org}/bookings", get(organisation_page))
        .route(
            "/waiting-list/offers/{token}",
            get(offer_page).post(accept_form),
        )
        .route(
            "/api/v1/waiting-list/offers/{token}/accept",
            post(api_accept),
        )
}

impl From<BookingError> for Failure {
    fn from(e: BookingError) -> Self {
        match e {
            BookingError::NotFound => crate::http::catalogue_web::not_found(),
            BookingError::BadRequest(m) => Self::new(StatusCode::BAD_REQUEST, "invalid_request", m),
            BookingError::NotBookable { code, message } => {
                Self::new(StatusCode::CONFLICT, code, message)
            }
            BookingError::AlreadyBooked => Self::new(
                StatusCode::CONFLICT,
                "already_booked",
                "This person already has a place or a waiting-list place on that session.",
            ),
            BookingError::NotAllowed(m) => Self::new(StatusCode::FORBIDDEN, "not_allowed", m),
            BookingError::PriceMismatch { .. } => Self::new(
                StatusCode::CONFLICT,
                "price_changed",
                "The price has changed since you saw it. Check the new total and book again.",
            ),
            BookingError::IdempotencyConflict => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency_key_reused",
                "This idempotency key was already used for a different checkout.",
            ),
            BookingError::CannotCancel(m) => Self::new(StatusCode::CONFLICT, "cannot_cancel", m),
            BookingError::NotStarted => Self::new(
                StatusCode::CONFLICT,
                "session_not_started",
                "The register can be marked once the session has started.",
            ),
            BookingError::AlreadyPurchased => Self::new(
                StatusCode::CONFLICT,
                "already_purchased",
                "Your organisation already holds this service.",
            ),
            BookingError::FeedbackNotOpen => Self::new(
                StatusCode::CONFLICT,
                "feedback_not_open",
                "You can give feedback on a course once the provider has marked you as attended.",
            ),
            BookingError::FeedbackGiven => Self::new(
                StatusCode::CONFLICT,
                "feedback_given",
                "You have already given feedback on this course. Thank you.",
            ),
            BookingError::FeedbackFirst { booking_id } => Self::new(
                StatusCode::CONFLICT,
                "feedback_first",
                &format!(
                    "This course's certificate is ready once you have given your feedback: \
                     answer at /account/bookings/{booking_id}/feedback."
                ),
            ),
            BookingError::InvalidFeedback(problems) => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_feedback",
                &problems
                    .into_iter()
                    .map(|(_, m)| m)
                    .collect::<Vec<_>>()
                    .join(". "),
            ),
            BookingError::OfferExpired => Self::new(
                StatusCode::CONFLICT,
                "offer_expired",
                "This offer has lapsed and the place has gone to the next person waiting.",
            ),
            BookingError::OfferUsed => Self::new(
                StatusCode::CONFLICT,
                "offer_used",
                "This offer has already been accepted or has lapsed.",
            ),
            BookingError::Identity(e) => e.into(),
            BookingError::Privacy(e) => e.into(),
            BookingError::Document(cause) => {
                tracing::error!(%cause, "a document could not be written");
                Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "Sorry, there is a problem with the service. Try again later.",
                )
            }
            BookingError::Store(cause) => {
                tracing::error!(%cause, "booking request failed");
                Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "Sorry, there is a problem with the service. Try again later.",
                )
            }
        }
    }
}

pub(crate) fn signed_in_api(v: &Visitor) -> ApiResult<&identity::SignedIn> {
    v.signed_in().ok_or_else(|| {
        Failure::new(
            StatusCode::UNAUTHORIZED,
            "sign_in_required",
            "Sign in first.",
        )
    })
}

/// 201 with what an idempotent request did, or 200 when it answers a retry of an
/// earlier request with the same key.
pub(crate) fn first_or_replayed(replayed: bool, body: impl serde::Serialize) -> Response {
    let status = if replayed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    (status, Json(body)).into_response()
}

/// The `Idempotency-Key` header, required on requests that book or buy.
/// What an idempotent JSON call carries, checked in this order: a JSON body, a signed-in
/// person, a readable body and an `Idempotency-Key`.
pub(crate) fn idempotent_call<'a, T>(
    v: &'a Visitor,
    headers: &'a HeaderMap,
    body: Result<Json<T>, JsonRejection>,
) -> ApiResult<(&'a identity::SignedIn, &'a str, T)> {
    require_json(headers)?;
    let s = signed_in_api(v)?;
    let Json(body) = body?;
    Ok((s, idempotency_key(headers)?, body))
}

pub(crate) fn idempotency_key(headers: &HeaderMap) -> ApiResult<&str> {
    headers
        .get("idempotency-key")
        .and_then(|k| k.to_str().ok())
        .ok_or_else(|| {
            Failure::new(
                StatusCode::BAD_REQUEST,
                "idempotency_key_required",
                "Send an Idempotency-Key header so a retry cannot book or buy twice.",
            )
        })
}

/// A form on a course's page names one of that course's sessions, or is refused.
pub(crate) async fn session_of_course(
    state: &AppState,
    v: &Visitor,
    course_id: &str,
    session_id: &str,
) -> Result<(), Failure> {
    let detail = state
        .catalogue
        .course(&v.tenant().id, course_id, None)
        .await?;
    if detail.sessions.iter().any(|x| x.id == session_id) {
        Ok(())
    } else {
        Err(Failure::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "choose_a_session",
            "Choose a date for the course.",
        ))
    }
}

/// Books places: 201 with the order, or 200 with the first answer when the same
/// `Idempotency-Key` is sent again with the same request.
#[utoipa::path(post, path = "/api/v1/checkout", request_body = CheckoutRequest,
    params(("Idempotency-Key" = String, Header, description = "8 to 100 printable characters; a retry sends the same key")),
    responses((status = 201, body = CheckoutOutcome), (status = 200, body = CheckoutOutcome),
        (status = 403, body = crate::http::catalogue_web::api::ApiError), (status = 409, body = crate::http::catalogue_web::api::ApiError),
        (status = 422, body = crate::http::catalogue_web::api::ApiError)))]
pub(crate) async fn api_checkout(
    State(state): State<AppState>,
    v: Visitor,
    headers: HeaderMap,
    body: Result<Json<CheckoutRequest>, JsonRejection>,
) -> ApiResult<Response> {
    let (s, key, req) = crate::http::bookings_web::idempotent_call(&v, &headers, body)?;
    let outcome = state
        .bookings
        .checkout(&v.tenant().config, &s.account, key, &req)
        .await?;
    Ok(crate::http::bookings_web::first_or_replayed(
        outcome.replayed,
        outcome,
    ))
}

/// One of the person's bookings.
#[derive(Debug, Serialize, ToSchema)]
pub struct BookingOut {
    id: String,
    course_id: String,
    course_title: String,
    session_id: String,
    starts_at: chrono::DateTime<chrono::Utc>,
    ends_at: chrono::DateTime<chrono::Utc>,
    price_pence: i64,
    status: String,
}

/// The signed-in person's bookings, soonest first.
#[utoipa::path(get, path = "/api/v1/bookings", responses((status = 200, body = Vec<BookingOut>), (status = 401, body = crate::http::catalogue_web::api::ApiError)))]
pub(crate) async fn api_mine(
    State(state): State<AppState>,
    v: Visitor,
) -> ApiResult<Json<Vec<BookingOut>>> {
    let s = signed_in_api(&v)?;
    let mine = state.bookings.mine(&v.tenant().id, &s.account.id).await?;
    Ok(Json(
        mine.into_iter()
            .map(|m| BookingOut {
                id: m.booking.id,
                course_id: m.booking.course_id,
                course_title: m.course_title,
                session_id: m.booking.session_id,
                starts_at: m.session.starts_at,
                ends_at: m.session.ends_at,
                price_pence: m.booking.price_pence,
                status: m.booking.status,
            })
            .collect(),
    ))
}

/// Cancels one of the person's bookings (within the course's notice).
#[utoipa::path(post, path = "/api/v1/bookings/{id}/cancel", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = crate::http::catalogue_web::api::ApiError), (status = 409, body = crate::http::catalogue_web::api::ApiError)))]
pub(crate) async fn api_cancel(
    State(state): State<AppState>,
    v: Visitor,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    require_json(&headers)?;
    let s = signed_in_api(&v)?;
    state
        .bookings
        .cancel(&v.tenant().config, &s.account.id, &id, v.base_url())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The course page's booking form: one session, for the person themself.
async fn book_form(
    State(state): State<AppState>,
    v: Visitor,
    Path(course_id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, Failure> {
    v.check_csrf(&form)?;
    let s = v.signed_in_or_redirect()?;
    let session_id = form.get("session_id").cloned().unwrap_or_default();
    let key = form.get("idempotency_key").cloned().unwrap_or_default();
    session_of_course(&state, &v, &course_id, &session_id).await?;
    let req = CheckoutRequest {
        organisation_id: None,
        items: vec![CheckoutItem {
            session_id,
            delegate_account_id: None,
        }],
        expected_total_pence: form
            .get("expected_total_pence")
            .and_then(|t| t.parse().ok()),
    };
    let outcome = state
        .bookings
        .checkout(&v.tenant().config, &s.account, &key, &req)
        .await?;
    let heading = if outcome.booked.is_empty() {
        "You are on the waiting list"
    } else {
        "Booking confirmed"
    };
    let body = if outcome.booked.is_empty() {
        format!(
            "The session is full. We will tell you if a place comes free. Your reference is {}.",
            outcome.number
        )
    } else {
        format!(
            "Your order number is {}. Total: {}.",
            outcome.number,
            format_pence(outcome.total_pence)
        )
    };
    Ok(crate::http::auth::message(
        v,
        StatusCode::OK,
        heading,
        &body,
    ))
}

struct Row {
    id: String,
    title: String,
    when: String,
    price: String,
    cancelled: bool,
}

#[derive(Template)]
#[template(path = "bookings/mine.html")]
struct MinePage<'a> {
    chrome: Chrome<'a>,
    csrf: String,
    rows: Vec<Row>,
    cancelled: bool,
}

async fn my_bookings(
    State(state): State<AppState>,
    v: Visitor,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, Failure> {
    let s = v.signed_in_or_redirect()?;
    let mine = state.bookings.mine(&v.tenant().id, &s.account.id).await?;
    let page = MinePage {
        chrome: v.chrome("/account"),
        csrf: v.csrf().to_owned(),
        rows: mine
            .into_iter()
            .map(|m| Row {
                when: uk_span(m.session.starts_at, m.session.ends_at),
                price: format_pence(m.booking.price_pence),
                cancelled: m.booking.status == "cancelled",
                id: m.booking.id,
                title: m.course_title,
            })
            .collect(),
        cancelled: q.contains_key("cancelled"),
    };
    let html = render(StatusCode::OK, &page);
    Ok(v.respond(html))
}

async fn cancel_form(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, Failure> {
    v.check_csrf(&form)?;
    let s = v.signed_in_or_redirect()?;
    state
        .bookings
        .cancel(&v.tenant().config, &s.account.id, &id, v.base_url())
        .await?;
    Ok(v.respond(Redirect::to("/account/bookings?cancelled").into_response()))
}

#[derive(Template)]
#[template(path = "bookings/offer.html")]
struct OfferPage<'a> {
    chrome: Chrome<'a>,
    csrf: String,
    token: String,
}

/// The link in an offer email: a page with one button, so a mail scanner following the link
/// cannot accept on the person's behalf.
async fn offer_page(v: Visitor, Path(token): Path<String>) -> Response {
    if v.signed_in().is_none() {
        return Redirect::to("/sign-in").into_response();
    }
    let page = OfferPage {
        chrome: v.chrome("/account"),
        csrf: v.csrf().to_owned(),
        token,
    };
    let html = render(StatusCode::OK, &page);
    v.respond(html)
}

async fn accept_form(
    State(state): State<AppState>,
    v: Visitor,
    Path(token): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, Failure> {
    v.check_csrf(&form)?;
    let s = v.signed_in_or_redirect()?;
    let done = state
        .bookings
        .accept_offer(&v.tenant().config, &s.account, &token, v.base_url())
        .await?;
    let body = format!(
        "The place is yours. Your order number is {}. Total: {}.",
        done.number,
        format_pence(done.price_pence)
    );
    Ok(crate::http::auth::message(
        v,
        StatusCode::OK,
        "Booking confirmed",
        &body,
    ))
}

/// Accepts a waiting-list offer (the token from the offer email).
#[utoipa::path(post, path = "/api/v1/waiting-list/offers/{token}/accept", params(("token" = String, Path)),
    responses((status = 201, body = bookings::Accepted), (status = 404, body = crate::http::catalogue_web::api::ApiError),
        (status = 409, body = crate::http::catalogue_web::api::ApiError)))]
pub(crate) async fn api_accept(
    State(state): State<AppState>,
    v: Visitor,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> ApiResult<Response> {
    require_json(&headers)?;
    let s = signed_in_api(&v)?;
    let done = state
        .bookings
        .accept_offer(&v.tenant().config, &s.account, &token, v.base_url())
        .await?;
    Ok((StatusCode::CREATED, Json(done)).into_response())
}

struct OrgRow {
    delegate: String,
    title: String,
    when: String,
    price: String,
    status: &'static str,
}

struct OrderRow {
    number: String,
    placed: String,
    total: String,
}

#[derive(Template)]
#[template(path = "bookings/organisation.html")]
struct OrganisationPage<'a> {
    chrome: Chrome<'a>,
    org_id: String,
    org_name: String,
    rows: Vec<OrgRow>,
    orders: Vec<OrderRow>,
    spend: String,
}

/// An organisation's bookings, orders and spend, for its lead administrators.
async fn organisation_page(
    State(state): State<AppState>,
    v: Visitor,
    Path(org): Path<String>,
) -> Result<Response, Failure> {
    let s = v.signed_in_or_redirect()?;
    let view = state
        .bookings
        .organisation_view(&v.tenant().id, &s.account.id, &org)
        .await?;
    let page = OrganisationPage {
        chrome: v.chrome(""),
        org_id: view.organisation.id,
        org_name: view.organisation.name,
        rows: view
            .bookings
            .into_iter()
            .map(|b| OrgRow {
                delegate: b
                    .delegate
                    .unwrap_or_else(|| "A person whose account has closed".to_owned()),
                title: b.course_title,
                when: uk_span(b.session.starts_at, b.session.ends_at),
                price: format_pence(b.booking.price_pence),
                status: match (b.booking.status.as_str(), b.booking.attendance.as_deref()) {
                    ("cancelled", _) => "Cancelled",
                    ("pending", _) => "Waiting for approval",
                    (_, Some("attended")) => "Attended",
                    (_, Some("no_show")) => "Did not attend",
                    _ => "Booked",
                },
            })
            .collect(),
        orders: view
            .orders
            .into_iter()
            .map(|o| OrderRow {
                number: o.number,
                placed: crate::http::catalogue_web::uk_day(o.created_at),
                total: format_pence(o.total_pence),
            })
            .collect(),
        spend: format_pence(view.spend_pence),
    };
    let html = render(StatusCode::OK, &page);
    Ok(v.respond(html))
}

/// Bookings: this area's part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(api_checkout, api_mine, api_cancel, api_accept),
    components(schemas(
        CheckoutRequest,
        CheckoutItem,
        CheckoutOutcome,
        bookings::domain::Booked,
        bookings::domain::Waiting,
        bookings::Accepted,
        BookingOut
    ))
)]
pub(crate) struct Doc;
