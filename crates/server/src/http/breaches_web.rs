//! The breach log over HTTP (`/manage/breaches`), for privacy officers: the list with each
//! breach's ICO deadline, recording a breach, and one breach's decisions. The use cases are
//! the privacy engine's ([`privacy_engine::breaches`]); anyone else gets 404.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse as _, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use chrono::{DateTime, NaiveTime, Timelike as _, Utc};
use http::StatusCode;
use identity::domain::signup::FieldError;
use privacy_engine::PrivacyError;
use privacy_engine::breaches::{BreachAction, BreachSummary, NewBreach};
use privacy_engine::domain::breach::{IcoStatus, Risk};
use privacy_engine::domain::calendar::{from_uk, long_moment, uk_date};

use crate::http::auth::{Failure, Visitor, error_for};
use crate::http::error::{not_found, with_code};
use crate::http::page::{Chrome, render};
use crate::http::rights_web::{actor, date_fields, date_of, field, field_errors, officer};
use crate::http::state::AppState;

/// The routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/manage/breaches", get(list))
        .route("/manage/breaches/new", get(new_form).post(log))
        .route("/manage/breaches/{id}", get(detail))
        .route("/manage/breaches/{id}/{action}", post(act))
}

/// The form fields of a moment (`{prefix}-day`, `-month`, `-year`, `-time`) set to `t`.
fn moment_fields(prefix: &str, t: DateTime<Utc>) -> HashMap<String, String> {
    let uk = t.with_timezone(&chrono_tz::Europe::London);
    let mut fields = date_fields(prefix, uk_date(t));
    fields.insert(
        format!("{prefix}-time"),
        format!("{:02}:{:02}", uk.hour(), uk.minute()),
    );
    fields
}

/// A GOV.UK date input and a 24-hour time (`{prefix}-time`, like 16:30) as an instant.
fn moment_of(
    form: &HashMap<String, String>,
    prefix: &'static str,
) -> Result<DateTime<Utc>, FieldError> {
    let day = date_of(form, prefix)?;
    let bad = || FieldError {
        field: prefix,
        message: "Enter the time on the 24-hour clock, like 16:30".to_owned(),
    };
    let time = NaiveTime::parse_from_str(field(form, &format!("{prefix}-time")), "%H:%M")
        .map_err(|_| bad())?;
    from_uk(day, time).ok_or_else(bad)
}

struct Row {
    id: String,
    reference: String,
    discovered: String,
    risk: &'static str,
    ico: String,
    colour: &'static str,
    open: bool,
}

fn ico_text(b: &BreachSummary) -> (String, &'static str) {
    match b.ico {
        IcoStatus::Overdue => (
            format!("Overdue: the 72 hours ended {}", long_moment(b.deadline)),
            "govuk-tag--red",
        ),
        IcoStatus::Due(h) => (
            format!(
                "Decide by {} ({h} hour{} left)",
                long_moment(b.deadline),
                if h == 1 { "" } else { "s" }
            ),
            if h < 24 {
                "govuk-tag--orange"
            } else {
                "govuk-tag--blue"
            },
        ),
        IcoStatus::Reported => ("Reported".to_owned(), "govuk-tag--green"),
        IcoStatus::NotRequired => ("Not reported".to_owned(), "govuk-tag--grey"),
    }
}

fn row(b: &BreachSummary) -> Row {
    let (ico, colour) = ico_text(b);
    Row {
        id: b.row.id.clone(),
        reference: b.reference.clone(),
        discovered: long_moment(b.row.discovered_at),
        risk: Risk::parse(&b.row.risk).map_or("", Risk::describe),
        ico,
        colour,
        open: b.row.status == "open",
    }
}

#[derive(Template)]
#[template(path = "breaches/list.html")]
struct ListPage<'a> {
    chrome: Chrome<'a>,
    rows: Vec<Row>,
}

