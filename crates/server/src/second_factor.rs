//! The second factor's pages: entering a code after the password, and setting up an
//! authenticator app (required for tenant admins and provider staff).

use std::collections::HashMap;
use std::net::SocketAddr;

use askama::Template;
use axum::extract::{ConnectInfo, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use http::StatusCode;
use identity::IdentityError;
use identity::sessions::Stage;

use crate::app::AppState;
use crate::auth::{PageError, SESSION_COOKIE, Visitor, cookie, with_code};
use crate::web::{Chrome, render};

/// The second-factor routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/sign-in/code", get(code_form).post(enter_code))
        .route(
            "/account/two-factor",
            get(enrolment_form).post(confirm_enrolment),
        )
}

#[derive(Template)]
#[template(path = "auth/code.html")]
struct CodePage<'a> {
    chrome: Chrome<'a>,
    csrf: String,
    error: Option<String>,
}

fn code_page(v: &Visitor, error: Option<String>) -> CodePage<'_> {
    CodePage {
        chrome: v.chrome(""),
        csrf: v.csrf().to_owned(),
        error,
    }
}

async fn code_form(v: Visitor) -> Response {
    if !matches!(v.pending(), Some((s, _)) if s.stage == Stage::NeedsCode) {
        return Redirect::to("/sign-in").into_response();
    }
    let page = code_page(&v, None);
    let html = render(StatusCode::OK, &page);
    v.respond(html)
}

async fn enter_code(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    v: Visitor,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, PageError> {
    v.check_csrf(&form)?;
    let (Some((session, account)), Some(cookie_value)) = (
        v.pending(),
        v.jar().get(SESSION_COOKIE).map(|c| c.value().to_owned()),
    ) else {
        return Ok(Redirect::to("/sign-in").into_response());
    };
    let code = form.get("code").map(String::as_str).unwrap_or_default();
    let outcome = state
        .identity
        .verify_second_factor(
            &v.tenant().id,
            &cookie_value,
            session,
            &account.email,
            &peer.ip().to_string(),
            code,
        )
        .await;
    let (status, code, message) = match outcome {
        Ok(token) => {
            let jar = v
                .jar()
                .clone()
                .add(cookie(SESSION_COOKIE, token, v.secure()));
            return Ok((jar, Redirect::to("/account")).into_response());
        }
        Err(IdentityError::BadSecondFactor) => (
            StatusCode::UNAUTHORIZED,
            "bad_code",
            "Enter the 6-digit code your app shows now, or one of your recovery codes".to_owned(),
        ),
        Err(IdentityError::Throttled { minutes }) => (
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_attempts",
            format!("There have been too many wrong codes. Wait {minutes} minutes and try again"),
        ),
        Err(e) => return Err(e.into()),
    };
    let page = code_page(&v, Some(message));
    let html = render(status, &page);
    Ok(with_code(v.respond(html), code))
}

#[derive(Template)]
#[template(path = "auth/two_factor.html")]
struct EnrolmentPage<'a> {
    chrome: Chrome<'a>,
    csrf: String,
    required: bool,
    secret: String,
    uri: String,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "auth/recovery_codes.html")]
struct RecoveryCodesPage<'a> {
    chrome: Chrome<'a>,
    codes: Vec<String>,
}

/// The account enrolling: fully signed in (optional enrolment) or part-way (required).
fn enrolling(v: &Visitor) -> Option<(&identity::store::entity::account::Model, bool)> {
    match (v.signed_in(), v.pending()) {
        (Some(s), _) => Some((&s.account, false)),
        (None, Some((s, a))) if s.stage == Stage::NeedsEnrolment => Some((a, true)),
        _ => None,
    }
}

async fn enrolment_page(
    state: &AppState,
    v: &Visitor,
    status: StatusCode,
    error: Option<String>,
) -> Result<Response, PageError> {
    let Some((account, required)) = enrolling(v) else {
        return Ok(Redirect::to("/sign-in").into_response());
    };
    let enrolment = state
        .identity
        .begin_enrolment(&v.tenant().config, account)
        .await?;
    let page = EnrolmentPage {
        chrome: v.chrome("/account"),
        csrf: v.csrf().to_owned(),
        required,
        secret: enrolment.secret_base32,
        uri: enrolment.uri,
        error,
    };
    Ok(render(status, &page))
}

async fn enrolment_form(State(state): State<AppState>, v: Visitor) -> Result<Response, PageError> {
    let html = enrolment_page(&state, &v, StatusCode::OK, None).await?;
    Ok(v.respond(html))
}

async fn confirm_enrolment(
    State(state): State<AppState>,
    v: Visitor,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, PageError> {
    v.check_csrf(&form)?;
    let Some(token) = v.jar().get(SESSION_COOKIE).map(|c| c.value().to_owned()) else {
        return Ok(Redirect::to("/sign-in").into_response());
    };
    let session = match (v.signed_in(), v.pending()) {
        (Some(s), _) => s.session.clone(),
        (None, Some((s, _))) if s.stage == Stage::NeedsEnrolment => s.clone(),
        _ => return Ok(Redirect::to("/sign-in").into_response()),
    };
    let code = form.get("code").map(String::as_str).unwrap_or_default();
    match state
        .identity
        .confirm_enrolment(&v.tenant().id, &token, &session, code)
        .await
    {
        Ok((new_token, codes)) => {
            let page = RecoveryCodesPage {
                chrome: v.chrome("/account"),
                codes,
            };
            let html = render(StatusCode::OK, &page);
            let jar = v
                .jar()
                .clone()
                .add(cookie(SESSION_COOKIE, new_token, v.secure()));
            Ok((jar, html).into_response())
        }
        Err(IdentityError::BadSecondFactor) => {
            let message = "The code is not right: enter the 6-digit code your app shows for \
                           the new key below"
                .to_owned();
            let html =
                enrolment_page(&state, &v, StatusCode::UNPROCESSABLE_ENTITY, Some(message)).await?;
            Ok(with_code(v.respond(html), "bad_code"))
        }
        Err(e) => Err(e.into()),
    }
}
