//! Sign-up, email verification, sign-in, sign-out and password reset.
//!
//! Handlers stay thin: they check the CSRF token (see `visitor`), call one
//! `identity::Identity` method and render.

use std::collections::HashMap;
use std::net::SocketAddr;

use askama::Template;
use axum::extract::{ConnectInfo, Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use http::StatusCode;
use identity::IdentityError;
use identity::domain::signup::{self, FieldError, FieldSpec};
use identity::sessions::Stage;
use identity::store::Purpose;
use tenant_router::config::FieldPolicy;

use crate::http::state::AppState;
// The page modules import these from here as well as from `visitor`.
use crate::http::page::{Chrome, render};
pub(crate) use crate::http::visitor::{
    CSRF_COOKIE, Failure, SESSION_COOKIE, Visitor, cookie, removal, with_code,
};

/// Identity's pages.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/sign-up", get(sign_up_form).post(sign_up))
        .route("/sign-in", get(sign_in_form).post(sign_in))
        .route("/sign-out", axum::routing::post(sign_out))
        .route("/verify-email/{token}", get(verify_form).post(verify))
        .route(
            "/reset-password",
            get(reset_request_form).post(reset_request),
        )
        .route("/reset-password/{token}", get(reset_form).post(reset))
        .route(
            "/set-password/{token}",
            get(invitation_form).post(accept_invitation),
        )
}

/// One field of a form as the template shows it.
pub(crate) struct FieldView {
    pub(crate) spec: FieldSpec,
    pub(crate) value: String,
    pub(crate) error: Option<String>,
    pub(crate) optional: bool,
    pub(crate) childminder_only: bool,
}

#[derive(Template)]
#[template(path = "auth/sign_up.html")]
struct SignUpPage<'a> {
    chrome: Chrome<'a>,
    csrf: String,
    fields: Vec<FieldView>,
    asks_childminder: bool,
    is_childminder: bool,
    job_categories: Vec<String>,
    claim: ClaimFields,
    errors: Vec<FieldError>,
    password_error: Option<String>,
    confirm_error: Option<String>,
}

/// The part of a sign-up form (with a password or through an organisation's sign-in) that
/// claims membership of an organisation and, where the tenant asks, the access needed there.
pub(crate) struct ClaimFields {
    /// (id, name) of the tenant's organisations, to claim membership of one.
    pub(crate) organisations: Vec<(String, String)>,
    pub(crate) organisation_id: String,
    /// The levels of access a person may ask for (where the tenant asks), and the one
    /// chosen.
    pub(crate) access_levels: Vec<(&'static str, &'static str)>,
    pub(crate) access: String,
    pub(crate) access_error: Option<String>,
    pub(crate) organisation_error: Option<String>,
}

impl ClaimFields {
    /// The claim part of the form, with what was entered and its errors.
    pub(crate) fn new(
        v: &Visitor,
        organisations: Vec<(String, String)>,
        values: &HashMap<String, String>,
        errors: &[FieldError],
    ) -> Self {
        Self {
            organisations,
            organisation_id: values.get("organisation_id").cloned().unwrap_or_default(),
            access_levels: if v.tenant().config.account_fields.access_rights.is_some() {
                identity::domain::rights::ACCESS_LEVELS
                    .iter()
                    .map(|(v, label, _)| (*v, *label))
                    .collect()
            } else {
                Vec::new()
            },
            access: values.get("access").cloned().unwrap_or_default(),
            access_error: error_for(errors, "access"),
            organisation_error: error_for(errors, "organisation_id"),
        }
    }
}

pub(crate) fn error_for(errors: &[FieldError], field: &str) -> Option<String> {
    errors
        .iter()
        .find(|e| e.field == field)
        .map(|e| e.message.clone())
}

pub(crate) fn field_views(
    v: &Visitor,
    values: &HashMap<String, String>,
    errors: &[FieldError],
    with_email: bool,
) -> Vec<FieldView> {
    signup::fields(&v.tenant().config.account_fields)
        .into_iter()
        .filter(|spec| with_email || spec.name != "email")
        .map(|spec| FieldView {
            value: values.get(spec.name).cloned().unwrap_or_default(),
            error: error_for(errors, spec.name),
            optional: matches!(spec.policy, FieldPolicy::Optional),
            childminder_only: spec.policy == FieldPolicy::ChildminderOnly,
            spec,
        })
        .collect()
}

