//! My Profile: the account page, details, password, special requirements and email
//! choices. Every page needs a full sign-in; every form carries the session's CSRF token.

use std::collections::HashMap;
use std::net::SocketAddr;

use askama::Template;
use axum::extract::{ConnectInfo, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use http::StatusCode;
use identity::IdentityError;
use identity::domain::signup::{self, FieldError};

use crate::http::state::AppState;
use axum_extra::extract::cookie::CookieJar;

use crate::http::auth::{
    Failure, FieldView, SESSION_COOKIE, Visitor, cookie, error_for, field_views, message, with_code,
};
use crate::http::page::{Chrome, render};

/// The profile routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/account", get(account))
        .route("/account/details", get(details_form).post(update_details))
        .route(
            "/account/password",
            get(password_change_form).post(change_password),
        )
        .route(
            "/account/preferences",
            get(preferences_form).post(save_preferences),
        )
        .route(
            "/account/special-requirements",
            get(special_requirements_form).post(save_special_requirements),
        )
}

#[derive(Template)]
#[template(path = "auth/account.html")]
struct AccountPage<'a> {
    chrome: Chrome<'a>,
    rows: Vec<(&'static str, String)>,
    /// (organisation id, name, rights in words, status, may manage)
    memberships: Vec<(String, String, String, String, bool)>,
    tenant_admin: bool,
}

async fn account(State(state): State<AppState>, v: Visitor) -> Result<Response, Failure> {
    let s = v.signed_in_or_redirect()?;
    let memberships = state
        .identity
        .memberships(&v.tenant().id, s)
        .await?
        .into_iter()
        .map(|(m, o, manage)| {
            let rights = identity::domain::rights::Rights::parse(&m.rights)
                .unwrap_or_default()
                .iter()
                .map(|r| r.label().split(':').next().unwrap_or_default().to_owned())
                .collect::<Vec<_>>()
                .join(", ");
            let status = match m.status.as_str() {
                "claimed" => "Waiting for your lead administrator to confirm",
                "left" => "Left",
                _ => "Confirmed",
            };
            (o.id, o.name, rights, status.to_owned(), manage)
        })
        .collect();
    let tenant_admin = state.identity.is_tenant_admin(&v.tenant().id, s).await?;
    let a = &s.account;
    let mut rows = vec![
        ("Name", format!("{} {}", a.first_name, a.last_name)),
        ("Email address", a.email.clone()),
    ];
    let optional = [
        ("Job title", &a.job_title),
        ("Job category", &a.job_category),
        ("Work telephone", &a.telephone),
        ("Work address", &a.business_address),
        ("Organisation", &a.organisation_name),
        ("Organisation telephone", &a.organisation_telephone),
        ("Your own telephone", &a.personal_telephone),
        ("Home address", &a.home_address),
    ];
    rows.extend(
        optional
            .into_iter()
            .filter_map(|(k, v)| v.clone().map(|v| (k, v))),
    );
    let page = AccountPage {
        chrome: v.chrome("/account"),
        rows,
        memberships,
        tenant_admin,
    };
    let html = render(StatusCode::OK, &page);
    Ok(v.respond(html))
}

#[derive(Template)]
#[template(path = "auth/details.html")]
struct DetailsPage<'a> {
    chrome: Chrome<'a>,
    csrf: String,
    fields: Vec<FieldView>,
    asks_childminder: bool,
    is_childminder: bool,
    job_categories: Vec<String>,
    errors: Vec<FieldError>,
}

fn current_values(a: &identity::store::entity::account::Model) -> HashMap<String, String> {
    let pairs = [
        ("first_name", Some(&a.first_name)),
        ("last_name", Some(&a.last_name)),
        ("job_title", a.job_title.as_ref()),
        ("job_category", a.job_category.as_ref()),
        ("telephone", a.telephone.as_ref()),
        ("business_address", a.business_address.as_ref()),
        ("organisation_name", a.organisation_name.as_ref()),
        ("organisation_telephone", a.organisation_telephone.as_ref()),
        ("personal_telephone", a.personal_telephone.as_ref()),
        ("home_address", a.home_address.as_ref()),
    ];
    let mut values: HashMap<String, String> = pairs
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k.to_owned(), v.clone())))
        .collect();
    if a.is_childminder {
        values.insert("is_childminder".to_owned(), "yes".to_owned());
    }
    values
}

