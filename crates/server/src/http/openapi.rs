//! The OpenAPI document (`/api/openapi.json`): the API's title and its shared error schemas,
//! merged with the part each area declares next to its handlers (`Doc` in every area
//! module). Adding an API handler means listing it in its own area's `Doc`.

use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
};
use utoipa::{Modify, OpenApi};

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

/// What no area owns: the title, the error body every area answers with, and how a caller
/// proves who they are.
#[derive(OpenApi)]
#[openapi(
    info(title = "Education services portal API", version = "1"),
    components(schemas(ApiError, ErrorBody, FieldProblem)),
    modifiers(&Security)
)]
struct Common;

/// The two ways in: an API token (`Authorization: Bearer`, made at `/manage/tokens`) or a
/// browser's session cookie (`__Host-portal_session` over HTTPS). Reads of the published
/// catalogue need neither.
struct Security;

impl Modify for Security {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An API token a tenant administrator made at /manage/tokens, limited to its scopes",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "cookie",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                "__Host-portal_session",
                "A signed-in browser's session (portal_session over plain HTTP in development)",
            ))),
        );
        doc.security = Some(vec![
            SecurityRequirement::default(),
            SecurityRequirement::new("bearer", Vec::<String>::new()),
            SecurityRequirement::new("cookie", Vec::<String>::new()),
        ]);
    }
}
