//! Changing and correcting a person's details over HTTP:
//! - `/account/email`: a person changes their own address (confirmed at the new one through
//!   `/account/email/confirm/{token}`);
//! - `/organisations/{org}/people/{account}/details`: a lead administrator (or tenant
//!   administrator) corrects a member's name, job title and email;
//! - `/manage/requests/{id}/rectify`: a privacy officer does the same for a rectification
//!   request.
//!
//! The use cases are identity's ([`identity::Identity::start_email_change`],
//! [`identity::Identity::correct_member`]) and the privacy engine's
//! ([`privacy_engine::Privacy::rectify`]); these handlers read forms and render pages.

use std::collections::HashMap;
use std::net::SocketAddr;

use askama::Template;
use axum::extract::{ConnectInfo, Path, State};
use axum::response::{IntoResponse as _, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use http::StatusCode;
use identity::domain::signup::FieldError;
use identity::store::Purpose;
use identity::{IdentityError, SignedIn};
use privacy_engine::PrivacyError;
use privacy_engine::accounts::Correction;
use privacy_engine::domain::rights::Kind;

use crate::http::auth::{Failure, Visitor, confirm, error_for, message};
use crate::http::error::{not_found, with_code};
use crate::http::page::{Chrome, render};
use crate::http::rights_web::{actor, field, field_errors, officer};
use crate::http::state::AppState;

/// The routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/account/email", get(email_form).post(change_email))
        .route(
            "/account/email/confirm/{token}",
            get(confirm_form).post(confirm_change),
        )
        .route(
            "/organisations/{org}/people/{account}/details",
            get(member_form).post(correct_member),
        )
        .route(
            "/manage/requests/{id}/rectify",
            get(rectify_form).post(rectify),
        )
}

#[derive(Template)]
#[template(path = "auth/change_email.html")]
struct EmailPage<'a> {
    chrome: Chrome<'a>,
    csrf: String,
    current: String,
    /// Whether the account has a password to confirm with.
    password: bool,
    value: String,
    errors: Vec<FieldError>,
}

impl EmailPage<'_> {
    fn error(&self, name: &str) -> Option<String> {
        error_for(&self.errors, name)
    }
}

fn email_page(
    v: &Visitor,
    who: &SignedIn,
    value: &str,
    errors: Vec<FieldError>,
    status: StatusCode,
) -> Response {
    let page = EmailPage {
        chrome: v.chrome("/account"),
        csrf: v.csrf().to_owned(),
        current: who.account.email.clone(),
        password: who.account.password_hash.is_some(),
        value: value.to_owned(),
        errors,
    };
    render(status, &page)
}

async fn email_form(v: Visitor) -> Result<Response, Failure> {
    let who = v.signed_in_or_redirect()?;
    let html = email_page(&v, who, "", Vec::new(), StatusCode::OK);
    Ok(v.respond(html))
}

