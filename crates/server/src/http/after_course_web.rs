//! After the course over HTTP: the feedback questionnaire for attendees (page and JSON),
//! the course's feedback for its managers, and certificate downloads.

use std::collections::HashMap;

use askama::Template;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Json, Router};
use bookings::after_course::{CourseFeedback, FeedbackFields, FeedbackTarget};
use bookings::{BookingError, certificate};
use http::{HeaderMap, HeaderValue, StatusCode, header};
use identity::domain::signup::FieldError;

use crate::http::auth::{Failure, Visitor};
use crate::http::catalogue_web::{ApiResult, manager_of, require_json};
use crate::http::page::{Chrome, render};
use crate::http::state::AppState;

/// The routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/account/bookings/{id}/feedback",
            get(feedback_page).post(feedback_form),
        )
        .route(
            "/api/v1/bookings/{id}/feedback",
            axum::routing::post(api_feedback),
        )
        .route("/account/cpd/{id}/certificate.pdf", get(certificate_pdf))
        .route("/manage/courses/{id}/feedback", get(course_feedback_page))
        .route("/api/v1/courses/{id}/feedback", get(api_course_feedback))
}

#[derive(Template)]
#[template(path = "bookings/feedback.html")]
struct FeedbackPage<'a> {
    chrome: Chrome<'a>,
    csrf: String,
    target: FeedbackTarget,
    form: FeedbackFields,
    errors: Vec<FieldError>,
    thanked: bool,
    max: usize,
    ratings: &'static [(&'static str, &'static str)],
}

const RATINGS: &[(&str, &str)] = &[
    ("5", "5 – excellent"),
    ("4", "4 – good"),
    ("3", "3 – adequate"),
    ("2", "2 – poor"),
    ("1", "1 – very poor"),
];

impl<'a> FeedbackPage<'a> {
    fn new(
        v: &'a Visitor,
        target: FeedbackTarget,
        form: FeedbackFields,
        errors: Vec<FieldError>,
    ) -> Self {
        Self {
            chrome: v.chrome("/account"),
            csrf: v.csrf().to_owned(),
            target,
            form,
            errors,
            thanked: false,
            max: bookings::after_course::ANSWER_MAX,
            ratings: RATINGS,
        }
    }

    /// The free-text questions: `(field, label, answer)`.
    fn texts(&self) -> [(&'static str, &'static str, &str); 2] {
        [
            (
                "useful",
                "What was most useful? (optional)",
                &self.form.useful,
            ),
            (
                "improve",
                "What could be better? (optional)",
                &self.form.improve,
            ),
        ]
    }

    fn error(&self, name: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|e| e.field == name)
            .map(|e| e.message.as_str())
    }
}

async fn feedback_page(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, Failure> {
    let s = v.signed_in_or_redirect()?;
    let target = state
        .bookings
        .feedback_target(&v.tenant().config, &s.account.id, &id)
        .await?;
    let page = FeedbackPage::new(&v, target, FeedbackFields::default(), Vec::new());
    let page = FeedbackPage {
        thanked: q.contains_key("thanks"),
        ..page
    };
    let html = render(StatusCode::OK, &page);
    Ok(v.respond(html))
}

async fn feedback_form(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, Failure> {
    v.check_csrf(&form)?;
    let s = v.signed_in_or_redirect()?;
    let cfg = &v.tenant().config;
    let field = |name: &str| form.get(name).cloned().unwrap_or_default();
    let fields = FeedbackFields {
        rating: field("rating"),
        useful: field("useful"),
        improve: field("improve"),
    };
    match state
        .bookings
        .give_feedback(cfg, &s.account.id, &id, &fields)
        .await
    {
        Ok(()) => Ok(v.respond(
            Redirect::to(&format!("/account/bookings/{id}/feedback?thanks")).into_response(),
        )),
        Err(BookingError::InvalidFeedback(problems)) => {
            let target = state
                .bookings
                .feedback_target(cfg, &s.account.id, &id)
                .await?;
            let errors = problems
                .into_iter()
                .map(|(field, message)| FieldError { field, message })
                .collect();
            let page = FeedbackPage::new(&v, target, fields, errors);
            let html = render(StatusCode::UNPROCESSABLE_ENTITY, &page);
            Ok(v.respond(html))
        }
        Err(e) => Err(e.into()),
    }
}

/// Gives feedback on an attended booking: 204, or the problems.
#[utoipa::path(post, path = "/api/v1/bookings/{id}/feedback", params(("id" = String, Path)),
    request_body = FeedbackFields,
    responses((status = 204), (status = 404, body = crate::http::catalogue_web::api::ApiError),
        (status = 409, body = crate::http::catalogue_web::api::ApiError),
        (status = 422, body = crate::http::catalogue_web::api::ApiError)))]
pub(crate) async fn api_feedback(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Result<Json<FeedbackFields>, JsonRejection>,
) -> ApiResult<StatusCode> {
    require_json(&headers)?;
    let s = crate::http::bookings_web::signed_in_api(&v)?;
    let Json(fields) = body?;
    state
        .bookings
        .give_feedback(&v.tenant().config, &s.account.id, &id, &fields)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The delegate's own certificate, as a PDF download.
async fn certificate_pdf(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<String>,
) -> Result<Response, Failure> {
    let s = v.signed_in_or_redirect()?;
    let pdf = state
        .bookings
        .certificate(&v.tenant().config, &s.account.id, &id)
        .await?;
    let mut res = (StatusCode::OK, pdf).into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(certificate::CONTENT_TYPE),
    );
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"certificate.pdf\""),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    Ok(v.respond(res))
}

#[derive(Template)]
#[template(path = "bookings/course_feedback.html")]
struct CourseFeedbackPage<'a> {
    chrome: Chrome<'a>,
    id: String,
    feedback: CourseFeedback,
    average: String,
}

async fn read_feedback(state: &AppState, v: &Visitor, id: &str) -> Result<CourseFeedback, Failure> {
    let m = manager_of(state, v)
        .await?
        .ok_or_else(crate::http::catalogue_web::not_found)?;
    Ok(state
        .bookings
        .course_feedback(&v.tenant().config, &m, id)
        .await?)
}

async fn course_feedback_page(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<String>,
) -> Result<Response, Failure> {
    v.signed_in_or_redirect()?;
    let feedback = read_feedback(&state, &v, &id).await?;
    let page = CourseFeedbackPage {
        chrome: v.chrome("/manage"),
        average: feedback
            .average_rating
            .map(|a| format!("{a:.1}"))
            .unwrap_or_default(),
        feedback,
        id,
    };
    let html = render(StatusCode::OK, &page);
    Ok(v.respond(html))
}

/// A course's feedback, for its managers; the answers carry no names.
#[utoipa::path(get, path = "/api/v1/courses/{id}/feedback", params(("id" = String, Path)),
    responses((status = 200, body = CourseFeedback), (status = 404, body = crate::http::catalogue_web::api::ApiError)))]
pub(crate) async fn api_course_feedback(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<String>,
) -> ApiResult<Json<CourseFeedback>> {
    Ok(Json(read_feedback(&state, &v, &id).await?))
}

/// Feedback after a course: this area's part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(api_feedback, api_course_feedback),
    components(schemas(
        bookings::after_course::FeedbackFields,
        bookings::after_course::CourseFeedback,
        bookings::after_course::Answer
    ))
)]
pub(crate) struct Doc;