fn sign_up_page<'a>(
    v: &'a Visitor,
    organisations: Vec<(String, String)>,
    values: &HashMap<String, String>,
    errors: Vec<FieldError>,
) -> SignUpPage<'a> {
    let policy = &v.tenant().config.account_fields;
    let fields = field_views(v, values, &errors, true);
    SignUpPage {
        chrome: v.chrome("/sign-up"),
        csrf: v.csrf().to_owned(),
        fields,
        asks_childminder: signup::asks_childminder(policy),
        is_childminder: values.get("is_childminder").is_some_and(|x| x == "yes"),
        job_categories: v.tenant().config.job_categories.clone(),
        claim: ClaimFields::new(v, organisations, values, &errors),
        password_error: error_for(&errors, "password"),
        confirm_error: error_for(&errors, "password_confirm"),
        errors,
    }
}

pub(crate) async fn organisation_choices(
    state: &AppState,
    v: &Visitor,
) -> Result<Vec<(String, String)>, Failure> {
    Ok(state
        .identity
        .organisations(&v.tenant().id)
        .await?
        .into_iter()
        .map(|o| (o.id, o.name))
        .collect())
}

async fn sign_up_form(State(state): State<AppState>, v: Visitor) -> Result<Response, Failure> {
    let orgs = organisation_choices(&state, &v).await?;
    let page = sign_up_page(&v, orgs, &HashMap::new(), Vec::new());
    let html = render(StatusCode::OK, &page);
    Ok(v.respond(html))
}

async fn sign_up(
    State(state): State<AppState>,
    v: Visitor,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, Failure> {
    v.check_csrf(&form)?;
    match state
        .identity
        .sign_up(&v.tenant().config, &form, v.base_url())
        .await
    {
        Ok(_) => Ok(message(
            v,
            StatusCode::OK,
            "Check your email",
            "We have sent you an email with a link to confirm your address. \
             Follow it within 48 hours to finish creating your account.",
        )),
        Err(IdentityError::Invalid(errors)) => {
            let orgs = organisation_choices(&state, &v).await?;
            let page = sign_up_page(&v, orgs, &form, errors);
            let html = render(StatusCode::UNPROCESSABLE_ENTITY, &page);
            Ok(v.respond(html))
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "auth/message.html")]
struct MessagePage<'a> {
    chrome: Chrome<'a>,
    heading: &'a str,
    body: &'a str,
    /// A form with one button (`action`, `label`), e.g. to confirm an email link.
    button: Option<(String, &'a str)>,
    csrf: String,
}

pub(crate) fn message(v: Visitor, status: StatusCode, heading: &str, body: &str) -> Response {
    let page = MessagePage {
        chrome: v.chrome(""),
        heading,
        body,
        button: None,
        csrf: String::new(),
    };
    let html = render(status, &page);
    v.respond(html)
}

/// A page that asks the visitor to confirm with one button posting to `action`.
pub(crate) fn confirm(
    v: Visitor,
    heading: &str,
    body: &str,
    action: String,
    label: &str,
) -> Response {
    let page = MessagePage {
        chrome: v.chrome(""),
        heading,
        body,
        button: Some((action, label)),
        csrf: v.csrf().to_owned(),
    };
    let html = render(StatusCode::OK, &page);
    v.respond(html)
}

/// Email links open a page with a button rather than acting on GET: mail scanners fetch
/// links, and a single-use token must not be spent by a scanner.
async fn verify_form(
    State(state): State<AppState>,
    v: Visitor,
    Path(token): Path<String>,
) -> Result<Response, Failure> {
    if !state
        .identity
        .token_is_live(&v.tenant().id, Purpose::VerifyEmail, &token)
        .await?
    {
        return Ok(bad_link(v));
    }
    let page = MessagePage {
        chrome: v.chrome(""),
        heading: "Confirm your email address",
        body: "Select the button to confirm this is your email address.",
        button: Some((format!("/verify-email/{token}"), "Confirm my email address")),
        csrf: v.csrf().to_owned(),
    };
    let html = render(StatusCode::OK, &page);
    Ok(v.respond(html))
}

async fn verify(
    State(state): State<AppState>,
    v: Visitor,
    Path(token): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, Failure> {
    v.check_csrf(&form)?;
    match state.identity.verify_email(&v.tenant().id, &token).await {
        Ok(()) => Ok(message(
            v,
            StatusCode::OK,
            "Email address confirmed",
            "Your account is ready. You can now sign in.",
        )),
        Err(IdentityError::BadToken) => Ok(bad_link(v)),
        Err(e) => Err(e.into()),
    }
}

fn bad_link(v: Visitor) -> Response {
    with_code(
        message(
            v,
            StatusCode::GONE,
            "This link has expired or has already been used",
            "Links in our emails work once and for a limited time. Sign in, or ask for a new \
         password-reset link.",
        ),
        "link_expired",
    )
}

#[derive(Template)]
#[template(path = "auth/sign_in.html")]
struct SignInPage<'a> {
    chrome: Chrome<'a>,
    csrf: String,
    email: String,
    error: Option<String>,
}

fn sign_in_page<'a>(v: &'a Visitor, email: &str, error: Option<String>) -> SignInPage<'a> {
    SignInPage {
        chrome: v.chrome("/sign-in"),
        csrf: v.csrf().to_owned(),
        email: email.to_owned(),
        error,
    }
}

