//! `GET /api/v1/providers`: the tenant's providers and what booking or buying from each
//! shares with it.

use axum::routing::get;
use axum::{Json, Router};
use catalogue::domain::sharing::{self, Occasion, SharingStatement};
use serde::Serialize;
use utoipa::ToSchema;

use crate::http::auth::Visitor;
use crate::http::state::AppState;

/// The public read.
pub(super) fn public_router() -> Router<AppState> {
    Router::new().route("/api/v1/providers", get(providers))
}

/// A provider and what booking or buying from it shares.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProviderOut {
    id: String,
    name: String,
    third_party: bool,
    email: Option<String>,
    booking_sharing: Option<SharingStatement>,
    purchase_sharing: Option<SharingStatement>,
}

/// The tenant's providers.
#[utoipa::path(get, path = "/api/v1/providers", responses((status = 200, body = Vec<ProviderOut>)))]
pub(crate) async fn providers(v: Visitor) -> Json<Vec<ProviderOut>> {
    let cfg = &v.tenant().config;
    Json(
        cfg.providers
            .iter()
            .map(|p| ProviderOut {
                id: p.id.clone(),
                name: p.name.clone(),
                third_party: p.third_party,
                email: p.email.clone(),
                booking_sharing: sharing::statement(cfg, &p.id, Occasion::Booking),
                purchase_sharing: sharing::statement(cfg, &p.id, Occasion::Purchase),
            })
            .collect(),
    )
}

/// The training providers: this area's part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(providers), components(schemas(ProviderOut)))]
pub(crate) struct Doc;
