//! The privacy officer's desk: the queue, logging a request that came another way, and
//! working one request (its clock, assignee, notes, a copy of the data, closing).

use std::collections::HashMap;

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse as _, Redirect, Response};
use http::StatusCode;
use identity::domain::signup::FieldError;
use privacy_engine::PrivacyError;

use super::{Line, actor, field, field_errors, line};
use crate::http::auth::{Failure, Visitor};
use crate::http::page::{Chrome, render};
use crate::http::state::AppState;
use privacy_engine::domain::calendar::long_date;
use privacy_engine::domain::rights::{Channel, Kind, Outcome, Urgency};
use privacy_engine::store::rights::{EventRow, RequestRow};
use privacy_engine::{Action, Effect, NewRequest};

use super::{date_fields, date_of, kinds, officer};
use crate::http::error::not_found;

#[derive(Template)]
#[template(path = "rights/queue.html")]
struct QueuePage<'a> {
    chrome: Chrome<'a>,
    lines: Vec<Line>,
    all: bool,
    overdue: usize,
    due_soon: usize,
    waiting: usize,
}

pub(super) async fn queue(
    State(state): State<AppState>,
    v: Visitor,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, Failure> {
    officer(&state, &v).await?;
    let all = q.get("show").is_some_and(|s| s == "all");
    let list = state.privacy.requests(&v.tenant().config, all).await?;
    let count = |f: fn(Urgency) -> bool| list.iter().filter(|s| f(s.urgency)).count();
    let html = render(
        StatusCode::OK,
        &QueuePage {
            chrome: v.chrome("/manage"),
            overdue: count(|u| u == Urgency::Overdue),
            due_soon: count(|u| u == Urgency::DueSoon),
            waiting: count(|u| matches!(u, Urgency::AwaitingIdentity | Urgency::Paused)),
            lines: list.iter().map(line).collect(),
            all,
        },
    );
    Ok(v.respond(html))
}

/// A set of radios: field, legend, and `(value, label)` options.
type Choice = (
    &'static str,
    &'static str,
    Vec<(&'static str, &'static str)>,
);

#[derive(Template)]
#[template(path = "rights/log.html")]
struct LogPage<'a> {
    chrome: Chrome<'a>,
    csrf: String,
    /// `(field, legend, [(value, label)])`: what was asked for, and how it arrived.
    choices: Vec<Choice>,
    form: HashMap<String, String>,
    errors: Vec<FieldError>,
}

impl LogPage<'_> {
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

fn log_page(
    v: Visitor,
    status: StatusCode,
    form: HashMap<String, String>,
    errors: Vec<FieldError>,
) -> Response {
    let html = render(
        status,
        &LogPage {
            chrome: v.chrome("/manage"),
            csrf: v.csrf().to_owned(),
            choices: vec![
                ("kind", "What did they ask for?", kinds()),
                (
                    "channel",
                    "How did it arrive?",
                    Channel::LOGGED
                        .iter()
                        .map(|c| (c.as_str(), c.describe()))
                        .collect(),
                ),
            ],
            form,
            errors,
        },
    );
    v.respond(html)
}

pub(super) async fn log_form(
    State(state): State<AppState>,
    v: Visitor,
) -> Result<Response, Failure> {
    officer(&state, &v).await?;
    let today = state.privacy.uk_today();
    let form = date_fields("received", today);
    Ok(log_page(v, StatusCode::OK, form, Vec::new()))
}

