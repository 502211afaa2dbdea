//! The rights desk over JSON (`/api/v1/rights-requests`), for privacy officers: the queue,
//! one request with its history, and logging a request that came another way. The same use
//! cases as the pages ([`privacy_engine::rights`]); 401 without a session, 404 for anyone
//! who is not a privacy officer of the tenant and for another tenant's ids.

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse as _, Response};
use chrono::{DateTime, NaiveDate, Utc};
use http::{HeaderMap, StatusCode};
use privacy_engine::domain::rights::{Channel, Kind};
use privacy_engine::{NewRequest, RequestSummary};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{actor, officer};
use crate::http::auth::{Failure, Visitor};
use crate::http::error::{ApiError, ApiResult, require_json};
use crate::http::state::AppState;

/// A rights request as the desk sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct RequestOut {
    id: String,
    /// `RR-…`
    reference: String,
    /// `access`, `rectification`, `erasure`, `restriction`, `objection` or `portability`.
    kind: String,
    /// `online`, `email`, `phone`, `letter` or `in_person`.
    channel: String,
    requester_name: String,
    requester_email: Option<String>,
    details: String,
    received_on: NaiveDate,
    /// The day the answer is due; absent while the clock waits.
    due_on: Option<NaiveDate>,
    /// `overdue`, `due_soon`, `open`, `awaiting_identity`, `awaiting_clarification` or
    /// `closed`.
    status: &'static str,
    /// `completed`, `refused` or `withdrawn`, once closed.
    outcome: Option<String>,
    /// The privacy officer's account id.
    assignee: Option<String>,
    /// Whether it is linked to an account on the portal.
    has_account: bool,
}

impl From<RequestSummary> for RequestOut {
    fn from(s: RequestSummary) -> Self {
        Self {
            status: s.urgency.as_str(),
            reference: s.reference,
            has_account: s.row.account_id.is_some(),
            id: s.row.id,
            kind: s.row.kind,
            channel: s.row.channel,
            requester_name: s.row.requester_name,
            requester_email: s.row.requester_email,
            details: s.row.details,
            received_on: s.row.received_on,
            due_on: s.row.due_on,
            outcome: s.row.outcome,
            assignee: s.row.assignee,
        }
    }
}

/// One entry of a request's history.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventOut {
    occurred_at: DateTime<Utc>,
    /// `account:…` or `system`.
    actor: String,
    /// What happened, e.g. `paused`, `extended`, `completed`.
    action: String,
    note: Option<String>,
}

/// A request with its history, oldest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct RequestDetailOut {
    request: RequestOut,
    history: Vec<EventOut>,
}

/// The queue.
#[derive(Debug, Serialize, ToSchema)]
pub struct QueueOut {
    /// Most pressing first.
    items: Vec<RequestOut>,
}

/// Which requests.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QueueQuery {
    /// With `true`, closed requests too.
    closed: Option<bool>,
}

/// A request that came by email, telephone, letter or in person.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RequestIn {
    /// `access`, `rectification`, `erasure`, `restriction`, `objection` or `portability`.
    kind: String,
    /// `email`, `phone`, `letter` or `in_person`.
    channel: String,
    requester_name: String,
    /// Where to answer; an account's address links the request to it.
    requester_email: Option<String>,
    details: String,
    /// The day it arrived (today or within the last year).
    received_on: NaiveDate,
    /// Whether the requester's identity was checked: the clock then starts on receipt.
    identity_known: bool,
}

/// The privacy officer's queue: open requests, most pressing first (closed ones too with
/// `closed=true`).
#[utoipa::path(get, path = "/api/v1/rights-requests", params(QueueQuery),
    responses((status = 200, body = QueueOut), (status = 400, body = ApiError),
        (status = 401, body = ApiError), (status = 404, body = ApiError)))]
pub(super) async fn queue(
    State(state): State<AppState>,
    v: Visitor,
    q: Result<Query<QueueQuery>, QueryRejection>,
) -> ApiResult<Json<QueueOut>> {
    officer(&state, &v).await?;
    let Query(q) = q?;
    let items = state
        .privacy
        .requests(&v.tenant().config, q.closed.unwrap_or(false))
        .await?
        .into_iter()
        .map(RequestOut::from)
        .collect();
    Ok(Json(QueueOut { items }))
}

/// One request and its history.
#[utoipa::path(get, path = "/api/v1/rights-requests/{id}",
    params(("id" = String, Path, description = "The request's id")),
    responses((status = 200, body = RequestDetailOut), (status = 401, body = ApiError),
        (status = 404, body = ApiError)))]
pub(super) async fn request(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<String>,
) -> ApiResult<Json<RequestDetailOut>> {
    officer(&state, &v).await?;
    let (summary, events) = state.privacy.request(&v.tenant().config, &id).await?;
    Ok(Json(RequestDetailOut {
        request: summary.into(),
        history: events
            .into_iter()
            .map(|e| EventOut {
                occurred_at: e.occurred_at,
                actor: e.actor,
                action: e.action,
                note: e.note,
            })
            .collect(),
    }))
}

fn unknown(code: &'static str, message: &str) -> Failure {
    Failure::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
}

/// Logs a request that came another way; the requester is acknowledged by email where an
/// address is given. Answers 201 with the request.
#[utoipa::path(post, path = "/api/v1/rights-requests", request_body = RequestIn,
    responses((status = 201, body = RequestOut), (status = 400, body = ApiError),
        (status = 401, body = ApiError), (status = 404, body = ApiError),
        (status = 415, body = ApiError), (status = 422, body = ApiError)))]
pub(super) async fn log(
    State(state): State<AppState>,
    v: Visitor,
    headers: HeaderMap,
    body: Result<Json<RequestIn>, JsonRejection>,
) -> Result<Response, Failure> {
    let who = officer(&state, &v).await?;
    require_json(&headers)?;
    let Json(r) = body?;
    let kind = Kind::parse(&r.kind).ok_or_else(|| {
        unknown(
            "invalid_kind",
            "Give the kind as access, rectification, erasure, restriction, objection or portability.",
        )
    })?;
    let channel = Channel::parse(&r.channel)
        .filter(|c| Channel::LOGGED.contains(c))
        .ok_or_else(|| {
            unknown(
                "invalid_channel",
                "Give the channel as email, phone, letter or in_person.",
            )
        })?;
    let by = actor(who);
    let cfg = &v.tenant().config;
    let row = state
        .privacy
        .file_request(
            cfg,
            &NewRequest {
                kind,
                channel,
                account_id: None,
                requester_name: &r.requester_name,
                requester_email: r
                    .requester_email
                    .as_deref()
                    .filter(|e| !e.trim().is_empty()),
                details: &r.details,
                received_on: r.received_on,
                identity_known: r.identity_known,
                by: &by,
            },
        )
        .await?;
    let (summary, _) = state.privacy.request(cfg, &row.id).await?;
    Ok((StatusCode::CREATED, Json(RequestOut::from(summary))).into_response())
}

/// The desk's part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(queue, request, log),
    components(schemas(RequestOut, EventOut, RequestDetailOut, QueueOut, RequestIn))
)]
pub(crate) struct Doc;
