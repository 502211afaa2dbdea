//! Invoices and credit notes for what is billed to an organisation.
//!
//! - Every checkout billed to an organisation gets an **invoice** in the transaction that
//!   places it, with one line per place: the course's list price, the SLA discount the
//!   checkout applied and the amount charged. A traded service bought for an organisation
//!   gets one the same way.
//! - Cancelling a place billed to an organisation within the course's terms (online
//!   cancelling is only allowed then, and an organisation's approver declining a place is
//!   the same) issues a **credit note** for what it cost, naming the invoice it credits.
//! - Numbers run per tenant and kind without gaps (`SSE-INV-000042`, `SSE-CN-000007`). An
//!   invoice is written, unnumbered, in its checkout's transaction (`invoice_pending`), and
//!   numbered just after the commit by [`number_pending`], which takes the tenant's counter
//!   row and numbers every invoice waiting, in the order they were issued. So a checkout
//!   that rolls back leaves no hole, and checkouts do not queue for the counter behind each
//!   other's commits (they did when each took it: one organisation checkout at a time per
//!   council). Whatever reads invoices numbers those waiting first, so none is ever seen
//!   without its number. Credit notes, rare, take the counter in their own transaction.
//!   Lines name courses and services, never people.
//! - The organisation's lead administrators and purchasers (and the council's
//!   administrators) list them and download each as PDF, CSV or JSON.

use chrono::{DateTime, Utc};
use pdf_writer::{Content, Finish as _, Name, Pdf, Rect, Ref, Str, TextStr};
use sea_orm::{
    ActiveModelTrait as _, ColumnTrait as _, EntityTrait as _, FromQueryResult, QueryFilter as _,
    QueryOrder as _, Set,
};
use serde::{Deserialize, Serialize};
use storage::TenantTx;
use storage::sql::Sql;
use tenant_router::TenantConfig;

use catalogue::store::entity::{course, course_session};
use identity::store::entity::organisation;

use crate::pdf_font::{Fonts, Weight};
use crate::store::entity::{booking, invoice, invoice_pending};
use crate::{BookingError, Bookings};

/// The kind of an invoice.
pub const INVOICE: &str = "invoice";
/// The kind of a credit note.
pub const CREDIT_NOTE: &str = "credit_note";

/// One line of an invoice or credit note.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Line {
    /// What it is for: a course and the day of its session, or a service and its period.
    pub description: String,
    /// The list price, in pence.
    pub list_pence: i64,
    /// The discount the checkout applied (the SLA rate), in pence.
    pub discount_pence: i64,
    /// What is charged (negative on a credit note), in pence.
    pub amount_pence: i64,
}

/// The lines of `inv`.
///
/// # Errors
/// When the stored lines do not parse.
pub fn lines_of(inv: &invoice::Model) -> Result<Vec<Line>, BookingError> {
    serde_json::from_str(&inv.lines).map_err(|_| BookingError::BadRequest("unreadable invoice"))
}

fn uk_day(at: DateTime<Utc>) -> String {
    at.with_timezone(&chrono_tz::Europe::London)
        .format("%-d %B %Y")
        .to_string()
}

/// The next number of `kind` for the transaction's tenant.
async fn next_number(tx: &TenantTx, short_name: &str, kind: &str) -> Result<String, BookingError> {
    #[derive(FromQueryResult)]
    struct Last {
        last: i64,
    }
    let mut sql = Sql::default();
    let t = sql.bind(tx.tenant().as_str());
    let k = sql.bind(kind);
    sql.text = format!(
        "INSERT INTO invoice_counter (tenant_id, kind, last) VALUES ({t}, {k}, 1) \
         ON CONFLICT (tenant_id, kind) DO UPDATE SET last = invoice_counter.last + 1 \
         RETURNING last"
    );
    let backend = sea_orm::ConnectionTrait::get_database_backend(&**tx);
    let last = Last::find_by_statement(sql.statement(backend))
        .one(&**tx)
        .await
        .map_err(storage::StorageError::from)?
        .map_or(1, |l| l.last);
    let prefix = if kind == INVOICE { "INV" } else { "CN" };
    Ok(format!("{short_name}-{prefix}-{last:06}"))
}

struct Issue<'a> {
    kind: &'a str,
    organisation_id: &'a str,
    order_id: &'a str,
    booking_id: Option<String>,
    credits: Option<String>,
    lines: Vec<Line>,
}

