//! The platform operator's API (`/operator/v1/…`): list the councils, onboard or re-apply
//! one from its `tenant.toml` (and logo), offboard one. It answers on a listener of its own
//! when `operator.listen` is set, otherwise on any host of the public one, like the probes.
//! It answers only a bearer token whose SHA-256 is `operator.token_sha256` (an address that
//! sent more than [`FAILURES_ALLOWED`] wrong ones in the throttling window gets 429); with no hash
//! configured it does not exist (404). Every call is logged with the token's fingerprint.
//! What it does is what `portal tenants add` and `portal tenants offboard` do
//! ([`crate::onboarding`], [`crate::offboarding`]).

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use base64::Engine as _;
use http::{HeaderMap, HeaderValue, StatusCode, header};
use serde::Deserialize;
use serde_json::json;
use sha2::Digest as _;

use crate::http::state::AppState;
use crate::onboarding::{Applied, ApplyError, NoticeState};

/// The longest an offboarding may wait for the replicas inside a request.
const MAX_GRACE_SECS: u64 = 20;

/// Wrong tokens a client may send in the throttling window before its wrong tokens are
/// answered 429 rather than 401, until the window ends.
pub const FAILURES_ALLOWED: u64 = 10;

/// The routes, each behind [`guard`].
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/operator/v1/tenants", get(list))
        .route("/operator/v1/tenants/{slug}", put(apply))
        .route("/operator/v1/tenants/{slug}/offboard", post(offboard))
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), guard))
        .with_state(state)
}

/// The fingerprint of the operator's token (its digest's first four bytes), for the log.
#[derive(Debug, Clone)]
struct Operator(String);

/// Lets through only a request carrying the operator's token; with no token configured
/// there is no operator API (404). A wrong or missing token is 401, and past
/// [`FAILURES_ALLOWED`] of them from one address in the throttling window, 429: scanners
/// are slowed and the log kept quiet. The right token always passes, so nobody sharing an
/// address with the operator (a proxy's) can lock them out; guessing a long random token is
/// hopeless either way.
async fn guard(
    State(state): State<AppState>,
    mut req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    match operator(&state, req.headers()) {
        Ok(who) => {
            req.extensions_mut().insert(Operator(who));
            next.run(req).await
        }
        Err(StatusCode::UNAUTHORIZED) => {
            let client = req
                .extensions()
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                .map_or_else(|| "unknown".to_owned(), |c| c.0.ip().to_string());
            let failures = state
                .identity
                .sessions()
                .record_platform_failure("operator", &client)
                .await;
            match failures {
                Ok(n) if n > FAILURES_ALLOWED => throttled(),
                Ok(_) => refused(StatusCode::UNAUTHORIZED),
                Err(e) => {
                    tracing::warn!(error = %e, "operator API: wrong token not counted");
                    refused(StatusCode::UNAUTHORIZED)
                }
            }
        }
        Err(status) => refused(status),
    }
}

fn throttled() -> Response {
    let minutes = identity::sessions::THROTTLE_WINDOW.as_secs() / 60;
    let mut res = fail(
        StatusCode::TOO_MANY_REQUESTS,
        "operator_throttled",
        &format!(
            "Too many wrong operator tokens from this address. Try again in {minutes} minutes."
        ),
        &[],
    );
    res.headers_mut().insert(
        header::RETRY_AFTER,
        HeaderValue::from(identity::sessions::THROTTLE_WINDOW.as_secs()),
    );
    res
}

/// An error answer: `{"error": {"code", "message", "problems"}}` and `x-error-code`.
fn fail(status: StatusCode, code: &'static str, message: &str, problems: &[String]) -> Response {
    let mut res = (
        status,
        Json(json!({"error": {"code": code, "message": message, "problems": problems}})),
    )
        .into_response();
    res.headers_mut()
        .insert("x-error-code", HeaderValue::from_static(code));
    res
}

/// The answer to a request without the operator's token: 404 when there is no operator
/// API, 401 otherwise.
fn refused(status: StatusCode) -> Response {
    if status == StatusCode::NOT_FOUND {
        return status.into_response();
    }
    let mut res = fail(
        StatusCode::UNAUTHORIZED,
        "operator_token_required",
        "This needs the platform operator's token (Authorization: Bearer …).",
        &[],
    );
    res.headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    res
}

