//! Public catalogue pages: find a course, a course's page, traded services and a service's
//! page. No sign-in needed; drafts show only to the people who manage them.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::get;
use catalogue::domain::Status;
use catalogue::domain::money::format_pence;
use catalogue::domain::query::PER_PAGE;
use catalogue::domain::sharing::{self, Occasion, SharingStatement};
use catalogue::domain::split_list;
use catalogue::store::search::ServiceQuery;
use http::StatusCode;
use serde::Deserialize;

use super::list_params::{ListParams, Problem};
use super::{
    audience_label, hours, manager_of, not_found, offers_courses, offers_services, provider_name,
    uk_span,
};
use crate::http::auth::{Failure, Visitor};
use crate::http::page::{Chrome, render};
use crate::http::state::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/courses", get(courses))
        .route("/courses/{id}", get(course))
        .route("/services", get(services))
        .route("/services/{id}", get(service))
}

pub(super) struct Row {
    pub(super) id: String,
    pub(super) title: String,
    pub(super) summary: String,
    pub(super) kind: &'static str,
    pub(super) provider: String,
    pub(super) next: String,
    pub(super) sessions: i64,
    pub(super) places: String,
    pub(super) price: String,
    pub(super) cpd: String,
}

struct Choice {
    value: String,
    label: String,
    selected: bool,
}

fn choices<'a>(items: impl Iterator<Item = (&'a str, &'a str)>, current: &str) -> Vec<Choice> {
    items
        .map(|(value, label)| Choice {
            value: value.to_owned(),
            label: label.to_owned(),
            selected: value == current,
        })
        .collect()
}

/// The course list page: the page around the list's part, which is the same for everyone.
#[derive(Template)]
#[template(path = "catalogue/courses.html")]
struct CoursesPage<'a> {
    chrome: Chrome<'a>,
    content: std::sync::Arc<str>,
}

/// The course list's filters and results, for one query of one snapshot.
#[derive(Template)]
#[template(path = "catalogue/courses_content.html")]
struct CoursesContent {
    params: ListParams,
    problems: Vec<Problem>,
    rows: Vec<Row>,
    total: i64,
    providers: Vec<Choice>,
    audiences: Vec<Choice>,
    job_categories: Vec<Choice>,
    prev: Option<String>,
    next: Option<String>,
    page: u64,
    pages: u64,
}

impl CoursesContent {
    /// The problem with the `from` or `to` date, if any.
    fn date_problem(&self, which: &str) -> Option<&str> {
        self.problems
            .iter()
            .find(|p| p.field.starts_with(which))
            .map(|p| p.message.as_str())
    }
}

async fn courses(
    State(state): State<AppState>,
    v: Visitor,
    Query(params): Query<ListParams>,
) -> Result<Response, Failure> {
    let cfg = &v.tenant().config;
    if !offers_courses(cfg) {
        return Err(not_found());
    }
    // What the list depends on: the tenant's catalogue as this process last changed it
    // (other replicas' changes within the cache's time to live, as for whole pages) and
    // the parameters it reads.
    let key = format!(
        "courses|{}|{}|{}",
        v.tenant().id,
        state.catalogue.generation(&v.tenant().id),
        params.key()
    );
    let content = match state.public_cache.part(&key) {
        Some(kept) => kept,
        None => {
            let content = courses_content(&state, &v, params).await?;
            part(&state, Some(key), || content.render())?
        }
    };
    let html = render(
        StatusCode::OK,
        &CoursesPage {
            chrome: v.chrome("/courses"),
            content,
        },
    );
    Ok(v.respond(html))
}

async fn courses_content(
    state: &AppState,
    v: &Visitor,
    params: ListParams,
) -> Result<CoursesContent, Failure> {
    let cfg = &v.tenant().config;
    let (query, problems) = params.query();
    let found = state.catalogue.list_courses(&v.tenant().id, &query).await?;
    let total = found.first().map_or(0, |r| r.total);
    let page = query.page();
    let pages = u64::try_from(total).unwrap_or(0).div_ceil(PER_PAGE).max(1);
    let rows = found
        .into_iter()
        .map(|r| Row {
            provider: provider_name(cfg, &r.provider_id).to_owned(),
            next: r.next_start.map(super::uk_day).unwrap_or_default(),
            places: match r.places_left {
                Some(0) | None => "Fully booked".to_owned(),
                Some(1) => "1 place left".to_owned(),
                Some(n) => format!("{n} places left"),
            },
            price: format_pence(r.price_pence),
            cpd: hours(r.cpd_minutes),
            kind: if r.kind == "event" { "Event" } else { "Course" },
            sessions: r.sessions,
            id: r.id,
            title: r.title,
            summary: r.summary,
        })
        .collect();
    let providers = choices(
        cfg.providers
            .iter()
            .map(|p| (p.id.as_str(), p.name.as_str())),
        &params.provider,
    );
    let audiences = choices(
        cfg.audiences.iter().map(|a| (a.as_str(), a.label())),
        &params.audience,
    );
    let job_categories = choices(
        cfg.job_categories.iter().map(|j| (j.as_str(), j.as_str())),
        &params.job_category,
    );
    Ok(CoursesContent {
        prev: (page > 1).then(|| params.with_page(page - 1)),
        next: (page < pages).then(|| params.with_page(page + 1)),
        params,
        problems,
        rows,
        total,
        providers,
        audiences,
        job_categories,
        page,
        pages,
    })
}