fn details_page<'a>(
    v: &'a Visitor,
    values: &HashMap<String, String>,
    errors: Vec<FieldError>,
) -> DetailsPage<'a> {
    DetailsPage {
        chrome: v.chrome("/account"),
        csrf: v.csrf().to_owned(),
        fields: field_views(v, values, &errors, false),
        asks_childminder: signup::asks_childminder(&v.tenant().config.account_fields),
        is_childminder: values.get("is_childminder").is_some_and(|x| x == "yes"),
        job_categories: v.tenant().config.job_categories.clone(),
        errors,
    }
}

async fn details_form(v: Visitor) -> Response {
    let Some(s) = v.signed_in() else {
        return Redirect::to("/sign-in").into_response();
    };
    let page = details_page(&v, &current_values(&s.account), Vec::new());
    let html = render(StatusCode::OK, &page);
    v.respond(html)
}

async fn update_details(
    State(state): State<AppState>,
    v: Visitor,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, Failure> {
    v.check_csrf(&form)?;
    let s = v.signed_in_or_redirect()?;
    match state
        .identity
        .update_details(&v.tenant().config, s, &form)
        .await
    {
        Ok(()) => Ok(v.respond(Redirect::to("/account").into_response())),
        Err(IdentityError::Invalid(errors)) => {
            let page = details_page(&v, &form, errors);
            let html = render(StatusCode::UNPROCESSABLE_ENTITY, &page);
            Ok(v.respond(html))
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "auth/change_password.html")]
struct ChangePasswordPage<'a> {
    chrome: Chrome<'a>,
    csrf: String,
    errors: Vec<FieldError>,
    current_error: Option<String>,
    password_error: Option<String>,
    confirm_error: Option<String>,
}

fn change_password_page(v: &Visitor, errors: Vec<FieldError>) -> ChangePasswordPage<'_> {
    ChangePasswordPage {
        chrome: v.chrome("/account"),
        csrf: v.csrf().to_owned(),
        current_error: error_for(&errors, "current_password"),
        password_error: error_for(&errors, "password"),
        confirm_error: error_for(&errors, "password_confirm"),
        errors,
    }
}

async fn password_change_form(v: Visitor) -> Response {
    if v.signed_in().is_none() {
        return Redirect::to("/sign-in").into_response();
    }
    let page = change_password_page(&v, Vec::new());
    let html = render(StatusCode::OK, &page);
    v.respond(html)
}

async fn change_password(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    v: Visitor,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, Failure> {
    v.check_csrf(&form)?;
    let s = v.signed_in_or_redirect()?;
    let get = |k: &str| form.get(k).map(String::as_str).unwrap_or_default();
    match state
        .identity
        .change_password(
            &v.tenant().id,
            s,
            get("current_password"),
            get("password"),
            get("password_confirm"),
            &peer.ip().to_string(),
        )
        .await
    {
        Ok(token) => {
            // Every other session was ended; this browser gets a new one.
            let fresh = CookieJar::new().add(cookie(SESSION_COOKIE, token, v.secure()));
            let page = message(
                v,
                StatusCode::OK,
                "Your password has been changed",
                "You have been signed out everywhere else. Use your new password next time \
                 you sign in.",
            );
            Ok((fresh, page).into_response())
        }
        Err(IdentityError::Invalid(errors)) => {
            let page = change_password_page(&v, errors);
            let html = render(StatusCode::UNPROCESSABLE_ENTITY, &page);
            Ok(v.respond(html))
        }
        Err(IdentityError::Throttled { minutes }) => {
            let errors = vec![FieldError {
                field: "current_password",
                message: format!(
                    "There have been too many wrong passwords. Wait {minutes} minutes and try \
                     again"
                ),
            }];
            let page = change_password_page(&v, errors);
            let html = render(StatusCode::TOO_MANY_REQUESTS, &page);
            Ok(with_code(v.respond(html), "too_many_attempts"))
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "auth/special_requirements.html")]
struct SpecialRequirementsPage<'a> {
    chrome: Chrome<'a>,
    csrf: String,
    value: String,
    error: Option<String>,
}

fn not_collected() -> Failure {
    Failure::new(
        StatusCode::NOT_FOUND,
        "not_found",
        "Page not found. If you typed the web address, check it is correct.",
    )
}

fn special_page(v: &Visitor, value: String, error: Option<String>) -> SpecialRequirementsPage<'_> {
    SpecialRequirementsPage {
        chrome: v.chrome("/account"),
        csrf: v.csrf().to_owned(),
        value,
        error,
    }
}