async fn issue(
    tx: &TenantTx,
    short_name: &str,
    now: DateTime<Utc>,
    i: Issue<'_>,
) -> Result<invoice::Model, BookingError> {
    let number = next_number(tx, short_name, i.kind).await?;
    let total = i.lines.iter().map(|l| l.amount_pence).sum();
    let lines = serde_json::to_string(&i.lines)
        .map_err(|_| BookingError::BadRequest("unwritable invoice"))?;
    Ok(invoice::ActiveModel {
        tenant_id: Set(tx.tenant().to_string()),
        id: Set(uuid::Uuid::now_v7().to_string()),
        number: Set(number),
        kind: Set(i.kind.to_owned()),
        organisation_id: Set(i.organisation_id.to_owned()),
        order_id: Set(i.order_id.to_owned()),
        booking_id: Set(i.booking_id),
        credits_number: Set(i.credits),
        issued_at: Set(now),
        total_pence: Set(total),
        lines: Set(lines),
    }
    .insert(&**tx)
    .await
    .map_err(storage::StorageError::from)?)
}

async fn course_line(tx: &TenantTx, b: &booking::Model) -> Result<(String, i64), BookingError> {
    let t = tx.tenant().as_str();
    let c = course::Entity::find()
        .filter(course::Column::TenantId.eq(t))
        .filter(course::Column::Id.eq(&b.course_id))
        .one(&**tx)
        .await
        .map_err(storage::StorageError::from)?;
    let s = course_session::Entity::find()
        .filter(course_session::Column::TenantId.eq(t))
        .filter(course_session::Column::Id.eq(&b.session_id))
        .one(&**tx)
        .await
        .map_err(storage::StorageError::from)?;
    let title = c.as_ref().map_or("A course", |c| c.title.as_str());
    let description = match s {
        Some(s) => format!("{title}, {}", uk_day(s.starts_at)),
        None => title.to_owned(),
    };
    Ok((description, c.map_or(b.price_pence, |c| c.price_pence)))
}

/// In a checkout's transaction, once its rows are written: the invoice, to be numbered
/// after the commit, for the places of `order_id` billed to `organisation_id` (none when
/// it placed none, only waiting-list entries); whether there is one.
///
/// # Errors
/// When the database fails.
pub(crate) async fn for_order(
    tx: &TenantTx,
    cfg: &TenantConfig,
    organisation_id: &str,
    order_id: &str,
    now: DateTime<Utc>,
) -> Result<bool, BookingError> {
    let placed = booking::Entity::find()
        .filter(booking::Column::TenantId.eq(tx.tenant().as_str()))
        .filter(booking::Column::OrderId.eq(order_id))
        .order_by_asc(booking::Column::Id)
        .all(&**tx)
        .await
        .map_err(storage::StorageError::from)?;
    if placed.is_empty() {
        return Ok(false);
    }
    let mut lines = Vec::with_capacity(placed.len());
    for b in &placed {
        let (description, list) = course_line(tx, b).await?;
        lines.push(Line {
            description,
            list_pence: list,
            discount_pence: (list - b.price_pence).max(0),
            amount_pence: b.price_pence,
        });
    }
    invoice_of(tx, cfg, organisation_id, order_id, lines, now).await?;
    Ok(true)
}

/// An invoice to be numbered after the commit, for a checkout's or purchase's batch of
/// writes or to be inserted at once.
pub(crate) fn pending_invoice(
    tenant: &str,
    cfg: &TenantConfig,
    organisation_id: &str,
    order_id: &str,
    lines: &[Line],
    now: DateTime<Utc>,
) -> Result<invoice_pending::ActiveModel, BookingError> {
    Ok(invoice_pending::ActiveModel {
        tenant_id: Set(tenant.to_owned()),
        id: Set(uuid::Uuid::now_v7().to_string()),
        short_name: Set(cfg.short_name.clone()),
        organisation_id: Set(organisation_id.to_owned()),
        order_id: Set(order_id.to_owned()),
        issued_at: Set(now),
        total_pence: Set(lines.iter().map(|l| l.amount_pence).sum()),
        lines: Set(serde_json::to_string(lines)
            .map_err(|_| BookingError::BadRequest("unwritable invoice"))?),
    })
}

