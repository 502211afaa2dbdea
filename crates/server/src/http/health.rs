//! `/healthz` (the process is up) and `/readyz` (its dependencies answer). Neither needs a
//! tenant, and neither says anything a stranger could use.

use std::time::Duration;

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use http::StatusCode;
use serde_json::{Value, json};

use crate::http::state::AppState;

const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// The probe routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
}

async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let database = match tokio::time::timeout(CHECK_TIMEOUT, state.db.ping()).await {
        Ok(Ok(())) => "ok",
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness: database unreachable");
            "unavailable"
        }
        Err(_) => "timeout",
    };
    let redis = match &state.redis {
        None => "not_configured",
        Some(client) => match tokio::time::timeout(CHECK_TIMEOUT, ping_redis(client)).await {
            Ok(Ok(())) => "ok",
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "readiness: redis unreachable");
                "unavailable"
            }
            Err(_) => "timeout",
        },
    };
    let ready = database == "ok" && matches!(redis, "ok" | "not_configured");
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let overall = if ready { "ok" } else { "unavailable" };
    (
        status,
        Json(json!({ "status": overall, "database": database, "redis": redis })),
    )
}

async fn ping_redis(client: &redis::Client) -> redis::RedisResult<()> {
    let mut conn = client.get_multiplexed_async_connection().await?;
    redis::cmd("PING").query_async::<String>(&mut conn).await?;
    Ok(())
}
