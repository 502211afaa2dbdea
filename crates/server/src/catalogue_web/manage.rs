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
use crate::app::AppState;
use crate::auth::{PageError, Visitor, with_code};
use crate::web::{Chrome, render};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/manage", get(dashboard))
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
    Refused(PageError),
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
        Err(e) => return PageError::from(e).into_response(),
    };
    let page = Dashboard {
        chrome: v.chrome("/manage"),
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
#[derive(Debug, Default, Deserialize)]
struct CourseForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    provider_id: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    summary: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    audiences: Vec<String>,
    #[serde(default)]
    job_categories: Vec<String>,
    #[serde(default)]
    phases: Vec<String>,
    #[serde(default)]
    cpd_hours: String,
    #[serde(default)]
    price: String,
    #[serde(default)]
    sla_service_id: String,
    #[serde(default)]
    sla_price: String,
    #[serde(default)]
    booking_opens: String,
    #[serde(default)]
    booking_closes: String,
    #[serde(default)]
    cancellation_notice_days: String,
    #[serde(default)]
    cancellation_terms: String,
    #[serde(default)]
    pre_course_info: String,
    /// A checkbox: `yes` when ticked, absent otherwise.
    #[serde(default)]
    certificate_after_feedback: String,
}

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

impl CourseForm {
    fn fields(&self) -> (CourseFields, Vec<FieldError>) {
        let mut errors = Vec::new();
        let cpd_minutes = match self.cpd_hours.trim() {
            "" => 0,
            h => match h.parse::<f64>() {
                Ok(x) if x.is_finite() && (0.0..=100.0).contains(&x) => (x * 60.0).round() as i64,
                _ => {
                    field_error(
                        &mut errors,
                        "cpd_minutes",
                        "CPD hours must be a number between 0 and 100, like 3 or 1.5",
                    );
                    0
                }
            },
        };
        let price_pence = pounds(&mut errors, "price_pence", "The price", &self.price);
        let sla = self.sla_service_id.trim();
        let sla_price_pence = (!sla.is_empty()).then(|| {
            pounds(
                &mut errors,
                "sla_price_pence",
                "The SLA price",
                &self.sla_price,
            )
        });
        let opens = day(
            &mut errors,
            "booking_opens_at",
            "The booking opening date",
            &self.booking_opens,
        );
        let closes = day(
            &mut errors,
            "booking_closes_at",
            "The booking closing date",
            &self.booking_closes,
        );
        let notice = match self.cancellation_notice_days.trim() {
            "" => 0,
            n => n.parse().unwrap_or_else(|_| {
                field_error(
                    &mut errors,
                    "cancellation_notice_days",
                    "Cancellation notice must be a whole number of days",
                );
                0
            }),
        };
        let fields = CourseFields {
            provider_id: self.provider_id.clone(),
            kind: self.kind.clone(),
            title: self.title.clone(),
            summary: self.summary.clone(),
            description: self.description.clone(),
            audiences: self.audiences.clone(),
            job_categories: self.job_categories.clone(),
            phases: self.phases.clone(),
            cpd_minutes,
            price_pence,
            sla_service_id: (!sla.is_empty()).then(|| sla.to_owned()),
            sla_price_pence,
            booking_opens_at: opens.map(uk_midnight),
            // Booking closes at the end of the day chosen.
            booking_closes_at: closes.and_then(|d| d.succ_opt()).map(uk_midnight),
            cancellation_notice_days: notice,
            cancellation_terms: self.cancellation_terms.clone(),
            pre_course_info: self.pre_course_info.clone(),
            certificate_after_feedback: self.certificate_after_feedback == "yes",
        };
        (fields, errors)
    }

    fn from_model(c: &catalogue::store::entity::course::Model) -> Self {
        let pounds = |p: i64| format!("{}.{:02}", p / 100, p % 100);
        let date = |t: Option<DateTime<Utc>>, back: i64| {
            t.map(|t| {
                (t.with_timezone(&London) - Duration::days(back))
                    .format("%Y-%m-%d")
                    .to_string()
            })
            .unwrap_or_default()
        };
        Self {
            csrf_token: String::new(),
            provider_id: c.provider_id.clone(),
            kind: c.kind.clone(),
            title: c.title.clone(),
            summary: c.summary.clone(),
            description: c.description.clone(),
            audiences: split_list(&c.audiences),
            job_categories: split_list(&c.job_categories),
            phases: split_list(&c.phases),
            cpd_hours: format!("{}", f64::from(c.cpd_minutes) / 60.0),
            price: pounds(c.price_pence),
            sla_service_id: c.sla_service_id.clone().unwrap_or_default(),
            sla_price: c.sla_price_pence.map(pounds).unwrap_or_default(),
            booking_opens: date(c.booking_opens_at, 0),
            booking_closes: date(c.booking_closes_at, 1),
            cancellation_notice_days: c.cancellation_notice_days.to_string(),
            cancellation_terms: c.cancellation_terms.clone(),
            pre_course_info: c.pre_course_info.clone(),
            certificate_after_feedback: if c.certificate_after_feedback {
                "yes".to_owned()
            } else {
                String::new()
            },
        }
    }
}