pub(super) async fn log(
    State(state): State<AppState>,
    v: Visitor,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, Failure> {
    let who = officer(&state, &v).await?;
    v.check_csrf(&form)?;
    let mut errors = Vec::new();
    let kind = Kind::parse(field(&form, "kind"));
    if kind.is_none() {
        errors.push(FieldError {
            field: "kind",
            message: "Choose what the person asked for".to_owned(),
        });
    }
    let channel = Channel::parse(field(&form, "channel")).filter(|c| *c != Channel::Online);
    if channel.is_none() {
        errors.push(FieldError {
            field: "channel",
            message: "Choose how the request arrived".to_owned(),
        });
    }
    let identity = match field(&form, "identity") {
        "yes" => Some(true),
        "no" => Some(false),
        _ => {
            errors.push(FieldError {
                field: "identity",
                message: "Say whether you know who the requester is".to_owned(),
            });
            None
        }
    };
    let received = date_of(&form, "received").map_err(|e| errors.push(e)).ok();
    let (Some(kind), Some(channel), Some(identity), Some(received), true) =
        (kind, channel, identity, received, errors.is_empty())
    else {
        return Ok(log_page(v, StatusCode::UNPROCESSABLE_ENTITY, form, errors));
    };
    let email = Some(field(&form, "requester_email")).filter(|e| !e.is_empty());
    let made = state
        .privacy
        .file_request(
            &v.tenant().config,
            &NewRequest {
                kind,
                channel,
                account_id: None,
                requester_name: field(&form, "requester_name"),
                requester_email: email,
                details: field(&form, "details"),
                received_on: received,
                identity_known: identity,
                by: &actor(who),
            },
        )
        .await;
    match made {
        Ok(row) => Ok(Redirect::to(&format!("/manage/requests/{}", row.id)).into_response()),
        Err(PrivacyError::Invalid(problems)) => Ok(log_page(
            v,
            StatusCode::UNPROCESSABLE_ENTITY,
            form,
            field_errors(problems),
        )),
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "rights/detail.html")]
struct DetailPage<'a> {
    chrome: Chrome<'a>,
    csrf: String,
    line: Line,
    row: RequestRow,
    channel: &'static str,
    started: String,
    paused_since: String,
    uncertain: bool,
    first_month_ends: String,
    assignee: String,
    officers: Vec<(String, String)>,
    history: Vec<(String, String, String, String)>,
    /// Which actions apply now.
    awaiting_identity: bool,
    open: bool,
    paused: bool,
    closed: bool,
    may_extend: bool,
    /// An open access or portability request linked to an account: a copy can be made.
    may_copy: bool,
    /// An open erasure request linked to an account: it can be carried out.
    may_erase: bool,
    /// An open rectification with an account: details can be corrected.
    may_rectify: bool,
    /// An open objection with an account: marketing can be stopped.
    may_stop_marketing: bool,
    /// An open restriction with an account not yet restricted.
    may_restrict: bool,
    /// A restriction request whose person's data is restricted now.
    may_lift: bool,
    /// For this request's right: each category, whether it applies (`yes`, `if_met`, `no`)
    /// and why.
    coverage: Vec<(String, &'static str, String)>,
    /// A reply to draft from, paragraph by paragraph.
    draft: Vec<String>,
    outcomes: Vec<(&'static str, &'static str)>,
    today: HashMap<String, String>,
    errors: Vec<FieldError>,
}

impl DetailPage<'_> {
    fn error(&self, name: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|e| e.field == name)
            .map(|e| e.message.as_str())
    }

    fn today(&self, name: &str) -> &str {
        self.today.get(name).map_or("", String::as_str)
    }
}

fn event_text(e: &EventRow) -> &'static str {
    match e.action.as_str() {
        "received" => "Request received",
        "identity_confirmed" => "Identity confirmed: clock started",
        "paused" => "Clarification asked for: clock stopped",
        "resumed" => "Clarification received: clock running",
        "extended" => "Extended",
        "assigned" => "Assigned",
        "note" => "Note",
        "bundle_prepared" => "Copy of their data prepared and link sent",
        "erased" => "Account erased",
        "marketing_stopped" => "Marketing stopped",
        "rectified" => "Details corrected",
        "restricted" => "Use of their data restricted",
        "restriction_lifted" => "Restriction lifted",
        "completed" => "Closed: answered",
        "refused" => "Closed: refused",
        "withdrawn" => "Closed: withdrawn",
        _ => "Changed",
    }
}

