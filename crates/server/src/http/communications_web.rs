//! Newsletters and marketing emails over HTTP (`/manage/communications`), for tenant
//! administrators: write one (plain text, previewed as it will be sent), keep it as a draft,
//! and send it to exactly those who chose to get that kind of email. The use cases are
//! the privacy engine's ([`privacy_engine::communications`]); anyone else gets 404, and a
//! tenant without a newsletter has nothing here.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse as _, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use http::StatusCode;
use identity::SignedIn;
use identity::domain::signup::FieldError;
use privacy_engine::PrivacyError;
use privacy_engine::communications::{CommunicationRow, Composed, purposes};
use privacy_engine::domain::calendar::long_moment;

use crate::http::auth::{Failure, Visitor, error_for};
use crate::http::error::not_found;
use crate::http::page::{Chrome, render};
use crate::http::rights_web::{actor, field, field_errors};
use crate::http::state::AppState;

/// The routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/manage/communications", get(list).post(create))
        .route("/manage/communications/new", get(new_form))
        .route("/manage/communications/{id}", get(detail).post(update))
        .route("/manage/communications/{id}/send", post(send))
}

/// The signed-in tenant administrator of a tenant that sends newsletters, or 404.
async fn staff<'v>(state: &AppState, v: &'v Visitor) -> Result<&'v SignedIn, Failure> {
    let who = v.signed_in_or_redirect()?;
    if !purposes(&v.tenant().config).is_empty()
        && state.identity.is_tenant_admin(&v.tenant().id, who).await?
    {
        Ok(who)
    } else {
        Err(not_found())
    }
}

fn purpose_label(v: &Visitor, purpose: &str) -> &'static str {
    purposes(&v.tenant().config)
        .into_iter()
        .find(|(p, _)| *p == purpose)
        .map_or("Email", |(_, l)| l)
}

#[derive(Template)]
#[template(path = "communications/list.html")]
struct ListPage<'a> {
    chrome: Chrome<'a>,
    /// (id, subject, kind, status line).
    rows: Vec<(String, String, &'static str, String)>,
}

async fn list(State(state): State<AppState>, v: Visitor) -> Result<Response, Failure> {
    staff(&state, &v).await?;
    let rows = state
        .privacy
        .communications(&v.tenant().id)
        .await?
        .into_iter()
        .map(|c| {
            let status = match c.sent_at {
                Some(at) => format!(
                    "Sent {} to {} {}",
                    long_moment(at),
                    c.recipients,
                    if c.recipients == 1 {
                        "person"
                    } else {
                        "people"
                    }
                ),
                None => "Draft".to_owned(),
            };
            (c.id, c.subject, purpose_label(&v, &c.purpose), status)
        })
        .collect();
    let page = ListPage {
        chrome: v.chrome("/manage"),
        rows,
    };
    let html = render(StatusCode::OK, &page);
    drop(page);
    Ok(v.respond(html))
}

#[derive(Template)]
#[template(path = "communications/form.html")]
struct FormPage<'a> {
    chrome: Chrome<'a>,
    csrf: String,
    /// `None` for a new email.
    id: Option<String>,
    purposes: Vec<(&'static str, &'static str)>,
    values: HashMap<String, String>,
    errors: Vec<FieldError>,
    /// The draft's text as it will be sent (plain text), the number it would go to now,
    /// whether it was sent (then nothing can change), and when.
    preview: Option<(String, usize, bool, String)>,
    /// Sent: nothing can change.
    locked: bool,
}

impl FormPage<'_> {
    fn value(&self, name: &str) -> &str {
        self.values.get(name).map_or("", String::as_str)
    }

    fn error(&self, name: &str) -> Option<String> {
        error_for(&self.errors, name)
    }
}

fn form_page(
    v: Visitor,
    id: Option<String>,
    values: HashMap<String, String>,
    errors: Vec<FieldError>,
    preview: Option<(String, usize, bool, String)>,
) -> Response {
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = FormPage {
        chrome: v.chrome("/manage"),
        csrf: v.csrf().to_owned(),
        id,
        purposes: purposes(&v.tenant().config),
        values,
        errors,
        locked: preview.as_ref().is_some_and(|p| p.2),
        preview,
    };
    let html = render(status, &page);
    drop(page);
    v.respond(html)
}

async fn new_form(State(state): State<AppState>, v: Visitor) -> Result<Response, Failure> {
    staff(&state, &v).await?;
    Ok(form_page(v, None, HashMap::new(), Vec::new(), None))
}

fn values_of(c: &CommunicationRow) -> HashMap<String, String> {
    HashMap::from([
        ("purpose".to_owned(), c.purpose.clone()),
        ("subject".to_owned(), c.subject.clone()),
        ("body".to_owned(), c.body.clone()),
    ])
}

async fn detail_page(
    state: &AppState,
    v: Visitor,
    id: &str,
    form: Option<HashMap<String, String>>,
    errors: Vec<FieldError>,
) -> Result<Response, Failure> {
    let (c, audience) = state
        .privacy
        .communication(&v.tenant().id, id)
        .await?
        .ok_or_else(not_found)?;
    let sent = c.sent_at.map_or_else(String::new, |at| {
        format!("Sent {} to {} people.", long_moment(at), c.recipients)
    });
    let preview = (c.body.clone(), audience, c.status == "sent", sent);
    let values = form.unwrap_or_else(|| values_of(&c));
    Ok(form_page(v, Some(c.id), values, errors, Some(preview)))
}

async fn detail(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<String>,
) -> Result<Response, Failure> {
    staff(&state, &v).await?;
    detail_page(&state, v, &id, None, Vec::new()).await
}

async fn create(
    State(state): State<AppState>,
    v: Visitor,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, Failure> {
    let by = actor(staff(&state, &v).await?);
    v.check_csrf(&form)?;
    save(&state, v, None, form, &by).await
}

async fn update(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, Failure> {
    let by = actor(staff(&state, &v).await?);
    v.check_csrf(&form)?;
    save(&state, v, Some(id), form, &by).await
}

async fn save(
    state: &AppState,
    v: Visitor,
    id: Option<String>,
    form: HashMap<String, String>,
    by: &str,
) -> Result<Response, Failure> {
    let composed = Composed {
        purpose: field(&form, "purpose"),
        subject: field(&form, "subject"),
        body: field(&form, "body"),
    };
    match state
        .privacy
        .save_communication(&v.tenant().config, id.as_deref(), &composed, by)
        .await
    {
        Ok(row) => Ok(Redirect::to(&format!("/manage/communications/{}", row.id)).into_response()),
        Err(PrivacyError::Invalid(problems)) => match id {
            Some(id) => detail_page(state, v, &id, Some(form), field_errors(problems)).await,
            None => Ok(form_page(v, None, form, field_errors(problems), None)),
        },
        Err(PrivacyError::Refused {
            code: "no_such_communication",
            ..
        }) => Err(not_found()),
        Err(e) => Err(e.into()),
    }
}

async fn send(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, Failure> {
    let who = staff(&state, &v).await?;
    v.check_csrf(&form)?;
    let cfg = &v.tenant().config;
    match state
        .privacy
        .send_communication(cfg, &id, &actor(who), &state.base_url(cfg))
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/manage/communications/{id}")).into_response()),
        Err(PrivacyError::Refused {
            code: "no_such_communication",
            ..
        }) => Err(not_found()),
        Err(e) => Err(e.into()),
    }
}