async fn list(State(state): State<AppState>, v: Visitor) -> Result<Response, Failure> {
    officer(&state, &v).await?;
    let rows = state
        .privacy
        .breaches(&v.tenant().config)
        .await?
        .iter()
        .map(row)
        .collect();
    let page = ListPage {
        chrome: v.chrome("/manage"),
        rows,
    };
    let html = render(StatusCode::OK, &page);
    drop(page);
    Ok(v.respond(html))
}

#[derive(Template)]
#[template(path = "breaches/new.html")]
struct NewPage<'a> {
    chrome: Chrome<'a>,
    csrf: String,
    categories: Vec<(String, String)>,
    chosen: Vec<String>,
    risks: Vec<(&'static str, &'static str)>,
    values: HashMap<String, String>,
    errors: Vec<FieldError>,
}

impl NewPage<'_> {
    fn value(&self, name: &str) -> &str {
        self.values.get(name).map_or("", String::as_str)
    }

    fn error(&self, name: &str) -> Option<String> {
        error_for(&self.errors, name)
    }
}

fn risks() -> Vec<(&'static str, &'static str)> {
    Risk::ALL
        .iter()
        .map(|r| (r.as_str(), r.describe()))
        .collect()
}

fn new_page(
    state: &AppState,
    v: &Visitor,
    values: HashMap<String, String>,
    chosen: Vec<String>,
    errors: Vec<FieldError>,
) -> Response {
    let page = NewPage {
        chrome: v.chrome("/manage"),
        csrf: v.csrf().to_owned(),
        categories: v
            .tenant()
            .config
            .data_categories
            .iter()
            .map(|c| (c.id.clone(), c.name.clone()))
            .collect(),
        chosen,
        risks: risks(),
        values: if values.is_empty() {
            moment_fields("discovered", state.privacy.now())
        } else {
            values
        },
        errors,
    };
    let status = if page.errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    render(status, &page)
}

async fn new_form(State(state): State<AppState>, v: Visitor) -> Result<Response, Failure> {
    officer(&state, &v).await?;
    let html = new_page(&state, &v, HashMap::new(), Vec::new(), Vec::new());
    Ok(v.respond(html))
}

async fn log(
    State(state): State<AppState>,
    v: Visitor,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, Failure> {
    let who = officer(&state, &v).await?;
    let chosen: Vec<String> = pairs
        .iter()
        .filter(|(k, _)| k == "categories")
        .map(|(_, c)| c.clone())
        .collect();
    let form: HashMap<String, String> = pairs.into_iter().collect();
    v.check_csrf(&form)?;
    let risk = Risk::parse(field(&form, "risk"));
    let discovered = moment_of(&form, "discovered");
    let (risk, discovered) = match (risk, discovered) {
        (Some(r), Ok(d)) => (r, d),
        (r, d) => {
            let mut errors = Vec::new();
            if let Err(e) = d {
                errors.push(e);
            }
            if r.is_none() {
                errors.push(FieldError {
                    field: "risk",
                    message: "Choose the risk to people".to_owned(),
                });
            }
            let html = new_page(&state, &v, form, chosen, errors);
            return Ok(v.respond(html));
        }
    };
    let cfg = &v.tenant().config;
    let by = actor(who);
    let new = NewBreach {
        summary: field(&form, "summary"),
        people_affected: field(&form, "people_affected"),
        categories: &chosen,
        discovered_at: discovered,
        risk,
        risk_reason: field(&form, "risk_reason"),
        by: &by,
    };
    match state
        .privacy
        .log_breach(cfg, &new, &state.base_url(cfg))
        .await
    {
        Ok(row) => Ok(Redirect::to(&format!("/manage/breaches/{}", row.id)).into_response()),
        Err(PrivacyError::Invalid(problems)) => {
            let html = new_page(&state, &v, form, chosen, field_errors(problems));
            Ok(v.respond(html))
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "breaches/detail.html")]
struct DetailPage<'a> {
    chrome: Chrome<'a>,
    csrf: String,
    line: Row,
    b: BreachSummary,
    categories: String,
    risks: Vec<(&'static str, &'static str)>,
    history: Vec<(String, String, String)>,
    values: HashMap<String, String>,
    errors: Vec<FieldError>,
}

impl DetailPage<'_> {
    fn value(&self, name: &str) -> &str {
        self.values.get(name).map_or("", String::as_str)
    }

    fn error(&self, name: &str) -> Option<String> {
        error_for(&self.errors, name)
    }

    fn pending(&self, decision: &str) -> bool {
        decision == "pending"
    }
}