struct Opt {
    value: String,
    label: String,
}

#[derive(Template)]
#[template(path = "catalogue/manage_course.html")]
struct CourseEditor<'a> {
    chrome: Chrome<'a>,
    csrf: String,
    id: Option<String>,
    status: &'static str,
    published: bool,
    cancelled: bool,
    form: CourseForm,
    errors: Vec<FieldError>,
    providers: Vec<Opt>,
    audiences: Vec<Opt>,
    job_categories: Vec<Opt>,
    phases: Vec<Opt>,
    slas: Vec<Opt>,
    sessions: Vec<SessionView>,
    session_form: SessionForm,
    session_errors: Vec<FieldError>,
}

impl CourseEditor<'_> {
    fn error(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .chain(&self.session_errors)
            .find(|e| e.field == field)
            .map(|e| e.message.as_str())
    }

    fn chosen(list: &[String], v: &str) -> bool {
        list.iter().any(|x| x == v)
    }
}

async fn editor<'a>(
    state: &AppState,
    v: &'a Visitor,
    m: &Manager,
    id: Option<&str>,
    (form, errors): (Option<CourseForm>, Vec<FieldError>),
    (session_form, session_errors): (SessionForm, Vec<FieldError>),
) -> Result<CourseEditor<'a>, PageError> {
    let cfg = &v.tenant().config;
    let (form, status, sessions) = match id {
        Some(id) => {
            let d = state.catalogue.course(&v.tenant().id, id, Some(m)).await?;
            if !m.manages(&d.course.provider_id) {
                return Err(super::not_found());
            }
            (
                form.unwrap_or_else(|| CourseForm::from_model(&d.course)),
                Status::parse(&d.course.status),
                session_views(&d.sessions),
            )
        }
        None => (form.unwrap_or_default(), Status::Draft, Vec::new()),
    };
    let slas = state.catalogue.sla_choices(&v.tenant().id).await?;
    Ok(CourseEditor {
        chrome: v.chrome("/manage"),
        csrf: v.csrf().to_owned(),
        id: id.map(str::to_owned),
        status: status_label(status.as_str()),
        published: status == Status::Published,
        cancelled: status == Status::Cancelled,
        form,
        errors,
        providers: cfg
            .providers
            .iter()
            .filter(|p| m.manages(&p.id))
            .map(|p| Opt {
                value: p.id.clone(),
                label: p.name.clone(),
            })
            .collect(),
        audiences: cfg
            .audiences
            .iter()
            .map(|a| Opt {
                value: a.as_str().to_owned(),
                label: a.label().to_owned(),
            })
            .collect(),
        job_categories: cfg
            .job_categories
            .iter()
            .map(|j| Opt {
                value: j.clone(),
                label: j.clone(),
            })
            .collect(),
        phases: PHASES
            .iter()
            .map(|(p, l)| Opt {
                value: (*p).to_owned(),
                label: (*l).to_owned(),
            })
            .collect(),
        slas: slas
            .into_iter()
            .map(|(value, label)| Opt { value, label })
            .collect(),
        sessions,
        session_form,
        session_errors,
    })
}

