//! Integrator access: tenant administrators make, list and revoke API tokens
//! (`/manage/tokens`), and the JSON API accepts them as `Authorization: Bearer`. The use
//! cases are identity's ([`identity::tokens`]); anyone but a tenant administrator gets 404.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse as _, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use http::request::Parts;
use http::{HeaderValue, Method, StatusCode, header};
use identity::domain::signup::FieldError;
use identity::tokens::{Access, Area, TokenRefusal, TokenView};
use identity::{IdentityError, SignedIn};
use tenant_router::Tenant;

use crate::http::auth::{Failure, Visitor, error_for};
use crate::http::error::not_found;
use crate::http::page::{Chrome, render};
use crate::http::state::AppState;

/// The routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/manage/tokens", get(list).post(create))
        .route("/manage/tokens/{id}/revoke", post(revoke))
}

/// The person an `Authorization: Bearer` token acts for, `None` without the header, or the
/// answer that refuses it: 401 (`invalid_token`) for a malformed, unknown, expired or
/// revoked token or one of another tenant, 403 (`token_scope`) beyond its scopes.
pub(crate) async fn bearer(
    state: &AppState,
    tenant: &Tenant,
    parts: &Parts,
) -> Result<Option<SignedIn>, Response> {
    // Only `Bearer` is ours: another scheme (a staging site's basic auth, say) is left alone.
    let Some(value) = parts.headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let Some(rest) = value.to_str().ok().and_then(|v| {
        v.get(..7)
            .filter(|s| s.eq_ignore_ascii_case("bearer "))
            .map(|_| &v[7..])
            .or_else(|| v.eq_ignore_ascii_case("bearer").then_some(""))
    }) else {
        return Ok(None);
    };
    // The API's description is public: a client that sends its token everywhere reads it too.
    if parts.uri.path() == "/api/openapi.json" {
        return Ok(None);
    }
    let secret = rest.trim();
    if secret.is_empty() {
        return Err(invalid());
    }
    let route = parts
        .extensions
        .get::<axum::extract::MatchedPath>()
        .map_or("(no route)", axum::extract::MatchedPath::as_str);
    let write = parts.method != Method::GET && parts.method != Method::HEAD;
    match state
        .identity
        .by_api_token(&tenant.id, secret, write, parts.uri.path(), route)
        .await
    {
        Ok(Ok(who)) => Ok(Some(who)),
        Ok(Err(TokenRefusal::Invalid)) => Err(invalid()),
        Ok(Err(TokenRefusal::OutOfScope)) => Err(Failure::new(
            StatusCode::FORBIDDEN,
            "token_scope",
            "This API token does not reach this part of the API, or may only read it.",
        )
        .into_response()),
        Err(e) => Err(Failure::from(e).into_response()),
    }
}

fn invalid() -> Response {
    let mut res = Failure::new(
        StatusCode::UNAUTHORIZED,
        "invalid_token",
        "The API token is not valid here: it is unknown, expired or revoked.",
    )
    .into_response();
    res.headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    res
}

/// The signed-in tenant administrator, or 404.
async fn admin<'v>(state: &AppState, v: &'v Visitor) -> Result<&'v SignedIn, Failure> {
    let who = v.signed_in_or_redirect()?;
    if state.identity.is_tenant_admin(&v.tenant().id, who).await? {
        Ok(who)
    } else {
        Err(not_found())
    }
}

/// One token as the list shows it.
struct Row {
    id: String,
    name: String,
    scopes: String,
    created: String,
    expires: String,
    last_used: String,
    live: bool,
    state: &'static str,
}

fn day(t: chrono::DateTime<chrono::Utc>) -> String {
    t.with_timezone(&chrono_tz::Europe::London)
        .format("%-d %B %Y")
        .to_string()
}

fn row(t: TokenView, now: chrono::DateTime<chrono::Utc>) -> Row {
    let state = match (t.revoked_at, t.expires_at <= now) {
        (Some(_), _) => "Revoked",
        (None, true) => "Expired",
        (None, false) => "Works",
    };
    Row {
        scopes: t
            .scopes
            .iter()
            .map(|s| {
                let how = match s.access {
                    Access::Read => "read",
                    Access::Write => "read and write",
                };
                format!("{}: {how}", s.area.label())
            })
            .collect::<Vec<_>>()
            .join("; "),
        created: day(t.created_at),
        expires: day(t.expires_at),
        last_used: t.last_used_at.map_or_else(|| "Never".to_owned(), day),
        live: state == "Works",
        state,
        id: t.id,
        name: t.name,
    }
}

