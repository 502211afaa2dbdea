//! Invoices for orders placed before the platform issued them.
//!
//! An order billed to an organisation before invoicing began has none, so neither the
//! school's lead administrators nor the council's finance team can list or download one.
//! The operator issues them once per council after upgrading (`portal invoices
//! issue-missing --tenant T`): each such order gets an invoice for what it still charges (its
//! places not cancelled, the service it bought if still held), dated the day it is issued
//! and numbered after the invoices already issued. An order with an invoice, or one
//! waiting for its number, is left alone, so running it again issues nothing.

use catalogue::store::entity::traded_service;
use sea_orm::sea_query::Query;
use sea_orm::{
    ColumnTrait as _, EntityTrait as _, QueryFilter as _, QueryOrder as _, QuerySelect as _,
};
use storage::TenantTx;
use tenant_router::TenantConfig;

use super::{Line, invoice_of, place_lines, service_description};
use crate::store::entity::{booking, booking_order, invoice, invoice_pending, service_purchase};
use crate::{BookingError, Bookings};

impl Bookings {
    /// Issues an invoice for each order of `cfg`'s council that is billed to an
    /// organisation, has none and still charges something; with `apply` false it only
    /// counts them. Returns the orders invoiced (or that would be), all in one transaction,
    /// with an audit event naming them. The places read are locked until it commits, so a
    /// cancellation meanwhile waits and then credits the new invoice. They are numbered at
    /// once; if that fails they stay issued, and the minute's jobs number them.
    ///
    /// # Errors
    /// When the database fails before the commit: nothing is issued then.
    pub async fn invoice_earlier_orders(
        &self,
        cfg: &TenantConfig,
        apply: bool,
    ) -> Result<u64, BookingError> {
        // A dry run only reads: on SQLite it then leaves the server's writes free.
        let tx = if apply {
            self.db.tenant_tx(&cfg.slug).await?
        } else {
            self.db.tenant_read(&cfg.slug).await?
        };
        let t = cfg.slug.as_str();
        let now = self.clock.now();
        let issued = Query::select()
            .column(invoice::Column::OrderId)
            .from(invoice::Entity)
            .and_where(invoice::Column::TenantId.eq(t))
            .to_owned();
        let waiting = Query::select()
            .column(invoice_pending::Column::OrderId)
            .from(invoice_pending::Entity)
            .and_where(invoice_pending::Column::TenantId.eq(t))
            .to_owned();
        let orders = booking_order::Entity::find()
            .filter(booking_order::Column::TenantId.eq(t))
            .filter(booking_order::Column::OrganisationId.is_not_null())
            .filter(booking_order::Column::Id.not_in_subquery(issued))
            .filter(booking_order::Column::Id.not_in_subquery(waiting))
            .order_by_asc(booking_order::Column::CreatedAt)
            .all(&*tx)
            .await
            .map_err(storage::StorageError::from)?;
        let mut invoiced = Vec::new();
        for order in &orders {
            let Some(org) = order.organisation_id.as_deref() else {
                continue;
            };
            let lines = charged(&tx, &order.id, apply).await?;
            if lines.is_empty() {
                continue;
            }
            if apply {
                invoice_of(&tx, cfg, org, &order.id, lines, now).await?;
            }
            invoiced.push(order.number.as_str());
        }
        let count = u64::try_from(invoiced.len()).unwrap_or(u64::MAX);
        if !apply || invoiced.is_empty() {
            tx.rollback().await?;
            return Ok(count);
        }
        storage::audit::record(
            &tx,
            now,
            storage::audit::AuditEntry {
                actor: "operator:cli",
                action: "invoices.issued_for_earlier_orders",
                subject: t,
                detail: serde_json::json!({ "orders": invoiced }),
            },
        )
        .await?;
        tx.commit().await?;
        if let Err(e) = self.number_invoices(cfg).await {
            tracing::warn!(tenant = t, error = %e, "invoices issued, to be numbered by the minute's jobs");
        }
        Ok(count)
    }
}

/// What the order `order_id` still charges: a line per place not cancelled (cancelling
/// online is only allowed within the course's terms, and a declined place is not
/// charged), and a line per service it bought that is still held. With `lock`, its places
/// are held until the transaction ends.
async fn charged(tx: &TenantTx, order_id: &str, lock: bool) -> Result<Vec<Line>, BookingError> {
    let t = tx.tenant().as_str();
    let mut places = booking::Entity::find()
        .filter(booking::Column::TenantId.eq(t))
        .filter(booking::Column::OrderId.eq(order_id))
        .filter(booking::Column::Status.ne("cancelled"))
        .order_by_asc(booking::Column::Id);
    if lock {
        // `FOR UPDATE` on PostgreSQL; SQLite's write transaction already holds everything.
        places = places.lock_exclusive();
    }
    let places = places
        .all(&**tx)
        .await
        .map_err(storage::StorageError::from)?;
    let mut lines = place_lines(tx, &places).await?;
    let bought = service_purchase::Entity::find()
        .filter(service_purchase::Column::TenantId.eq(t))
        .filter(service_purchase::Column::OrderId.eq(order_id))
        .filter(service_purchase::Column::Status.eq(crate::purchases::ACTIVE))
        .all(&**tx)
        .await
        .map_err(storage::StorageError::from)?;
    for p in bought {
        let title = traded_service::Entity::find()
            .filter(traded_service::Column::TenantId.eq(t))
            .filter(traded_service::Column::Id.eq(&p.service_id))
            .one(&**tx)
            .await
            .map_err(storage::StorageError::from)?
            .map_or_else(|| "A service".to_owned(), |s| s.title);
        lines.push(Line {
            description: service_description(&title, &p.band, p.period_start, p.period_end),
            list_pence: p.price_pence,
            discount_pence: 0,
            amount_pence: p.price_pence,
        });
    }
    Ok(lines)
}
