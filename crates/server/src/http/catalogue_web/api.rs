//! The catalogue's JSON API (`/api/v1/…`) and the OpenAPI document that describes it
//! (`/api/openapi.json`). Reads are public like the pages; writes need a signed-in tenant
//! admin or provider staff member (session cookie) and a `Content-Type: application/json`
//! request, which a cross-site form cannot send, so the API needs no CSRF token.

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use catalogue::CatalogueError;
use catalogue::domain::course::{CourseFields, SessionFields};
use catalogue::domain::query::{CourseQuery, PER_PAGE};
use catalogue::domain::service::{PriceBand, ServiceFields};
use catalogue::domain::sharing::{self, Occasion, SharingStatement};
use catalogue::domain::{Manager, Status, split_list};
use catalogue::store::search::ServiceQuery;
use chrono::{DateTime, NaiveDate, Utc};
use http::{HeaderMap, StatusCode};
use serde::Serialize;
use utoipa::ToSchema;

use super::{manager_of, offers_courses, offers_services, provider_name};
use crate::http::auth::Visitor;
pub(crate) use crate::http::error::{ApiError, ApiResult, Failure, require_json};
use crate::http::state::AppState;

/// The public reads (cached for anonymous visitors).
pub(super) fn public_router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/courses", get(list_courses))
        .route("/api/v1/courses/{id}", get(course))
        .route("/api/v1/services", get(list_services))
        .route("/api/v1/services/{id}", get(service))
}

/// The management writes.
pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/courses", post(create_course))
        .route("/api/v1/courses/{id}", axum::routing::put(update_course))
        .route("/api/v1/courses/{id}/publish", post(publish_course))
        .route("/api/v1/courses/{id}/cancel", post(cancel_course))
        .route("/api/v1/courses/{id}/sessions", post(add_session))
        .route(
            "/api/v1/courses/{id}/sessions/{session}",
            axum::routing::put(update_session),
        )
        .route(
            "/api/v1/courses/{id}/sessions/{session}/cancel",
            post(cancel_session),
        )
        .route("/api/v1/services", post(create_service))
        .route("/api/v1/services/{id}", axum::routing::put(update_service))
        .route("/api/v1/services/{id}/publish", post(publish_service))
        .route("/api/v1/services/{id}/cancel", post(cancel_service))
}

/// A page number beyond [`MAX_PAGE`](catalogue::domain::query::MAX_PAGE) is a bad query.
fn page_in_range(page: Option<u64>) -> ApiResult<()> {
    if page.unwrap_or(1) > catalogue::domain::query::MAX_PAGE {
        return Err(Failure::new(
            StatusCode::BAD_REQUEST,
            "invalid_query",
            "Invalid query string: page must be at most 10000",
        ));
    }
    Ok(())
}

fn not_found() -> Failure {
    Failure::new(
        StatusCode::NOT_FOUND,
        "not_found",
        "No such item in this catalogue.",
    )
}

pub(super) async fn manager(
    state: &AppState,
    v: &Visitor,
    headers: &HeaderMap,
) -> ApiResult<Manager> {
    require_json(headers)?;
    if v.signed_in().is_none() {
        return Err(Failure::new(
            StatusCode::UNAUTHORIZED,
            "sign_in_required",
            "Sign in first.",
        ));
    }
    manager_of(state, v)
        .await?
        .ok_or_else(|| CatalogueError::NotManager.into())
}

/// One course in a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct CourseSummary {
    id: String,
    kind: String,
    title: String,
    summary: String,
    provider_id: String,
    provider_name: String,
    next_start: Option<DateTime<Utc>>,
    sessions: i64,
    places_left: i64,
    price_pence: i64,
    cpd_minutes: i32,
}

/// A page of courses.
#[derive(Debug, Serialize, ToSchema)]
pub struct CourseList {
    items: Vec<CourseSummary>,
    page: u64,
    per_page: u64,
    total: i64,
}

/// Published courses with a session to come.
#[utoipa::path(get, path = "/api/v1/courses", params(CourseQuery),
    responses((status = 200, body = CourseList), (status = 400, body = ApiError)))]