/// The token's fingerprint when the request carries the operator's token; otherwise the
/// status to answer ([`refused`]).
fn operator(state: &AppState, headers: &HeaderMap) -> Result<String, StatusCode> {
    let Some(expected) = state.operator_token_sha256 else {
        return Err(StatusCode::NOT_FOUND);
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, token) = v.split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then_some(token)
        })
        .map(str::trim)
        .filter(|t| !t.is_empty());
    let digest: Option<[u8; 32]> = given.map(|t| sha2::Sha256::digest(t.as_bytes()).into());
    // Digests of equal length compared in full, whatever differs first.
    let matches = digest.is_some_and(|d| {
        d.iter()
            .zip(expected.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
    });
    if matches {
        Ok(hex::encode(&digest.unwrap_or_default()[..4]))
    } else {
        tracing::warn!("operator API: missing or wrong token");
        Err(StatusCode::UNAUTHORIZED)
    }
}

async fn list(State(state): State<AppState>) -> Response {
    let serving: Vec<_> = state
        .registry
        .current()
        .iter()
        .map(|t| {
            json!({
                "slug": t.id.as_str(),
                "display_name": t.config.display_name,
                "hostnames": t.config.hostnames,
            })
        })
        .collect();
    match storage::tenants::offboarded(&state.db).await {
        Ok(gone) => Json(json!({
            "tenants": serving,
            "offboarded": gone.iter().map(|g| json!({
                "slug": g.id,
                "display_name": g.display_name,
                "offboarded_at": g.offboarded_at,
                "archive": g.archive,
                "archive_sha256": g.archive_sha256,
            })).collect::<Vec<_>>(),
        }))
        .into_response(),
        Err(e) => internal(&e),
    }
}

fn internal(e: &dyn std::fmt::Display) -> Response {
    tracing::error!(error = %e, "operator API failed");
    fail(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "The platform could not do this; see its log.",
        &[],
    )
}

/// A tenant folder sent whole.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Folder {
    /// The text of `tenant.toml`.
    tenant_toml: String,
    /// The logo its `branding.logo` names, if any.
    #[serde(default)]
    logo: Option<Logo>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Logo {
    /// Its file name (`logo.svg` or `logo.png`).
    file: String,
    /// Its bytes, base64.
    base64: String,
}

/// The JSON body as `T`, or the 400 that says what shape it must have.
fn parsed<T: serde::de::DeserializeOwned>(body: &[u8], shape: &str) -> Result<T, Box<Response>> {
    serde_json::from_slice(body).map_err(|e| {
        Box::new(fail(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            &format!("The body must be {shape}: {e}"),
            &[],
        ))
    })
}

fn bad(code: &'static str, message: &str) -> Response {
    fail(StatusCode::UNPROCESSABLE_ENTITY, code, message, &[])
}

async fn apply(
    State(state): State<AppState>,
    axum::Extension(Operator(who)): axum::Extension<Operator>,
    Path(slug): Path<String>,
    body: Bytes,
) -> Response {
    let folder: Folder = match parsed(
        &body,
        "{\"tenant_toml\": \"…\", \"logo\": {\"file\", \"base64\"}}",
    ) {
        Ok(f) => f,
        Err(res) => return *res,
    };
    if slug.parse::<tenant_router::TenantId>().is_err() {
        return bad(
            "invalid_slug",
            "A slug is lowercase letters, digits and hyphens, starting with a letter.",
        );
    }
    let Ok(dir) = tempfile::tempdir() else {
        return internal(&"no temporary folder");
    };
    let path = dir.path().join(&slug);
    let written = std::fs::create_dir_all(&path)
        .and_then(|()| std::fs::write(path.join("tenant.toml"), &folder.tenant_toml));
    if let Err(e) = written {
        return internal(&e);
    }
    if let Some(logo) = &folder.logo {
        let name_ok = matches!(logo.file.as_str(), "logo.svg" | "logo.png");
        let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(&logo.base64) else {
            return bad("invalid_logo", "The logo's base64 does not decode.");
        };
        if !name_ok {
            return bad("invalid_logo", "The logo's file is logo.svg or logo.png.");
        }
        if let Err(e) = std::fs::write(path.join(&logo.file), bytes) {
            return internal(&e);
        }
    }
    let now = state.clock.now();
    // In a task of its own, so a client that goes away does not stop it half-way.
    let task = {
        let (state, path) = (state.clone(), path.clone());
        tokio::spawn(async move { crate::onboarding::apply(&state, &path, now).await })
    };
    let done = match task.await {
        Ok(done) => done,
        Err(e) => return internal(&e),
    };
    match done {
        Ok(applied) => {
            tracing::info!(tenant = %slug, operator = %who, ?applied, "operator applied a tenant folder");
            match applied {
                Applied::Imported { notice } => (
                    StatusCode::CREATED,
                    Json(json!({
                        "slug": slug,
                        "outcome": "imported",
                        "notice": if notice == NoticeState::Published { "published" } else { "draft" },
                    })),
                )
                    .into_response(),
                Applied::LogoReplaced => {
                    Json(json!({"slug": slug, "outcome": "logo_replaced"})).into_response()
                }
                Applied::Unchanged => {
                    Json(json!({"slug": slug, "outcome": "unchanged"})).into_response()
                }
                Applied::Drafted(sections) => Json(json!({
                    "slug": slug, "outcome": "drafted", "sections": sections,
                }))
                .into_response(),
            }
        }
        Err(ApplyError::Problems(problems)) => {
            // Named as the operator sent them, not by the server's temporary folder.
            let here = format!("{}/", path.display());
            let problems: Vec<String> = problems.iter().map(|p| p.replace(&here, "")).collect();
            fail(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_tenant",
                "The tenant folder has problems; nothing was applied.",
                &problems,
            )
        }
        Err(ApplyError::Conflict(why)) => fail(StatusCode::CONFLICT, "conflict", &why, &[]),
        Err(ApplyError::Failed(e)) => internal(&format!("{e:#}")),
    }
}

