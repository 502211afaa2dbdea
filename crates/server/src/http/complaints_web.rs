//! Complaints over HTTP: anyone, signed in or not, complains at `/complaints`; a privacy
//! officer keeps the log at `/manage/complaints`, logs complaints that came another way,
//! and acknowledges, escalates, notes and closes each. The use cases are the privacy
//! engine's ([`privacy_engine::complaints`]). Anyone who is not a privacy officer of this
//! tenant gets 404 on the log.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse as _, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use http::StatusCode;
use identity::domain::signup::FieldError;
use privacy_engine::PrivacyError;
use privacy_engine::complaints::{ComplaintAction, ComplaintSummary, NewComplaint, reference};
use privacy_engine::domain::calendar::long_date;
use privacy_engine::domain::rights::Channel;
use privacy_engine::store::complaints::ComplaintRow;

use crate::http::auth::{Failure, Visitor};
use crate::http::error::{not_found, with_code};
use crate::http::page::{Chrome, render};
use crate::http::rights_web::{actor, date_fields, date_of, field, field_errors, officer};
use crate::http::state::AppState;

/// The complaint form and the privacy officer's log.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/complaints", get(form).post(make))
        .route("/manage/complaints", get(list))
        .route("/manage/complaints/new", get(log_form).post(log))
        .route("/manage/complaints/{id}", get(detail))
        .route("/manage/complaints/{id}/{action}", post(act))
}

#[derive(Template)]
#[template(path = "complaints/form.html")]
struct FormPage<'a> {
    chrome: Chrome<'a>,
    csrf: String,
    /// The officer's version: channel and date received too.
    logging: bool,
    channels: Vec<(&'static str, &'static str)>,
    form: HashMap<String, String>,
    errors: Vec<FieldError>,
    made: Option<String>,
    stages: Vec<String>,
}

impl FormPage<'_> {
    fn value(&self, name: &str) -> &str {
        self.form.get(name).map_or("", String::as_str)
    }

    fn error(&self, name: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|e| e.field == name)
            .map(|e| e.message.as_str())
    }
}

fn form_page(
    v: Visitor,
    status: StatusCode,
    logging: bool,
    form: HashMap<String, String>,
    errors: Vec<FieldError>,
    made: Option<String>,
) -> Response {
    let html = render(
        status,
        &FormPage {
            chrome: v.chrome(if logging { "/manage" } else { "/complaints" }),
            csrf: v.csrf().to_owned(),
            logging,
            channels: Channel::LOGGED
                .iter()
                .map(|c| (c.as_str(), c.describe()))
                .collect(),
            stages: privacy_engine::complaints::stages(&v.tenant().config),
            form,
            errors,
            made,
        },
    );
    v.respond(html)
}

async fn form(v: Visitor, Query(q): Query<HashMap<String, String>>) -> Response {
    let made = q.get("made").filter(|m| m.starts_with("CP-")).cloned();
    let mut fields = HashMap::new();
    if let Some(who) = v.signed_in() {
        let a = &who.account;
        fields.insert(
            "name".to_owned(),
            format!("{} {}", a.first_name, a.last_name),
        );
        fields.insert("email".to_owned(), a.email.clone());
    }
    form_page(v, StatusCode::OK, false, fields, Vec::new(), made)
}

async fn file(
    state: &AppState,
    v: Visitor,
    form: HashMap<String, String>,
    new: Result<NewComplaint<'_>, Vec<FieldError>>,
    logging: bool,
) -> Result<Response, Failure> {
    let made = match new {
        Ok(new) => state.privacy.file_complaint(&v.tenant().config, &new).await,
        Err(errors) => {
            return Ok(form_page(
                v,
                StatusCode::UNPROCESSABLE_ENTITY,
                logging,
                form,
                errors,
                None,
            ));
        }
    };
    match made {
        Ok(row) if logging => {
            Ok(Redirect::to(&format!("/manage/complaints/{}", row.id)).into_response())
        }
        Ok(row) => {
            Ok(Redirect::to(&format!("/complaints?made={}", reference(&row.id))).into_response())
        }
        Err(PrivacyError::Invalid(problems)) => Ok(form_page(
            v,
            StatusCode::UNPROCESSABLE_ENTITY,
            logging,
            form,
            field_errors(problems),
            None,
        )),
        Err(e) => Err(e.into()),
    }
}