async fn list_courses(
    State(state): State<AppState>,
    v: Visitor,
    q: Result<Query<CourseQuery>, QueryRejection>,
) -> ApiResult<Json<CourseList>> {
    let cfg = &v.tenant().config;
    if !offers_courses(cfg) {
        return Err(not_found());
    }
    let Query(q) = q?;
    page_in_range(q.page)?;
    let rows = state.catalogue.list_courses(&v.tenant().id, &q).await?;
    Ok(Json(CourseList {
        total: rows.first().map_or(0, |r| r.total),
        page: q.page(),
        per_page: PER_PAGE,
        items: rows
            .into_iter()
            .map(|r| CourseSummary {
                provider_name: provider_name(cfg, &r.provider_id).to_owned(),
                places_left: r.places_left.unwrap_or(0),
                id: r.id,
                kind: r.kind,
                title: r.title,
                summary: r.summary,
                provider_id: r.provider_id,
                next_start: r.next_start,
                sessions: r.sessions,
                price_pence: r.price_pence,
                cpd_minutes: r.cpd_minutes,
            })
            .collect(),
    }))
}

/// A session.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionOut {
    id: String,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    venue: Option<String>,
    online_url: Option<String>,
    capacity: i32,
    /// Most places one organisation may hold, when limited.
    org_place_limit: Option<i32>,
    places_left: i32,
    status: String,
}

/// A course with its sessions and what booking it shares.
#[derive(Debug, Serialize, ToSchema)]
pub struct CourseOut {
    id: String,
    status: Status,
    kind: String,
    provider_id: String,
    provider_name: String,
    title: String,
    summary: String,
    /// Markdown as written.
    description: String,
    /// Sanitised HTML.
    description_html: String,
    audiences: Vec<String>,
    job_categories: Vec<String>,
    phases: Vec<String>,
    cpd_minutes: i32,
    price_pence: i64,
    sla_service_id: Option<String>,
    sla_price_pence: Option<i64>,
    booking_opens_at: Option<DateTime<Utc>>,
    booking_closes_at: Option<DateTime<Utc>>,
    cancellation_notice_days: i32,
    cancellation_terms: String,
    pre_course_info: String,
    certificate_after_feedback: bool,
    sessions: Vec<SessionOut>,
    sharing: Option<SharingStatement>,
}

/// A course; drafts only for their managers.
#[utoipa::path(get, path = "/api/v1/courses/{id}", params(("id" = String, Path)),
    responses((status = 200, body = CourseOut), (status = 404, body = ApiError)))]
async fn course(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<String>,
) -> ApiResult<Json<CourseOut>> {
    let cfg = &v.tenant().config;
    if !offers_courses(cfg) {
        return Err(not_found());
    }
    let m = manager_of(&state, &v).await?;
    let d = state
        .catalogue
        .course(&v.tenant().id, &id, m.as_ref())
        .await?;
    let c = d.course;
    Ok(Json(CourseOut {
        status: Status::parse(&c.status),
        provider_name: provider_name(cfg, &c.provider_id).to_owned(),
        sharing: sharing::statement(cfg, &c.provider_id, Occasion::Booking),
        audiences: split_list(&c.audiences),
        job_categories: split_list(&c.job_categories),
        phases: split_list(&c.phases),
        sessions: d
            .sessions
            .into_iter()
            .map(|s| SessionOut {
                places_left: s.places_left(),
                id: s.id,
                starts_at: s.starts_at,
                ends_at: s.ends_at,
                venue: s.venue,
                online_url: s.online_url,
                capacity: s.capacity,
                org_place_limit: s.org_place_limit,
                status: s.status,
            })
            .collect(),
        id: c.id,
        kind: c.kind,
        provider_id: c.provider_id,
        title: c.title,
        summary: c.summary,
        description: c.description,
        description_html: c.description_html,
        cpd_minutes: c.cpd_minutes,
        price_pence: c.price_pence,
        sla_service_id: c.sla_service_id,
        sla_price_pence: c.sla_price_pence,
        booking_opens_at: c.booking_opens_at,
        booking_closes_at: c.booking_closes_at,
        cancellation_notice_days: c.cancellation_notice_days,
        cancellation_terms: c.cancellation_terms,
        pre_course_info: c.pre_course_info,
        certificate_after_feedback: c.certificate_after_feedback,
    }))
}

/// The id of what was created.
#[derive(Debug, Serialize, ToSchema)]
pub struct Created {
    id: String,
}

pub(super) fn created(id: String) -> Response {
    (StatusCode::CREATED, Json(Created { id })).into_response()
}

/// Creates a draft course.
#[utoipa::path(post, path = "/api/v1/courses", request_body = CourseFields,
    responses((status = 201, body = Created), (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 422, body = ApiError)))]