/// Sends a rendered page (with any cookie the visitor needs) or the error that stopped it.
fn show(v: Visitor, page: Result<Response, PageError>, code: Option<&'static str>) -> Response {
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

async fn new_course(State(state): State<AppState>, v: Visitor) -> Response {
    let m = guard!(require_manager(&state, &v).await);
    let page = editor(
        &state,
        &v,
        &m,
        None,
        (None, Vec::new()),
        (SessionForm::default(), Vec::new()),
    )
    .await
    .map(|p| render(StatusCode::OK, &p));
    show(v, page, None)
}

async fn edit_course(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<String>,
) -> Response {
    let m = guard!(require_manager(&state, &v).await);
    let page = editor(
        &state,
        &v,
        &m,
        Some(&id),
        (None, Vec::new()),
        (SessionForm::default(), Vec::new()),
    )
    .await
    .map(|p| render(StatusCode::OK, &p));
    show(v, page, None)
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
    ) -> impl Future<Output = Result<Response, PageError>> + Send;
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
        Err(e) => PageError::from(e).into_response(),
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

impl EditorForm for CourseForm {
    type Fields = CourseFields;
    const BASE: &'static str = "/manage/courses";
    const INVALID: &'static str = "invalid_course";

    fn token(&self) -> &str {
        &self.csrf_token
    }

    fn read(&self) -> (CourseFields, Vec<FieldError>) {
        self.fields()
    }

    fn validate(cfg: &TenantConfig, m: &Manager, f: &CourseFields) -> Result<(), Vec<FieldError>> {
        catalogue::domain::course::validate(cfg, m, f).map(|_| ())
    }

    async fn store(
        state: &AppState,
        cfg: &TenantConfig,
        m: &Manager,
        id: Option<&str>,
        f: &CourseFields,
    ) -> Result<String, CatalogueError> {
        match id {
            Some(id) => state
                .catalogue
                .update_course(cfg, m, id, f)
                .await
                .map(|()| id.to_owned()),
            None => state.catalogue.create_course(cfg, m, f).await,
        }
    }

    async fn again(
        state: &AppState,
        v: &Visitor,
        m: &Manager,
        id: Option<&str>,
        form: Self,
        errors: Vec<FieldError>,
    ) -> Result<Response, PageError> {
        editor(
            state,
            v,
            m,
            id,
            (Some(form), errors),
            (SessionForm::default(), Vec::new()),
        )
        .await
        .map(|p| render(StatusCode::UNPROCESSABLE_ENTITY, &p))
    }
}

/// A session as posted: a UK date and two clock times.
#[derive(Debug, Default, Deserialize)]
struct SessionForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    date: String,
    #[serde(default)]
    start: String,
    #[serde(default)]
    end: String,
    #[serde(default)]
    venue: String,
    #[serde(default)]
    online_url: String,
    #[serde(default)]
    capacity: String,
    #[serde(default)]
    org_place_limit: String,
}

impl SessionForm {
    fn fields(&self) -> Result<SessionFields, Vec<FieldError>> {
        let mut errors = Vec::new();
        let date = day(&mut errors, "date", "The date", &self.date);
        if date.is_none() && errors.is_empty() {
            field_error(&mut errors, "date", "Enter the date of the session");
        }
        let mut clock = |field: &'static str, text: &str, label: &str| {
            let t = NaiveTime::parse_from_str(text.trim(), "%H:%M").ok();
            if t.is_none() {
                field_error(
                    &mut errors,
                    field,
                    &format!("Enter the {label} time as hours and minutes, like 09:30"),
                );
            }
            t
        };
        let start = clock("start", &self.start, "start");
        let end = clock("end", &self.end, "end");
        let org_place_limit = match self.org_place_limit.trim() {
            "" => None,
            n => n.parse::<i64>().map(Some).unwrap_or_else(|_| {
                field_error(
                    &mut errors,
                    "org_place_limit",
                    "Places per organisation must be a whole number, or empty for no limit",
                );
                None
            }),
        };
        let capacity = self.capacity.trim().parse::<i64>().unwrap_or_else(|_| {
            field_error(
                &mut errors,
                "capacity",
                "Places must be a whole number between 1 and 10,000",
            );
            0
        });
        let at = |d: NaiveDate, t: NaiveTime| {
            d.and_time(t)
                .and_local_timezone(London)
                .earliest()
                .map(|x| x.with_timezone(&Utc))
        };
        match (date, start, end) {
            (Some(d), Some(s), Some(e)) if errors.is_empty() => match (at(d, s), at(d, e)) {
                (Some(starts_at), Some(ends_at)) => Ok(SessionFields {
                    starts_at,
                    ends_at,
                    venue: Some(self.venue.clone()),
                    online_url: Some(self.online_url.clone()),
                    capacity,
                    org_place_limit,
                }),
                _ => {
                    field_error(
                        &mut errors,
                        "start",
                        "That time does not exist on that day (the clocks change)",
                    );
                    Err(errors)
                }
            },
            _ => Err(errors),
        }
    }
}