/// The invoice line for a place on `session` of `course` charged `amount_pence`.
pub(crate) fn place_line(
    course: &course::Model,
    session: &course_session::Model,
    amount_pence: i64,
) -> Line {
    Line {
        description: format!("{}, {}", course.title, uk_day(session.starts_at)),
        list_pence: course.price_pence,
        discount_pence: (course.price_pence - amount_pence).max(0),
        amount_pence,
    }
}

async fn invoice_of(
    tx: &TenantTx,
    cfg: &TenantConfig,
    organisation_id: &str,
    order_id: &str,
    lines: Vec<Line>,
    now: DateTime<Utc>,
) -> Result<(), BookingError> {
    pending_invoice(
        tx.tenant().as_str(),
        cfg,
        organisation_id,
        order_id,
        &lines,
        now,
    )?
    .insert(&**tx)
    .await
    .map_err(storage::StorageError::from)?;
    Ok(())
}

/// An invoice waiting for its number.
#[derive(FromQueryResult)]
struct Pending {
    id: String,
    short_name: String,
    organisation_id: String,
    order_id: String,
    issued_at: DateTime<Utc>,
    total_pence: i64,
    lines: String,
}

/// The oldest waiting invoices, at most 500 (one insert's worth of bound values).
async fn pending(tx: &TenantTx) -> Result<Vec<Pending>, BookingError> {
    let mut sql = Sql::default();
    let t = sql.bind(tx.tenant().as_str());
    sql.text = format!(
        "SELECT id, short_name, organisation_id, order_id, issued_at, total_pence, lines \
         FROM invoice_pending WHERE tenant_id = {t} ORDER BY issued_at, id LIMIT 500"
    );
    let backend = sea_orm::ConnectionTrait::get_database_backend(&**tx);
    Ok(Pending::find_by_statement(sql.statement(backend))
        .all(&**tx)
        .await
        .map_err(storage::StorageError::from)?)
}

/// Whether any invoice of the tenant (or of `order_id`) waits for its number.
async fn any_pending(tx: &TenantTx, order_id: Option<&str>) -> Result<bool, BookingError> {
    #[derive(FromQueryResult)]
    struct One {
        #[allow(dead_code)]
        one: i32,
    }
    let mut sql = Sql::default();
    let t = sql.bind(tx.tenant().as_str());
    let of_order = match order_id {
        Some(o) => format!(" AND order_id = {}", sql.bind(o)),
        None => String::new(),
    };
    sql.text =
        format!("SELECT 1 AS one FROM invoice_pending WHERE tenant_id = {t}{of_order} LIMIT 1");
    let backend = sea_orm::ConnectionTrait::get_database_backend(&**tx);
    Ok(One::find_by_statement(sql.statement(backend))
        .one(&**tx)
        .await
        .map_err(storage::StorageError::from)?
        .is_some())
}

/// How [`number_pending`] takes the counter row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Turn {
    /// Waits for it: afterwards nothing committed before is left waiting (reads).
    Wait,
    /// Leaves it to whoever holds it now, who numbers what it finds (after a checkout:
    /// checkouts do not queue behind each other's numbering).
    Skip,
}

