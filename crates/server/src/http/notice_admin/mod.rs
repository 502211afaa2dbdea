//! Tenant administrators prepare the next privacy notice (`/manage/privacy`): controller
//! and DPO details, their own prose, and the retention rules. Every change goes into the
//! tenant's one draft and is audited; the draft can be previewed and compared with the
//! published version, and publishing it (refused while the ICO's checklist is unmet) puts
//! its rules in force at the same moment the notice that states them appears. So the
//! published notice can never state a period the platform does not apply.
//!
//! Another tenant's administrator, or anyone who is not a tenant administrator, gets 404.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use http::StatusCode;
use identity::SignedIn;
use identity::domain::signup::FieldError;
use privacy_engine::domain::notice::{self, CheckItem, Prose};
use privacy_engine::notices::Working;
use privacy_engine::store::notice::{Publication, PublishError};
use tenant_router::TenantConfig;

use crate::http::auth::{Failure, Visitor};
use crate::http::page::{Chrome, render};
use crate::http::privacy_web::{Standing, notice_page};
use crate::http::state::AppState;

mod audit;
mod record;
mod rules;

/// The notice-editing routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/manage/privacy", get(overview))
        .route(
            "/manage/privacy/details",
            get(details_form).post(save_details),
        )
        .route("/manage/privacy/prose", get(prose_form).post(save_prose))
        .route("/manage/privacy/retention", get(rules::rules))
        .route(
            "/manage/privacy/retention/{rule}",
            get(rules::rule_form).post(rules::save_rule),
        )
        .route(
            "/manage/privacy/retention/{rule}/remove",
            post(rules::remove_rule),
        )
        .route("/manage/privacy/preview", get(preview))
        .route("/manage/privacy/changes", get(changes))
        .route("/manage/privacy/publish", post(publish))
        .route("/manage/privacy/discard", post(discard))
        .route("/manage/privacy/audit", get(audit::audit_check))
        .route("/manage/privacy/record", get(record::page))
        .route("/manage/privacy/record.csv", get(record::csv))
}

fn not_found() -> Failure {
    Failure::new(
        StatusCode::NOT_FOUND,
        "not_found",
        "Page not found. If you typed the web address, check it is correct.",
    )
}

fn internal(e: impl std::fmt::Display) -> Failure {
    Failure::internal(&e)
}

/// The signed-in tenant administrator, or 404 for anyone else.
async fn admin<'v>(state: &AppState, v: &'v Visitor) -> Result<&'v SignedIn, Failure> {
    let who = v.signed_in().ok_or_else(|| {
        Failure::new(
            StatusCode::UNAUTHORIZED,
            "sign_in_required",
            "Sign in to see this page.",
        )
    })?;
    if state.identity.is_tenant_admin(&v.tenant().id, who).await? {
        Ok(who)
    } else {
        Err(not_found())
    }
}

fn actor(who: &SignedIn) -> String {
    format!("account:{}", who.account.id)
}

async fn working(state: &AppState, v: &Visitor) -> Result<Working, Failure> {
    state
        .privacy
        .working(&v.tenant().config)
        .await
        .map_err(internal)
}

/// Applies one edit to the draft (see [`privacy_engine::Privacy::change_draft`]).
async fn change(
    state: &AppState,
    v: &Visitor,
    who: &SignedIn,
    describe: &str,
    edit: impl FnOnce(&mut TenantConfig, &mut Prose) -> Vec<FieldError>,
) -> Result<Result<(), Vec<FieldError>>, Failure> {
    state
        .privacy
        .change_draft(
            &v.tenant().config,
            &actor(who),
            describe,
            edit,
            |field, message| FieldError { field, message },
        )
        .await
        .map_err(internal)
}

fn field(form: &HashMap<String, String>, name: &str) -> String {
    form.get(name)
        .map(|s| s.trim().to_owned())
        .unwrap_or_default()
}

/// The non-empty lines of a textarea, trimmed.
fn lines(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

fn optional(form: &HashMap<String, String>, name: &str) -> Option<String> {
    Some(field(form, name)).filter(|s| !s.is_empty())
}

/// What a form page shows: the values entered, and what is wrong with them.
struct FormFields {
    values: HashMap<String, String>,
    errors: Vec<FieldError>,
}

impl FormFields {
    fn value(&self, name: &str) -> &str {
        self.values.get(name).map_or("", String::as_str)
    }

    fn error(&self, name: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|e| e.field == name)
            .map(|e| e.message.as_str())
    }
}