async fn create_course(
    State(state): State<AppState>,
    v: Visitor,
    headers: HeaderMap,
    body: Result<Json<CourseFields>, JsonRejection>,
) -> ApiResult<Response> {
    let m = manager(&state, &v, &headers).await?;
    let Json(fields) = body?;
    let id = state
        .catalogue
        .create_course(&v.tenant().config, &m, &fields)
        .await?;
    Ok(created(id))
}

/// Replaces a course's details.
#[utoipa::path(put, path = "/api/v1/courses/{id}", params(("id" = String, Path)), request_body = CourseFields,
    responses((status = 204), (status = 404, body = ApiError), (status = 409, body = ApiError), (status = 422, body = ApiError)))]
async fn update_course(
    State(state): State<AppState>,
    v: Visitor,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Result<Json<CourseFields>, JsonRejection>,
) -> ApiResult<StatusCode> {
    let m = manager(&state, &v, &headers).await?;
    let Json(fields) = body?;
    state
        .catalogue
        .update_course(&v.tenant().config, &m, &id, &fields)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Publishes a draft course (it needs a session, none in the past).
#[utoipa::path(post, path = "/api/v1/courses/{id}/publish", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = ApiError), (status = 409, body = ApiError), (status = 422, body = ApiError)))]
async fn publish_course(
    State(state): State<AppState>,
    v: Visitor,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let m = manager(&state, &v, &headers).await?;
    state
        .catalogue
        .publish_course(&v.tenant().id, &m, &id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Cancels a course and all its sessions.
#[utoipa::path(post, path = "/api/v1/courses/{id}/cancel", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = ApiError)))]
async fn cancel_course(
    State(state): State<AppState>,
    v: Visitor,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let m = manager(&state, &v, &headers).await?;
    state
        .catalogue
        .cancel_course(&v.tenant().id, &m, &id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Adds a session to a course.
#[utoipa::path(post, path = "/api/v1/courses/{id}/sessions", params(("id" = String, Path)), request_body = SessionFields,
    responses((status = 201, body = Created), (status = 404, body = ApiError), (status = 422, body = ApiError)))]
async fn add_session(
    State(state): State<AppState>,
    v: Visitor,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Result<Json<SessionFields>, JsonRejection>,
) -> ApiResult<Response> {
    let m = manager(&state, &v, &headers).await?;
    let Json(fields) = body?;
    let sid = state
        .catalogue
        .add_session(&v.tenant().id, &m, &id, &fields)
        .await?;
    Ok(created(sid))
}

/// Changes a session.
#[utoipa::path(put, path = "/api/v1/courses/{id}/sessions/{session}", params(("id" = String, Path), ("session" = String, Path)), request_body = SessionFields,
    responses((status = 204), (status = 404, body = ApiError), (status = 422, body = ApiError)))]
async fn update_session(
    State(state): State<AppState>,
    v: Visitor,
    headers: HeaderMap,
    Path((id, session)): Path<(String, String)>,
    body: Result<Json<SessionFields>, JsonRejection>,
) -> ApiResult<StatusCode> {
    let m = manager(&state, &v, &headers).await?;
    let Json(fields) = body?;
    state
        .catalogue
        .update_session(&v.tenant().id, &m, &id, &session, &fields)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Cancels a session.
#[utoipa::path(post, path = "/api/v1/courses/{id}/sessions/{session}/cancel", params(("id" = String, Path), ("session" = String, Path)),
    responses((status = 204), (status = 404, body = ApiError)))]
async fn cancel_session(
    State(state): State<AppState>,
    v: Visitor,
    headers: HeaderMap,
    Path((id, session)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let m = manager(&state, &v, &headers).await?;
    state
        .catalogue
        .cancel_session(&v.tenant().id, &m, &id, &session)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// One service in a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceSummary {
    id: String,
    title: String,
    summary: String,
    provider_id: String,
    provider_name: String,
    term: String,
    from_pence: Option<i64>,
}

/// A page of services.
#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceList {
    items: Vec<ServiceSummary>,
    page: u64,
    per_page: u64,
    total: i64,
}

/// Published services still running.
#[utoipa::path(get, path = "/api/v1/services", params(ServiceQuery),
    responses((status = 200, body = ServiceList), (status = 400, body = ApiError)))]