async fn add_session(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<String>,
    Form(form): Form<SessionForm>,
) -> Response {
    guard!(csrf(&v, &form.csrf_token));
    let m = guard!(require_manager(&state, &v).await);
    let result = match form.fields() {
        Ok(fields) => state
            .catalogue
            .add_session(&v.tenant().id, &m, &id, &fields)
            .await
            .map(|_| ()),
        Err(errors) => Err(CatalogueError::Invalid(errors)),
    };
    match result {
        Ok(()) => {
            v.respond(Redirect::to(&format!("/manage/courses/{id}#sessions")).into_response())
        }
        Err(CatalogueError::Invalid(errors)) => {
            let page = editor(
                &state,
                &v,
                &m,
                Some(&id),
                (None, Vec::new()),
                (form, errors),
            )
            .await
            .map(|p| render(StatusCode::UNPROCESSABLE_ENTITY, &p));
            show(v, page, Some("invalid_session"))
        }
        Err(e) => PageError::from(e).into_response(),
    }
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
        Err(e) => PageError::from(e).into_response(),
    }
}

async fn cancel_session(
    State(state): State<AppState>,
    v: Visitor,
    Path((id, session)): Path<(String, String)>,
    Form(f): Form<TokenForm>,
) -> Response {
    let tenant = v.tenant().id.clone();
    let back = format!("/manage/courses/{id}#sessions");
    change(&state, v, &f.csrf_token, back, async |s, m| {
        s.catalogue.cancel_session(&tenant, m, &id, &session).await
    })
    .await
}

async fn publish_course(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<String>,
    Form(f): Form<TokenForm>,
) -> Response {
    let tenant = v.tenant().id.clone();
    let back = format!("/manage/courses/{id}");
    change(&state, v, &f.csrf_token, back, async |s, m| {
        s.catalogue.publish_course(&tenant, m, &id).await
    })
    .await
}

async fn cancel_course(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<String>,
    Form(f): Form<TokenForm>,
) -> Response {
    let tenant = v.tenant().id.clone();
    let back = format!("/manage/courses/{id}");
    change(&state, v, &f.csrf_token, back, async |s, m| {
        s.catalogue.cancel_course(&tenant, m, &id).await
    })
    .await
}

/// Price-band rows on the service form.
const BAND_ROWS: usize = 5;

#[derive(Debug, Default, Deserialize)]
struct ServiceForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    provider_id: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    summary: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    audiences: Vec<String>,
    #[serde(default)]
    period_start: String,
    #[serde(default)]
    period_end: String,
    #[serde(default)]
    term: String,
    #[serde(default)]
    band_label: Vec<String>,
    #[serde(default)]
    band_price: Vec<String>,
}

impl ServiceForm {
    fn fields(&self) -> (ServiceFields, Vec<FieldError>) {
        let mut errors = Vec::new();
        let period_start = day(
            &mut errors,
            "period_start",
            "The first day",
            &self.period_start,
        );
        let period_end = day(&mut errors, "period_end", "The last day", &self.period_end);
        let mut price_bands = Vec::new();
        for (label, price) in self.band_label.iter().zip(&self.band_price) {
            if label.trim().is_empty() && price.trim().is_empty() {
                continue;
            }
            let price_pence = pounds(&mut errors, "price_bands", "Each band's price", price);
            price_bands.push(PriceBand {
                label: label.clone(),
                price_pence,
            });
        }
        (
            ServiceFields {
                provider_id: self.provider_id.clone(),
                title: self.title.clone(),
                summary: self.summary.clone(),
                description: self.description.clone(),
                audiences: self.audiences.clone(),
                period_start,
                period_end,
                term: self.term.clone(),
                price_bands,
            },
            errors,
        )
    }

    fn from_detail(d: &catalogue::ServiceDetail) -> Self {
        let s = &d.service;
        Self {
            csrf_token: String::new(),
            provider_id: s.provider_id.clone(),
            title: s.title.clone(),
            summary: s.summary.clone(),
            description: s.description.clone(),
            audiences: split_list(&s.audiences),
            period_start: s.period_start.format("%Y-%m-%d").to_string(),
            period_end: s.period_end.format("%Y-%m-%d").to_string(),
            term: s.term.clone(),
            band_label: d.bands.iter().map(|b| b.label.clone()).collect(),
            band_price: d
                .bands
                .iter()
                .map(|b| format!("{}.{:02}", b.price_pence / 100, b.price_pence % 100))
                .collect(),
        }
    }
}

#[derive(Template)]
#[template(path = "catalogue/manage_service.html")]
struct ServiceEditor<'a> {
    chrome: Chrome<'a>,
    csrf: String,
    id: Option<String>,
    status: &'static str,
    published: bool,
    cancelled: bool,
    form: ServiceForm,
    bands: Vec<(String, String)>,
    errors: Vec<FieldError>,
    providers: Vec<Opt>,
    audiences: Vec<Opt>,
}