// ---------------------------------------------------------------------------------------
// Overview

#[derive(Template)]
#[template(path = "privacy_admin/overview.html")]
struct OverviewPage<'a> {
    chrome: Chrome<'a>,
    csrf: String,
    published: Option<(i32, String)>,
    draft: Option<(Vec<String>, String)>,
    checklist: Vec<CheckItem>,
    ready: bool,
    just_published: Option<i32>,
    errors: Vec<FieldError>,
}

async fn overview_page(
    state: &AppState,
    v: &Visitor,
    status: StatusCode,
    just_published: Option<i32>,
    errors: Vec<FieldError>,
) -> Result<Response, Failure> {
    let w = working(state, v).await?;
    let rendered = notice::render(&w.config, &w.prose);
    let checklist = notice::checklist(&rendered.notice);
    let page = OverviewPage {
        chrome: v.chrome("/manage/privacy"),
        csrf: v.csrf().to_owned(),
        ready: checklist.iter().all(|c| c.met),
        checklist,
        published: w
            .published
            .map(|p| (p.version, catalogue::domain::uk::uk_day(p.published_at))),
        draft: w.draft.map(|d| {
            (
                d.changes,
                format!(
                    "{} at {}",
                    catalogue::domain::uk::uk_day(d.updated_at),
                    catalogue::domain::uk::uk_clock(d.updated_at)
                ),
            )
        }),
        just_published,
        errors,
    };
    Ok(render(status, &page))
}

#[derive(serde::Deserialize)]
struct OverviewQuery {
    published: Option<i32>,
}

async fn overview(
    State(state): State<AppState>,
    v: Visitor,
    Query(q): Query<OverviewQuery>,
) -> Result<Response, Failure> {
    admin(&state, &v).await?;
    let html = overview_page(&state, &v, StatusCode::OK, q.published, Vec::new()).await?;
    Ok(v.respond(html))
}

// ---------------------------------------------------------------------------------------
// Controller and DPO details

#[derive(Template)]
#[template(path = "privacy_admin/details.html")]
struct DetailsPage<'a> {
    chrome: Chrome<'a>,
    csrf: String,
    form: FormFields,
    errors: Vec<FieldError>,
}

async fn details_form(State(state): State<AppState>, v: Visitor) -> Result<Response, Failure> {
    admin(&state, &v).await?;
    let c = working(&state, &v).await?.config;
    let values = HashMap::from([
        ("controller_name".to_owned(), c.controller.name.clone()),
        (
            "ico_registration".to_owned(),
            c.controller.ico_registration.clone().unwrap_or_default(),
        ),
        ("address".to_owned(), c.controller.address.join("\n")),
        ("dpo_address".to_owned(), c.dpo.address.join("\n")),
        ("dpo_name".to_owned(), c.dpo.name.clone()),
        (
            "dpo_email".to_owned(),
            c.dpo.email.clone().unwrap_or_default(),
        ),
        (
            "dpo_phone".to_owned(),
            c.dpo.phone.clone().unwrap_or_default(),
        ),
    ]);
    let html = render(
        StatusCode::OK,
        &DetailsPage {
            chrome: v.chrome("/manage/privacy"),
            csrf: v.csrf().to_owned(),
            form: FormFields {
                values,
                errors: Vec::new(),
            },
            errors: Vec::new(),
        },
    );
    Ok(v.respond(html))
}

