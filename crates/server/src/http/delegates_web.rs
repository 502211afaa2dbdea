//! Providers' delegate lists and attendance registers (pages, CSV and JSON), and the
//! person's CPD record ("My CPD", also as CSV). Every read of a delegate list is logged as
//! a disclosure by the bookings crate.

use std::collections::HashMap;

use askama::Template;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use bookings::delegates::{Attendance, DelegateList, Format};
use catalogue::CatalogueError;
use catalogue::domain::Manager;
use http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::http::auth::{Failure, Visitor};
use crate::http::catalogue_web::{ApiResult, manager_of, provider_name, require_json, uk_span};
use crate::http::page::{Chrome, render};
use crate::http::state::AppState;

/// The routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/manage/sessions/{id}/delegates",
            get(list_page).post(register_form),
        )
        .route("/manage/sessions/{id}/delegates.csv", get(list_csv))
        .route("/api/v1/sessions/{id}/delegates", get(api_list))
        .route("/api/v1/sessions/{id}/attendance", post(api_attendance))
        .route("/account/cpd", get(cpd_page))
        .route("/account/cpd.csv", get(cpd_csv))
}

/// The visitor's management scope, or why they have none.
async fn manager(state: &AppState, v: &Visitor) -> Result<Manager, Failure> {
    manager_of(state, v)
        .await?
        .ok_or_else(|| CatalogueError::NotManager.into())
}

fn mark_label(a: Option<Attendance>) -> &'static str {
    match a {
        Some(Attendance::Attended) => "Attended",
        Some(Attendance::NoShow) => "Did not attend",
        None => "Not marked",
    }
}

struct DelegateRow {
    booking_id: String,
    values: Vec<String>,
    restricted: bool,
    mark: &'static str,
    attended: bool,
    no_show: bool,
}

#[derive(Template)]
#[template(path = "bookings/delegates.html")]
struct DelegatesPage<'a> {
    chrome: Chrome<'a>,
    csrf: String,
    session_id: String,
    course_id: String,
    course_title: String,
    when: String,
    provider: String,
    headings: Vec<&'static str>,
    rows: Vec<DelegateRow>,
    started: bool,
    saved: bool,
}

fn page<'a>(v: &'a Visitor, list: DelegateList, saved: bool) -> DelegatesPage<'a> {
    DelegatesPage {
        chrome: v.chrome("/manage"),
        csrf: v.csrf().to_owned(),
        session_id: list.session.id.clone(),
        course_id: list.course.id.clone(),
        when: uk_span(list.session.starts_at, list.session.ends_at),
        provider: provider_name(&v.tenant().config, &list.course.provider_id).to_owned(),
        course_title: list.course.title,
        headings: list.fields.iter().map(|f| f.heading()).collect(),
        rows: list
            .delegates
            .into_iter()
            .map(|d| DelegateRow {
                mark: mark_label(d.attendance),
                attended: d.attendance == Some(Attendance::Attended),
                no_show: d.attendance == Some(Attendance::NoShow),
                booking_id: d.booking_id,
                values: d.values,
                restricted: d.restricted,
            })
            .collect(),
        started: list.started,
        saved,
    }
}

/// The delegate list for a signed-in manager; `None` when the visitor is not signed in.
async fn read_list(
    state: &AppState,
    v: &Visitor,
    session_id: &str,
    format: Format,
) -> Result<Option<DelegateList>, Failure> {
    if v.signed_in().is_none() {
        return Ok(None);
    }
    let m = manager(state, v).await?;
    Ok(Some(
        state
            .bookings
            .delegate_list(&v.tenant().config, &m, session_id, format, &state.identity)
            .await?,
    ))
}