async fn special_requirements_form(
    State(state): State<AppState>,
    v: Visitor,
) -> Result<Response, Failure> {
    let s = v.signed_in_or_redirect()?;
    let value = match state
        .identity
        .special_requirements(&v.tenant().config, s)
        .await
    {
        Ok(value) => value.unwrap_or_default(),
        Err(IdentityError::NotCollected) => return Err(not_collected()),
        Err(e) => return Err(e.into()),
    };
    let page = special_page(&v, value, None);
    let html = render(StatusCode::OK, &page);
    Ok(v.respond(html))
}

async fn save_special_requirements(
    State(state): State<AppState>,
    v: Visitor,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, Failure> {
    v.check_csrf(&form)?;
    let s = v.signed_in_or_redirect()?;
    let value = form
        .get("special_requirements")
        .map(String::as_str)
        .unwrap_or_default();
    match state
        .identity
        .set_special_requirements(&v.tenant().config, s, value)
        .await
    {
        Ok(()) => Ok(v.respond(Redirect::to("/account").into_response())),
        Err(IdentityError::NotCollected) => Err(not_collected()),
        Err(IdentityError::Invalid(errors)) => {
            let message = errors.first().map(|e| e.message.clone());
            let page = special_page(&v, value.to_owned(), message);
            let html = render(StatusCode::UNPROCESSABLE_ENTITY, &page);
            Ok(v.respond(html))
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "auth/preferences.html")]
struct PreferencesPage<'a> {
    chrome: Chrome<'a>,
    csrf: String,
    prefs: identity::preferences::Preferences,
    frequencies: Vec<(&'static str, &'static str)>,
    error: Option<String>,
}

async fn preferences_page(
    state: &AppState,
    v: &Visitor,
    status: StatusCode,
    error: Option<String>,
) -> Result<Response, Failure> {
    let s = v.signed_in_or_redirect()?;
    let prefs = state.identity.preferences(&v.tenant().config, s).await?;
    let page = PreferencesPage {
        chrome: v.chrome("/account"),
        csrf: v.csrf().to_owned(),
        prefs,
        frequencies: identity::preferences::ALERT_FREQUENCIES
            .iter()
            .map(|(f, label)| (f.as_str(), *label))
            .collect(),
        error,
    };
    Ok(render(status, &page))
}

async fn preferences_form(State(state): State<AppState>, v: Visitor) -> Result<Response, Failure> {
    let html = preferences_page(&state, &v, StatusCode::OK, None).await?;
    Ok(v.respond(html))
}

async fn save_preferences(
    State(state): State<AppState>,
    v: Visitor,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, Failure> {
    v.check_csrf(&form)?;
    let s = v.signed_in_or_redirect()?;
    let notice = crate::http::privacy_web::version_in_force(&state, v.tenant()).await?;
    match state
        .identity
        .set_preferences(&v.tenant().config, &notice, s, &form)
        .await
    {
        Ok(()) => Ok(v.respond(Redirect::to("/account").into_response())),
        Err(IdentityError::Invalid(errors)) => {
            let message = errors.first().map(|e| e.message.clone());
            let html =
                preferences_page(&state, &v, StatusCode::UNPROCESSABLE_ENTITY, message).await?;
            Ok(with_code(v.respond(html), "invalid_preferences"))
        }
        Err(e) => Err(e.into()),
    }
}
