//! Management pages: tenant admins manage every provider's courses and services, provider
//! staff only their own provider's. Every change goes through the catalogue service, which
//! validates and audits it; another provider's or tenant's id answers 404.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum_extra::extract::Form;
use catalogue::CatalogueError;
use catalogue::domain::course::{CourseFields, PHASES, SessionFields};
use catalogue::domain::money::parse_pounds;
use catalogue::domain::service::{PriceBand, ServiceFields};
use catalogue::domain::{Manager, Status, split_list};
use catalogue::store::search::uk_midnight;
use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use chrono_tz::Europe::London;
use http::StatusCode;
use identity::domain::signup::FieldError;
use serde::Deserialize;
use tenant_router::TenantConfig;

use super::pages::{SessionView, session_views};
use super::{manager_of, offers_courses, offers_services, provider_name};
use crate::http::auth::{Failure, Visitor, with_code};
use crate::http::page::{Chrome, render};
use crate::http::state::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/manage/catalogue", get(dashboard))
        .route("/manage/courses/new", get(new_course))
        .route("/manage/courses", post(create::<CourseForm>))
        .route(
            "/manage/courses/{id}",
            get(edit_course).post(update::<CourseForm>),
        )
        .route("/manage/courses/{id}/sessions", post(add_session))
        .route(
            "/manage/courses/{id}/sessions/{session}/cancel",
            post(cancel_session),
        )
        .route("/manage/courses/{id}/publish", post(publish_course))
        .route("/manage/courses/{id}/cancel", post(cancel_course))
        .route("/manage/services/new", get(new_service))
        .route("/manage/services", post(create::<ServiceForm>))
        .route(
            "/manage/services/{id}",
            get(edit_service).post(update::<ServiceForm>),
        )
        .route("/manage/services/{id}/publish", post(publish_service))
        .route("/manage/services/{id}/cancel", post(cancel_service))
}

/// Why a management request stops before it starts.
enum Gate {
    /// Not signed in: go and sign in.
    SignIn,
    /// Signed in but not a manager, a bad CSRF token, or a failure.
    Refused(Failure),
}

impl IntoResponse for Gate {
    fn into_response(self) -> Response {
        match self {
            Self::SignIn => Redirect::to("/sign-in").into_response(),
            Self::Refused(e) => e.into_response(),
        }
    }
}

/// The signed-in manager, or what stops them: sign in first, or 403.
async fn require_manager(state: &AppState, v: &Visitor) -> Result<Manager, Gate> {
    if v.signed_in().is_none() {
        return Err(Gate::SignIn);
    }
    match manager_of(state, v).await {
        Ok(Some(m)) => Ok(m),
        Ok(None) => Err(Gate::Refused(CatalogueError::NotManager.into())),
        Err(e) => Err(Gate::Refused(e)),
    }
}

fn csrf(v: &Visitor, token: &str) -> Result<(), Gate> {
    let mut form = std::collections::HashMap::new();
    form.insert("csrf_token".to_owned(), token.to_owned());
    v.check_csrf(&form).map_err(Gate::Refused)
}

macro_rules! guard {
    ($e:expr) => {
        match $e {
            Ok(x) => x,
            Err(gate) => return gate.into_response(),
        }
    };
}

struct Item {
    href: String,
    title: String,
    provider: String,
    status: &'static str,
}

#[derive(Template)]
#[template(path = "catalogue/manage.html")]
struct Dashboard<'a> {
    chrome: Chrome<'a>,
    courses: Vec<Item>,
    services: Vec<Item>,
    offers_courses: bool,
    offers_services: bool,
    offers_resources: bool,
}

fn status_label(s: &str) -> &'static str {
    match Status::parse(s) {
        Status::Draft => "Draft",
        Status::Published => "Published",
        Status::Cancelled => "Cancelled",
    }
}

async fn dashboard(State(state): State<AppState>, v: Visitor) -> Response {
    let m = guard!(require_manager(&state, &v).await);
    let cfg = &v.tenant().config;
    let managed = match state.catalogue.managed(&v.tenant().id, &m).await {
        Ok(x) => x,
        Err(e) => return Failure::from(e).into_response(),
    };
    let page = Dashboard {
        chrome: v.chrome("/manage/catalogue"),
        courses: managed
            .courses
            .into_iter()
            .map(|c| Item {
                href: format!("/manage/courses/{}", c.id),
                provider: provider_name(cfg, &c.provider_id).to_owned(),
                status: status_label(&c.status),
                title: c.title,
            })
            .collect(),
        services: managed
            .services
            .into_iter()
            .map(|s| Item {
                href: format!("/manage/services/{}", s.id),
                provider: provider_name(cfg, &s.provider_id).to_owned(),
                status: status_label(&s.status),
                title: s.title,
            })
            .collect(),
        offers_courses: offers_courses(cfg),
        offers_services: offers_services(cfg),
        offers_resources: super::offers_resources(cfg),
    };
    let html = render(StatusCode::OK, &page);
    v.respond(html)
}

