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
    after_course_web, basket_web, bookings_web, catalogue_web, delegates_web, invoices_web,
    purchasers_web, purchases_web, rights_web,
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
    let mut doc = [
        catalogue_web::providers::Doc::openapi(),
        catalogue_web::Doc::openapi(),
        catalogue_web::resources::Doc::openapi(),
        bookings_web::Doc::openapi(),
        basket_web::Doc::openapi(),
        purchases_web::Doc::openapi(),
        delegates_web::Doc::openapi(),
        purchasers_web::Doc::openapi(),
        invoices_web::Doc::openapi(),
        after_course_web::Doc::openapi(),
        rights_web::Doc::openapi(),
    ]
    .into_iter()
    .fold(Common::openapi(), |doc, part| doc.merge_from(part));
    // After the merge: the shared statuses go on every area's operations.
    Statuses.modify(&mut doc);
    doc
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

/// The answers every operation can give beyond its own: 401 and 403 (a token that is not
/// valid here, or out of its scopes; a page for signed-in people), 404 (an id that names
/// nothing, or an area this portal does not use), 408 (too slow) and 503 (the session
/// store is down), 400 for a bad query or path, and for writes 415 (a body that is not
/// JSON), 422 (JSON that does not fit), 409 (not in the item's present state) and 413 (too
/// large). Each handler
/// declares its own statuses; this fills in the shared ones so the document lists every
/// status a client can meet.
struct Statuses;

impl Modify for Statuses {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::path::{Operation, ParameterIn};
        use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
        let error = |what: &str| {
            RefOr::T(
                ResponseBuilder::new()
                    .description(what)
                    .content(
                        "application/json",
                        ContentBuilder::new()
                            .schema(Some(Ref::from_schema_name("ApiError")))
                            .build(),
                    )
                    .build(),
            )
        };
        let add = |op: &mut Operation, write: bool| {
            let params = op.parameters.as_deref().unwrap_or_default();
            let has_params = !params.is_empty();
            let mut wanted = vec![
                ("408", "The request took too long and was stopped"),
                ("503", "Signing in is not available at the moment"),
                (
                    "401",
                    "Not signed in, or an API token that is not valid here",
                ),
                (
                    "403",
                    "Not allowed: beyond the token's scopes, or not this person's to do",
                ),
                (
                    "404",
                    "No such item here, or an area this portal does not use",
                ),
            ];
            if has_params || params.iter().any(|p| p.parameter_in == ParameterIn::Path) {
                wanted.push(("400", "A query, path or header value that cannot be read"));
            }
            if write {
                wanted.push(("415", "A body that is not JSON"));
                wanted.push(("400", "A body that is not well-formed JSON"));
                wanted.push(("422", "JSON that does not fit the operation"));
                wanted.push(("409", "Not possible in the item's present state"));
                wanted.push(("413", "A body larger than the operation takes"));
            }
            for (code, what) in wanted {
                op.responses
                    .responses
                    .entry(code.to_owned())
                    .or_insert_with(|| error(what));
            }
        };
        for item in doc.paths.paths.values_mut() {
            for (op, write) in [
                (&mut item.get, false),
                (&mut item.head, false),
                (&mut item.post, true),
                (&mut item.put, true),
                (&mut item.patch, true),
                (&mut item.delete, true),
            ] {
                if let Some(op) = op {
                    add(op, write);
                }
            }
        }
    }
}