async fn list_page(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, Failure> {
    let Some(list) = read_list(&state, &v, &id, Format::Page).await? else {
        return Ok(Redirect::to("/sign-in").into_response());
    };
    let html = render(StatusCode::OK, &page(&v, list, q.contains_key("saved")));
    Ok(v.respond(html))
}

async fn register_form(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, Failure> {
    v.check_csrf(&form)?;
    if v.signed_in().is_none() {
        return Ok(Redirect::to("/sign-in").into_response());
    }
    let m = manager(&state, &v).await?;
    let mut marks = Vec::new();
    for (key, value) in &form {
        let Some(booking) = key.strip_prefix("mark_") else {
            continue;
        };
        let mark = Attendance::parse(value).ok_or_else(|| {
            Failure::new(
                StatusCode::BAD_REQUEST,
                "invalid_mark",
                "Choose attended or did not attend for each delegate.",
            )
        })?;
        marks.push((booking.to_owned(), mark));
    }
    state
        .bookings
        .mark_attendance(&v.tenant().config, &m, &id, &marks, v.base_url())
        .await?;
    Ok(Redirect::to(&format!("/manage/sessions/{id}/delegates?saved")).into_response())
}

async fn list_csv(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<String>,
) -> Result<Response, Failure> {
    let Some(list) = read_list(&state, &v, &id, Format::Csv).await? else {
        return Ok(Redirect::to("/sign-in").into_response());
    };
    let mut rows = vec![
        ["Booking".to_owned()]
            .into_iter()
            .chain(list.fields.iter().map(|f| f.heading().to_owned()))
            .chain(["Attendance".to_owned()])
            .collect(),
    ];
    for d in list.delegates {
        rows.push(
            [d.booking_id]
                .into_iter()
                .chain(d.values)
                .chain([mark_label(d.attendance).to_owned()])
                .collect(),
        );
    }
    let day = list.session.starts_at.format("%Y-%m-%d");
    crate::http::page::csv_response(&format!("delegates-{day}-{}.csv", list.session.id), rows)
}

/// A delegate as the API shows them: only the fields the provider receives.
#[derive(Debug, Serialize, ToSchema)]
pub struct DelegateOut {
    booking_id: String,
    /// Field name to value, e.g. `{"name": "Pat Jones", "job_title": "Teacher"}`: of
    /// `name`, `email`, `job_title`, `organisation`, `organisation_telephone` and
    /// `special_requirements` (where the tenant's notice gives them to course organisers;
    /// empty when the person recorded none), those the provider receives. Empty when the
    /// person has restricted the use of their data.
    fields: HashMap<String, String>,
    /// The person has restricted the use of their data: none of it is given.
    restricted: bool,
    /// `attended`, `no_show`, or absent.
    attendance: Option<&'static str>,
}

/// A session's delegate list.
#[derive(Debug, Serialize, ToSchema)]
pub struct DelegateListOut {
    session_id: String,
    course_id: String,
    course_title: String,
    starts_at: chrono::DateTime<chrono::Utc>,
    /// The fields this provider receives, in order.
    fields: Vec<&'static str>,
    delegates: Vec<DelegateOut>,
}

/// The delegate list of a session, for tenant admins and the course's provider staff.
/// Every read is logged as a disclosure to the provider.
#[utoipa::path(get, path = "/api/v1/sessions/{id}/delegates", operation_id = "list_delegates", params(("id" = String, Path, description = "The session")),
    responses((status = 200, body = DelegateListOut), (status = 404, body = crate::http::catalogue_web::api::ApiError)))]
pub(crate) async fn api_list(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<String>,
) -> ApiResult<Json<DelegateListOut>> {
    if v.signed_in().is_none() {
        return Err(Failure::new(
            StatusCode::UNAUTHORIZED,
            "sign_in_required",
            "Sign in first.",
        ));
    }
    let m = manager(&state, &v).await?;
    let list = state
        .bookings
        .delegate_list(&v.tenant().config, &m, &id, Format::Json, &state.identity)
        .await?;
    let names: Vec<&'static str> = list.fields.iter().map(|f| f.as_str()).collect();
    Ok(Json(DelegateListOut {
        session_id: list.session.id,
        course_id: list.course.id,
        course_title: list.course.title,
        starts_at: list.session.starts_at,
        delegates: list
            .delegates
            .into_iter()
            .map(|d| DelegateOut {
                booking_id: d.booking_id,
                fields: if d.restricted {
                    HashMap::new()
                } else {
                    names
                        .iter()
                        .map(|n| (*n).to_owned())
                        .zip(d.values)
                        .collect()
                },
                restricted: d.restricted,
                attendance: d.attendance.map(Attendance::as_str),
            })
            .collect(),
        fields: names,
    }))
}