async fn save_details(
    State(state): State<AppState>,
    v: Visitor,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, Failure> {
    v.check_csrf(&form)?;
    let who = admin(&state, &v).await?;
    let outcome = change(
        &state,
        &v,
        who,
        "Changed the controller and DPO details",
        |c, _| {
            let mut errors = Vec::new();
            let name = field(&form, "controller_name");
            if name.is_empty() {
                errors.push(FieldError {
                    field: "controller_name",
                    message: "Enter the controller's name".to_owned(),
                });
            }
            let dpo = field(&form, "dpo_name");
            if dpo.is_empty() {
                errors.push(FieldError {
                    field: "dpo_name",
                    message: "Enter the data protection officer's name".to_owned(),
                });
            }
            let email = optional(&form, "dpo_email");
            if email
                .as_deref()
                .is_some_and(|e| !e.contains('@') || e.contains(' '))
            {
                errors.push(FieldError {
                    field: "dpo_email",
                    message:
                        "Enter an email address in the correct format, like dpo@council.gov.uk"
                            .to_owned(),
                });
            }
            c.controller.name = name;
            c.controller.ico_registration = optional(&form, "ico_registration");
            c.controller.address = lines(&field(&form, "address"));
            c.dpo.name = dpo;
            c.dpo.email = email;
            c.dpo.phone = optional(&form, "dpo_phone");
            c.dpo.address = lines(&field(&form, "dpo_address"));
            errors
        },
    )
    .await?;
    let html = match outcome {
        Ok(()) => return Ok(v.respond(Redirect::to("/manage/privacy").into_response())),
        Err(errors) => render(
            StatusCode::UNPROCESSABLE_ENTITY,
            &DetailsPage {
                chrome: v.chrome("/manage/privacy"),
                csrf: v.csrf().to_owned(),
                errors: errors.clone(),
                form: FormFields {
                    values: form,
                    errors,
                },
            },
        ),
    };
    Ok(v.respond(html))
}

// ---------------------------------------------------------------------------------------
// Prose

#[derive(Template)]
#[template(path = "privacy_admin/prose.html")]
struct ProsePage<'a> {
    chrome: Chrome<'a>,
    csrf: String,
    /// `(field, label, text)`.
    sections: Vec<(&'static str, &'static str, String)>,
    form: FormFields,
    errors: Vec<FieldError>,
    max: usize,
}

fn prose_sections(introduction: String, more: String) -> Vec<(&'static str, &'static str, String)> {
    vec![
        ("introduction", "Introduction", introduction),
        ("more", "More information", more),
    ]
}

async fn prose_form(State(state): State<AppState>, v: Visitor) -> Result<Response, Failure> {
    admin(&state, &v).await?;
    let p = working(&state, &v).await?.prose;
    let html = render(
        StatusCode::OK,
        &ProsePage {
            chrome: v.chrome("/manage/privacy"),
            csrf: v.csrf().to_owned(),
            sections: prose_sections(p.introduction, p.more),
            form: FormFields {
                values: HashMap::new(),
                errors: Vec::new(),
            },
            errors: Vec::new(),
            max: notice::PROSE_MAX,
        },
    );
    Ok(v.respond(html))
}