async fn sign_in_form(v: Visitor) -> Response {
    if v.signed_in().is_some() {
        return Redirect::to("/account").into_response();
    }
    let page = sign_in_page(&v, "", None);
    let html = render(StatusCode::OK, &page);
    v.respond(html)
}

async fn sign_in(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    v: Visitor,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, Failure> {
    v.check_csrf(&form)?;
    let email = form.get("email").map(String::as_str).unwrap_or_default();
    let password = form.get("password").map(String::as_str).unwrap_or_default();
    let outcome = state
        .identity
        .sign_in(&v.tenant().id, email, password, &peer.ip().to_string())
        .await;
    let (status, code, message) = match outcome {
        Ok((token, session)) => {
            // A fresh session token, and the pre-sign-in CSRF cookie retired.
            let jar = v
                .jar()
                .clone()
                .add(cookie(SESSION_COOKIE, token, v.secure()))
                .add(removal(CSRF_COOKIE, v.secure()));
            let next = match session.stage {
                Stage::Full => "/account",
                Stage::NeedsCode => "/sign-in/code",
                Stage::NeedsEnrolment => "/account/two-factor",
            };
            return Ok((jar, Redirect::to(next)).into_response());
        }
        Err(IdentityError::BadCredentials) => (
            StatusCode::UNAUTHORIZED,
            "bad_credentials",
            "Enter a correct email address and password".to_owned(),
        ),
        Err(IdentityError::Throttled { minutes }) => (
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_attempts",
            format!(
                "There have been too many attempts to sign in. Wait {minutes} minutes and try \
                 again, or reset your password"
            ),
        ),
        Err(IdentityError::EmailNotVerified) => (
            StatusCode::FORBIDDEN,
            "email_not_verified",
            "Confirm your email address first: follow the link in the email we sent you".to_owned(),
        ),
        Err(IdentityError::Deactivated) => (
            StatusCode::FORBIDDEN,
            "account_deactivated",
            "This account has been deactivated. Contact your organisation's lead \
             administrator or the service team"
                .to_owned(),
        ),
        Err(e) => return Err(e.into()),
    };
    let page = sign_in_page(&v, email, Some(message));
    let html = render(status, &page);
    Ok(with_code(v.respond(html), code))
}

async fn sign_out(
    State(state): State<AppState>,
    v: Visitor,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, Failure> {
    v.check_csrf(&form)?;
    if let Some(token) = v.session_token() {
        state.identity.sign_out(&v.tenant().id, &token).await?;
    }
    let jar = v.jar().clone().add(removal(SESSION_COOKIE, v.secure()));
    Ok((jar, Redirect::to("/")).into_response())
}

#[derive(Template)]
#[template(path = "auth/reset_request.html")]
struct ResetRequestPage<'a> {
    chrome: Chrome<'a>,
    csrf: String,
}

async fn reset_request_form(v: Visitor) -> Response {
    let page = ResetRequestPage {
        chrome: v.chrome(""),
        csrf: v.csrf().to_owned(),
    };
    let html = render(StatusCode::OK, &page);
    v.respond(html)
}

async fn reset_request(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    v: Visitor,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, Failure> {
    v.check_csrf(&form)?;
    let email = form.get("email").map(String::as_str).unwrap_or_default();
    match state
        .identity
        .request_reset(
            &v.tenant().config,
            email,
            &peer.ip().to_string(),
            v.base_url(),
        )
        .await
    {
        Ok(()) => {}
        Err(IdentityError::Throttled { minutes }) => {
            return Ok(with_code(
                message(
                    v,
                    StatusCode::TOO_MANY_REQUESTS,
                    "Too many requests",
                    &format!(
                        "There have been too many requests to reset a password. Wait \
                         {minutes} minutes and try again; a link we have already sent keeps \
                         working for 1 hour."
                    ),
                ),
                "too_many_requests",
            ));
        }
        Err(e) => return Err(e.into()),
    }
    Ok(message(
        v,
        StatusCode::OK,
        "Check your email",
        "If this email address has an account, we have sent it a link to reset the \
         password. The link works once, for 1 hour.",
    ))
}

#[derive(Template)]
#[template(path = "auth/reset_form.html")]
struct ResetPage<'a> {
    chrome: Chrome<'a>,
    csrf: String,
    action: String,
    password_error: Option<String>,
    confirm_error: Option<String>,
}

/// Where a password form posts: a reset link or an invitation link.
fn password_path(purpose: Purpose, token: &str) -> String {
    match purpose {
        Purpose::Invitation => format!("/set-password/{token}"),
        _ => format!("/reset-password/{token}"),
    }
}

fn reset_page<'a>(
    v: &'a Visitor,
    purpose: Purpose,
    token: &str,
    errors: &[FieldError],
) -> ResetPage<'a> {
    ResetPage {
        chrome: v.chrome(""),
        csrf: v.csrf().to_owned(),
        action: password_path(purpose, token),
        password_error: error_for(errors, "password"),
        confirm_error: error_for(errors, "password_confirm"),
    }
}