async fn change_email(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    v: Visitor,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, Failure> {
    v.check_csrf(&form)?;
    let who = v.signed_in_or_redirect()?;
    let cfg = &v.tenant().config;
    let new = field(&form, "email");
    let outcome = state
        .identity
        .start_email_change(
            cfg,
            who,
            new,
            form.get("password").map_or("", String::as_str),
            &peer.ip().to_string(),
            &state.base_url(cfg),
        )
        .await;
    match outcome {
        Ok(()) => Ok(message(
            v,
            StatusCode::OK,
            "Check your new email address",
            "We have sent a link to the new address. Your account keeps its current address \
             until the link is used, within 48 hours. We have also told your current address.",
        )),
        Err(IdentityError::Invalid(errors)) => {
            let html = email_page(&v, who, new, errors, StatusCode::UNPROCESSABLE_ENTITY);
            Ok(v.respond(html))
        }
        Err(IdentityError::Throttled { minutes }) => {
            let errors = vec![FieldError {
                field: "password",
                message: format!(
                    "There have been too many wrong passwords. Wait {minutes} minutes and try \
                     again"
                ),
            }];
            let html = email_page(&v, who, new, errors, StatusCode::TOO_MANY_REQUESTS);
            Ok(with_code(v.respond(html), "too_many_attempts"))
        }
        Err(e) => Err(e.into()),
    }
}

fn spent_link(v: Visitor) -> Response {
    with_code(
        message(
            v,
            StatusCode::GONE,
            "This link has expired or has already been used",
            "Links in our emails work once and for 48 hours. Your email address has not \
             changed: sign in and ask again from your account.",
        ),
        "link_expired",
    )
}

/// The emailed link opens a page with a button: mail scanners fetch links, and a single-use
/// token must not be spent by one.
async fn confirm_form(
    State(state): State<AppState>,
    v: Visitor,
    Path(token): Path<String>,
) -> Result<Response, Failure> {
    if !state
        .identity
        .token_is_live(&v.tenant().id, Purpose::ChangeEmail, &token)
        .await?
    {
        return Ok(spent_link(v));
    }
    Ok(confirm(
        v,
        "Confirm your new email address",
        "Select the button to use this address for your account from now on.",
        format!("/account/email/confirm/{token}"),
        "Use this email address",
    ))
}

async fn confirm_change(
    State(state): State<AppState>,
    v: Visitor,
    Path(token): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, Failure> {
    v.check_csrf(&form)?;
    match state
        .identity
        .confirm_email_change(&v.tenant().config, &token)
        .await
    {
        Ok(()) => Ok(message(
            v,
            StatusCode::OK,
            "Your email address has changed",
            "Sign in with your new address from now on.",
        )),
        Err(IdentityError::BadToken) => Ok(spent_link(v)),
        Err(IdentityError::EmailTaken) => Ok(with_code(
            message(
                v,
                StatusCode::CONFLICT,
                "That address is now in use",
                "Another account started using that address after you asked. Your email \
                 address has not changed.",
            ),
            "email_taken",
        )),
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "correct.html")]
struct CorrectPage<'a> {
    chrome: Chrome<'a>,
    csrf: String,
    heading: String,
    /// What the correction is for (the organisation, or the request's reference).
    caption: String,
    action: String,
    back: String,
    values: HashMap<String, String>,
    errors: Vec<FieldError>,
}

impl CorrectPage<'_> {
    fn value(&self, name: &str) -> &str {
        self.values.get(name).map_or("", String::as_str)
    }

    fn error(&self, name: &str) -> Option<String> {
        error_for(&self.errors, name)
    }
}

const FIELDS: [&str; 4] = ["first_name", "last_name", "job_title", "email"];

fn values_of(details: [String; 4]) -> HashMap<String, String> {
    FIELDS.into_iter().map(str::to_owned).zip(details).collect()
}

fn correction(form: &HashMap<String, String>) -> Correction<'_> {
    Correction {
        first_name: field(form, "first_name"),
        last_name: field(form, "last_name"),
        job_title: field(form, "job_title"),
        email: field(form, "email"),
    }
}

/// The organisation pages' mapping: another organisation's or person's ids are not found.
fn org_error(e: IdentityError) -> Failure {
    match e {
        IdentityError::OrganisationNotFound | IdentityError::AccountNotFound => not_found(),
        other => other.into(),
    }
}

/// The correction page of a member, with `values` (their details when `None`) and `errors`.
async fn member_page(
    state: &AppState,
    v: &Visitor,
    (org, account): (&str, &str),
    values: Option<HashMap<String, String>>,
    errors: Vec<FieldError>,
    status: StatusCode,
) -> Result<Response, Failure> {
    let who = v.signed_in_or_redirect()?;
    let (o, person) = state
        .identity
        .member(&v.tenant().config, who, org, account)
        .await
        .map_err(org_error)?;
    let page = CorrectPage {
        chrome: v.chrome("/account"),
        csrf: v.csrf().to_owned(),
        heading: format!(
            "Correct {} {}'s details",
            person.first_name, person.last_name
        ),
        caption: o.name,
        action: format!("/organisations/{org}/people/{account}/details"),
        back: format!("/organisations/{org}/people"),
        values: values.unwrap_or_else(|| {
            values_of([
                person.first_name,
                person.last_name,
                person.job_title.unwrap_or_default(),
                person.email,
            ])
        }),
        errors,
    };
    Ok(render(status, &page))
}

