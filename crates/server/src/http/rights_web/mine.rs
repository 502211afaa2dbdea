//! A person's own rights requests: making one, following it, and fetching the copy of
//! their data it produced.

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
use privacy_engine::NewRequest;
use privacy_engine::domain::rights::{Channel, Kind};

use super::kinds;

#[derive(Template)]
#[template(path = "rights/mine.html")]
struct MinePage<'a> {
    chrome: Chrome<'a>,
    csrf: String,
    lines: Vec<Line>,
    kinds: Vec<(&'static str, &'static str)>,
    kind: String,
    details: String,
    errors: Vec<FieldError>,
    made: Option<String>,
}

impl MinePage<'_> {
    fn error(&self, name: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|e| e.field == name)
            .map(|e| e.message.as_str())
    }
}

async fn mine_page(
    state: &AppState,
    v: Visitor,
    status: StatusCode,
    form: (&str, &str, Vec<FieldError>),
    made: Option<String>,
) -> Result<Response, Failure> {
    let who = v.signed_in_or_redirect()?;
    let lines = state
        .privacy
        .requests_of(&v.tenant().config, &who.account.id)
        .await?
        .iter()
        .map(line)
        .collect();
    let (kind, details, errors) = form;
    let html = render(
        status,
        &MinePage {
            chrome: v.chrome("/account"),
            csrf: v.csrf().to_owned(),
            lines,
            kinds: kinds(),
            kind: kind.to_owned(),
            details: details.to_owned(),
            errors,
            made,
        },
    );
    Ok(v.respond(html))
}

pub(super) async fn mine(
    State(state): State<AppState>,
    v: Visitor,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, Failure> {
    let made = q.get("made").filter(|m| m.starts_with("RR-")).cloned();
    mine_page(&state, v, StatusCode::OK, ("", "", Vec::new()), made).await
}

pub(super) async fn make(
    State(state): State<AppState>,
    v: Visitor,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, Failure> {
    let who = v.signed_in_or_redirect()?;
    v.check_csrf(&form)?;
    let (kind, details) = (field(&form, "kind"), field(&form, "details"));
    let Some(k) = Kind::parse(kind) else {
        let errors = vec![FieldError {
            field: "kind",
            message: "Choose what you are asking for".to_owned(),
        }];
        return mine_page(
            &state,
            v,
            StatusCode::UNPROCESSABLE_ENTITY,
            (kind, details, errors),
            None,
        )
        .await;
    };
    let name = format!("{} {}", who.account.first_name, who.account.last_name);
    let made = state
        .privacy
        .file_request(
            &v.tenant().config,
            &NewRequest {
                kind: k,
                channel: Channel::Online,
                account_id: Some(&who.account.id),
                requester_name: &name,
                requester_email: Some(&who.account.email),
                details,
                received_on: state.privacy.uk_today(),
                identity_known: true,
                by: &actor(who),
            },
        )
        .await;
    match made {
        Ok(row) => Ok(v.respond(
            Redirect::to(&format!(
                "/account/requests?made={}",
                privacy_engine::domain::rights::reference(&row.id)
            ))
            .into_response(),
        )),
        Err(PrivacyError::Invalid(problems)) => {
            mine_page(
                &state,
                v,
                StatusCode::UNPROCESSABLE_ENTITY,
                (kind, details, field_errors(problems)),
                None,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

/// The copy of a person's data, fetched once by them through the emailed link: a zip.
pub(super) async fn fetch_copy(
    State(state): State<AppState>,
    v: Visitor,
    Path((id, token)): Path<(String, String)>,
) -> Result<Response, Failure> {
    let who = v.signed_in_or_redirect()?;
    match state
        .privacy
        .fetch_bundle(&v.tenant().id, &id, &token, &who.account.id)
        .await
    {
        Ok(bytes) => {
            let name = format!(
                "attachment; filename=\"your-data-{}.zip\"",
                privacy_engine::domain::rights::reference(&id)
            );
            Ok((
                [
                    (http::header::CONTENT_TYPE, "application/zip".to_owned()),
                    (http::header::CONTENT_DISPOSITION, name),
                ],
                bytes,
            )
                .into_response())
        }
        Err(PrivacyError::Refused { code, message }) => {
            Err(Failure::new(StatusCode::GONE, code, message))
        }
        Err(e) => Err(e.into()),
    }
}