async fn list_services(
    State(state): State<AppState>,
    v: Visitor,
    q: Result<Query<ServiceQuery>, QueryRejection>,
) -> ApiResult<Json<ServiceList>> {
    let cfg = &v.tenant().config;
    if !offers_services(cfg) {
        return Err(not_found());
    }
    let Query(q) = q?;
    page_in_range(q.page)?;
    let rows = state.catalogue.list_services(&v.tenant().id, &q).await?;
    Ok(Json(ServiceList {
        total: rows.first().map_or(0, |r| r.total),
        page: q.page.unwrap_or(1).max(1),
        per_page: PER_PAGE,
        items: rows
            .into_iter()
            .map(|r| ServiceSummary {
                provider_name: provider_name(cfg, &r.provider_id).to_owned(),
                id: r.id,
                title: r.title,
                summary: r.summary,
                provider_id: r.provider_id,
                term: r.term,
                from_pence: r.from_pence,
            })
            .collect(),
    }))
}

/// A service with its bands and what buying it shares.
#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceOut {
    id: String,
    status: Status,
    provider_id: String,
    provider_name: String,
    title: String,
    summary: String,
    description: String,
    description_html: String,
    audiences: Vec<String>,
    period_start: NaiveDate,
    period_end: NaiveDate,
    term: String,
    price_bands: Vec<PriceBand>,
    sharing: Option<SharingStatement>,
}

/// A service; drafts only for their managers.
#[utoipa::path(get, path = "/api/v1/services/{id}", params(("id" = String, Path)),
    responses((status = 200, body = ServiceOut), (status = 404, body = ApiError)))]
async fn service(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<String>,
) -> ApiResult<Json<ServiceOut>> {
    let cfg = &v.tenant().config;
    if !offers_services(cfg) {
        return Err(not_found());
    }
    let m = manager_of(&state, &v).await?;
    let d = state
        .catalogue
        .service(&v.tenant().id, &id, m.as_ref())
        .await?;
    let s = d.service;
    Ok(Json(ServiceOut {
        status: Status::parse(&s.status),
        provider_name: provider_name(cfg, &s.provider_id).to_owned(),
        sharing: sharing::statement(cfg, &s.provider_id, Occasion::Purchase),
        audiences: split_list(&s.audiences),
        price_bands: d
            .bands
            .into_iter()
            .map(|b| PriceBand {
                label: b.label,
                price_pence: b.price_pence,
            })
            .collect(),
        id: s.id,
        provider_id: s.provider_id,
        title: s.title,
        summary: s.summary,
        description: s.description,
        description_html: s.description_html,
        period_start: s.period_start,
        period_end: s.period_end,
        term: s.term,
    }))
}

/// Creates a draft service.
#[utoipa::path(post, path = "/api/v1/services", request_body = ServiceFields,
    responses((status = 201, body = Created), (status = 422, body = ApiError)))]
async fn create_service(
    State(state): State<AppState>,
    v: Visitor,
    headers: HeaderMap,
    body: Result<Json<ServiceFields>, JsonRejection>,
) -> ApiResult<Response> {
    let m = manager(&state, &v, &headers).await?;
    let Json(fields) = body?;
    let id = state
        .catalogue
        .create_service(&v.tenant().config, &m, &fields)
        .await?;
    Ok(created(id))
}

/// Replaces a service's details and bands.
#[utoipa::path(put, path = "/api/v1/services/{id}", params(("id" = String, Path)), request_body = ServiceFields,
    responses((status = 204), (status = 404, body = ApiError), (status = 422, body = ApiError)))]
async fn update_service(
    State(state): State<AppState>,
    v: Visitor,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Result<Json<ServiceFields>, JsonRejection>,
) -> ApiResult<StatusCode> {
    let m = manager(&state, &v, &headers).await?;
    let Json(fields) = body?;
    state
        .catalogue
        .update_service(&v.tenant().config, &m, &id, &fields)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Publishes a service.
#[utoipa::path(post, path = "/api/v1/services/{id}/publish", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = ApiError), (status = 422, body = ApiError)))]
async fn publish_service(
    State(state): State<AppState>,
    v: Visitor,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let m = manager(&state, &v, &headers).await?;
    state
        .catalogue
        .set_service_status(&v.tenant().id, &m, &id, true)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Withdraws a service.
#[utoipa::path(post, path = "/api/v1/services/{id}/cancel", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = ApiError)))]
async fn cancel_service(
    State(state): State<AppState>,
    v: Visitor,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let m = manager(&state, &v, &headers).await?;
    state
        .catalogue
        .set_service_status(&v.tenant().id, &m, &id, false)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
