//! Invoices and credit notes for what is billed to an organisation.
//!
//! - Every checkout billed to an organisation gets an **invoice** written with its places
//!   (all or nothing), with one line per place: the course's list price, the SLA discount the
//!   checkout applied and the amount charged. A traded service bought for an organisation
//!   gets one the same way.
//! - Cancelling a place billed to an organisation within the course's terms (online
//!   cancelling is only allowed then, and an organisation's approver declining a place is
//!   the same) issues a **credit note** for what it cost, naming the invoice it credits.
//! - Numbers run per tenant and kind without gaps (`SSE-INV-000042`, `SSE-CN-000007`). An
//!   invoice is written, unnumbered, with its checkout's places (`invoice_pending`), and
//!   numbered after the commit by [`number_pending`], which takes the tenant's counter row
//!   and numbers every invoice waiting, in the order they were issued. It runs in the
//!   background ([`Numbering`]): one task per tenant at a time in each process, which a
//!   commit while it runs sends round again, so a burst of checkouts is numbered in a few
//!   rounds and no checkout waits for the counter (they did when each took it: one organisation checkout
//!   at a time per council). A checkout that rolls back leaves no hole. Whatever reads
//!   invoices numbers those waiting first, so none is ever seen without its number; the
//!   minute's jobs number anything a stopped process left waiting. Credit notes, rare, take
//!   the counter in their own transaction.
//!   Lines name courses and services, never people.
//! - The organisation's lead administrators and purchasers (and the council's
//!   administrators) list them and download each as PDF, CSV or JSON.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait as _, ColumnTrait as _, EntityTrait as _, FromQueryResult, QueryFilter as _,
    QueryOrder as _, Set,
};
use serde::{Deserialize, Serialize};
use storage::TenantTx;
use storage::sql::Sql;
use tenant_router::{TenantConfig, TenantId};

use catalogue::store::entity::{course, course_session};
use identity::store::entity::organisation;

use crate::store::entity::{booking, invoice, invoice_pending};
use crate::{BookingError, Bookings};

mod earlier;
mod numbering;
mod pdf;

use numbering::any_pending;
pub use numbering::number_pending;
pub use pdf::{pdf, pounds};

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
    let lines = place_lines(tx, &placed).await?;
    invoice_of(tx, cfg, organisation_id, order_id, lines, now).await?;
    Ok(true)
}

/// A line per place of `placed`: the course and the day of its session, the course's list
/// price, the discount given and the price charged.
async fn place_lines(tx: &TenantTx, placed: &[booking::Model]) -> Result<Vec<Line>, BookingError> {
    let mut lines = Vec::with_capacity(placed.len());
    for b in placed {
        let (description, list) = course_line(tx, b).await?;
        // The course's price now: for an older place it may since have gone down.
        let list = list.max(b.price_pence);
        lines.push(Line {
            description,
            list_pence: list,
            discount_pence: (list - b.price_pence).max(0),
            amount_pence: b.price_pence,
        });
    }
    Ok(lines)
}

/// How a service bought appears on an invoice: its title, the band chosen and its period.
pub(crate) fn service_description(
    title: &str,
    band: &str,
    start: chrono::NaiveDate,
    end: chrono::NaiveDate,
) -> String {
    format!(
        "{title} ({band}), {} to {}",
        start.format("%-d %B %Y"),
        end.format("%-d %B %Y")
    )
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
        number_pending(tx).await?;
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

/// The tenants whose invoices this process is numbering in the background: one task per
/// tenant at a time, told by later commits to go round again.
#[derive(Clone, Default)]
pub(crate) struct Numbering(Arc<Mutex<HashMap<TenantId, Round>>>);

/// Where a tenant's numbering task stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Round {
    /// Numbering; nothing committed since it started asks for more.
    Running,
    /// Numbering, and an invoice was committed since it started: it goes round again.
    Again,
}

impl Numbering {
    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<TenantId, Round>> {
        // Nothing here can be left half-changed: a panic elsewhere does not spoil the map.
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Whether a task must be started for `tenant` (none runs): otherwise the running one
    /// is told to go round again.
    fn ask(&self, tenant: &TenantId) -> bool {
        let mut map = self.map();
        match map.get_mut(tenant) {
            Some(round) => {
                *round = Round::Again;
                false
            }
            None => {
                map.insert(tenant.clone(), Round::Running);
                true
            }
        }
    }

    /// After a round: whether to go round again (a commit asked since it started);
    /// otherwise the task ends and the tenant is off the map.
    fn again(&self, tenant: &TenantId) -> bool {
        let mut map = self.map();
        if map.get(tenant) == Some(&Round::Again) {
            map.insert(tenant.clone(), Round::Running);
            true
        } else {
            map.remove(tenant);
            false
        }
    }
}

impl Bookings {
    /// Numbers the tenant's invoices waiting for one (see [`number_pending`]), in a
    /// transaction of its own; cheap when none is waiting. Called before invoices are read,
    /// by the minute's jobs, and in the background after each commit that wrote an invoice.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn number_invoices(&self, cfg: &TenantConfig) -> Result<u64, BookingError> {
        self.number(&cfg.slug).await
    }

    async fn number(&self, tenant: &TenantId) -> Result<u64, BookingError> {
        let tx = self.db.tenant_read(tenant).await?;
        let waiting = any_pending(&tx, None).await?;
        tx.rollback().await?;
        if !waiting {
            return Ok(0);
        }
        let tx = self.db.tenant_tx(tenant).await?;
        let n = number_pending(&tx).await?;
        tx.commit().await?;
        Ok(n)
    }

    /// Has the invoices waiting numbered in the background, after a commit that wrote one:
    /// the caller (a checkout, a purchase) answers at once. One task per tenant runs in
    /// this process; a commit while it runs makes it go round again when it has finished,
    /// so a burst of checkouts is numbered in a few rounds, never by one transaction each
    /// queueing on the counter row. The place or purchase stands whatever happens to the
    /// task: an invoice left waiting (a failed round ends the task) is numbered by the next
    /// task, the next read or the minute's jobs.
    pub(crate) fn number_soon(&self, cfg: &TenantConfig) {
        if !self.numbering.ask(&cfg.slug) {
            return;
        }
        let (this, tenant) = (self.clone(), cfg.slug.clone());
        tokio::spawn(async move {
            loop {
                if let Err(e) = this.number(&tenant).await {
                    tracing::warn!(tenant = %tenant, error = %e, "invoices left waiting for their number");
                    // Off the map, so the next commit starts afresh.
                    this.numbering.map().remove(&tenant);
                    return;
                }
                if !this.numbering.again(&tenant) {
                    return;
                }
            }
        });
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
