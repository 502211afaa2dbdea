//! Resources over HTTP: the public list, downloads (signed-in-only files need a session),
//! the managers' upload page (multipart form with its CSRF token) and the JSON API
//! (`POST /api/v1/resources` with the file base64-encoded, so it stays JSON-only).

use askama::Template;
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine as _;
use catalogue::CatalogueError;
use catalogue::domain::Manager;
use catalogue::domain::resource::{Access, MAX_BYTES, Upload};
use catalogue::store::entity::resource;
use http::{HeaderMap, HeaderValue, StatusCode, header};
use identity::domain::signup::FieldError;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{manager_of, not_found, offers_resources, provider_name};
use crate::http::auth::{Failure, Visitor, with_code};
use crate::http::page::{Chrome, render};
use crate::http::state::AppState;

/// Room for a 20 MiB file, base64-encoded, plus the form around it.
const BODY_LIMIT: usize = MAX_BYTES / 3 * 4 + 64 * 1024;

/// The public list (cached for anonymous visitors).
pub(super) fn public_router() -> Router<AppState> {
    Router::new().route("/resources", get(list))
}

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/resources/{id}/file", get(download))
        .route("/manage/resources", get(manage).post(upload_form))
        .route("/manage/resources/{id}/delete", post(delete_form))
        .route("/api/v1/resources", get(api_list).post(api_upload))
        .route("/api/v1/resources/{id}", axum::routing::delete(api_delete))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
}

struct Item {
    id: String,
    title: String,
    summary: String,
    provider: String,
    file: String,
    size: String,
    signed_in_only: bool,
}

fn size(bytes: i64) -> String {
    if bytes < 1024 * 1024 {
        format!("{} KB", (bytes + 1023) / 1024)
    } else {
        format!("{:.1} MB", bytes as f64 / (1024.0 * 1024.0))
    }
}

fn items(v: &Visitor, rows: Vec<resource::Model>) -> Vec<Item> {
    let cfg = &v.tenant().config;
    rows.into_iter()
        .map(|r| Item {
            provider: provider_name(cfg, &r.provider_id).to_owned(),
            file: r
                .file_name
                .rsplit_once('.')
                .map_or(String::new(), |(_, e)| e.to_uppercase()),
            size: size(r.size_bytes),
            signed_in_only: Access::parse(&r.access) == Access::SignedIn,
            id: r.id,
            title: r.title,
            summary: r.summary,
        })
        .collect()
}

#[derive(Template)]
#[template(path = "catalogue/resources.html")]
struct ListPage<'a> {
    chrome: Chrome<'a>,
    items: Vec<Item>,
    signed_in: bool,
}

async fn list(State(state): State<AppState>, v: Visitor) -> Result<Response, Failure> {
    if !offers_resources(&v.tenant().config) {
        return Err(not_found());
    }
    let rows = state.catalogue.resources(&v.tenant().id, None).await?;
    let page = ListPage {
        items: items(&v, rows),
        signed_in: v.signed_in().is_some(),
        chrome: v.chrome("/resources"),
    };
    let html = render(StatusCode::OK, &page);
    Ok(v.respond(html))
}

async fn download(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<String>,
) -> Result<Response, Failure> {
    if !offers_resources(&v.tenant().config) {
        return Err(not_found());
    }
    let (row, bytes) = state
        .catalogue
        .download(&v.tenant().id, &id, v.signed_in().is_some())
        .await?;
    let mut res = bytes.into_response();
    let h = res.headers_mut();
    if let Ok(ct) = HeaderValue::from_str(&row.content_type) {
        h.insert(header::CONTENT_TYPE, ct);
    }
    // The stored name is already limited to [A-Za-z0-9._-], so it is safe in the header.
    if let Ok(cd) = HeaderValue::from_str(&format!("attachment; filename=\"{}\"", row.file_name)) {
        h.insert(header::CONTENT_DISPOSITION, cd);
    }
    let cache = if Access::parse(&row.access) == Access::Public {
        "public, max-age=300"
    } else {
        "private, no-store"
    };
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    Ok(res)
}