/// One register mark.
#[derive(Debug, Deserialize, ToSchema)]
pub struct MarkIn {
    booking_id: String,
    /// `attended` or `no_show`.
    attendance: String,
}

/// Register marks for a session.
#[derive(Debug, Deserialize, ToSchema)]
pub struct AttendanceIn {
    marks: Vec<MarkIn>,
}

/// How many bookings changed.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttendanceOut {
    changed: usize,
}

/// Marks the register (all the marks or none). Attending makes the delegate's CPD record.
#[utoipa::path(post, path = "/api/v1/sessions/{id}/attendance", params(("id" = String, Path, description = "The session")), request_body = AttendanceIn,
    responses((status = 200, body = AttendanceOut), (status = 404, body = crate::http::catalogue_web::api::ApiError),
        (status = 409, body = crate::http::catalogue_web::api::ApiError), (status = 422, body = crate::http::catalogue_web::api::ApiError)))]
pub(crate) async fn api_attendance(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Result<Json<AttendanceIn>, JsonRejection>,
) -> ApiResult<Json<AttendanceOut>> {
    require_json(&headers)?;
    if v.signed_in().is_none() {
        return Err(Failure::new(
            StatusCode::UNAUTHORIZED,
            "sign_in_required",
            "Sign in first.",
        ));
    }
    let Json(req) = body?;
    let mut marks = Vec::new();
    for m in req.marks {
        let mark = Attendance::parse(&m.attendance).ok_or_else(|| {
            Failure::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_mark",
                "Each attendance must be `attended` or `no_show`.",
            )
        })?;
        marks.push((m.booking_id, mark));
    }
    let m = manager(&state, &v).await?;
    let changed = state
        .bookings
        .mark_attendance(&v.tenant().config, &m, &id, &marks, v.base_url())
        .await?;
    Ok(Json(AttendanceOut { changed }))
}

struct CpdRow {
    id: String,
    booking_id: String,
    title: String,
    completed: String,
    hours: String,
    feedback_given: bool,
    certificate_held: bool,
}

#[derive(Template)]
#[template(path = "bookings/cpd.html")]
struct CpdPage<'a> {
    chrome: Chrome<'a>,
    rows: Vec<CpdRow>,
    total: String,
}

/// Minutes as hours, e.g. `3` or `1.5`.
fn hours(minutes: i64) -> String {
    let h = minutes as f64 / 60.0;
    let s = format!("{h:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}

async fn cpd_page(State(state): State<AppState>, v: Visitor) -> Result<Response, Failure> {
    let s = v.signed_in_or_redirect()?;
    let entries = state
        .bookings
        .cpd_history(&v.tenant().config, &s.account.id)
        .await?;
    let total: i64 = entries.iter().map(|e| i64::from(e.record.minutes)).sum();
    let page = CpdPage {
        chrome: v.chrome("/account"),
        rows: entries
            .into_iter()
            .map(|e| CpdRow {
                completed: e.record.completed_on.format("%-d %B %Y").to_string(),
                hours: hours(e.record.minutes.into()),
                id: e.record.id,
                booking_id: e.record.booking_id,
                title: e.record.title,
                feedback_given: e.feedback_given,
                certificate_held: e.certificate_held,
            })
            .collect(),
        total: hours(total),
    };
    let html = render(StatusCode::OK, &page);
    Ok(v.respond(html))
}

async fn cpd_csv(State(state): State<AppState>, v: Visitor) -> Result<Response, Failure> {
    let s = v.signed_in_or_redirect()?;
    let records = state
        .bookings
        .cpd_records(&v.tenant().config, &s.account.id)
        .await?;
    let mut rows = vec![vec![
        "Course".to_owned(),
        "Completed".to_owned(),
        "Hours".to_owned(),
    ]];
    for r in records {
        rows.push(vec![
            r.title,
            r.completed_on.format("%Y-%m-%d").to_string(),
            hours(r.minutes.into()),
        ]);
    }
    let res = crate::http::page::csv_response("my-cpd.csv", rows)?;
    Ok(v.respond(res))
}

/// Delegate lists and attendance: this area's part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(api_list, api_attendance),
    components(schemas(DelegateListOut, DelegateOut, AttendanceIn, MarkIn, AttendanceOut))
)]
pub(crate) struct Doc;