async fn detail_page(
    state: &AppState,
    v: Visitor,
    id: &str,
    status: StatusCode,
    errors: Vec<FieldError>,
) -> Result<Response, Failure> {
    let tenant = &v.tenant().id;
    let (summary, events) = state.privacy.request(&v.tenant().config, id).await?;
    let officers: Vec<(String, String)> = state
        .privacy
        .privacy_officers(tenant)
        .await?
        .into_iter()
        .map(|o| (o.id, o.email))
        .collect();
    let name_of = |id: &str| {
        officers
            .iter()
            .find(|(o, _)| o == id)
            .map_or_else(|| "A former privacy officer".to_owned(), |(_, e)| e.clone())
    };
    let clock = summary
        .row
        .clock(v.tenant().config.subject_rights.respond_within);
    let today = state.privacy.uk_today();
    let u = summary.urgency;
    let kind = Kind::parse(&summary.row.kind);
    let open = matches!(u, Urgency::Overdue | Urgency::DueSoon | Urgency::Due);
    let restricted = match &summary.row.account_id {
        Some(a) if kind == Some(Kind::Restriction) => {
            state.privacy.is_restricted(tenant, a).await?
        }
        _ => false,
    };
    let with_account = summary.row.account_id.is_some();
    let history = events
        .iter()
        .map(|e| {
            let who = e
                .actor
                .strip_prefix("account:")
                .map_or_else(|| e.actor.clone(), name_of);
            let note = match (e.action.as_str(), e.note.as_deref()) {
                ("assigned", Some(n)) => n
                    .strip_prefix("account:")
                    .map_or_else(|| n.to_owned(), name_of),
                ("assigned", None) => "Nobody".to_owned(),
                (_, n) => n.unwrap_or_default().to_owned(),
            };
            (
                crate::http::catalogue_web::uk_day(e.occurred_at),
                event_text(e).to_owned(),
                who,
                note,
            )
        })
        .collect();
    let page = DetailPage {
        chrome: v.chrome("/manage"),
        csrf: v.csrf().to_owned(),
        channel: Channel::parse(&summary.row.channel).map_or("", Channel::describe),
        started: clock.started_on.map(long_date).unwrap_or_default(),
        paused_since: clock.paused_since.map(long_date).unwrap_or_default(),
        uncertain: clock.due().is_some_and(|d| d.uncertain),
        first_month_ends: clock
            .first_month_ends()
            .map(|d| long_date(d.day))
            .unwrap_or_default(),
        assignee: summary
            .row
            .assignee
            .as_deref()
            .map(name_of)
            .unwrap_or_default(),
        awaiting_identity: u == Urgency::AwaitingIdentity,
        paused: u == Urgency::Paused,
        closed: u == Urgency::Closed,
        open,
        may_extend: clock.extension_months == 0
            && matches!(u, Urgency::DueSoon | Urgency::Due)
            && clock.first_month_ends().is_some_and(|d| today <= d.day),
        may_copy: matches!(u, Urgency::Overdue | Urgency::DueSoon | Urgency::Due)
            && summary.row.account_id.is_some()
            && matches!(
                Kind::parse(&summary.row.kind),
                Some(Kind::Access | Kind::Portability)
            ),
        coverage: Kind::parse(&summary.row.kind)
            .map(|k| privacy_engine::domain::lawful::for_request(&v.tenant().config, k))
            .unwrap_or_default()
            .into_iter()
            .map(|(c, a)| (c, a.as_str(), a.why().to_owned()))
            .collect(),
        draft: Kind::parse(&summary.row.kind)
            .map(|k| {
                privacy_engine::domain::lawful::draft_reply(
                    &v.tenant().config,
                    k,
                    &summary.row.requester_name,
                    &summary.reference,
                )
            })
            .unwrap_or_default()
            .split("\n\n")
            .map(str::to_owned)
            .collect(),
        may_erase: open && with_account && kind == Some(Kind::Erasure),
        may_stop_marketing: open && with_account && kind == Some(Kind::Objection),
        may_rectify: open && with_account && kind == Some(Kind::Rectification),
        may_restrict: open && with_account && kind == Some(Kind::Restriction) && !restricted,
        may_lift: restricted,
        outcomes: Outcome::ALL
            .iter()
            .map(|o| (o.as_str(), o.describe()))
            .collect(),
        today: date_fields("on", today),
        officers,
        history,
        line: line(&summary),
        row: summary.row,
        errors,
    };
    let html = render(status, &page);
    drop(page);
    Ok(v.respond(html))
}

pub(super) async fn detail(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<String>,
) -> Result<Response, Failure> {
    officer(&state, &v).await?;
    detail_page(&state, v, &id, StatusCode::OK, Vec::new()).await
}

/// The id of the form field a problem belongs to, on a page with several forms.
fn anchor(action: &str, field: &str) -> &'static str {
    match (action, field) {
        ("identity", _) => "identity-on",
        ("resume", _) => "resume-on",
        ("pause", _) => "pause-note",
        ("extend", "months") => "extend-months",
        ("extend", _) => "extend-reason",
        ("assign", _) => "assign-assignee",
        ("close", "outcome") => "close-outcome",
        ("close", _) => "close-note",
        ("note", _) => "note-note",
        ("restrict", _) => "restrict-reason",
        ("lift", _) => "lift-reason",
        _ => "request",
    }
}