#[derive(Template)]
#[template(path = "catalogue/manage_resources.html")]
struct ManagePage<'a> {
    chrome: Chrome<'a>,
    csrf: String,
    items: Vec<Item>,
    providers: Vec<(String, String)>,
    errors: Vec<FieldError>,
    title: String,
    summary: String,
}

impl ManagePage<'_> {
    fn error(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.as_str())
    }
}

async fn manage_page(
    state: &AppState,
    v: Visitor,
    m: &Manager,
    errors: Vec<FieldError>,
    upload: Option<&Upload>,
) -> Response {
    let rows = match state
        .catalogue
        .resources(&v.tenant().id, m.provider())
        .await
    {
        Ok(r) => r,
        Err(e) => return Failure::from(e).into_response(),
    };
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let invalid = !errors.is_empty();
    let page = ManagePage {
        csrf: v.csrf().to_owned(),
        items: items(&v, rows),
        providers: v
            .tenant()
            .config
            .providers
            .iter()
            .filter(|p| m.manages(&p.id))
            .map(|p| (p.id.clone(), p.name.clone()))
            .collect(),
        errors,
        title: upload.map(|u| u.title.clone()).unwrap_or_default(),
        summary: upload.map(|u| u.summary.clone()).unwrap_or_default(),
        chrome: v.chrome("/manage"),
    };
    let html = render(status, &page);
    let res = v.respond(html);
    if invalid {
        with_code(res, "invalid_resource")
    } else {
        res
    }
}

async fn require(state: &AppState, v: &Visitor) -> Result<Manager, Response> {
    if v.signed_in().is_none() {
        return Err(Redirect::to("/sign-in").into_response());
    }
    if !offers_resources(&v.tenant().config) {
        return Err(not_found().into_response());
    }
    match manager_of(state, v).await {
        Ok(Some(m)) => Ok(m),
        Ok(None) => Err(Failure::from(CatalogueError::NotManager).into_response()),
        Err(e) => Err(e.into_response()),
    }
}

async fn manage(State(state): State<AppState>, v: Visitor) -> Response {
    match require(&state, &v).await {
        Ok(m) => manage_page(&state, v, &m, Vec::new(), None).await,
        Err(r) => r,
    }
}

/// Reads the upload form; the CSRF token travels as one of its parts.
async fn read_multipart(mut mp: Multipart) -> Result<(String, Upload), Failure> {
    let bad = |_| {
        Failure::new(
            StatusCode::BAD_REQUEST,
            "invalid_upload",
            "The upload could not be read. Try again.",
        )
    };
    let mut token = String::new();
    let mut u = Upload {
        provider_id: String::new(),
        title: String::new(),
        summary: String::new(),
        access: String::new(),
        file_name: String::new(),
        bytes: Vec::new(),
    };
    while let Some(field) = mp.next_field().await.map_err(bad)? {
        let name = field.name().unwrap_or_default().to_owned();
        if name == "file" {
            u.file_name = field.file_name().unwrap_or_default().to_owned();
            u.bytes = field.bytes().await.map_err(bad)?.to_vec();
            continue;
        }
        let text = field.text().await.map_err(bad)?;
        match name.as_str() {
            "csrf_token" => token = text,
            "provider_id" => u.provider_id = text,
            "title" => u.title = text,
            "summary" => u.summary = text,
            "access" => u.access = text,
            _ => {}
        }
    }
    Ok((token, u))
}

async fn upload_form(State(state): State<AppState>, v: Visitor, mp: Multipart) -> Response {
    let (token, upload) = match read_multipart(mp).await {
        Ok(x) => x,
        Err(e) => return e.into_response(),
    };
    let mut form = std::collections::HashMap::new();
    form.insert("csrf_token".to_owned(), token);
    if let Err(e) = v.check_csrf(&form) {
        return e.into_response();
    }
    let m = match require(&state, &v).await {
        Ok(m) => m,
        Err(r) => return r,
    };
    let summary = Upload {
        bytes: Vec::new(),
        ..upload.clone()
    };
    match state.catalogue.upload(&v.tenant().config, &m, upload).await {
        Ok(_) => v.respond(Redirect::to("/manage/resources").into_response()),
        Err(CatalogueError::Invalid(errors)) => {
            manage_page(&state, v, &m, errors, Some(&summary)).await
        }
        Err(e) => Failure::from(e).into_response(),
    }
}