/// The course form as posted: strings, read into [`CourseFields`] with any parse errors.
fn field_error(errors: &mut Vec<FieldError>, field: &'static str, message: &str) {
    errors.push(FieldError {
        field,
        message: message.to_owned(),
    });
}

fn pounds(errors: &mut Vec<FieldError>, field: &'static str, label: &str, text: &str) -> i64 {
    parse_pounds(text).unwrap_or_else(|why| {
        field_error(errors, field, &format!("{label} {why}"));
        0
    })
}

fn day(
    errors: &mut Vec<FieldError>,
    field: &'static str,
    label: &str,
    text: &str,
) -> Option<NaiveDate> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let d = NaiveDate::parse_from_str(text, "%Y-%m-%d").ok();
    if d.is_none() {
        field_error(errors, field, &format!("{label} must be a real date"));
    }
    d
}

struct Opt {
    value: String,
    label: String,
}

/// Sends a rendered page (with any cookie the visitor needs) or the error that stopped it.
fn show(v: Visitor, page: Result<Response, Failure>, code: Option<&'static str>) -> Response {
    match page {
        Ok(html) => {
            let res = v.respond(html);
            match code {
                Some(c) => with_code(res, c),
                None => res,
            }
        }
        Err(e) => e.into_response(),
    }
}
/// The course and service editors share one save path: read the form, refuse parse errors
/// together with every validation error, save, then go to the item or show the form again.
trait EditorForm: Sized + Send {
    type Fields: Send + Sync;
    /// Where the items' editors live, e.g. `/manage/courses`.
    const BASE: &'static str;
    /// The error code of a refused form.
    const INVALID: &'static str;
    fn token(&self) -> &str;
    fn read(&self) -> (Self::Fields, Vec<FieldError>);
    fn validate(cfg: &TenantConfig, m: &Manager, f: &Self::Fields) -> Result<(), Vec<FieldError>>;
    fn store(
        state: &AppState,
        cfg: &TenantConfig,
        m: &Manager,
        id: Option<&str>,
        f: &Self::Fields,
    ) -> impl Future<Output = Result<String, CatalogueError>> + Send;
    fn again(
        state: &AppState,
        v: &Visitor,
        m: &Manager,
        id: Option<&str>,
        form: Self,
        errors: Vec<FieldError>,
    ) -> impl Future<Output = Result<Response, Failure>> + Send;
}

async fn save<F: EditorForm>(
    state: &AppState,
    v: Visitor,
    m: &Manager,
    id: Option<String>,
    form: F,
) -> Response {
    let cfg = &v.tenant().config;
    let (fields, mut errors) = form.read();
    let result = if errors.is_empty() {
        F::store(state, cfg, m, id.as_deref(), &fields).await
    } else {
        if let Err(more) = F::validate(cfg, m, &fields) {
            errors.extend(more);
        }
        Err(CatalogueError::Invalid(Vec::new()))
    };
    match result {
        Ok(id) => v.respond(Redirect::to(&format!("{}/{id}", F::BASE)).into_response()),
        Err(CatalogueError::Invalid(more)) => {
            errors.extend(more);
            errors.dedup();
            let page = F::again(state, &v, m, id.as_deref(), form, errors).await;
            show(v, page, Some(F::INVALID))
        }
        Err(e) => Failure::from(e).into_response(),
    }
}

async fn create<F: EditorForm + serde::de::DeserializeOwned>(
    State(state): State<AppState>,
    v: Visitor,
    Form(form): Form<F>,
) -> Response {
    guard!(csrf(&v, form.token()));
    let m = guard!(require_manager(&state, &v).await);
    save(&state, v, &m, None, form).await
}

async fn update<F: EditorForm + serde::de::DeserializeOwned>(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<String>,
    Form(form): Form<F>,
) -> Response {
    guard!(csrf(&v, form.token()));
    let m = guard!(require_manager(&state, &v).await);
    save(&state, v, &m, Some(id), form).await
}
#[derive(Debug, Deserialize)]
struct TokenForm {
    #[serde(default)]
    csrf_token: String,
}

/// Runs a state change (publish, cancel) and returns to the item, or shows why not.
async fn change(
    state: &AppState,
    v: Visitor,
    token: &str,
    back: String,
    act: impl AsyncFnOnce(&AppState, &Manager) -> Result<(), CatalogueError>,
) -> Response {
    guard!(csrf(&v, token));
    let m = guard!(require_manager(state, &v).await);
    match act(state, &m).await {
        Ok(()) => v.respond(Redirect::to(&back).into_response()),
        Err(e) => Failure::from(e).into_response(),
    }
}

mod courses;
mod services;

use courses::{
    CourseForm, add_session, cancel_course, cancel_session, edit_course, new_course, publish_course,
};
use services::{ServiceForm, cancel_service, edit_service, new_service, publish_service};