async fn reset_form(
    State(state): State<AppState>,
    v: Visitor,
    Path(token): Path<String>,
) -> Result<Response, Failure> {
    password_form(&state, v, Purpose::ResetPassword, &token).await
}

async fn invitation_form(
    State(state): State<AppState>,
    v: Visitor,
    Path(token): Path<String>,
) -> Result<Response, Failure> {
    password_form(&state, v, Purpose::Invitation, &token).await
}

/// The form a reset or invitation link opens: only for a live link (an unknown, used or
/// expired one says so at once, before anyone types a password).
async fn password_form(
    state: &AppState,
    v: Visitor,
    purpose: Purpose,
    token: &str,
) -> Result<Response, Failure> {
    if !state
        .identity
        .token_is_live(&v.tenant().id, purpose, token)
        .await?
    {
        return Ok(bad_link(v));
    }
    let page = reset_page(&v, purpose, token, &[]);
    let html = render(StatusCode::OK, &page);
    Ok(v.respond(html))
}

async fn reset(
    State(state): State<AppState>,
    v: Visitor,
    Path(token): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, Failure> {
    set_password(state, v, Purpose::ResetPassword, token, form).await
}

async fn accept_invitation(
    State(state): State<AppState>,
    v: Visitor,
    Path(token): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, Failure> {
    set_password(state, v, Purpose::Invitation, token, form).await
}

async fn set_password(
    state: AppState,
    v: Visitor,
    purpose: Purpose,
    token: String,
    form: HashMap<String, String>,
) -> Result<Response, Failure> {
    v.check_csrf(&form)?;
    let get = |k: &str| form.get(k).map(String::as_str).unwrap_or_default();
    match state
        .identity
        .reset_password(
            &v.tenant().id,
            purpose,
            &token,
            get("password"),
            get("password_confirm"),
        )
        .await
    {
        Ok(()) => Ok(message(
            v,
            StatusCode::OK,
            "Your password has been set",
            "You can now sign in with your new password.",
        )),
        Err(IdentityError::Invalid(errors)) => {
            let page = reset_page(&v, purpose, &token, &errors);
            let html = render(StatusCode::UNPROCESSABLE_ENTITY, &page);
            Ok(v.respond(html))
        }
        Err(IdentityError::BadToken) => Ok(bad_link(v)),
        Err(e) => Err(e.into()),
    }
}