/// Numbers every invoice of the tenant waiting for one, in the order they were issued, in
/// the caller's transaction; returns how many. The counter row is taken before the waiting
/// invoices are read, so two of these at once (two replicas, two checkouts) number each
/// invoice once: with [`Turn::Wait`] the second waits for the first's commit and then finds
/// them gone; with [`Turn::Skip`] it does nothing while another holds the row. What is
/// still waiting is numbered by the next one, by any read of invoices, or by the minute's
/// jobs.
///
/// # Errors
/// When the database fails.
pub async fn number_pending(tx: &TenantTx, turn: Turn) -> Result<u64, BookingError> {
    let backend = sea_orm::ConnectionTrait::get_database_backend(&**tx);
    #[derive(FromQueryResult)]
    struct Last {
        last: i64,
    }
    // SQLite has one writer at a time: the transaction already holds the database.
    let lock = match (backend, turn) {
        (sea_orm::DbBackend::Postgres, Turn::Wait) => " FOR UPDATE",
        (sea_orm::DbBackend::Postgres, Turn::Skip) => " FOR UPDATE SKIP LOCKED",
        _ => "",
    };
    let counter = |lock: &str| {
        let mut sql = Sql::default();
        let t = sql.bind(tx.tenant().as_str());
        let k = sql.bind(INVOICE);
        sql.text =
            format!("SELECT last FROM invoice_counter WHERE tenant_id = {t} AND kind = {k}{lock}");
        Last::find_by_statement(sql.statement(backend))
    };
    let mut taken = counter(lock)
        .one(&**tx)
        .await
        .map_err(storage::StorageError::from)?;
    if taken.is_none() {
        if counter("")
            .one(&**tx)
            .await
            .map_err(storage::StorageError::from)?
            .is_some()
        {
            // Another is numbering now (Turn::Skip): it takes these too, or the next does.
            return Ok(0);
        }
        // The tenant's first invoice: make the row (a concurrent first waits here), take it.
        let mut sql = Sql::default();
        let t = sql.bind(tx.tenant().as_str());
        let k = sql.bind(INVOICE);
        sql.text = format!(
            "INSERT INTO invoice_counter (tenant_id, kind, last) VALUES ({t}, {k}, 0) \
             ON CONFLICT (tenant_id, kind) DO NOTHING"
        );
        sql.execute(tx).await?;
        taken = counter(lock)
            .one(&**tx)
            .await
            .map_err(storage::StorageError::from)?;
    }
    let Some(Last { mut last }) = taken else {
        return Ok(0);
    };
    // Invoices committed while these were numbered are taken too, so a checkout that
    // skipped its turn a moment ago is seldom left waiting.
    let mut numbered = 0;
    loop {
        let waiting = pending(tx).await?;
        if waiting.is_empty() {
            break;
        }
        let mut rows = Vec::with_capacity(waiting.len());
        for p in &waiting {
            last += 1;
            rows.push(invoice::ActiveModel {
                tenant_id: Set(tx.tenant().to_string()),
                id: Set(p.id.clone()),
                number: Set(format!("{}-INV-{last:06}", p.short_name)),
                kind: Set(INVOICE.to_owned()),
                organisation_id: Set(p.organisation_id.clone()),
                order_id: Set(p.order_id.clone()),
                booking_id: Set(None),
                credits_number: Set(None),
                issued_at: Set(p.issued_at),
                total_pence: Set(p.total_pence),
                lines: Set(p.lines.clone()),
            });
        }
        invoice::Entity::insert_many(rows)
            .exec(&**tx)
            .await
            .map_err(storage::StorageError::from)?;
        let ids: Vec<String> = waiting.iter().map(|p| p.id.clone()).collect();
        let mut sql = Sql::default();
        let t = sql.bind(tx.tenant().as_str());
        let list = sql.list(&ids);
        sql.text = format!("DELETE FROM invoice_pending WHERE tenant_id = {t} AND id IN {list}");
        sql.execute(tx).await?;
        numbered += waiting.len() as u64;
    }
    if numbered > 0 {
        let mut sql = Sql::default();
        let n = sql.bind(last);
        let t = sql.bind(tx.tenant().as_str());
        let k = sql.bind(INVOICE);
        sql.text =
            format!("UPDATE invoice_counter SET last = {n} WHERE tenant_id = {t} AND kind = {k}");
        sql.execute(tx).await?;
    }
    Ok(numbered)
}

/// In a service purchase's transaction: its invoice (one line), to be numbered after the
/// commit.
///
/// # Errors
/// When the database fails.
pub(crate) async fn for_purchase(
    tx: &TenantTx,
    cfg: &TenantConfig,
    organisation_id: &str,
    order_id: &str,
    description: String,
    price_pence: i64,
    now: DateTime<Utc>,
) -> Result<(), BookingError> {
    let line = Line {
        description,
        list_pence: price_pence,
        discount_pence: 0,
        amount_pence: price_pence,
    };
    invoice_of(tx, cfg, organisation_id, order_id, vec![line], now).await
}