pub(super) struct SessionView {
    pub(super) id: String,
    pub(super) when: String,
    pub(super) place: String,
    pub(super) places: String,
    pub(super) cancelled: bool,
}

pub(super) fn session_views(
    sessions: &[catalogue::store::entity::course_session::Model],
) -> Vec<SessionView> {
    sessions
        .iter()
        .map(|s| SessionView {
            id: s.id.clone(),
            when: uk_span(s.starts_at, s.ends_at),
            place: match (&s.venue, &s.online_url) {
                (Some(v), Some(_)) => format!("{v}, or online"),
                (Some(v), None) => v.clone(),
                (None, _) => "Online".to_owned(),
            },
            places: match s.places_left() {
                0 => "Fully booked".to_owned(),
                n => format!("{n} of {}", s.capacity),
            },
            cancelled: s.status == "cancelled",
        })
        .collect()
}

/// A course's page: the page around the course's description, with the booking form.
#[derive(Template)]
#[template(path = "catalogue/course.html")]
struct CoursePage<'a> {
    chrome: Chrome<'a>,
    title: String,
    course_id: String,
    kind: String,
    body: std::sync::Arc<str>,
    can_manage: bool,
    booking: Option<BookingForm>,
    sign_in_to_book: bool,
}

/// A course's description, dates and places left: the same for every visitor who manages
/// nothing, so kept as a part per course and catalogue change, as the list's results are.
#[derive(Template)]
#[template(path = "catalogue/course_body.html")]
struct CourseBody {
    c: catalogue::store::entity::course::Model,
    provider: String,
    sessions: Vec<SessionView>,
    price: String,
    sla: Option<(String, String, String)>,
    cpd: String,
    audiences: Vec<String>,
    job_categories: Vec<String>,
    sharing: Option<SharingStatement>,
    draft: bool,
    cancelled: bool,
}

/// The booking form on a published course's page, for a signed-in visitor.
struct BookingForm {
    csrf: String,
    /// A fresh key per page view, so a double-clicked button books once.
    idempotency_key: String,
    price_pence: i64,
    price: String,
    /// The dates to choose from ([`BookingDates`]), rendered.
    dates: std::sync::Arc<str>,
}

/// The dates a signed-in visitor chooses from on a course's page: the same for everyone
/// who manages nothing, so kept as a part like the course's body.
#[derive(Template)]
#[template(path = "catalogue/course_dates.html")]
struct BookingDates {
    /// (session id, when and where, full)
    sessions: Vec<(String, String, bool)>,
}

/// A part of a page: the one kept under `key`, or `render`'s, kept under it. Without a
/// key (the visitor manages the catalogue, so sees more), rendered and not kept.
fn part(
    state: &AppState,
    key: Option<String>,
    render: impl FnOnce() -> Result<String, askama::Error>,
) -> Result<std::sync::Arc<str>, Failure> {
    if let Some(kept) = key.as_deref().and_then(|k| state.public_cache.part(k)) {
        return Ok(kept);
    }
    let html = render().map_err(|e| Failure::internal(&e))?;
    Ok(match key {
        Some(key) => state.public_cache.keep_part(key, html),
        None => html.into(),
    })
}

