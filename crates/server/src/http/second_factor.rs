//! The second factor's pages: entering a code after the password, and setting up,
//! replacing or turning off an authenticator app (required for tenant admins and provider
//! staff). Opening a page never changes anything: each change is a POST, and changing a
//! factor in force needs the password and a current code.

use std::collections::HashMap;
use std::net::SocketAddr;

use askama::Template;
use axum::extract::{ConnectInfo, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use http::StatusCode;
use identity::IdentityError;
use identity::domain::signup::FieldError;
use identity::sessions::Stage;

use crate::http::auth::{Failure, SESSION_COOKIE, Visitor, cookie, error_for, message, with_code};
use crate::http::page::{Chrome, render};
use crate::http::state::AppState;

/// The second-factor routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/sign-in/code", get(code_form).post(enter_code))
        .route(
            "/account/two-factor",
            get(enrolment_form).post(confirm_enrolment),
        )
        .route("/account/two-factor/new", post(begin_enrolment))
        .route("/account/two-factor/remove", post(remove))
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
) -> Result<Response, Failure> {
    v.check_csrf(&form)?;
    let (Some((session, account)), Some(cookie_value)) = (v.pending(), v.session_token()) else {
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
struct TwoFactorPage<'a> {
    chrome: Chrome<'a>,
    csrf: String,
    required: bool,
    enrolled: bool,
    setting_up: Option<identity::second_factor::Enrolment>,
    /// The setup link as a QR code (an SVG data address), to scan with a phone.
    qr: Option<String>,
    errors: Vec<FieldError>,
}

/// The setup link as a QR code: an SVG image as a `data:` address (the page allows
/// `img-src data:`), drawn on the server so the page needs no JavaScript.
fn qr_image(uri: &str) -> Option<String> {
    use base64::Engine as _;
    let code = qrcode::QrCode::new(uri.as_bytes()).ok()?;
    let svg = code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build();
    Some(format!(
        "data:image/svg+xml;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(svg)
    ))
}

impl TwoFactorPage<'_> {
    fn heading(&self) -> &'static str {
        match (&self.setting_up, self.enrolled) {
            (Some(_), true) => "Set up a different authenticator app",
            (_, true) => "Security codes from an authenticator app",
            _ => "Set up a second way to prove it is you",
        }
    }

    fn error_for(&self, field: &str) -> Option<String> {
        error_for(&self.errors, field)
    }
}

#[derive(Template)]
#[template(path = "auth/recovery_codes.html")]
struct RecoveryCodesPage<'a> {
    chrome: Chrome<'a>,
    codes: Vec<String>,
}

/// The account enrolling: fully signed in (optional enrolment) or part-way (required).
fn enrolling(v: &Visitor) -> Option<&identity::store::entity::account::Model> {
    match (v.signed_in(), v.pending()) {
        (Some(s), _) => Some(&s.account),
        (None, Some((s, a))) if s.stage == Stage::NeedsEnrolment => Some(a),
        _ => None,
    }
}

/// The second-factor page as things stand; it only reads.
async fn two_factor_page(
    state: &AppState,
    v: &Visitor,
    status: StatusCode,
    errors: Vec<FieldError>,
) -> Result<Response, Failure> {
    let Some(account) = enrolling(v) else {
        return Ok(Redirect::to("/sign-in").into_response());
    };
    let now = state
        .identity
        .second_factor_status(&v.tenant().config, account)
        .await?;
    let page = TwoFactorPage {
        chrome: v.chrome("/account"),
        csrf: v.csrf().to_owned(),
        required: now.required,
        enrolled: now.enrolled,
        qr: now.setting_up.as_ref().and_then(|s| qr_image(&s.uri)),
        setting_up: now.setting_up,
        errors,
    };
    Ok(render(status, &page))
}

async fn enrolment_form(State(state): State<AppState>, v: Visitor) -> Result<Response, Failure> {
    let html = two_factor_page(&state, &v, StatusCode::OK, Vec::new()).await?;
    Ok(v.respond(html))
}

