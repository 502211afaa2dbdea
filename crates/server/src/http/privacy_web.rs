//! The privacy notice readers see: `/privacy` (the current published version),
//! `/privacy/versions` (every version, each still readable at `/privacy/versions/{n}`), and
//! the same as JSON for machines (`/privacy.json`, `/privacy/versions/{n}.json`).
//!
//! Each version is compiled by the privacy engine from the tenant configuration it put in
//! force, so what a version says is what the platform did while it was current. A tenant
//! that has never published (its notice lacks an item the ICO's checklist requires) shows
//! its notice as provisional, with what is missing.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use http::StatusCode;
use privacy_engine::domain::notice::{self, CheckItem, ICO, Notice, Prose, Rendered};
use privacy_engine::store::notice::{Listed, Published};
use serde::Serialize;
use tenant_router::Tenant;

use crate::http::auth::{Failure, Visitor};
use crate::http::page::{Chrome, render};
use crate::http::state::AppState;

/// The notice routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/privacy", get(page))
        .route("/privacy.json", get(json))
        .route("/privacy/versions", get(version_list))
        .route("/privacy/versions/{file}", get(one_version))
        .route("/privacy/acknowledge", post(acknowledge))
        .route(
            "/unsubscribe/{token}",
            get(unsubscribe_form).post(unsubscribe),
        )
}

/// How a shown notice stands.
pub(crate) enum Standing {
    /// The current published version.
    Current(Published),
    /// An older published version, superseded by `current`.
    Superseded(Published, i32),
    /// Never published: compiled from the running configuration, with what is missing.
    Provisional(Vec<CheckItem>),
    /// A draft an administrator is previewing.
    Preview,
}

#[derive(Template)]
#[template(path = "privacy.html")]
pub(crate) struct NoticePage<'a> {
    pub(crate) chrome: Chrome<'a>,
    pub(crate) n: Notice,
    pub(crate) introduction_html: String,
    pub(crate) more_html: String,
    pub(crate) ico: &'static str,
    /// "Version 3, published 1 December 2026", or empty.
    pub(crate) published: String,
    pub(crate) version: Option<i32>,
    pub(crate) superseded_by: Option<i32>,
    pub(crate) missing: Vec<CheckItem>,
    pub(crate) preview: bool,
    pub(crate) summary: String,
}

pub(crate) fn notice_page<'a>(
    chrome: Chrome<'a>,
    r: Rendered,
    standing: Standing,
) -> NoticePage<'a> {
    let (version, published, superseded_by, missing, preview, summary) = match &standing {
        Standing::Current(p) | Standing::Superseded(p, _) => (
            Some(p.version),
            format!(
                "Version {}, published {}",
                p.version,
                catalogue::domain::uk::uk_day(p.published_at)
            ),
            match standing {
                Standing::Superseded(_, c) => Some(c),
                _ => None,
            },
            Vec::new(),
            false,
            p.summary.clone(),
        ),
        Standing::Provisional(m) => (None, String::new(), None, m.clone(), false, String::new()),
        Standing::Preview => (None, String::new(), None, Vec::new(), true, String::new()),
    };
    NoticePage {
        chrome,
        n: r.notice,
        introduction_html: r.introduction_html,
        more_html: r.more_html,
        ico: ICO,
        published,
        version,
        superseded_by,
        missing,
        preview,
        summary,
    }
}

/// The latest published version.
async fn current(state: &AppState, t: &Tenant) -> Result<Option<Published>, Failure> {
    state
        .privacy
        .version_in_force(&t.id)
        .await
        .map_err(|e| Failure::internal(&e))
}

/// The notice in force: the latest published version, or the running configuration's
/// (provisional) when none is published.
pub(crate) async fn in_force(
    state: &AppState,
    t: &Tenant,
) -> Result<(Rendered, Standing), Failure> {
    Ok(match current(state, t).await? {
        Some(p) => (p.rendered.clone(), Standing::Current(p)),
        None => {
            let r = notice::render(&t.config, &Prose::default());
            let missing = notice::checklist(&r.notice)
                .into_iter()
                .filter(|c| !c.met)
                .collect();
            (r, Standing::Provisional(missing))
        }
    })
}