#[derive(Deserialize)]
struct TokenForm {
    #[serde(default)]
    csrf_token: String,
}

async fn delete_form(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<TokenForm>,
) -> Response {
    let mut form = std::collections::HashMap::new();
    form.insert("csrf_token".to_owned(), f.csrf_token);
    if let Err(e) = v.check_csrf(&form) {
        return e.into_response();
    }
    let m = match require(&state, &v).await {
        Ok(m) => m,
        Err(r) => return r,
    };
    match state
        .catalogue
        .delete_resource(&v.tenant().id, &m, &id)
        .await
    {
        Ok(()) => v.respond(Redirect::to("/manage/resources").into_response()),
        Err(e) => Failure::from(e).into_response(),
    }
}

/// A resource as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ResourceOut {
    id: String,
    provider_id: String,
    title: String,
    summary: String,
    access: Access,
    file_name: String,
    content_type: String,
    size_bytes: i64,
    /// Where to download it.
    href: String,
}

/// Every resource of the tenant (downloads of signed-in-only ones need a session).
#[utoipa::path(get, path = "/api/v1/resources", operation_id = "list_resources", responses((status = 200, body = Vec<ResourceOut>)))]
pub(super) async fn api_list(
    State(state): State<AppState>,
    v: Visitor,
) -> Result<Json<Vec<ResourceOut>>, super::api::Failure> {
    if !offers_resources(&v.tenant().config) {
        return Err(not_found());
    }
    let rows = state.catalogue.resources(&v.tenant().id, None).await?;
    Ok(Json(
        rows.into_iter()
            .map(|r| ResourceOut {
                href: format!("/resources/{}/file", r.id),
                access: Access::parse(&r.access),
                id: r.id,
                provider_id: r.provider_id,
                title: r.title,
                summary: r.summary,
                file_name: r.file_name,
                content_type: r.content_type,
                size_bytes: r.size_bytes,
            })
            .collect(),
    ))
}

/// An upload through the API: the file base64-encoded.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResourceUpload {
    provider_id: String,
    title: String,
    #[serde(default)]
    summary: String,
    /// `public` or `signed_in`.
    access: String,
    file_name: String,
    /// The file, base64 (standard alphabet).
    content_base64: String,
}

/// Uploads a resource.
#[utoipa::path(post, path = "/api/v1/resources", request_body = ResourceUpload,
    responses((status = 201, body = super::api::Created), (status = 422, body = super::api::ApiError)))]
pub(super) async fn api_upload(
    State(state): State<AppState>,
    v: Visitor,
    headers: HeaderMap,
    body: Result<Json<ResourceUpload>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, super::api::Failure> {
    let m = super::api::manager(&state, &v, &headers).await?;
    let Json(b) = body?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b.content_base64.trim())
        .map_err(|_| {
            CatalogueError::Invalid(vec![FieldError {
                field: "file",
                message: "The file is not valid base64".to_owned(),
            }])
        })?;
    let id = state
        .catalogue
        .upload(
            &v.tenant().config,
            &m,
            Upload {
                provider_id: b.provider_id,
                title: b.title,
                summary: b.summary,
                access: b.access,
                file_name: b.file_name,
                bytes,
            },
        )
        .await?;
    Ok(super::api::created(id))
}

/// Deletes a resource and its file.
#[utoipa::path(delete, path = "/api/v1/resources/{id}", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = super::api::ApiError)))]
pub(super) async fn api_delete(
    State(state): State<AppState>,
    v: Visitor,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<StatusCode, super::api::Failure> {
    let m = super::api::manager(&state, &v, &headers).await?;
    state
        .catalogue
        .delete_resource(&v.tenant().id, &m, &id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Resources (files attached to courses and services): this area's part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(api_list, api_upload, api_delete),
    components(schemas(ResourceOut, ResourceUpload, catalogue::domain::resource::Access))
)]
pub(crate) struct Doc;