/// In a cancellation's transaction: the credit note for `b`, a place billed to an
/// organisation and invoiced, cancelled within the course's terms or by its provider
/// (none for a free place, one billed to nobody, or one whose order has no invoice here,
/// such as an order placed before invoices were issued). Its number takes the prefix of
/// the invoice it credits.
///
/// # Errors
/// When the database fails.
pub(crate) async fn credit(
    tx: &TenantTx,
    b: &booking::Model,
    now: DateTime<Utc>,
) -> Result<Option<invoice::Model>, BookingError> {
    let Some(org) = b.organisation_id.as_deref() else {
        return Ok(None);
    };
    if b.price_pence == 0 {
        return Ok(None);
    }
    // The invoice it credits may still be waiting for its number (only then is the
    // counter row taken, and held until this cancellation commits).
    if any_pending(tx, Some(&b.order_id)).await? {
        number_pending(tx, Turn::Wait).await?;
    }
    let Some(credited) = invoice::Entity::find()
        .filter(invoice::Column::TenantId.eq(tx.tenant().as_str()))
        .filter(invoice::Column::OrderId.eq(&b.order_id))
        .filter(invoice::Column::Kind.eq(INVOICE))
        .one(&**tx)
        .await
        .map_err(storage::StorageError::from)?
    else {
        return Ok(None);
    };
    let short_name = credited
        .number
        .rsplit_once("-INV-")
        .map_or(credited.number.as_str(), |(prefix, _)| prefix)
        .to_owned();
    let (description, _) = course_line(tx, b).await?;
    let note = issue(
        tx,
        &short_name,
        now,
        Issue {
            kind: CREDIT_NOTE,
            organisation_id: org,
            order_id: &b.order_id,
            booking_id: Some(b.id.clone()),
            credits: Some(credited.number),
            lines: vec![Line {
                description: format!("Cancelled within terms: {description}"),
                list_pence: -b.price_pence,
                discount_pence: 0,
                amount_pence: -b.price_pence,
            }],
        },
    )
    .await?;
    Ok(Some(note))
}

impl Bookings {
    /// Numbers the tenant's invoices waiting for one (see [`number_pending`]), in a
    /// transaction of its own; cheap when none is waiting. Called after each commit that
    /// wrote an invoice, and before invoices are read.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn number_invoices(&self, cfg: &TenantConfig) -> Result<u64, BookingError> {
        self.number(cfg, Turn::Wait).await
    }

    async fn number(&self, cfg: &TenantConfig, turn: Turn) -> Result<u64, BookingError> {
        let tx = self.db.tenant_read(&cfg.slug).await?;
        let waiting = any_pending(&tx, None).await?;
        tx.rollback().await?;
        if !waiting {
            return Ok(0);
        }
        let tx = self.db.tenant_tx(&cfg.slug).await?;
        let n = number_pending(&tx, turn).await?;
        tx.commit().await?;
        Ok(n)
    }

    /// Numbers invoices after a commit that wrote one, unless another checkout is numbering
    /// at this moment (see [`Turn::Skip`]). The place or purchase stands whatever happens
    /// here: an invoice left waiting is numbered by the next one, the next read or the
    /// minute's jobs.
    pub(crate) async fn number_after_commit(&self, cfg: &TenantConfig) {
        if let Err(e) = self.number(cfg, Turn::Skip).await {
            tracing::warn!(tenant = %cfg.slug, error = %e, "invoices left waiting for their number");
        }
    }

    /// The organisation and its invoices and credit notes, newest first, for `actor`.
    ///
    /// # Errors
    /// [`BookingError::NotFound`] unless the actor is a lead administrator or purchaser of
    /// the organisation or a council administrator (also for another tenant's).
    pub async fn invoices(
        &self,
        cfg: &TenantConfig,
        actor_id: &str,
        org_id: &str,
    ) -> Result<(organisation::Model, Vec<invoice::Model>), BookingError> {
        let org = self.invoicing_organisation(cfg, actor_id, org_id).await?;
        self.number_invoices(cfg).await?;
        let tx = self.db.tenant_read(&cfg.slug).await?;
        let all = invoice::Entity::find()
            .filter(invoice::Column::TenantId.eq(cfg.slug.as_str()))
            .filter(invoice::Column::OrganisationId.eq(org_id))
            .order_by_desc(invoice::Column::IssuedAt)
            .order_by_desc(invoice::Column::Number)
            .all(&*tx)
            .await
            .map_err(storage::StorageError::from)?;
        tx.rollback().await?;
        Ok((org, all))
    }

    /// One of the organisation's invoices or credit notes, for `actor`, with the number of
    /// the order it bills.
    ///
    /// # Errors
    /// [`BookingError::NotFound`] as for [`Bookings::invoices`], and for an id that is not
    /// one of this organisation's.
    pub async fn invoice(
        &self,
        cfg: &TenantConfig,
        actor_id: &str,
        org_id: &str,
        invoice_id: &str,
    ) -> Result<(organisation::Model, invoice::Model, String), BookingError> {
        let org = self.invoicing_organisation(cfg, actor_id, org_id).await?;
        self.number_invoices(cfg).await?;
        let tx = self.db.tenant_read(&cfg.slug).await?;
        let inv = invoice::Entity::find()
            .filter(invoice::Column::TenantId.eq(cfg.slug.as_str()))
            .filter(invoice::Column::OrganisationId.eq(org_id))
            .filter(invoice::Column::Id.eq(invoice_id))
            .one(&*tx)
            .await
            .map_err(storage::StorageError::from)?
            .ok_or(BookingError::NotFound)?;
        let number = crate::store::entity::booking_order::Entity::find()
            .filter(crate::store::entity::booking_order::Column::TenantId.eq(cfg.slug.as_str()))
            .filter(crate::store::entity::booking_order::Column::Id.eq(inv.order_id.as_str()))
            .one(&*tx)
            .await
            .map_err(storage::StorageError::from)?
            .map(|o| o.number)
            .unwrap_or_default();
        tx.rollback().await?;
        Ok((org, inv, number))
    }

    async fn invoicing_organisation(
        &self,
        cfg: &TenantConfig,
        actor_id: &str,
        org_id: &str,
    ) -> Result<organisation::Model, BookingError> {
        let tx = self.db.tenant_read(&cfg.slug).await?;
        let org = identity::store::organisations::find(&tx, org_id).await?;
        let manages = match &org {
            Some(o) => identity::store::organisations::can_manage(&tx, actor_id, &o.id).await?,
            None => false,
        };
        tx.rollback().await?;
        let org = org.ok_or(BookingError::NotFound)?;
        if manages
            || self
                .purchasing_for(cfg, actor_id)
                .await?
                .iter()
                .any(|(id, _)| *id == org.id)
        {
            Ok(org)
        } else {
            Err(BookingError::NotFound)
        }
    }
}

