//! The induction module's page: an early-career teacher's induction details, for tenants
//! that act as appropriate body (Somerset). Other tenants answer 404.

use std::collections::HashMap;

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use chrono::Datelike as _;
use http::StatusCode;
use identity::IdentityError;
use identity::domain::induction::KEY_STAGES;
use identity::domain::signup::FieldError;

use crate::http::auth::{Failure, Visitor, with_code};
use crate::http::page::{Chrome, render};
use crate::http::state::AppState;

/// The induction routes.
pub fn router() -> Router<AppState> {
    Router::new().route("/account/induction", get(form).post(save))
}

#[derive(Template)]
#[template(path = "auth/induction.html")]
struct InductionPage<'a> {
    chrome: Chrome<'a>,
    csrf: String,
    values: HashMap<String, String>,
    errors: Vec<FieldError>,
    key_stages: Vec<&'static str>,
}

impl InductionPage<'_> {
    fn value(&self, name: &str) -> &str {
        self.values.get(name).map_or("", String::as_str)
    }

    fn part(&self, name: &str, part: &str) -> &str {
        self.values
            .get(&format!("{name}-{part}"))
            .map_or("", String::as_str)
    }

    fn error(&self, name: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|e| e.field == name)
            .map(|e| e.message.as_str())
    }
}

fn not_found() -> Failure {
    Failure::new(
        StatusCode::NOT_FOUND,
        "not_found",
        "Page not found. If you typed the web address, check it is correct.",
    )
}

fn page(
    v: &Visitor,
    values: HashMap<String, String>,
    errors: Vec<FieldError>,
) -> InductionPage<'_> {
    InductionPage {
        chrome: v.chrome("/account"),
        csrf: v.csrf().to_owned(),
        values,
        errors,
        key_stages: KEY_STAGES.to_vec(),
    }
}

async fn form(State(state): State<AppState>, v: Visitor) -> Result<Response, Failure> {
    let s = v.signed_in_or_redirect()?;
    let record = match state.identity.induction(&v.tenant().config, s).await {
        Ok(r) => r,
        Err(IdentityError::NotCollected) => return Err(not_found()),
        Err(e) => return Err(e.into()),
    };
    let mut values = HashMap::new();
    if let Some(r) = record {
        values.insert("trn".to_owned(), r.trn);
        values.insert(
            "qualification_institution".to_owned(),
            r.qualification_institution,
        );
        values.insert("key_stage".to_owned(), r.key_stage);
        values.insert("year_group".to_owned(), r.year_group.unwrap_or_default());
        for (name, d) in [
            ("start_date", r.start_date),
            ("date_of_birth", r.date_of_birth),
        ] {
            values.insert(format!("{name}-day"), d.day().to_string());
            values.insert(format!("{name}-month"), d.month().to_string());
            values.insert(format!("{name}-year"), d.year().to_string());
        }
    }
    let html = render(StatusCode::OK, &page(&v, values, Vec::new()));
    Ok(v.respond(html))
}

async fn save(
    State(state): State<AppState>,
    v: Visitor,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, Failure> {
    v.check_csrf(&form)?;
    let s = v.signed_in_or_redirect()?;
    match state
        .identity
        .save_induction(&v.tenant().config, s, &form)
        .await
    {
        Ok(()) => Ok(v.respond(Redirect::to("/account").into_response())),
        Err(IdentityError::NotCollected) => Err(not_found()),
        Err(IdentityError::Invalid(errors)) => {
            let html = render(StatusCode::UNPROCESSABLE_ENTITY, &page(&v, form, errors));
            Ok(with_code(v.respond(html), "invalid_induction"))
        }
        Err(e) => Err(e.into()),
    }
}
