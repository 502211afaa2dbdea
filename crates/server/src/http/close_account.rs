//! `/account/close`: a person closes their own account. The page says what goes and what a
//! rule keeps; closing asks for the password (accounts that have one) and runs the privacy
//! engine's erasure ([`privacy_engine::Privacy::close_own_account`]), refused with the
//! reasons while a hold or a place on a session still to come stands. The browser is then
//! signed out.

use std::collections::HashMap;
use std::net::SocketAddr;

use askama::Template;
use axum::Form;
use axum::Router;
use axum::extract::{ConnectInfo, State};
use axum::response::{IntoResponse as _, Response};
use axum::routing::get;
use http::StatusCode;
use identity::IdentityError;
use identity::domain::signup::FieldError;
use privacy_engine::PrivacyError;

use crate::http::auth::{Failure, SESSION_COOKIE, Visitor, error_for, message, removal, with_code};
use crate::http::page::{Chrome, render};
use crate::http::state::AppState;

/// The route.
pub fn router() -> Router<AppState> {
    Router::new().route("/account/close", get(form).post(close))
}

#[derive(Template)]
#[template(path = "auth/close_account.html")]
struct ClosePage<'a> {
    chrome: Chrome<'a>,
    csrf: String,
    /// Whether the account has a password to confirm with.
    password: bool,
    errors: Vec<FieldError>,
}

impl ClosePage<'_> {
    fn error(&self, name: &str) -> Option<String> {
        error_for(&self.errors, name)
    }
}

fn page(v: &Visitor, errors: Vec<FieldError>, status: StatusCode) -> Result<Response, Failure> {
    let who = v.signed_in_or_redirect()?;
    let page = ClosePage {
        chrome: v.chrome("/account"),
        csrf: v.csrf().to_owned(),
        password: who.account.password_hash.is_some(),
        errors,
    };
    Ok(render(status, &page))
}

/// The page again with one problem, answered with `status` and `code`.
fn refused(
    v: Visitor,
    field: &'static str,
    message: String,
    status: StatusCode,
    code: &'static str,
) -> Result<Response, Failure> {
    let html = page(&v, vec![FieldError { field, message }], status)?;
    Ok(with_code(v.respond(html), code))
}

async fn form(v: Visitor) -> Result<Response, Failure> {
    let html = page(&v, Vec::new(), StatusCode::OK)?;
    Ok(v.respond(html))
}

async fn close(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    v: Visitor,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, Failure> {
    v.check_csrf(&form)?;
    let who = v.signed_in_or_redirect()?;
    let cfg = &v.tenant().config;
    let password = form.get("password").map_or("", String::as_str);
    match state
        .identity
        .confirm_password(cfg, who, password, &peer.ip().to_string())
        .await
    {
        Ok(()) => {}
        Err(IdentityError::Invalid(mut errors)) => {
            let e = errors.remove(0);
            return refused(
                v,
                e.field,
                e.message,
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid",
            );
        }
        Err(IdentityError::Throttled { minutes }) => {
            let message = format!(
                "There have been too many wrong passwords. Wait {minutes} minutes and try again"
            );
            return refused(
                v,
                "password",
                message,
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_attempts",
            );
        }
        Err(e) => return Err(e.into()),
    }
    match state.privacy.close_own_account(cfg, &who.account.id).await {
        Ok(_) => {}
        Err(PrivacyError::Deferred { code, reason }) => {
            return refused(v, "close", reason, StatusCode::CONFLICT, code);
        }
        Err(e) => return Err(e.into()),
    }
    if let Some(token) = v.session_token() {
        state.identity.sign_out(&v.tenant().id, &token).await?;
    }
    let jar = v.jar().clone().add(removal(SESSION_COOKIE, v.secure()));
    let done = message(
        v,
        StatusCode::OK,
        "Your account is closed",
        "Your account and the data held with it have been deleted. We have emailed you what \
         the law or our retention rules oblige us to keep, and why.",
    );
    Ok((jar, done).into_response())
}