/// The notice version a consent or a notice sent is recorded under: the published version's
/// number, or (never published) `provisional:` and the running configuration's fingerprint.
pub(crate) async fn version_in_force(state: &AppState, t: &Tenant) -> Result<String, Failure> {
    match current(state, t).await? {
        Some(p) => Ok(p.version.to_string()),
        None => Ok(privacy_engine::effects::provisional_version(&t.config)?),
    }
}

async fn page(State(state): State<AppState>, v: Visitor) -> Result<Response, Failure> {
    let (r, standing) = in_force(&state, v.tenant()).await?;
    let html = render(
        StatusCode::OK,
        &notice_page(v.chrome("/privacy"), r, standing),
    );
    Ok(v.respond(html))
}

/// A notice for machines.
#[derive(Serialize)]
struct NoticeJson {
    /// `published`, `superseded` or `provisional`.
    status: &'static str,
    /// The version number (none while provisional).
    version: Option<i32>,
    published_at: Option<chrono::DateTime<chrono::Utc>>,
    summary: Option<String>,
    notice: Notice,
    introduction_html: String,
    more_html: String,
    /// What the ICO's checklist still needs (provisional notices only).
    missing: Vec<CheckItem>,
    ico: &'static str,
}

fn to_json(r: Rendered, standing: Standing) -> Response {
    let (status, p, missing) = match standing {
        Standing::Current(p) => ("published", Some(p), Vec::new()),
        Standing::Superseded(p, _) => ("superseded", Some(p), Vec::new()),
        Standing::Provisional(m) => ("provisional", None, m),
        Standing::Preview => ("draft", None, Vec::new()),
    };
    Json(NoticeJson {
        status,
        version: p.as_ref().map(|p| p.version),
        published_at: p.as_ref().map(|p| p.published_at),
        summary: p.map(|p| p.summary),
        notice: r.notice,
        introduction_html: r.introduction_html,
        more_html: r.more_html,
        missing,
        ico: ICO,
    })
    .into_response()
}

async fn json(State(state): State<AppState>, t: Tenant) -> Result<Response, Failure> {
    let (r, standing) = in_force(&state, &t).await?;
    Ok(to_json(r, standing))
}

#[derive(Template)]
#[template(path = "privacy_versions.html")]
struct VersionsPage<'a> {
    chrome: Chrome<'a>,
    versions: Vec<(Listed, String)>,
}

async fn version_list(State(state): State<AppState>, v: Visitor) -> Result<Response, Failure> {
    let list = state
        .privacy
        .versions(&v.tenant().id)
        .await
        .map_err(|e| Failure::internal(&e))?;
    let versions = list
        .into_iter()
        .map(|l| {
            let day = catalogue::domain::uk::uk_day(l.published_at);
            (l, day)
        })
        .collect();
    let html = render(
        StatusCode::OK,
        &VersionsPage {
            chrome: v.chrome("/privacy"),
            versions,
        },
    );
    Ok(v.respond(html))
}

fn no_such_version() -> Failure {
    Failure::new(
        StatusCode::NOT_FOUND,
        "not_found",
        "There is no such version of the privacy notice.",
    )
}

async fn one_version(
    State(state): State<AppState>,
    v: Visitor,
    Path(file): Path<String>,
) -> Result<Response, Failure> {
    let (number, as_json) = match file.strip_suffix(".json") {
        Some(n) => (n, true),
        None => (file.as_str(), false),
    };
    let number: i32 = number.parse().map_err(|_| no_such_version())?;
    let (p, latest) = state
        .privacy
        .version(&v.tenant().id, number)
        .await
        .map_err(|e| Failure::internal(&e))?
        .ok_or_else(no_such_version)?;
    let r = p.rendered.clone();
    let standing = if latest > p.version {
        Standing::Superseded(p, latest)
    } else {
        Standing::Current(p)
    };
    if as_json {
        return Ok(to_json(r, standing));
    }
    let html = render(
        StatusCode::OK,
        &notice_page(v.chrome("/privacy"), r, standing),
    );
    Ok(v.respond(html))
}