/// What an offboarding asks (no `Debug`: it holds the passphrase).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Offboard {
    /// The slug again: offboarding cannot be undone.
    confirm: String,
    /// The passphrase the council's archive is encrypted under (given to them by another
    /// channel; never stored).
    #[serde(default)]
    archive_passphrase: Option<String>,
    /// Seconds to wait for the replicas (at most 20 here; the command line waits longer).
    #[serde(default = "default_grace")]
    grace_secs: u64,
}

fn default_grace() -> u64 {
    10
}

async fn offboard(
    State(state): State<AppState>,
    axum::Extension(Operator(who)): axum::Extension<Operator>,
    Path(slug): Path<String>,
    body: Bytes,
) -> Response {
    let example = format!(
        "{{\"confirm\": \"{slug}\", \"archive_passphrase\": \"at least sixteen characters\"}}"
    );
    let ask: Offboard = match parsed(&body, &example) {
        Ok(a) => a,
        Err(res) => return *res,
    };
    if ask.confirm != slug {
        return bad(
            "confirm_mismatch",
            "Offboarding cannot be undone: `confirm` must repeat the slug. Nothing was done.",
        );
    }
    let Some(text) = ask.archive_passphrase.as_deref() else {
        return bad(
            "passphrase_required",
            "The council's archive is encrypted: give `archive_passphrase` (16 characters or more), and the passphrase to the council by another channel. Nothing was done.",
        );
    };
    let passphrase = match crate::offboarding::Passphrase::new(text) {
        Ok(p) => p,
        Err(why) => return bad("passphrase_too_short", &why),
    };
    if ask.grace_secs > MAX_GRACE_SECS {
        return bad(
            "grace_too_long",
            "grace_secs is at most 20 here; use `portal tenants offboard` for longer.",
        );
    }
    let now = state.clock.now();
    // In a task of its own, so a client that goes away does not stop it half-way.
    let task = {
        let (state, slug) = (state.clone(), slug.clone());
        let grace = Duration::from_secs(ask.grace_secs);
        tokio::spawn(async move {
            crate::offboarding::offboard(&state, &slug, &passphrase, grace, now).await
        })
    };
    let done = match task.await {
        Ok(done) => done,
        Err(e) => return internal(&e),
    };
    match done {
        Ok(done) => {
            tracing::info!(tenant = %slug, operator = %who, "operator offboarded a tenant");
            Json(json!({
                "slug": slug,
                "archive": done.archive,
                "archive_sha256": done.archive_sha256,
                "rows": done.rows,
                "files": done.files,
                "keys": done.keys,
                "sessions": done.sessions,
                "resumed": done.resumed,
                "archive_made_now": done.archive_made,
            }))
            .into_response()
        }
        Err(crate::offboarding::OffboardError::NoSuchTenant(why)) => {
            fail(StatusCode::NOT_FOUND, "no_such_tenant", &why, &[])
        }
        Err(crate::offboarding::OffboardError::Failed(e)) => internal(&format!("{e:#}")),
    }
}