async fn make(
    State(state): State<AppState>,
    v: Visitor,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, Failure> {
    v.check_csrf(&form)?;
    let account = v.signed_in().map(|s| s.account.id.clone());
    let email = Some(field(&form, "email")).filter(|e| !e.is_empty());
    let new = NewComplaint {
        account_id: account.as_deref(),
        name: field(&form, "name"),
        email,
        about: field(&form, "about"),
        channel: Channel::Online,
        received_on: state.privacy.uk_today(),
        by: "public",
    };
    file(&state, v, form.clone(), Ok(new), false).await
}

async fn log_form(State(state): State<AppState>, v: Visitor) -> Result<Response, Failure> {
    officer(&state, &v).await?;
    let fields = date_fields("received", state.privacy.uk_today());
    Ok(form_page(v, StatusCode::OK, true, fields, Vec::new(), None))
}

async fn log(
    State(state): State<AppState>,
    v: Visitor,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, Failure> {
    let who = officer(&state, &v).await?;
    v.check_csrf(&form)?;
    let by = actor(who);
    let mut errors = Vec::new();
    let channel = Channel::parse(field(&form, "channel")).filter(|c| *c != Channel::Online);
    if channel.is_none() {
        errors.push(FieldError {
            field: "channel",
            message: "Choose how the complaint arrived".to_owned(),
        });
    }
    let received = date_of(&form, "received").map_err(|e| errors.push(e)).ok();
    let email = Some(field(&form, "email")).filter(|e| !e.is_empty());
    let new = match (channel, received) {
        (Some(channel), Some(received_on)) if errors.is_empty() => Ok(NewComplaint {
            account_id: None,
            name: field(&form, "name"),
            email,
            about: field(&form, "about"),
            channel,
            received_on,
            by: &by,
        }),
        _ => Err(errors),
    };
    file(&state, v, form.clone(), new, true).await
}

struct Line {
    id: String,
    reference: String,
    from: String,
    received: String,
    acknowledged: String,
    stage: String,
    open: bool,
    overdue: bool,
}

fn line(s: &ComplaintSummary) -> Line {
    let r = &s.row;
    Line {
        id: r.id.clone(),
        reference: s.reference.clone(),
        from: r.complainant_name.clone(),
        received: long_date(r.received_on),
        acknowledged: match r.acknowledged_at {
            Some(t) => format!(
                "Acknowledged {}",
                long_date(privacy_engine::domain::calendar::uk_date(t))
            ),
            None => format!("Acknowledge by {}", long_date(r.acknowledge_by)),
        },
        stage: s.stage.clone(),
        open: r.status == "open",
        overdue: s.acknowledgement_overdue,
    }
}

#[derive(Template)]
#[template(path = "complaints/list.html")]
struct ListPage<'a> {
    chrome: Chrome<'a>,
    lines: Vec<Line>,
}

async fn list(State(state): State<AppState>, v: Visitor) -> Result<Response, Failure> {
    officer(&state, &v).await?;
    let lines = state
        .privacy
        .complaints(&v.tenant().config)
        .await?
        .iter()
        .map(line)
        .collect();
    let html = render(
        StatusCode::OK,
        &ListPage {
            chrome: v.chrome("/manage"),
            lines,
        },
    );
    Ok(v.respond(html))
}

#[derive(Template)]
#[template(path = "complaints/detail.html")]
struct DetailPage<'a> {
    chrome: Chrome<'a>,
    csrf: String,
    line: Line,
    row: ComplaintRow,
    /// The forms that apply now: action, heading, label, button.
    forms: Vec<(&'static str, &'static str, &'static str, &'static str)>,
    history: Vec<(String, String, String)>,
    errors: Vec<FieldError>,
}

impl DetailPage<'_> {
    fn error(&self, name: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|e| e.field == name)
            .map(|e| e.message.as_str())
    }
}

async fn detail_page(
    state: &AppState,
    v: Visitor,
    id: &str,
    status: StatusCode,
    errors: Vec<FieldError>,
) -> Result<Response, Failure> {
    let cfg = &v.tenant().config;
    let (summary, events) = state.privacy.complaint(cfg, id).await?;
    let steps = privacy_engine::complaints::stages(cfg).len();
    let page = DetailPage {
        chrome: v.chrome("/manage"),
        csrf: v.csrf().to_owned(),
        forms: [
            (
                "acknowledge",
                "Record the acknowledgement",
                "How it was acknowledged",
                "Record it",
                summary.row.acknowledged_at.is_none(),
            ),
            (
                "escalate",
                "Pass it to the next step",
                "Why (the complainant is emailed this)",
                "Escalate",
                usize::try_from(summary.row.stage + 1).is_ok_and(|n| n < steps),
            ),
            ("note", "Add a note", "Note", "Add the note", true),
            (
                "close",
                "Close with the outcome",
                "The outcome (the complainant is emailed it, with their next step and the ICO)",
                "Close the complaint",
                true,
            ),
        ]
        .into_iter()
        .filter(|f| f.4 && summary.row.status == "open")
        .map(|(a, h, l, b, _)| (a, h, l, b))
        .collect(),
        history: events
            .iter()
            .map(|e| {
                (
                    crate::http::catalogue_web::uk_day(e.occurred_at),
                    e.action.replace('_', " "),
                    e.note.clone().unwrap_or_default(),
                )
            })
            .collect(),
        line: line(&summary),
        row: summary.row,
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
    detail_page(&state, v, &id, StatusCode::OK, Vec::new()).await
}

async fn act(
    State(state): State<AppState>,
    v: Visitor,
    Path((id, action)): Path<(String, String)>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, Failure> {
    let who = officer(&state, &v).await?;
    v.check_csrf(&form)?;
    let note = field(&form, "note");
    let action = match action.as_str() {
        "acknowledge" => ComplaintAction::Acknowledge(note),
        "escalate" => ComplaintAction::Escalate(note),
        "note" => ComplaintAction::Note(note),
        "close" => ComplaintAction::Close(note),
        _ => return Err(not_found()),
    };
    let done = state
        .privacy
        .act_on_complaint(&v.tenant().config, &id, action, &actor(who))
        .await;
    let (status, code, errors) = match done {
        Ok(_) => return Ok(Redirect::to(&format!("/manage/complaints/{id}")).into_response()),
        Err(PrivacyError::Invalid(problems)) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            field_errors(problems),
        ),
        Err(PrivacyError::Refused { code, message }) => (
            StatusCode::CONFLICT,
            code,
            vec![FieldError {
                field: "complaint",
                message: message.to_owned(),
            }],
        ),
        Err(e) => return Err(e.into()),
    };
    let res = detail_page(&state, v, &id, status, errors).await?;
    Ok(with_code(res, code))
}