/// Pounds and pence (`£1,234.50`, `-£45.00`).
#[must_use]
pub fn pounds(pence: i64) -> String {
    let sign = if pence < 0 { "-" } else { "" };
    let p = pence.unsigned_abs();
    let whole = (p / 100).to_string();
    let mut grouped = String::new();
    for (i, ch) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    format!("{sign}£{grouped}.{:02}", p % 100)
}

const WIDTH: f32 = 595.0;
const HEIGHT: f32 = 842.0;
const LEFT: f32 = 56.0;
const RIGHT: f32 = WIDTH - 56.0;

/// The invoice or credit note as a one-page A4 PDF (continued on further pages when the
/// lines need them).
///
/// # Errors
/// When the stored lines do not parse or the font cannot be written.
pub fn pdf(
    cfg: &TenantConfig,
    org: &organisation::Model,
    order_number: &str,
    inv: &invoice::Model,
) -> Result<Vec<u8>, BookingError> {
    let (r, b) = (Weight::Regular, Weight::Bold);
    let credit = inv.kind == CREDIT_NOTE;
    let heading = if credit { "Credit note" } else { "Invoice" };
    let mut fonts = Fonts::default();
    // Each row: weight, size, text at the left, text at the right.
    let mut rows: Vec<(Weight, f32, String, String)> = vec![
        (b, 12.0, cfg.display_name.clone(), String::new()),
        (r, 10.0, cfg.controller.name.clone(), String::new()),
    ];
    rows.extend(
        cfg.controller
            .address
            .iter()
            .map(|a| (r, 10.0, a.clone(), String::new())),
    );
    rows.push((b, 24.0, format!("{heading} {}", inv.number), String::new()));
    rows.push((
        r,
        11.0,
        format!("Issued {}", uk_day(inv.issued_at)),
        String::new(),
    ));
    rows.push((r, 11.0, format!("Order {order_number}"), String::new()));
    if let Some(credited) = &inv.credits_number {
        rows.push((
            r,
            11.0,
            format!("Credits invoice {credited}"),
            String::new(),
        ));
    }
    rows.push((b, 11.0, format!("Billed to {}", org.name), String::new()));
    rows.push((b, 11.0, "Item".to_owned(), "Amount".to_owned()));
    for l in lines_of(inv)? {
        let amount = pounds(l.amount_pence);
        let room = RIGHT - LEFT - Fonts::width(r, &amount, 10.0) - 24.0;
        let mut wrapped = wrap_to(&l.description, room, 10.0).into_iter();
        rows.push((r, 10.0, wrapped.next().unwrap_or_default(), amount));
        rows.extend(wrapped.map(|more| (r, 10.0, more, String::new())));
        if l.discount_pence > 0 {
            rows.push((
                r,
                9.0,
                format!(
                    "    List price {}, less {} at the SLA rate",
                    pounds(l.list_pence),
                    pounds(l.discount_pence)
                ),
                String::new(),
            ));
        }
    }
    rows.push((b, 12.0, "Total".to_owned(), pounds(inv.total_pence)));

    let mut pdf = Pdf::new();
    let catalog = Ref::new(1);
    let pages = Ref::new(2);
    let info = Ref::new(3);
    let (regular, bold) = (Ref::new(4), Ref::new(5));
    let mut next = Ref::new(6);
    let (f1, f2) = (Name(b"F1"), Name(b"F2"));
    let title = format!("{heading} {}", inv.number);
    pdf.catalog(catalog).pages(pages).lang(TextStr("en-GB"));
    pdf.document_info(info)
        .title(TextStr(&title))
        .author(TextStr(&cfg.display_name));
    let mut page_ids = Vec::new();
    let mut contents: Vec<Content> = vec![Content::new()];
    let mut y = HEIGHT - 64.0;
    for (weight, size, left, right) in &rows {
        if y < 64.0 {
            contents.push(Content::new());
            y = HEIGHT - 64.0;
        }
        let font = if *weight == b { f2 } else { f1 };
        let content = contents.last_mut().ok_or(BookingError::NotFound)?;
        content
            .begin_text()
            .set_font(font, *size)
            .next_line(LEFT, y)
            .show(Str(&fonts.encode(*weight, left)))
            .end_text();
        if !right.is_empty() {
            let x = RIGHT - Fonts::width(*weight, right, *size);
            content
                .begin_text()
                .set_font(font, *size)
                .next_line(x, y)
                .show(Str(&fonts.encode(*weight, right)))
                .end_text();
        }
        y -= size * 1.7;
    }
    for content in contents {
        let (page, body) = (next.bump(), next.bump());
        let mut p = pdf.page(page);
        p.media_box(Rect::new(0.0, 0.0, WIDTH, HEIGHT));
        p.parent(pages);
        p.contents(body);
        p.resources().fonts().pair(f1, regular).pair(f2, bold);
        p.finish();
        pdf.stream(body, &content.finish());
        page_ids.push(page);
    }
    let count = i32::try_from(page_ids.len()).unwrap_or(1);
    pdf.pages(pages).kids(page_ids).count(count);
    fonts.write(&mut pdf, r, regular, &mut next)?;
    fonts.write(&mut pdf, b, bold, &mut next)?;
    Ok(pdf.finish())
}