/// The proof a change to a factor in force needs, from a form's fields.
fn proof<'a>(
    form: &'a HashMap<String, String>,
    prefix: &str,
    client: &'a str,
) -> identity::second_factor::Proof<'a> {
    let get = |k: String| form.get(&k).map_or("", String::as_str);
    identity::second_factor::Proof {
        password: get(format!("{prefix}password")),
        code: get(format!("{prefix}code")),
        client,
    }
}

/// Renames form errors to the fields of the form they came from.
fn prefixed(errors: Vec<FieldError>, prefix: &str) -> Vec<FieldError> {
    let rename = |f: &'static str| match (prefix, f) {
        ("remove_", "password") => "remove_password",
        ("remove_", "code") => "remove_code",
        (_, f) => f,
    };
    errors
        .into_iter()
        .map(|e| FieldError {
            field: rename(e.field),
            message: e.message,
        })
        .collect()
}

/// A failed change to a factor in force: the page again, with what went wrong.
async fn refused(
    state: &AppState,
    v: Visitor,
    e: IdentityError,
    prefix: &str,
) -> Result<Response, Failure> {
    let (status, code, errors) = match e {
        IdentityError::Invalid(errors) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "bad_proof",
            prefixed(errors, prefix),
        ),
        IdentityError::Throttled { minutes } => (
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_attempts",
            prefixed(
                vec![FieldError {
                    field: "password",
                    message: format!(
                        "There have been too many wrong attempts. Wait {minutes} minutes and \
                         try again"
                    ),
                }],
                prefix,
            ),
        ),
        IdentityError::SecondFactorRequired => {
            return Err(Failure::new(
                StatusCode::CONFLICT,
                "second_factor_required",
                "Your role on this portal needs security codes, so they cannot be turned off.",
            ));
        }
        IdentityError::BadSecondFactor => {
            return Err(Failure::new(
                StatusCode::CONFLICT,
                "no_second_factor",
                "Security codes are not on for your account.",
            ));
        }
        e => return Err(e.into()),
    };
    let html = two_factor_page(state, &v, status, errors).await?;
    Ok(with_code(v.respond(html), code))
}

/// Starts setting up an app (after proof, when one is already in force), then shows it.
async fn begin_enrolment(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    v: Visitor,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, Failure> {
    v.check_csrf(&form)?;
    let Some(account) = enrolling(&v) else {
        return Ok(Redirect::to("/sign-in").into_response());
    };
    let client = peer.ip().to_string();
    match state
        .identity
        .begin_enrolment(&v.tenant().config, account, &proof(&form, "", &client))
        .await
    {
        Ok(_) => Ok(Redirect::to("/account/two-factor").into_response()),
        Err(e) => refused(&state, v, e, "").await,
    }
}

/// Turns the factor in force off (after proof).
async fn remove(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    v: Visitor,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, Failure> {
    v.check_csrf(&form)?;
    let who = v.signed_in_or_redirect()?;
    let client = peer.ip().to_string();
    match state
        .identity
        .remove_second_factor(
            &v.tenant().config,
            &who.account,
            &proof(&form, "remove_", &client),
        )
        .await
    {
        Ok(token) => {
            let jar = v
                .jar()
                .clone()
                .add(cookie(SESSION_COOKIE, token, v.secure()));
            let page = message(
                v,
                StatusCode::OK,
                "Security codes are off",
                "You now sign in with your password alone, and you have been signed out \
                 everywhere else. We have emailed you about the change.",
            );
            Ok((jar, page).into_response())
        }
        Err(e) => refused(&state, v, e, "remove_").await,
    }
}

async fn confirm_enrolment(
    State(state): State<AppState>,
    v: Visitor,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, Failure> {
    v.check_csrf(&form)?;
    let Some(token) = v.session_token() else {
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
        .confirm_enrolment(&v.tenant().config, &token, &session, code)
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
            let errors = vec![FieldError {
                field: "code",
                message: "The code is not right: enter the 6-digit code your app shows for \
                          the new key below"
                    .to_owned(),
            }];
            let html =
                two_factor_page(&state, &v, StatusCode::UNPROCESSABLE_ENTITY, errors).await?;
            Ok(with_code(v.respond(html), "bad_code"))
        }
        Err(e) => Err(e.into()),
    }
}