async fn course(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<String>,
) -> Result<Response, Failure> {
    let cfg = &v.tenant().config;
    if !offers_courses(cfg) {
        return Err(not_found());
    }
    let manager = manager_of(&state, &v).await?;
    // The parts' keys name the catalogue as it was before the read, so a change between
    // the two leaves a newer part under an older key, never the reverse. Someone who
    // manages the catalogue may see drafts and more: their page is their own.
    let generation = state.catalogue.generation(&v.tenant().id);
    let key = |part: &str| {
        manager
            .is_none()
            .then(|| format!("{part}|{}|{generation}|{id}", v.tenant().id))
    };
    let d = state
        .catalogue
        .course(&v.tenant().id, &id, manager.as_ref())
        .await?;
    let c = d.course;
    let now = state.catalogue.clock().now();
    let bookable = |s: &&catalogue::store::entity::course_session::Model| {
        s.status == "scheduled" && s.starts_at > now
    };
    let open_dates = d.sessions.iter().filter(bookable).count();
    let open = Status::parse(&c.status) == Status::Published && open_dates > 0;
    let booking = match v.signed_in() {
        Some(_) if open => {
            // Keyed by how many dates are open too: one that starts drops out at once.
            let dates = part(
                &state,
                key("course-dates").map(|k| format!("{k}|{open_dates}")),
                || {
                    BookingDates {
                        sessions: d
                            .sessions
                            .iter()
                            .filter(bookable)
                            .map(|s| {
                                (
                                    s.id.clone(),
                                    format!(
                                        "{} ({})",
                                        uk_span(s.starts_at, s.ends_at),
                                        s.venue.as_deref().unwrap_or("online")
                                    ),
                                    s.places_left() == 0,
                                )
                            })
                            .collect(),
                    }
                    .render()
                },
            )?;
            Some(BookingForm {
                csrf: v.csrf().to_owned(),
                idempotency_key: identity::domain::token::generate()
                    .map_err(|e| Failure::from(identity::IdentityError::Internal(e.to_string())))?,
                price_pence: c.price_pence,
                price: format_pence(c.price_pence),
                dates,
            })
        }
        _ => None,
    };
    let (title, course_id, kind) = (c.title.clone(), c.id.clone(), c.kind.clone());
    let can_manage = manager.as_ref().is_some_and(|m| m.manages(&c.provider_id));
    let body = part(&state, key("course"), || {
        course_body(cfg, c, &d.sessions, d.sla).render()
    })?;
    let page = CoursePage {
        sign_in_to_book: open && v.signed_in().is_none(),
        booking,
        chrome: v.chrome("/courses"),
        title,
        course_id,
        kind,
        body,
        can_manage,
    };
    let html = render(StatusCode::OK, &page);
    Ok(v.respond(html))
}

/// The part of a course's page that is the same for every visitor who manages nothing.
fn course_body(
    cfg: &tenant_router::TenantConfig,
    c: catalogue::store::entity::course::Model,
    sessions: &[catalogue::store::entity::course_session::Model],
    sla: Option<(String, String)>,
) -> CourseBody {
    CourseBody {
        provider: provider_name(cfg, &c.provider_id).to_owned(),
        sessions: session_views(sessions),
        price: format_pence(c.price_pence),
        sla: sla
            .zip(c.sla_price_pence)
            .map(|((id, title), p)| (id, title, format_pence(p))),
        cpd: hours(c.cpd_minutes),
        audiences: split_list(&c.audiences)
            .iter()
            .map(|a| audience_label(a).to_owned())
            .collect(),
        job_categories: split_list(&c.job_categories),
        sharing: sharing::statement(cfg, &c.provider_id, Occasion::Booking),
        draft: Status::parse(&c.status) == Status::Draft,
        cancelled: Status::parse(&c.status) == Status::Cancelled,
        c,
    }
}

#[derive(Debug, Default, Deserialize)]
struct ServiceParams {
    #[serde(default)]
    q: String,
    #[serde(default)]
    provider: String,
    #[serde(default)]
    audience: String,
    #[serde(default)]
    page: String,
}

struct ServiceRowView {
    id: String,
    title: String,
    summary: String,
    provider: String,
    term: String,
    from: String,
}

#[derive(Template)]
#[template(path = "catalogue/services.html")]
struct ServicesPage<'a> {
    chrome: Chrome<'a>,
    q: String,
    rows: Vec<ServiceRowView>,
    total: i64,
    providers: Vec<Choice>,
    audiences: Vec<Choice>,
    prev: Option<String>,
    next: Option<String>,
}