async fn member_form(
    State(state): State<AppState>,
    v: Visitor,
    Path((org, account)): Path<(String, String)>,
) -> Result<Response, Failure> {
    let html = member_page(
        &state,
        &v,
        (&org, &account),
        None,
        Vec::new(),
        StatusCode::OK,
    )
    .await?;
    Ok(v.respond(html))
}

async fn correct_member(
    State(state): State<AppState>,
    v: Visitor,
    Path((org, account)): Path<(String, String)>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, Failure> {
    v.check_csrf(&form)?;
    let who = v.signed_in_or_redirect()?;
    let cfg = &v.tenant().config;
    let outcome = state
        .identity
        .correct_member(
            cfg,
            who,
            &org,
            &account,
            &correction(&form),
            &state.base_url(cfg),
        )
        .await;
    match outcome {
        Ok(_) => Ok(v.respond(
            Redirect::to(&format!("/organisations/{org}/people?corrected")).into_response(),
        )),
        Err(IdentityError::Invalid(errors)) => {
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            let ids = (org.as_str(), account.as_str());
            let html = member_page(&state, &v, ids, Some(form), errors, status).await?;
            Ok(v.respond(html))
        }
        Err(e) => Err(org_error(e)),
    }
}

/// The correction page of rectification request `id`, with `values` and `errors`.
async fn rectify_page(
    state: &AppState,
    v: &Visitor,
    id: &str,
    values: Option<HashMap<String, String>>,
    errors: Vec<FieldError>,
    status: StatusCode,
) -> Result<Response, Failure> {
    let (summary, _) = state.privacy.request(&v.tenant().config, id).await?;
    let account = match (&summary.row.account_id, Kind::parse(&summary.row.kind)) {
        (Some(a), Some(Kind::Rectification)) if summary.row.stage == "open" => a.clone(),
        _ => return Err(not_found()),
    };
    let values = match values {
        Some(v) => v,
        None => values_of(
            state
                .privacy
                .details_of(&v.tenant().id, &account)
                .await?
                .ok_or_else(not_found)?,
        ),
    };
    let page = CorrectPage {
        chrome: v.chrome("/manage"),
        csrf: v.csrf().to_owned(),
        heading: format!("Correct {}'s details", summary.row.requester_name),
        caption: format!("Rectification request {}", summary.reference),
        action: format!("/manage/requests/{id}/rectify"),
        back: format!("/manage/requests/{id}"),
        values,
        errors,
    };
    Ok(render(status, &page))
}

async fn rectify_form(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<String>,
) -> Result<Response, Failure> {
    officer(&state, &v).await?;
    let html = rectify_page(&state, &v, &id, None, Vec::new(), StatusCode::OK).await?;
    Ok(v.respond(html))
}

async fn rectify(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, Failure> {
    let who = officer(&state, &v).await?;
    v.check_csrf(&form)?;
    let cfg = &v.tenant().config;
    let outcome = state
        .privacy
        .rectify(
            cfg,
            &id,
            &correction(&form),
            &actor(who),
            &state.base_url(cfg),
        )
        .await;
    match outcome {
        Ok(_) => Ok(Redirect::to(&format!("/manage/requests/{id}")).into_response()),
        Err(PrivacyError::Invalid(problems)) => {
            let errors = field_errors(problems);
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            let html = rectify_page(&state, &v, &id, Some(form), errors, status).await?;
            Ok(v.respond(html))
        }
        Err(e) => Err(e.into()),
    }
}
