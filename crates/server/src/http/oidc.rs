//! Sign-in through a tenant's OpenID providers: start (redirect to the provider), callback
//! (verify, then sign in or ask for the tenant's sign-up fields), and that sign-up form.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use http::StatusCode;
use identity::IdentityError;
use identity::domain::signup::{self, FieldError};
use identity::oidc::OidcOutcome;
use identity::sessions::Stage;
use serde::Deserialize;

use crate::http::auth::{
    ClaimFields, Failure, FieldView, SESSION_COOKIE, Visitor, cookie, field_views,
    organisation_choices, with_code,
};
use crate::http::page::{Chrome, render};
use crate::http::state::AppState;

const FLOW_COOKIE: &str = "portal_oidc";
const SIGNUP_COOKIE: &str = "portal_oidc_signup";

/// The OpenID sign-in routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/sign-in/oidc/{provider}", get(start))
        .route("/sign-in/oidc/{provider}/callback", get(callback))
        .route("/sign-up/oidc", get(details_form).post(complete))
}

fn page_error(e: IdentityError) -> Failure {
    match e {
        IdentityError::UnknownProvider => Failure::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "Page not found. If you typed the web address, check it is correct.",
        ),
        IdentityError::BadOidcState => Failure::new(
            StatusCode::BAD_REQUEST,
            "oidc_state_invalid",
            "This sign-in attempt has expired or was not started here. Go back to the sign-in \
             page and try again.",
        ),
        IdentityError::Oidc(cause) => {
            tracing::warn!(%cause, "OpenID sign-in failed");
            Failure::new(
                StatusCode::BAD_GATEWAY,
                "oidc_failed",
                "We could not sign you in with your organisation's account. Try again, or sign \
                 in with your email address and password.",
            )
        }
        IdentityError::EmailTaken => Failure::new(
            StatusCode::CONFLICT,
            "email_taken",
            "An account with your email address already exists but its address is not yet \
             confirmed. Sign in with your password, or reset it, first.",
        ),
        IdentityError::Deactivated => Failure::new(
            StatusCode::FORBIDDEN,
            "account_deactivated",
            "This account has been deactivated. Contact your organisation's lead administrator \
             or the service team.",
        ),
        other => other.into(),
    }
}

async fn start(
    State(state): State<AppState>,
    v: Visitor,
    Path(provider): Path<String>,
) -> Result<Response, Failure> {
    let started = state
        .identity
        .oidc_start(&v.tenant().config, &provider, v.site_url())
        .await
        .map_err(page_error)?;
    let jar = v
        .jar()
        .clone()
        .add(cookie(FLOW_COOKIE, started.state, v.secure()));
    Ok((jar, Redirect::to(&started.url)).into_response())
}

/// The provider's answer.
#[derive(Deserialize)]
struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

async fn callback(
    State(state): State<AppState>,
    v: Visitor,
    Path(provider): Path<String>,
    Query(answer): Query<Callback>,
) -> Result<Response, Failure> {
    if let Some(error) = answer.error {
        tracing::info!(%error, "OpenID provider declined the sign-in");
        return Err(Failure::new(
            StatusCode::UNAUTHORIZED,
            "oidc_declined",
            "Your organisation's sign-in did not complete. Try again, or sign in with your \
             email address and password.",
        ));
    }
    let (Some(code), Some(flow_state)) = (answer.code, answer.state) else {
        return Err(page_error(IdentityError::BadOidcState));
    };
    let browser_state = v.cookie_value(FLOW_COOKIE).map(str::to_owned);
    let outcome = state
        .identity
        .oidc_finish(
            &v.tenant().config,
            &provider,
            &flow_state,
            browser_state.as_deref(),
            &code,
            v.site_url(),
        )
        .await
        .map_err(page_error)?;
    let jar = v
        .jar()
        .clone()
        .add(crate::http::visitor::removal(FLOW_COOKIE, v.secure()));
    let secure = v.secure();
    Ok(match outcome {
        OidcOutcome::SignedIn(token, session) => {
            let next = match session.stage {
                Stage::Full => "/account",
                Stage::NeedsCode => "/sign-in/code",
                Stage::NeedsEnrolment => "/account/two-factor",
            };
            let jar = jar.add(cookie(SESSION_COOKIE, token, secure));
            (jar, Redirect::to(next)).into_response()
        }
        OidcOutcome::NeedsDetails(key) => {
            let jar = jar.add(cookie(SIGNUP_COOKIE, key, secure));
            (jar, Redirect::to("/sign-up/oidc")).into_response()
        }
    })
}

#[derive(Template)]
#[template(path = "auth/oidc_sign_up.html")]
struct OidcSignUpPage<'a> {
    chrome: Chrome<'a>,
    csrf: String,
    email: String,
    fields: Vec<FieldView>,
    asks_childminder: bool,
    is_childminder: bool,
    job_categories: Vec<String>,
    claim: ClaimFields,
    errors: Vec<FieldError>,
}

async fn signup_page(
    state: &AppState,
    v: &Visitor,
    values: &HashMap<String, String>,
    errors: Vec<FieldError>,
) -> Result<(StatusCode, Response), Failure> {
    let key = v
        .cookie_value(SIGNUP_COOKIE)
        .map(str::to_owned)
        .ok_or_else(|| page_error(IdentityError::BadOidcState))?;
    let vouched = state
        .identity
        .oidc_pending(&v.tenant().config, &key)
        .await
        .map_err(page_error)?;
    let mut values = values.clone();
    for (k, val) in [
        ("first_name", vouched.given_name),
        ("last_name", vouched.family_name),
    ] {
        if let Some(val) = val {
            values.entry(k.to_owned()).or_insert(val);
        }
    }
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let organisations = organisation_choices(state, v).await?;
    let page = OidcSignUpPage {
        claim: ClaimFields::new(v, organisations, &values, &errors),
        chrome: v.chrome("/sign-up"),
        csrf: v.csrf().to_owned(),
        email: vouched.email,
        fields: field_views(v, &values, &errors, false),
        asks_childminder: signup::asks_childminder(&v.tenant().config.account_fields),
        is_childminder: values.get("is_childminder").is_some_and(|x| x == "yes"),
        job_categories: v.tenant().config.job_categories.clone(),
        errors,
    };
    Ok((status, render(status, &page)))
}

async fn details_form(State(state): State<AppState>, v: Visitor) -> Result<Response, Failure> {
    let (_, html) = signup_page(&state, &v, &HashMap::new(), Vec::new()).await?;
    Ok(v.respond(html))
}

async fn complete(
    State(state): State<AppState>,
    v: Visitor,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, Failure> {
    v.check_csrf(&form)?;
    let key = v
        .cookie_value(SIGNUP_COOKIE)
        .map(str::to_owned)
        .ok_or_else(|| page_error(IdentityError::BadOidcState))?;
    match state
        .identity
        .oidc_complete(&v.tenant().config, &key, &form)
        .await
    {
        Ok((token, _)) => {
            let jar = v
                .jar()
                .clone()
                .add(crate::http::visitor::removal(SIGNUP_COOKIE, v.secure()))
                .add(cookie(SESSION_COOKIE, token, v.secure()));
            Ok((jar, Redirect::to("/account")).into_response())
        }
        Err(IdentityError::Invalid(errors)) => {
            let (_, html) = signup_page(&state, &v, &form, errors).await?;
            Ok(with_code(v.respond(html), "invalid_details"))
        }
        Err(e) => Err(page_error(e)),
    }
}