async fn detail_page(
    state: &AppState,
    v: Visitor,
    id: &str,
    status: StatusCode,
    (form, errors): (HashMap<String, String>, Vec<FieldError>),
) -> Result<Response, Failure> {
    let cfg = &v.tenant().config;
    let (b, events) = state.privacy.breach(cfg, id).await?;
    let categories = b
        .row
        .categories
        .split(',')
        .map(|c| {
            cfg.data_categories
                .iter()
                .find(|d| d.id == c)
                .map_or(c, |d| d.name.as_str())
        })
        .collect::<Vec<_>>()
        .join(", ");
    let now = state.privacy.now();
    let mut values = moment_fields("reported", now);
    values.extend(moment_fields("told", now));
    // What was typed stays when a form comes back with a problem.
    values.extend(form);
    let page = DetailPage {
        chrome: v.chrome("/manage"),
        csrf: v.csrf().to_owned(),
        line: row(&b),
        categories,
        risks: risks(),
        history: events
            .into_iter()
            .map(|e| {
                (
                    long_moment(e.occurred_at),
                    e.action.replace('_', " "),
                    e.note.unwrap_or_default(),
                )
            })
            .collect(),
        b,
        values,
        errors,
    };
    let html = render(status, &page);
    drop(page);
    Ok(v.respond(html))
}

async fn detail(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<String>,
) -> Result<Response, Failure> {
    officer(&state, &v).await?;
    detail_page(&state, v, &id, StatusCode::OK, Default::default()).await
}

async fn act(
    State(state): State<AppState>,
    v: Visitor,
    Path((id, action)): Path<(String, String)>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, Failure> {
    let who = officer(&state, &v).await?;
    v.check_csrf(&form)?;
    let text = |name| field(&form, name);
    let step =
        match action.as_str() {
            "assess" => match Risk::parse(text("risk")) {
                Some(r) => Ok(BreachAction::Assess(r, text("risk_reason"))),
                None => Err(FieldError {
                    field: "risk",
                    message: "Choose the risk to people".to_owned(),
                }),
            },
            "reported" => moment_of(&form, "reported")
                .map(|at| BreachAction::Reported(at, text("ico_reference"))),
            "not-reported" => Ok(BreachAction::NotReported(text("ico_reason"))),
            "told" => moment_of(&form, "told")
                .map(|at| BreachAction::PeopleTold(at, text("people_reason"))),
            "not-told" => Ok(BreachAction::PeopleNotTold(text("people_not_reason"))),
            "note" => Ok(BreachAction::Note(text("note"))),
            "close" => Ok(BreachAction::Close(text("close_note"))),
            _ => return Err(not_found()),
        };
    let step = match step {
        Ok(s) => s,
        Err(e) => {
            let bad = StatusCode::UNPROCESSABLE_ENTITY;
            return detail_page(&state, v, &id, bad, (form, vec![e])).await;
        }
    };
    let cfg = &v.tenant().config;
    match state
        .privacy
        .act_on_breach(cfg, &id, step, &actor(who))
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/manage/breaches/{id}")).into_response()),
        Err(PrivacyError::Invalid(problems)) => {
            let errors = field_errors(problems);
            let bad = StatusCode::UNPROCESSABLE_ENTITY;
            detail_page(&state, v, &id, bad, (form, errors)).await
        }
        Err(PrivacyError::Refused { code, message }) => {
            let errors = vec![FieldError {
                field: "breach",
                message: message.to_owned(),
            }];
            let res = detail_page(&state, v, &id, StatusCode::CONFLICT, (form, errors)).await?;
            Ok(with_code(res, code))
        }
        Err(e) => Err(e.into()),
    }
}
