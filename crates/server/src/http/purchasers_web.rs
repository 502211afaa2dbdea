//! Who bought a traded service, for its provider's staff and tenant admins (page, CSV and
//! JSON): each purchase's organisation, band, period and status, and the buyer's fields
//! the tenant's notice gives the provider. Every read that shows a person is logged as a
//! disclosure by the bookings crate.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Json, Router};
use bookings::delegates::Format;
use bookings::purchasers::{Purchaser, PurchaserList};
use catalogue::CatalogueError;
use chrono::NaiveDate;
use http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;

use crate::http::auth::{Failure, Visitor};
use crate::http::catalogue_web::{ApiResult, manager_of, provider_name};
use crate::http::page::{Chrome, render};
use crate::http::state::AppState;

/// The routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/manage/services/{id}/purchasers", get(page))
        .route("/manage/services/{id}/purchasers.csv", get(csv))
        .route("/api/v1/services/{id}/purchasers", get(api_list))
}

/// The list for a signed-in manager; `None` when the visitor is not signed in.
async fn read(
    state: &AppState,
    v: &Visitor,
    id: &str,
    format: Format,
) -> Result<Option<PurchaserList>, Failure> {
    if v.signed_in().is_none() {
        return Ok(None);
    }
    let m = manager_of(state, v)
        .await?
        .ok_or_else(|| Failure::from(CatalogueError::NotManager))?;
    Ok(Some(
        state
            .bookings
            .purchasers(&v.tenant().config, &m, id, format)
            .await?,
    ))
}

fn period(p: &Purchaser) -> String {
    let day = |d: NaiveDate| d.format("%-d %B %Y").to_string();
    format!("{} to {}", day(p.period.0), day(p.period.1))
}

fn status(p: &Purchaser) -> &'static str {
    if p.status == "active" {
        "Active"
    } else {
        "Cancelled"
    }
}

#[derive(Template)]
#[template(path = "bookings/purchasers.html")]
struct PurchasersPage<'a> {
    chrome: Chrome<'a>,
    service_id: String,
    title: String,
    provider: String,
    headings: Vec<&'static str>,
    rows: Vec<Row>,
}

/// One purchase, ready to show.
struct Row {
    organisation: String,
    band: String,
    period: String,
    status: &'static str,
    /// The buyer's values.
    values: Vec<String>,
    restricted: bool,
}

async fn page(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<String>,
) -> Result<Response, Failure> {
    let Some(list) = read(&state, &v, &id, Format::Page).await? else {
        return Ok(Redirect::to("/sign-in").into_response());
    };
    let page = PurchasersPage {
        chrome: v.chrome("/manage"),
        service_id: list.service.id.clone(),
        provider: provider_name(&v.tenant().config, &list.service.provider_id).to_owned(),
        title: list.service.title.clone(),
        headings: list.fields.iter().map(|f| f.heading()).collect(),
        rows: list
            .purchasers
            .iter()
            .map(|p| Row {
                organisation: p.organisation.clone(),
                band: p.band.clone(),
                period: period(p),
                status: status(p),
                values: p.values.clone(),
                restricted: p.restricted,
            })
            .collect(),
    };
    let html = render(StatusCode::OK, &page);
    drop(page);
    Ok(v.respond(html))
}

async fn csv(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<String>,
) -> Result<Response, Failure> {
    let Some(list) = read(&state, &v, &id, Format::Csv).await? else {
        return Ok(Redirect::to("/sign-in").into_response());
    };
    let mut rows = vec![
        ["Purchase", "Organisation", "Band", "From", "To", "Status"]
            .into_iter()
            .map(str::to_owned)
            .chain(list.fields.iter().map(|f| f.heading().to_owned()))
            .collect(),
    ];
    for p in &list.purchasers {
        rows.push(
            [
                p.purchase_id.clone(),
                p.organisation.clone(),
                p.band.clone(),
                p.period.0.to_string(),
                p.period.1.to_string(),
                status(p).to_owned(),
            ]
            .into_iter()
            .chain(p.values.iter().cloned())
            .collect(),
        );
    }
    crate::http::page::csv_response(&format!("purchasers-{}.csv", list.service.id), rows)
}

/// One purchase as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct PurchaserOut {
    purchase_id: String,
    organisation: String,
    band: String,
    period_start: NaiveDate,
    period_end: NaiveDate,
    /// `active` or `cancelled`.
    status: String,
    /// The buyer's fields the provider receives (`name`, `job_title`, `email`…); empty
    /// when the buyer has restricted the use of their data.
    buyer: HashMap<String, String>,
    /// The buyer has restricted the use of their data: none of it is given.
    restricted: bool,
}

/// Who bought a service.
#[derive(Debug, Serialize, ToSchema)]
pub struct PurchaserListOut {
    service_id: String,
    title: String,
    /// The buyer's fields this provider receives, in order.
    fields: Vec<&'static str>,
    purchasers: Vec<PurchaserOut>,
}

/// Who bought a traded service, for tenant admins and the service provider's staff. Every
/// read that shows a buyer is logged as a disclosure to the provider.
#[utoipa::path(get, path = "/api/v1/services/{id}/purchasers", operation_id = "list_purchasers",
    params(("id" = String, Path, description = "The service")),
    responses((status = 200, body = PurchaserListOut),
        (status = 401, body = crate::http::catalogue_web::api::ApiError),
        (status = 404, body = crate::http::catalogue_web::api::ApiError)))]
pub(crate) async fn api_list(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<String>,
) -> ApiResult<Json<PurchaserListOut>> {
    let Some(list) = read(&state, &v, &id, Format::Json).await? else {
        return Err(Failure::new(
            StatusCode::UNAUTHORIZED,
            "sign_in_required",
            "Sign in first.",
        ));
    };
    let names: Vec<&'static str> = list.fields.iter().map(|f| f.as_str()).collect();
    Ok(Json(PurchaserListOut {
        service_id: list.service.id,
        title: list.service.title,
        purchasers: list
            .purchasers
            .into_iter()
            .map(|p| PurchaserOut {
                buyer: if p.restricted {
                    HashMap::new()
                } else {
                    names
                        .iter()
                        .map(|n| (*n).to_owned())
                        .zip(p.values.iter().cloned())
                        .collect()
                },
                purchase_id: p.purchase_id,
                organisation: p.organisation,
                band: p.band,
                period_start: p.period.0,
                period_end: p.period.1,
                status: p.status,
                restricted: p.restricted,
            })
            .collect(),
        fields: names,
    }))
}

#[derive(utoipa::OpenApi)]
#[openapi(paths(api_list), components(schemas(PurchaserListOut, PurchaserOut)))]
pub(crate) struct Doc;