pub(super) async fn act(
    State(state): State<AppState>,
    v: Visitor,
    Path((id, action)): Path<(String, String)>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, Failure> {
    let who = officer(&state, &v).await?;
    v.check_csrf(&form)?;
    let note = field(&form, "note");
    let refuse = |field: &'static str, message: &str| {
        vec![FieldError {
            field,
            message: message.to_owned(),
        }]
    };
    let action_name = action;
    let on = || {
        date_of(&form, "on").map_err(|e| {
            vec![FieldError {
                field: anchor(&action_name, "on"),
                message: e.message,
            }]
        })
    };
    let action = match action_name.as_str() {
        "identity" => on().map(|d| Step::Act(Action::ConfirmIdentity(d))),
        "pause" => Ok(Step::Act(Action::Pause(note))),
        "resume" => on().map(|d| Step::Act(Action::Resume(d))),
        "extend" => match field(&form, "months") {
            "1" => Ok(Step::Act(Action::Extend(1, field(&form, "reason")))),
            "2" => Ok(Step::Act(Action::Extend(2, field(&form, "reason")))),
            _ => Err(refuse("extend-months", "Choose one or two further months")),
        },
        "assign" => Ok(Step::Act(Action::Assign(
            Some(field(&form, "assignee")).filter(|a| !a.is_empty()),
        ))),
        "note" => Ok(Step::Act(Action::Note(note))),
        "copy" => Ok(Step::Copy),
        "stop-marketing" => Ok(Step::Effect(Effect::StopMarketing)),
        "restrict" => Ok(Step::Effect(Effect::Restrict(field(&form, "reason")))),
        "lift" => Ok(Step::Effect(Effect::Lift(field(&form, "reason")))),
        "erase" => Ok(Step::Erase),
        "close" => match Outcome::parse(field(&form, "outcome")) {
            Some(o) => Ok(Step::Act(Action::Close(o, note))),
            None => Err(refuse("close-outcome", "Choose how the request ended")),
        },
        _ => return Err(not_found()),
    };
    let cfg = &v.tenant().config;
    let by = actor(who);
    let done = match action {
        Ok(Step::Act(a)) => state.privacy.act(cfg, &id, a, &by).await.map(drop),
        Ok(Step::Effect(e)) => state.privacy.apply_effect(cfg, &id, e, &by).await.map(drop),
        Ok(Step::Copy) => {
            let base = state.base_url(cfg);
            state
                .privacy
                .prepare_bundle(cfg, &id, &by, &base)
                .await
                .map(drop)
        }
        Ok(Step::Erase) => state
            .privacy
            .erase_on_request(cfg, &id, &by)
            .await
            .map(drop),
        Err(errors) => {
            return detail_page(&state, v, &id, StatusCode::UNPROCESSABLE_ENTITY, errors).await;
        }
    };
    match done {
        Ok(_) => Ok(Redirect::to(&format!("/manage/requests/{id}")).into_response()),
        Err(PrivacyError::Invalid(problems)) => {
            let errors = problems
                .into_iter()
                .map(|(f, message)| FieldError {
                    field: anchor(&action_name, f),
                    message,
                })
                .collect();
            detail_page(&state, v, &id, StatusCode::UNPROCESSABLE_ENTITY, errors).await
        }
        Err(PrivacyError::Refused { code, message }) => {
            conflict(&state, v, &id, code, message.to_owned()).await
        }
        Err(PrivacyError::Deferred { code, reason }) => {
            conflict(&state, v, &id, code, reason).await
        }
        Err(e) => Err(e.into()),
    }
}

/// The request's page again, 409 with `code`, saying why the change was not made.
async fn conflict(
    state: &AppState,
    v: Visitor,
    id: &str,
    code: &'static str,
    message: String,
) -> Result<Response, Failure> {
    let errors = vec![FieldError {
        field: "request",
        message,
    }];
    let res = detail_page(state, v, id, StatusCode::CONFLICT, errors).await?;
    Ok(crate::http::error::with_code(res, code))
}

/// What a form on a request's page asks for.
enum Step<'a> {
    /// A change to the request itself.
    Act(Action<'a>),
    /// Stop marketing, restrict or lift a restriction.
    Effect(Effect<'a>),
    /// Prepare and send a copy of the requester's data.
    Copy,
    /// Erase the requester's account.
    Erase,
}
