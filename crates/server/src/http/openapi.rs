//! The OpenAPI document (`/api/openapi.json`): the API's title and its shared error schemas,
//! merged with the part each area declares next to its handlers (`Doc` in every area
//! module). Adding an API handler means listing it in its own area's `Doc`.

use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use utoipa::OpenApi;

use crate::http::error::{ApiError, ErrorBody, FieldProblem};
use crate::http::state::AppState;
use crate::http::{
    after_course_web, basket_web, bookings_web, catalogue_web, delegates_web, purchasers_web,
    purchases_web, rights_web,
};

/// The route that serves it (public, like the catalogue's reads).
pub fn router() -> Router<AppState> {
    Router::new().route("/api/openapi.json", get(openapi))
}

async fn openapi() -> Response {
    Json(document()).into_response()
}

/// The whole document: the common part merged with every area's.
pub fn document() -> utoipa::openapi::OpenApi {
    [
        catalogue_web::providers::Doc::openapi(),
        catalogue_web::Doc::openapi(),
        catalogue_web::resources::Doc::openapi(),
        bookings_web::Doc::openapi(),
        basket_web::Doc::openapi(),
        purchases_web::Doc::openapi(),
        delegates_web::Doc::openapi(),
        purchasers_web::Doc::openapi(),
        after_course_web::Doc::openapi(),
        rights_web::Doc::openapi(),
    ]
    .into_iter()
    .fold(Common::openapi(), |doc, part| doc.merge_from(part))
}

/// What no area owns: the title and the error body every area answers with.
#[derive(OpenApi)]
#[openapi(
    info(title = "Education services portal API", version = "1"),
    components(schemas(ApiError, ErrorBody, FieldProblem))
)]
struct Common;
