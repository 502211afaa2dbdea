//! Rights requests over HTTP: a signed-in person makes one and follows it
//! (`/account/requests`); a privacy officer keeps the queue, logs requests that came by
//! email, telephone, letter or in person, and works each one (`/manage/requests`). The
//! use cases are the privacy engine's ([`privacy_engine::rights`]); these handlers read
//! forms and render pages. Anyone who is not a privacy officer of this tenant gets 404 on
//! the desk, and a person sees only their own requests.

use std::collections::HashMap;

use axum::Router;
use axum::routing::{get, post};
use chrono::NaiveDate;
use http::StatusCode;
use identity::SignedIn;
use identity::domain::rights::Role;
use identity::domain::signup::FieldError;
use privacy_engine::domain::calendar::long_date;
use privacy_engine::domain::rights::{Kind, Outcome, Urgency};
use privacy_engine::store::rights::RequestRow;
use privacy_engine::{PrivacyError, RequestSummary};

use crate::http::auth::{Failure, Visitor};
use crate::http::error::not_found;
use crate::http::state::AppState;

mod api;
mod desk;
mod mine;

pub(crate) use api::Doc;

/// The routes of the person's requests and the privacy officer's desk.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/account/requests", get(mine::mine).post(mine::make))
        .route("/account/requests/{id}/copy/{token}", get(mine::fetch_copy))
        .route("/manage/requests", get(desk::queue))
        .route("/manage/requests/new", get(desk::log_form).post(desk::log))
        .route("/manage/requests/{id}", get(desk::detail))
        .route("/manage/requests/{id}/{action}", post(desk::act))
        .route("/api/v1/rights-requests", get(api::queue).post(api::log))
        .route("/api/v1/rights-requests/{id}", get(api::request))
}

impl From<PrivacyError> for Failure {
    fn from(e: PrivacyError) -> Self {
        match e {
            PrivacyError::NoSuchRequest | PrivacyError::NoSuchAccount => not_found(),
            PrivacyError::Refused { code, message } => {
                Self::new(StatusCode::CONFLICT, code, message)
            }
            PrivacyError::Deferred { code, reason } => {
                Self::new(StatusCode::CONFLICT, code, &reason)
            }
            PrivacyError::Invalid(problems) => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid",
                &problems
                    .into_iter()
                    .map(|(_, m)| m)
                    .collect::<Vec<_>>()
                    .join(". "),
            ),
            other => Self::internal(&other),
        }
    }
}

pub(crate) fn actor(who: &SignedIn) -> String {
    format!("account:{}", who.account.id)
}

pub(crate) fn field<'a>(form: &'a HashMap<String, String>, name: &str) -> &'a str {
    form.get(name).map_or("", |s| s.trim())
}

pub(crate) fn field_errors(problems: Vec<(&'static str, String)>) -> Vec<FieldError> {
    problems
        .into_iter()
        .map(|(field, message)| FieldError { field, message })
        .collect()
}

/// One row of a list of requests, ready to show.
pub(super) struct Line {
    pub(super) id: String,
    pub(super) reference: String,
    pub(super) what: &'static str,
    pub(super) requester: String,
    pub(super) received: String,
    pub(super) due: String,
    pub(super) status: &'static str,
    /// GOV.UK tag colour modifier.
    pub(super) colour: &'static str,
}

pub(super) fn colour(u: Urgency) -> &'static str {
    match u {
        Urgency::Overdue => "govuk-tag--red",
        Urgency::DueSoon => "govuk-tag--orange",
        Urgency::Due => "govuk-tag--blue",
        Urgency::AwaitingIdentity | Urgency::Paused => "govuk-tag--yellow",
        Urgency::Closed => "govuk-tag--grey",
    }
}

pub(super) fn kind_of(row: &RequestRow) -> &'static str {
    Kind::parse(&row.kind).map_or("Request", Kind::describe)
}

pub(super) fn due_text(row: &RequestRow, u: Urgency) -> String {
    match (u, row.due_on) {
        (Urgency::Closed, _) => row
            .outcome
            .as_deref()
            .and_then(Outcome::parse)
            .map_or("Closed", Outcome::describe)
            .to_owned(),
        (_, Some(d)) => long_date(d),
        (Urgency::AwaitingIdentity, None) => "When proof of identity arrives".to_owned(),
        (_, None) => "Clock stopped".to_owned(),
    }
}

pub(super) fn line(s: &RequestSummary) -> Line {
    Line {
        id: s.row.id.clone(),
        reference: s.reference.clone(),
        what: kind_of(&s.row),
        requester: s.row.requester_name.clone(),
        received: long_date(s.row.received_on),
        due: due_text(&s.row, s.urgency),
        status: s.urgency.describe(),
        colour: colour(s.urgency),
    }
}

pub(super) fn kinds() -> Vec<(&'static str, &'static str)> {
    Kind::ALL
        .iter()
        .map(|k| (k.as_str(), k.describe()))
        .collect()
}

pub(crate) fn date_fields(prefix: &str, d: NaiveDate) -> HashMap<String, String> {
    use chrono::Datelike as _;
    [
        (format!("{prefix}-day"), d.day().to_string()),
        (format!("{prefix}-month"), d.month().to_string()),
        (format!("{prefix}-year"), d.year().to_string()),
    ]
    .into_iter()
    .collect()
}

/// A GOV.UK date input's three fields (`{prefix}-day`, `-month`, `-year`) as a date.
pub(crate) fn date_of(
    form: &HashMap<String, String>,
    prefix: &'static str,
) -> Result<NaiveDate, FieldError> {
    let part = |p: &str| field(form, &format!("{prefix}-{p}")).parse::<u32>().ok();
    match (part("day"), part("month"), part("year")) {
        (Some(d), Some(m), Some(y)) => i32::try_from(y)
            .ok()
            .and_then(|y| NaiveDate::from_ymd_opt(y, m, d))
            .ok_or(FieldError {
                field: prefix,
                message: "Enter a real date".to_owned(),
            }),
        _ => Err(FieldError {
            field: prefix,
            message: "Enter the date as a day, month and year, like 27 3 2026".to_owned(),
        }),
    }
}

/// The signed-in privacy officer, or 404 for anyone else.
pub(crate) async fn officer<'v>(state: &AppState, v: &'v Visitor) -> Result<&'v SignedIn, Failure> {
    let who = v.signed_in_or_redirect()?;
    if state
        .identity
        .may_act_as(&v.tenant().id, who, Role::PrivacyOfficer)
        .await?
    {
        Ok(who)
    } else {
        Err(not_found())
    }
}