impl ServiceEditor<'_> {
    fn error(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.as_str())
    }

    fn chosen(list: &[String], v: &str) -> bool {
        list.iter().any(|x| x == v)
    }
}

async fn service_editor<'a>(
    state: &AppState,
    v: &'a Visitor,
    m: &Manager,
    id: Option<&str>,
    form: Option<ServiceForm>,
    errors: Vec<FieldError>,
) -> Result<ServiceEditor<'a>, PageError> {
    let cfg = &v.tenant().config;
    let (form, status) = match id {
        Some(id) => {
            let d = state.catalogue.service(&v.tenant().id, id, Some(m)).await?;
            if !m.manages(&d.service.provider_id) {
                return Err(super::not_found());
            }
            (
                form.unwrap_or_else(|| ServiceForm::from_detail(&d)),
                Status::parse(&d.service.status),
            )
        }
        None => (form.unwrap_or_default(), Status::Draft),
    };
    let mut bands: Vec<(String, String)> = form
        .band_label
        .iter()
        .cloned()
        .zip(form.band_price.iter().cloned())
        .collect();
    bands.resize(BAND_ROWS.max(bands.len()), (String::new(), String::new()));
    Ok(ServiceEditor {
        chrome: v.chrome("/manage"),
        csrf: v.csrf().to_owned(),
        id: id.map(str::to_owned),
        status: status_label(status.as_str()),
        published: status == Status::Published,
        cancelled: status == Status::Cancelled,
        form,
        bands,
        errors,
        providers: cfg
            .providers
            .iter()
            .filter(|p| m.manages(&p.id))
            .map(|p| Opt {
                value: p.id.clone(),
                label: p.name.clone(),
            })
            .collect(),
        audiences: cfg
            .audiences
            .iter()
            .map(|a| Opt {
                value: a.as_str().to_owned(),
                label: a.label().to_owned(),
            })
            .collect(),
    })
}

async fn new_service(State(state): State<AppState>, v: Visitor) -> Response {
    let m = guard!(require_manager(&state, &v).await);
    let page = service_editor(&state, &v, &m, None, None, Vec::new())
        .await
        .map(|p| render(StatusCode::OK, &p));
    show(v, page, None)
}

async fn edit_service(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<String>,
) -> Response {
    let m = guard!(require_manager(&state, &v).await);
    let page = service_editor(&state, &v, &m, Some(&id), None, Vec::new())
        .await
        .map(|p| render(StatusCode::OK, &p));
    show(v, page, None)
}

impl EditorForm for ServiceForm {
    type Fields = ServiceFields;
    const BASE: &'static str = "/manage/services";
    const INVALID: &'static str = "invalid_service";

    fn token(&self) -> &str {
        &self.csrf_token
    }

    fn read(&self) -> (ServiceFields, Vec<FieldError>) {
        self.fields()
    }

    fn validate(cfg: &TenantConfig, m: &Manager, f: &ServiceFields) -> Result<(), Vec<FieldError>> {
        catalogue::domain::service::validate(cfg, m, f).map(|_| ())
    }

    async fn store(
        state: &AppState,
        cfg: &TenantConfig,
        m: &Manager,
        id: Option<&str>,
        f: &ServiceFields,
    ) -> Result<String, CatalogueError> {
        match id {
            Some(id) => state
                .catalogue
                .update_service(cfg, m, id, f)
                .await
                .map(|()| id.to_owned()),
            None => state.catalogue.create_service(cfg, m, f).await,
        }
    }

    async fn again(
        state: &AppState,
        v: &Visitor,
        m: &Manager,
        id: Option<&str>,
        form: Self,
        errors: Vec<FieldError>,
    ) -> Result<Response, PageError> {
        service_editor(state, v, m, id, Some(form), errors)
            .await
            .map(|p| render(StatusCode::UNPROCESSABLE_ENTITY, &p))
    }
}

async fn publish_service(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<String>,
    Form(f): Form<TokenForm>,
) -> Response {
    let tenant = v.tenant().id.clone();
    let back = format!("/manage/services/{id}");
    change(&state, v, &f.csrf_token, back, async |s, m| {
        s.catalogue.set_service_status(&tenant, m, &id, true).await
    })
    .await
}

async fn cancel_service(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<String>,
    Form(f): Form<TokenForm>,
) -> Response {
    let tenant = v.tenant().id.clone();
    let back = format!("/manage/services/{id}");
    change(&state, v, &f.csrf_token, back, async |s, m| {
        s.catalogue.set_service_status(&tenant, m, &id, false).await
    })
    .await
}