/// Records that the signed-in person has read the announced version, and returns them to
/// the page they were on.
async fn acknowledge(
    State(state): State<AppState>,
    v: Visitor,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, Failure> {
    v.check_csrf(&form)?;
    let who = v.signed_in().ok_or_else(|| {
        Failure::new(
            StatusCode::UNAUTHORIZED,
            "sign_in_required",
            "Sign in to see this page.",
        )
    })?;
    let number: i32 = form
        .get("version")
        .and_then(|n| n.parse().ok())
        .ok_or_else(no_such_version)?;
    // Only a path on this site: never an address the form could point elsewhere.
    let back = crate::http::web::back_to(&form, "/")?;
    if !state
        .privacy
        .acknowledge(&v.tenant().id, &who.account.id, number)
        .await
        .map_err(|e| Failure::internal(&e))?
    {
        return Err(no_such_version());
    }
    let jar = v.jar().clone().add(crate::http::visitor::cookie(
        crate::http::visitor::NOTICE_ACK_COOKIE,
        number.to_string(),
        v.secure(),
    ));
    Ok((jar, Redirect::to(back)).into_response())
}

fn bad_link() -> Failure {
    Failure::new(
        StatusCode::NOT_FOUND,
        "bad_link",
        "This link is not valid. Copy the whole link from the email, or change your choices in your account.",
    )
}

/// An unsubscribe link opens a page with one button: mail scanners fetch links, and must
/// not withdraw anyone's choice.
async fn unsubscribe_form(
    State(state): State<AppState>,
    v: Visitor,
    Path(token): Path<String>,
) -> Result<Response, Failure> {
    let link = state
        .identity
        .read_unsubscribe_token(&v.tenant().config, &token)
        .map_err(|_| bad_link())?;
    if !link.still_asked {
        return Ok(not_asked(
            v,
            link.purpose,
            link.label,
            "Nothing has changed in your account.",
        ));
    }
    let label = link.label;
    let body = format!("Select the button to stop: “{label}”. You do not need to sign in.");
    Ok(crate::http::auth::confirm(
        v,
        "Stop these emails",
        &body,
        format!("/unsubscribe/{token}"),
        "Stop these emails",
    ))
}

/// Withdraws the choice the link names. No sign-in and no form token: the link itself is
/// the proof, so a mail program's one-click unsubscribe (RFC 8058) works too. A choice no
/// longer asked about is withdrawn as well (it stays withdrawn if it is asked again).
async fn unsubscribe(
    State(state): State<AppState>,
    v: Visitor,
    Path(token): Path<String>,
) -> Result<Response, Failure> {
    let version = version_in_force(&state, v.tenant()).await?;
    match state
        .identity
        .unsubscribe(&v.tenant().config, &version, &token)
        .await
    {
        Ok(link) if link.still_asked => {
            let body = format!(
                "You will not get these emails any more: “{}”. You can change your choices in your account at any time.",
                link.label
            );
            Ok(crate::http::auth::message(
                v,
                StatusCode::OK,
                "You have unsubscribed",
                &body,
            ))
        }
        Ok(link) => Ok(not_asked(
            v,
            link.purpose,
            link.label,
            "Your choice not to get them is recorded, in case they become a choice again.",
        )),
        Err(identity::IdentityError::BadToken) => Err(bad_link()),
        Err(e) => Err(e.into()),
    }
}

/// A genuine link for emails the portal no longer asks about, and why (not "this link is
/// not valid", which would send someone looking for a better copy); `then` says what the
/// request did.
fn not_asked(v: Visitor, purpose: &str, label: &str, then: &str) -> Response {
    let config = &v.tenant().config;
    let why = if purpose == identity::preferences::NOTICE_CHANGES {
        format!(
            "{} now emails everyone with an account and a confirmed email address when its \
             privacy notice changes significantly, as the privacy notice says, so these \
             emails are no longer a choice.",
            config.short_name
        )
    } else {
        format!(
            "{} no longer sends these emails, so there is nothing to stop.",
            config.short_name
        )
    };
    crate::http::auth::message(
        v,
        StatusCode::OK,
        "These emails are no longer a choice",
        &format!("“{label}”: {why} {then}"),
    )
}
