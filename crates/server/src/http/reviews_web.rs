//! Retention reviews over HTTP (`/manage/retention/reviews`), for privacy officers: the
//! records a review rule has reached, and the decision on each (keep, with a reason and
//! for how long; or delete). The use cases are the privacy engine's
//! ([`privacy_engine::reviews`]); anyone else gets 404.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse as _, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use http::StatusCode;
use identity::domain::signup::FieldError;
use privacy_engine::PrivacyError;
use privacy_engine::domain::calendar::long_date;
use privacy_engine::reviews::{Review, ReviewDecision};
use tenant_router::config::{Period, PeriodUnit};

use crate::http::auth::{Failure, Visitor, error_for};
use crate::http::error::not_found;
use crate::http::page::{Chrome, render};
use crate::http::rights_web::{actor, field, field_errors, officer};
use crate::http::state::AppState;

/// The routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/manage/retention/reviews", get(list))
        .route("/manage/retention/reviews/{id}", get(detail).post(decide))
}

struct Line {
    id: String,
    record: String,
    rule: String,
    due: String,
    status: &'static str,
}

fn line(r: &Review) -> Line {
    Line {
        id: r.row.id.clone(),
        record: r
            .record
            .clone()
            .unwrap_or_else(|| "A record that has since been deleted".to_owned()),
        rule: r.row.rule.clone(),
        due: long_date(r.row.due_on),
        status: match r.row.status.as_str() {
            "open" => "To decide",
            "kept" => "Kept",
            _ => "Deleted",
        },
    }
}

#[derive(Template)]
#[template(path = "reviews/list.html")]
struct ListPage<'a> {
    chrome: Chrome<'a>,
    rows: Vec<Line>,
    /// How many are open in all, and whether all are listed.
    waiting: i64,
    shown_all: bool,
    decided: bool,
}

#[derive(serde::Deserialize)]
struct ListQuery {
    decided: Option<String>,
}

async fn list(
    State(state): State<AppState>,
    v: Visitor,
    Query(q): Query<ListQuery>,
) -> Result<Response, Failure> {
    officer(&state, &v).await?;
    let (reviews, waiting) = state.privacy.reviews(&v.tenant().id).await?;
    let rows: Vec<Line> = reviews.iter().map(line).collect();
    let page = ListPage {
        chrome: v.chrome("/manage"),
        shown_all: i64::try_from(rows.len()).unwrap_or(i64::MAX) >= waiting,
        waiting,
        rows,
        decided: q.decided.is_some(),
    };
    let html = render(StatusCode::OK, &page);
    drop(page);
    Ok(v.respond(html))
}

#[derive(Template)]
#[template(path = "reviews/detail.html")]
struct DetailPage<'a> {
    chrome: Chrome<'a>,
    csrf: String,
    line: Line,
    open: bool,
    reason: Option<String>,
    keep_until: Option<String>,
    values: HashMap<String, String>,
    errors: Vec<FieldError>,
}

impl DetailPage<'_> {
    fn value(&self, name: &str) -> &str {
        self.values.get(name).map_or("", String::as_str)
    }

    fn error(&self, name: &str) -> Option<String> {
        error_for(&self.errors, name)
    }
}

async fn detail_page(
    state: &AppState,
    v: Visitor,
    id: &str,
    values: HashMap<String, String>,
    errors: Vec<FieldError>,
) -> Result<Response, Failure> {
    let review = state
        .privacy
        .review(&v.tenant().id, id)
        .await?
        .ok_or_else(not_found)?;
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = DetailPage {
        chrome: v.chrome("/manage"),
        csrf: v.csrf().to_owned(),
        line: line(&review),
        open: review.row.status == "open",
        reason: review.row.reason.clone(),
        keep_until: review.row.keep_until.map(long_date),
        values,
        errors,
    };
    let html = render(status, &page);
    drop(page);
    Ok(v.respond(html))
}

async fn detail(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<String>,
) -> Result<Response, Failure> {
    officer(&state, &v).await?;
    detail_page(&state, v, &id, HashMap::new(), Vec::new()).await
}

/// The decision in the form, or what is wrong with it.
fn decision_of(form: &HashMap<String, String>) -> Result<ReviewDecision, Vec<FieldError>> {
    match field(form, "decision") {
        "dispose" => Ok(ReviewDecision::Dispose),
        "keep" => {
            let unit = match field(form, "keep_unit") {
                "m" => Some(PeriodUnit::Months),
                "y" => Some(PeriodUnit::Years),
                _ => None,
            };
            let count = field(form, "keep_count").parse::<u32>().ok();
            match (count, unit) {
                (Some(n), Some(u)) => Ok(ReviewDecision::Keep {
                    reason: field(form, "reason").to_owned(),
                    for_: Period::new(n, u),
                }),
                _ => Err(vec![FieldError {
                    field: "keep_count",
                    message: "Enter for how long to keep it, as a whole number of months or years"
                        .to_owned(),
                }]),
            }
        }
        _ => Err(vec![FieldError {
            field: "decision",
            message: "Choose whether to keep the record or delete it".to_owned(),
        }]),
    }
}

async fn decide(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, Failure> {
    let who = officer(&state, &v).await?;
    v.check_csrf(&form)?;
    let decision = match decision_of(&form) {
        Ok(d) => d,
        Err(errors) => return detail_page(&state, v, &id, form, errors).await,
    };
    match state
        .privacy
        .decide_review(&v.tenant().config, &id, &decision, &actor(who))
        .await
    {
        // Back to the list: a deleted account takes its reviews with it.
        Ok(_) => Ok(Redirect::to("/manage/retention/reviews?decided=1").into_response()),
        Err(PrivacyError::Invalid(problems)) => {
            detail_page(&state, v, &id, form, field_errors(problems)).await
        }
        Err(PrivacyError::Refused {
            code: "no_such_review",
            ..
        }) => Err(not_found()),
        Err(e) => Err(e.into()),
    }
}
