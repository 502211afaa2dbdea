//! An organisation's invoices and credit notes (`bookings::invoices`), for its lead
//! administrators and purchasers and the council's administrators: a page listing them,
//! each as PDF and CSV, and the JSON API for finance systems.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use bookings::invoices::{self, CREDIT_NOTE, pounds};
use bookings::store::entity::invoice;
use chrono::{DateTime, Utc};
use http::{HeaderValue, StatusCode, header};
use identity::store::entity::organisation;
use serde::Serialize;
use utoipa::ToSchema;

use crate::http::auth::{Failure, Visitor};
use crate::http::catalogue_web::ApiResult;
use crate::http::page::{Chrome, render};
use crate::http::state::AppState;

/// The routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/organisations/{org}/invoices", get(page))
        .route("/organisations/{org}/invoices/{id}/pdf", get(pdf))
        .route("/organisations/{org}/invoices/{id}/csv", get(csv))
        .route("/api/v1/organisations/{org}/invoices", get(api_list))
}

fn kind_label(kind: &str) -> &'static str {
    if kind == CREDIT_NOTE {
        "Credit note"
    } else {
        "Invoice"
    }
}

fn uk_day(at: DateTime<Utc>) -> String {
    crate::http::catalogue_web::uk_day(at)
}

struct Row {
    id: String,
    number: String,
    kind: &'static str,
    issued: String,
    credits: String,
    total: String,
}

#[derive(Template)]
#[template(path = "bookings/invoices.html")]
struct InvoicesPage<'a> {
    chrome: Chrome<'a>,
    org_id: String,
    org_name: String,
    rows: Vec<Row>,
}

async fn page(
    State(state): State<AppState>,
    v: Visitor,
    Path(org): Path<String>,
) -> Result<Response, Failure> {
    let s = v.signed_in_or_redirect()?;
    let (org, all) = state
        .bookings
        .invoices(&v.tenant().config, &s.account.id, &org)
        .await?;
    let page = InvoicesPage {
        chrome: v.chrome(""),
        org_id: org.id,
        org_name: org.name,
        rows: all
            .into_iter()
            .map(|i| Row {
                kind: kind_label(&i.kind),
                issued: uk_day(i.issued_at),
                credits: i.credits_number.unwrap_or_default(),
                total: pounds(i.total_pence),
                id: i.id,
                number: i.number,
            })
            .collect(),
    };
    let html = render(StatusCode::OK, &page);
    Ok(v.respond(html))
}

async fn pdf(
    State(state): State<AppState>,
    v: Visitor,
    Path((org, id)): Path<(String, String)>,
) -> Result<Response, Failure> {
    let cfg = &v.tenant().config;
    let (org, inv, order) = one(&state, &v, &org, &id).await?;
    let body = invoices::pdf(cfg, &org, &order, &inv)?;
    let mut res = (StatusCode::OK, body).into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/pdf"),
    );
    if let Ok(value) =
        HeaderValue::from_str(&format!("attachment; filename=\"{}.pdf\"", inv.number))
    {
        h.insert(header::CONTENT_DISPOSITION, value);
    }
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    Ok(v.respond(res))
}

/// The invoice `id` of `org`, with the organisation and the order's number, for the
/// signed-in visitor.
async fn one(
    state: &AppState,
    v: &Visitor,
    org: &str,
    id: &str,
) -> Result<(organisation::Model, invoice::Model, String), Failure> {
    let s = v.signed_in_or_redirect()?;
    Ok(state
        .bookings
        .invoice(&v.tenant().config, &s.account.id, org, id)
        .await?)
}

fn money(pence: i64) -> String {
    let sign = if pence < 0 { "-" } else { "" };
    let p = pence.unsigned_abs();
    format!("{sign}{}.{:02}", p / 100, p % 100)
}