#[derive(Template)]
#[template(path = "tokens/list.html")]
struct ListPage<'a> {
    chrome: Chrome<'a>,
    csrf: String,
    rows: Vec<Row>,
    areas: Vec<(&'static str, &'static str)>,
    form: HashMap<String, String>,
    errors: Vec<FieldError>,
    done: Option<&'static str>,
    /// The token just made, shown this once.
    made: Option<(String, String)>,
}

impl ListPage<'_> {
    fn value(&self, name: &str) -> &str {
        self.form.get(name).map_or("", String::as_str)
    }

    fn error_for(&self, field: &str) -> Option<String> {
        error_for(&self.errors, field)
    }

    /// A scope radio's id: the very first is `scopes`, where the error summary leads.
    fn radio_id(&self, area: &usize, key: &str, value: &str) -> String {
        if *area == 0 && value == "none" {
            "scopes".to_owned()
        } else {
            format!("scope_{key}_{value}")
        }
    }
}

/// What the list page shows besides the list.
struct Shown {
    status: StatusCode,
    form: HashMap<String, String>,
    errors: Vec<FieldError>,
    done: Option<&'static str>,
    made: Option<(String, String)>,
}

impl Shown {
    fn fresh(status: StatusCode) -> Self {
        Self {
            status,
            form: HashMap::from([("days".to_owned(), "90".to_owned())]),
            errors: Vec::new(),
            done: None,
            made: None,
        }
    }
}

async fn page(
    state: &AppState,
    v: Visitor,
    who: &SignedIn,
    shown: Shown,
) -> Result<Response, Failure> {
    let now = state.clock.now();
    let rows = state
        .identity
        .api_tokens(&v.tenant().id, who)
        .await
        .map_err(refused)?
        .into_iter()
        .map(|t| row(t, now))
        .collect();
    let html = render(
        shown.status,
        &ListPage {
            chrome: v.chrome("/manage"),
            csrf: v.csrf().to_owned(),
            rows,
            areas: Area::ALL.iter().map(|a| (a.as_str(), a.label())).collect(),
            form: shown.form,
            errors: shown.errors,
            done: shown.done,
            made: shown.made,
        },
    );
    Ok(v.respond(html))
}

fn refused(e: IdentityError) -> Failure {
    match e {
        IdentityError::NotTenantAdmin | IdentityError::BadToken => not_found(),
        other => other.into(),
    }
}

async fn list(
    State(state): State<AppState>,
    v: Visitor,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, Failure> {
    let who = admin(&state, &v).await?.clone();
    let mut shown = Shown::fresh(StatusCode::OK);
    shown.done = (q.get("done").map(String::as_str) == Some("revoked"))
        .then_some("The token is revoked: it no longer works.");
    page(&state, v, &who, shown).await
}

async fn create(
    State(state): State<AppState>,
    v: Visitor,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, Failure> {
    let who = admin(&state, &v).await?.clone();
    v.check_csrf(&form)?;
    match state
        .identity
        .create_api_token(&v.tenant().id, &who, &form)
        .await
    {
        Ok((made, secret)) => {
            let mut shown = Shown::fresh(StatusCode::CREATED);
            shown.made = Some((made.name, secret));
            page(&state, v, &who, shown).await
        }
        Err(IdentityError::Invalid(errors)) => {
            let shown = Shown {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                form,
                errors,
                done: None,
                made: None,
            };
            let res = page(&state, v, &who, shown).await?;
            Ok(crate::http::error::with_code(res, "invalid_token_form"))
        }
        Err(e) => Err(refused(e)),
    }
}

async fn revoke(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, Failure> {
    let who = admin(&state, &v).await?.clone();
    v.check_csrf(&form)?;
    state
        .identity
        .revoke_api_token(&v.tenant().id, &who, &id)
        .await
        .map_err(refused)?;
    Ok(Redirect::to("/manage/tokens?done=revoked").into_response())
}