async fn services(
    State(state): State<AppState>,
    v: Visitor,
    Query(params): Query<ServiceParams>,
) -> Result<Response, Failure> {
    let cfg = &v.tenant().config;
    if !offers_services(cfg) {
        return Err(not_found());
    }
    let nonempty = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
    let page: u64 = params.page.parse().unwrap_or(1).max(1);
    let query = ServiceQuery {
        q: nonempty(&params.q),
        provider: nonempty(&params.provider),
        audience: nonempty(&params.audience),
        page: Some(page),
    };
    let found = state
        .catalogue
        .list_services(&v.tenant().id, &query)
        .await?;
    let total = found.first().map_or(0, |r| r.total);
    let pages = u64::try_from(total).unwrap_or(0).div_ceil(PER_PAGE).max(1);
    let link = |p: u64| {
        let mut s = form_urlencoded::Serializer::new(String::new());
        for (k, val) in [
            ("q", &params.q),
            ("provider", &params.provider),
            ("audience", &params.audience),
        ] {
            if !val.is_empty() {
                s.append_pair(k, val);
            }
        }
        s.append_pair("page", &p.to_string());
        format!("?{}", s.finish())
    };
    let view = ServicesPage {
        chrome: v.chrome("/services"),
        q: params.q.clone(),
        rows: found
            .into_iter()
            .map(|r| ServiceRowView {
                provider: provider_name(cfg, &r.provider_id).to_owned(),
                from: r.from_pence.map(format_pence).unwrap_or_default(),
                id: r.id,
                title: r.title,
                summary: r.summary,
                term: r.term,
            })
            .collect(),
        total,
        providers: choices(
            cfg.providers
                .iter()
                .map(|p| (p.id.as_str(), p.name.as_str())),
            &params.provider,
        ),
        audiences: choices(
            cfg.audiences.iter().map(|a| (a.as_str(), a.label())),
            &params.audience,
        ),
        prev: (page > 1).then(|| link(page - 1)),
        next: (page < pages).then(|| link(page + 1)),
    };
    let html = render(StatusCode::OK, &view);
    Ok(v.respond(html))
}

#[derive(Template)]
#[template(path = "catalogue/service.html")]
struct ServicePage<'a> {
    chrome: Chrome<'a>,
    s: catalogue::store::entity::traded_service::Model,
    provider: String,
    bands: Vec<(String, String)>,
    period: String,
    audiences: Vec<String>,
    sharing: Option<SharingStatement>,
    draft: bool,
    cancelled: bool,
    can_manage: bool,
    buying: Option<BuyForm>,
    sign_in_to_buy: bool,
}

/// The form to buy a service, for a signed-in visitor who may buy for an organisation.
struct BuyForm {
    csrf: String,
    /// A fresh key per page view, so a double-clicked button buys once.
    idempotency_key: String,
    /// `(id, name)` of the organisations they may buy for.
    organisations: Vec<(String, String)>,
}

async fn service(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<String>,
) -> Result<Response, Failure> {
    let cfg = &v.tenant().config;
    if !offers_services(cfg) {
        return Err(not_found());
    }
    let manager = manager_of(&state, &v).await?;
    let d = state
        .catalogue
        .service(&v.tenant().id, &id, manager.as_ref())
        .await?;
    let s = d.service;
    let on_sale = Status::parse(&s.status) == Status::Published
        && s.period_end >= catalogue::domain::uk::uk_date(state.clock.now());
    let buying = match v.signed_in() {
        Some(who) if on_sale => {
            let organisations = state.bookings.purchasing_for(cfg, &who.account.id).await?;
            if organisations.is_empty() {
                None
            } else {
                Some(BuyForm {
                    csrf: v.csrf().to_owned(),
                    idempotency_key: identity::domain::token::generate().map_err(|e| {
                        Failure::from(identity::IdentityError::Internal(e.to_string()))
                    })?,
                    organisations,
                })
            }
        }
        _ => None,
    };
    let page = ServicePage {
        sign_in_to_buy: on_sale && v.signed_in().is_none(),
        buying,
        chrome: v.chrome("/services"),
        provider: provider_name(cfg, &s.provider_id).to_owned(),
        bands: d
            .bands
            .into_iter()
            .map(|b| (b.label, format_pence(b.price_pence)))
            .collect(),
        period: format!(
            "{} to {}",
            s.period_start.format("%-d %B %Y"),
            s.period_end.format("%-d %B %Y")
        ),
        audiences: split_list(&s.audiences)
            .iter()
            .map(|a| audience_label(a).to_owned())
            .collect(),
        sharing: sharing::statement(cfg, &s.provider_id, Occasion::Purchase),
        draft: Status::parse(&s.status) == Status::Draft,
        cancelled: Status::parse(&s.status) == Status::Cancelled,
        can_manage: manager.is_some_and(|m| m.manages(&s.provider_id)),
        s,
    };
    let html = render(StatusCode::OK, &page);
    Ok(v.respond(html))
}