async fn csv(
    State(state): State<AppState>,
    v: Visitor,
    Path((org, id)): Path<(String, String)>,
) -> Result<Response, Failure> {
    let (org, inv, order) = one(&state, &v, &org, &id).await?;
    let mut rows = vec![
        [
            "number",
            "kind",
            "issued",
            "organisation",
            "order",
            "credits",
            "description",
            "list_price",
            "discount",
            "amount",
        ]
        .map(str::to_owned)
        .to_vec(),
    ];
    for l in invoices::lines_of(&inv)? {
        rows.push(vec![
            inv.number.clone(),
            inv.kind.clone(),
            inv.issued_at.date_naive().to_string(),
            org.name.clone(),
            order.clone(),
            inv.credits_number.clone().unwrap_or_default(),
            l.description,
            money(l.list_pence),
            money(l.discount_pence),
            money(l.amount_pence),
        ]);
    }
    crate::http::page::csv_response(&format!("{}.csv", inv.number), rows).map(|r| v.respond(r))
}

/// One line of an invoice or credit note.
#[derive(Debug, Serialize, ToSchema)]
pub struct InvoiceLineOut {
    description: String,
    list_pence: i64,
    /// The SLA discount the checkout applied.
    discount_pence: i64,
    /// Negative on a credit note.
    amount_pence: i64,
}

/// An invoice or credit note.
#[derive(Debug, Serialize, ToSchema)]
pub struct InvoiceOut {
    id: String,
    number: String,
    /// `invoice` or `credit_note`.
    kind: String,
    issued_at: DateTime<Utc>,
    order_id: String,
    /// For a credit note: the number of the invoice it credits.
    credits: Option<String>,
    total_pence: i64,
    lines: Vec<InvoiceLineOut>,
}

/// An organisation's invoices and credit notes.
#[derive(Debug, Serialize, ToSchema)]
pub struct InvoiceListOut {
    organisation_id: String,
    organisation: String,
    invoices: Vec<InvoiceOut>,
}

fn out(i: invoice::Model) -> Result<InvoiceOut, Failure> {
    let lines = invoices::lines_of(&i)?
        .into_iter()
        .map(|l| InvoiceLineOut {
            description: l.description,
            list_pence: l.list_pence,
            discount_pence: l.discount_pence,
            amount_pence: l.amount_pence,
        })
        .collect();
    Ok(InvoiceOut {
        id: i.id,
        number: i.number,
        kind: i.kind,
        issued_at: i.issued_at,
        order_id: i.order_id,
        credits: i.credits_number,
        total_pence: i.total_pence,
        lines,
    })
}

/// An organisation's invoices and credit notes, newest first, for its lead administrators
/// and purchasers and the council's administrators (and their API tokens with the
/// bookings area), for finance systems.
#[utoipa::path(get, path = "/api/v1/organisations/{org}/invoices", operation_id = "list_invoices",
    params(("org" = String, Path, description = "The organisation")),
    responses((status = 200, body = InvoiceListOut),
        (status = 401, body = crate::http::catalogue_web::api::ApiError),
        (status = 404, body = crate::http::catalogue_web::api::ApiError)))]
pub(crate) async fn api_list(
    State(state): State<AppState>,
    v: Visitor,
    Path(org): Path<String>,
) -> ApiResult<Json<InvoiceListOut>> {
    let Some(s) = v.signed_in() else {
        return Err(Failure::new(
            StatusCode::UNAUTHORIZED,
            "sign_in_required",
            "Sign in first.",
        ));
    };
    let (org, all) = state
        .bookings
        .invoices(&v.tenant().config, &s.account.id, &org)
        .await?;
    Ok(Json(InvoiceListOut {
        organisation_id: org.id,
        organisation: org.name,
        invoices: all.into_iter().map(out).collect::<Result<_, _>>()?,
    }))
}

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(api_list),
    components(schemas(InvoiceListOut, InvoiceOut, InvoiceLineOut))
)]
pub(crate) struct Doc;