/// `text` in lines no wider than `room` points at `size` (a word longer than that stands
/// alone on its line).
fn wrap_to(text: &str, room: f32, size: f32) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let candidate = if line.is_empty() {
            word.to_owned()
        } else {
            format!("{line} {word}")
        };
        if !line.is_empty() && Fonts::width(Weight::Regular, &candidate, size) > room {
            lines.push(std::mem::replace(&mut line, word.to_owned()));
        } else {
            line = candidate;
        }
    }
    lines.push(line);
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pounds_are_grouped_and_signed() {
        assert_eq!(pounds(0), "£0.00");
        assert_eq!(pounds(4_500), "£45.00");
        assert_eq!(pounds(123_456_789), "£1,234,567.89");
        assert_eq!(pounds(-12_050), "-£120.50");
    }

    #[test]
    fn long_descriptions_wrap_inside_the_room_left_by_the_amount() {
        let title = "Supporting pupils with speech, language and communication needs in the \
                     early years foundation stage and key stage 1, 4 March 2027";
        let lines = wrap_to(title, 300.0, 10.0);
        assert!(lines.len() > 1, "{lines:?}");
        assert_eq!(lines.join(" "), title);
        for l in &lines {
            assert!(Fonts::width(Weight::Regular, l, 10.0) <= 300.0, "{l}");
        }
        assert_eq!(wrap_to("", 100.0, 10.0), [""]);
    }
}