async fn save_prose(
    State(state): State<AppState>,
    v: Visitor,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, Failure> {
    v.check_csrf(&form)?;
    let who = admin(&state, &v).await?;
    let introduction = field(&form, "introduction");
    let more = field(&form, "more");
    let outcome = change(&state, &v, who, "Changed the notice's own words", |_, p| {
        p.introduction.clone_from(&introduction);
        p.more.clone_from(&more);
        Vec::new()
    })
    .await?;
    let html = match outcome {
        Ok(()) => return Ok(v.respond(Redirect::to("/manage/privacy").into_response())),
        Err(errors) => render(
            StatusCode::UNPROCESSABLE_ENTITY,
            &ProsePage {
                chrome: v.chrome("/manage/privacy"),
                csrf: v.csrf().to_owned(),
                sections: prose_sections(introduction, more),
                errors: errors.clone(),
                form: FormFields {
                    values: HashMap::new(),
                    errors,
                },
                max: notice::PROSE_MAX,
            },
        ),
    };
    Ok(v.respond(html))
}

// ---------------------------------------------------------------------------------------
// Preview, changes, publish, discard

async fn preview(State(state): State<AppState>, v: Visitor) -> Result<Response, Failure> {
    admin(&state, &v).await?;
    let w = working(&state, &v).await?;
    let r = notice::render(&w.config, &w.prose);
    let html = render(
        StatusCode::OK,
        &notice_page(v.chrome("/manage/privacy"), r, Standing::Preview),
    );
    Ok(v.respond(html))
}

#[derive(Template)]
#[template(path = "privacy_admin/changes.html")]
struct ChangesPage<'a> {
    chrome: Chrome<'a>,
    against: Option<i32>,
    /// `(kind, line)`, kind `added` or `removed`.
    lines: Vec<(&'static str, String)>,
}

async fn changes(State(state): State<AppState>, v: Visitor) -> Result<Response, Failure> {
    admin(&state, &v).await?;
    let w = working(&state, &v).await?;
    let new = notice::lines(&notice::render(&w.config, &w.prose));
    let old = w
        .published
        .as_ref()
        .map(|p| notice::lines(&p.rendered))
        .unwrap_or_default();
    let diff = similar::capture_diff_slices(similar::Algorithm::Myers, &old, &new);
    let mut lines = Vec::new();
    for op in diff {
        for change in op.iter_changes(&old, &new) {
            match change.tag() {
                similar::ChangeTag::Delete => lines.push(("removed", change.value().clone())),
                similar::ChangeTag::Insert => lines.push(("added", change.value().clone())),
                similar::ChangeTag::Equal => {}
            }
        }
    }
    let html = render(
        StatusCode::OK,
        &ChangesPage {
            chrome: v.chrome("/manage/privacy"),
            against: w.published.map(|p| p.version),
            lines,
        },
    );
    Ok(v.respond(html))
}

async fn publish(
    State(state): State<AppState>,
    v: Visitor,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, Failure> {
    v.check_csrf(&form)?;
    let who = admin(&state, &v).await?;
    let by = actor(who);
    let summary = field(&form, "summary");
    if summary.chars().count() > 500 {
        let errors = vec![FieldError {
            field: "summary",
            message: "Keep the summary to 500 characters or fewer".to_owned(),
        }];
        let html =
            overview_page(&state, &v, StatusCode::UNPROCESSABLE_ENTITY, None, errors).await?;
        return Ok(v.respond(html));
    }
    let significant = field(&form, "significant") == "yes";
    let outcome = state
        .privacy
        .publish(
            &v.tenant().id,
            Publication {
                by: &by,
                significant,
                summary: &summary,
            },
            v.base_url(),
        )
        .await;
    let published = match outcome {
        Ok(done) => done.published,
        Err(e) => {
            let (status, errors) = match e {
                PublishError::NoDraft => (
                    StatusCode::CONFLICT,
                    vec![FieldError {
                        field: "publish",
                        message: "There are no changes to publish".to_owned(),
                    }],
                ),
                PublishError::Stale(n) => (
                    StatusCode::CONFLICT,
                    vec![FieldError {
                        field: "publish",
                        message: format!(
                            "Version {n} was published after this draft was started: discard the draft and make the changes again"
                        ),
                    }],
                ),
                PublishError::Incomplete(missing) => (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    missing
                        .into_iter()
                        .map(|m| FieldError {
                            field: "checklist",
                            message: format!("{}: {}", m.item, m.fix),
                        })
                        .collect(),
                ),
                PublishError::HostnameTaken(hosts) => (
                    StatusCode::CONFLICT,
                    vec![FieldError {
                        field: "publish",
                        message: format!(
                            "Another council's portal already answers to {hosts}: discard this draft, then ask the platform operator to correct this council's hostnames"
                        ),
                    }],
                ),
                PublishError::Invalid(problems) => (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    problems
                        .into_iter()
                        .map(|p| FieldError {
                            field: "publish",
                            message: format!(
                                "This draft's settings fail a check the portal makes ({p}): discard the draft, or ask the platform operator to correct this council's file"
                            ),
                        })
                        .collect(),
                ),
                PublishError::Privacy(e) => return Err(internal(e)),
            };
            let html = overview_page(&state, &v, status, None, errors).await?;
            return Ok(crate::http::visitor::with_code(
                v.respond(html),
                if status == StatusCode::CONFLICT {
                    "notice_not_publishable"
                } else {
                    "notice_incomplete"
                },
            ));
        }
    };
    // In force here at once; other replicas follow within seconds.
    crate::notices::reload_everywhere(&state)
        .await
        .map_err(internal)?;
    Ok(v.respond(
        Redirect::to(&format!("/manage/privacy?published={}", published.version)).into_response(),
    ))
}

async fn discard(
    State(state): State<AppState>,
    v: Visitor,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, Failure> {
    v.check_csrf(&form)?;
    let who = admin(&state, &v).await?;
    state
        .privacy
        .discard_draft(&v.tenant().id, &actor(who))
        .await
        .map_err(internal)?;
    Ok(v.respond(Redirect::to("/manage/privacy").into_response()))
}
