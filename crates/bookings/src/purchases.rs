//! Buying traded services and SLAs for an organisation. A purchase is an order (numbered,
//! idempotent like a checkout) holding one service for the service's period, at the price
//! of the band chosen. While an organisation holds an SLA, the courses it covers cost the
//! SLA price for sessions inside its period (see [`holds_sla`]).

use catalogue::domain::Status;
use catalogue::store::entity::{service_price_band, traded_service};
use chrono::NaiveDate;
use identity::domain::rights::{Right, Rights, membership_status};
use identity::store::entity::account;
use sea_orm::{
    ActiveModelTrait as _, ColumnTrait as _, ConnectionTrait, EntityTrait as _, QueryFilter as _,
    Set, SqlErr,
};
use storage::TenantTx;
use storage::audit::{self, AuditEntry};
use storage::outbox::{self, Email};
use tenant_router::{TenantConfig, TenantId};

use catalogue::domain::money::format_pence;

use crate::common::{Entry, find_order, log};
use crate::domain::{PurchaseOutcome, PurchaseRequest, check_key, fingerprint};
use crate::store::entity::{booking_order, service_purchase};
use crate::{BookingError, Bookings};

/// `service_purchase.status` of a purchase in force.
pub const ACTIVE: &str = "active";

impl Bookings {
    /// Buys `service_id` for an organisation: the buyer needs the purchaser (or lead
    /// administrator) right there; the price comes from the band, never from the request.
    ///
    /// # Errors
    /// [`BookingError::BadRequest`] (bad key, unknown band), [`BookingError::NotFound`]
    /// (unknown service, also another tenant's), [`BookingError::NotBookable`] (not on sale,
    /// or its period is over), [`BookingError::NotAllowed`], [`BookingError::PriceMismatch`],
    /// [`BookingError::AlreadyPurchased`], [`BookingError::IdempotencyConflict`]; nothing is
    /// changed on any error.
    pub async fn purchase(
        &self,
        cfg: &TenantConfig,
        buyer: &account::Model,
        key: &str,
        service_id: &str,
        req: &PurchaseRequest,
    ) -> Result<PurchaseOutcome, BookingError> {
        check_key(key)?;
        match self.try_purchase(cfg, buyer, key, service_id, req).await? {
            Some(done) => Ok(done),
            // A twin with the same key committed first: answer as its retry.
            None => self
                .try_purchase(cfg, buyer, key, service_id, req)
                .await?
                .ok_or(BookingError::IdempotencyConflict),
        }
    }

    /// One attempt; `None` when a twin with the same key won the race.
    async fn try_purchase(
        &self,
        cfg: &TenantConfig,
        buyer: &account::Model,
        key: &str,
        service_id: &str,
        req: &PurchaseRequest,
    ) -> Result<Option<PurchaseOutcome>, BookingError> {
        let hash = fingerprint(&serde_json::json!({ "service": service_id, "request": req }));
        let tx = self.db.tenant_tx(&cfg.slug).await?;
        if let Some(previous) = find_order(&tx, &buyer.id, key).await? {
            if previous.request_hash != hash {
                return Err(BookingError::IdempotencyConflict);
            }
            let bought = service_purchase::Entity::find()
                .filter(service_purchase::Column::TenantId.eq(cfg.slug.as_str()))
                .filter(service_purchase::Column::OrderId.eq(previous.id.as_str()))
                .one(&*tx)
                .await?
                .ok_or(BookingError::IdempotencyConflict)?;
            tx.rollback().await?;
            return Ok(Some(outcome(&previous, &bought, true)));
        }
        let now = self.clock.now();
        let today = catalogue::domain::uk::uk_date(now);
        let org = req.organisation_id.trim();
        let m = identity::store::organisations::membership(&tx, org, &buyer.id)
            .await?
            .filter(|m| m.status == membership_status::VERIFIED)
            .ok_or(BookingError::NotAllowed(
                "You can only buy for an organisation you are a confirmed member of",
            ))?;
        let rights = Rights::parse(&m.rights).unwrap_or_default();
        if !(rights.has(Right::Purchaser) || rights.has(Right::LeadAdmin)) {
            return Err(BookingError::NotAllowed(
                "Buying services for your organisation needs the purchaser right there",
            ));
        }
        let service = traded_service::Entity::find()
            .filter(traded_service::Column::TenantId.eq(cfg.slug.as_str()))
            .filter(traded_service::Column::Id.eq(service_id))
            .one(&*tx)
            .await?
            .ok_or(BookingError::NotFound)?;
        if Status::parse(&service.status) != Status::Published {
            return Err(BookingError::NotBookable {
                code: "service_not_on_sale",
                message: "This service is not on sale",
            });
        }
        if service.period_end < today {
            return Err(BookingError::NotBookable {
                code: "service_period_over",
                message: "This service's period is over",
            });
        }
        let band = service_price_band::Entity::find()
            .filter(service_price_band::Column::TenantId.eq(cfg.slug.as_str()))
            .filter(service_price_band::Column::ServiceId.eq(service.id.as_str()))
            .filter(service_price_band::Column::Label.eq(req.band.trim()))
            .one(&*tx)
            .await?
            .ok_or(BookingError::BadRequest(
                "Choose one of the service's price bands",
            ))?;
        if req
            .expected_total_pence
            .is_some_and(|t| t != band.price_pence)
        {
            return Err(BookingError::PriceMismatch {
                computed_pence: band.price_pence,
            });
        }
        if held(&tx, org, &service.id).await? {
            return Err(BookingError::AlreadyPurchased);
        }
        let order_id = uuid::Uuid::now_v7().to_string();
        // A number drawn before is drawn again; the key taken means a twin with the same
        // key committed first.
        let order = match crate::common::insert_order(&tx, &cfg.short_name, |number| {
            booking_order::ActiveModel {
                tenant_id: Set(cfg.slug.to_string()),
                id: Set(order_id.clone()),
                number: Set(number),
                account_id: Set(buyer.id.clone()),
                organisation_id: Set(Some(org.to_owned())),
                total_pence: Set(band.price_pence),
                idempotency_key: Set(key.to_owned()),
                request_hash: Set(hash.clone()),
                created_at: Set(now),
            }
        })
        .await
        {
            Ok(order) => order,
            Err(e)
                if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
                    && !crate::common::number_taken(&e) =>
            {
                tx.rollback().await?;
                return Ok(None);
            }
            Err(e) => return Err(e.into()),
        };
        let bought = service_purchase::ActiveModel {
            tenant_id: Set(cfg.slug.to_string()),
            id: Set(uuid::Uuid::now_v7().to_string()),
            order_id: Set(order_id.clone()),
            service_id: Set(service.id.clone()),
            organisation_id: Set(org.to_owned()),
            account_id: Set(buyer.id.clone()),
            band: Set(band.label.clone()),
            price_pence: Set(band.price_pence),
            period_start: Set(service.period_start),
            period_end: Set(service.period_end),
            status: Set(ACTIVE.to_owned()),
            created_at: Set(now),
        }
        .insert(&*tx)
        .await
        .map_err(|e| match e.sql_err() {
            // Two buyers at once: the partial unique index lets one through.
            Some(SqlErr::UniqueConstraintViolation(_)) => BookingError::AlreadyPurchased,
            _ => e.into(),
        })?;
        identity::store::touch(&tx, &buyer.id, now).await?;
        crate::invoices::for_purchase(
            &tx,
            cfg,
            org,
            &order_id,
            crate::invoices::service_description(
                &service.title,
                &band.label,
                service.period_start,
                service.period_end,
            ),
            band.price_pence,
            now,
        )
        .await?;
        let detail = serde_json::json!({
            "order": order_id,
            "purchase": bought.id,
            "service": service.id,
            "band": band.label,
            "total_pence": band.price_pence,
        });
        log(
            &tx,
            now,
            Entry {
                account: &buyer.id,
                organisation: Some(org),
                action: "purchase",
                subject: &order_id,
                detail: &detail,
            },
        )
        .await?;
        audit::record(
            &tx,
            now,
            AuditEntry {
                actor: &format!("account:{}", buyer.id),
                action: "service.purchased",
                subject: &order_id,
                detail,
            },
        )
        .await?;
        let body = format!(
            "Your order is confirmed.\n\n{title} ({band})\nFrom {start} to {end}\n\n\
             Order {number}, price {price}.\n",
            title = service.title,
            band = band.label,
            start = service.period_start.format("%-d %B %Y"),
            end = service.period_end.format("%-d %B %Y"),
            number = order.number,
            price = format_pence(band.price_pence),
        );
        outbox::enqueue(
            &tx,
            now,
            Email {
                to: &buyer.email,
                subject: &format!("Order confirmed: {}", service.title),
                body: &body,
            },
        )
        .await?;
        tx.commit().await?;
        self.number_soon(cfg);
        Ok(Some(outcome(&order, &bought, false)))
    }
}

fn outcome(
    order: &booking_order::Model,
    bought: &service_purchase::Model,
    replayed: bool,
) -> PurchaseOutcome {
    PurchaseOutcome {
        order_id: order.id.clone(),
        number: order.number.clone(),
        purchase_id: bought.id.clone(),
        total_pence: bought.price_pence,
        period_start: bought.period_start,
        period_end: bought.period_end,
        replayed,
    }
}

/// Whether the organisation holds the service now (an active purchase).
async fn held(tx: &TenantTx, org: &str, service_id: &str) -> Result<bool, BookingError> {
    Ok(service_purchase::Entity::find()
        .filter(service_purchase::Column::TenantId.eq(tx.tenant().as_str()))
        .filter(service_purchase::Column::OrganisationId.eq(org))
        .filter(service_purchase::Column::ServiceId.eq(service_id))
        .filter(service_purchase::Column::Status.eq(ACTIVE))
        .one(&**tx)
        .await?
        .is_some())
}

/// Whether `org` holds the SLA `service_id` on `day`: an active purchase whose period
/// covers it. This is what prices a course at its SLA price.
///
/// # Errors
/// When the database fails.
pub async fn holds_sla<C: ConnectionTrait>(
    conn: &C,
    tenant: &TenantId,
    org: &str,
    service_id: &str,
    day: NaiveDate,
) -> Result<bool, BookingError> {
    Ok(service_purchase::Entity::find()
        .filter(service_purchase::Column::TenantId.eq(tenant.as_str()))
        .filter(service_purchase::Column::OrganisationId.eq(org))
        .filter(service_purchase::Column::ServiceId.eq(service_id))
        .filter(service_purchase::Column::Status.eq(ACTIVE))
        .filter(service_purchase::Column::PeriodStart.lte(day))
        .filter(service_purchase::Column::PeriodEnd.gte(day))
        .one(conn)
        .await?
        .is_some())
}

impl Bookings {
    /// The organisations a person may buy for (confirmed member with the purchaser or lead
    /// administrator right): `(id, name)`, by name.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn purchasing_for(
        &self,
        cfg: &TenantConfig,
        account_id: &str,
    ) -> Result<Vec<(String, String)>, BookingError> {
        self.organisations_where(cfg, account_id, |r| {
            r.has(Right::Purchaser) || r.has(Right::LeadAdmin)
        })
        .await
    }

    /// The organisations a person may bill bookings to (confirmed member): `(id, name)`,
    /// by name.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn billable_for(
        &self,
        cfg: &TenantConfig,
        account_id: &str,
    ) -> Result<Vec<(String, String)>, BookingError> {
        self.organisations_where(cfg, account_id, |_| true).await
    }

    async fn organisations_where(
        &self,
        cfg: &TenantConfig,
        account_id: &str,
        allowed: impl Fn(&Rights) -> bool,
    ) -> Result<Vec<(String, String)>, BookingError> {
        let tx = self.db.tenant_tx(&cfg.slug).await?;
        let rows = identity::store::organisations::memberships_of(&tx, account_id).await?;
        tx.rollback().await?;
        let mut orgs: Vec<(String, String)> = rows
            .into_iter()
            .filter(|(m, _)| {
                m.status == membership_status::VERIFIED
                    && allowed(&Rights::parse(&m.rights).unwrap_or_default())
            })
            .map(|(_, o)| (o.id, o.name))
            .collect();
        orgs.sort_by(|a, b| a.1.cmp(&b.1));
        Ok(orgs)
    }
}

/// The price of a place on `session` of `course` billed to `org`: the course's SLA price
/// when the organisation holds its SLA on the session's (UK) day, the standard price
/// otherwise. Computed, never typed.
///
/// # Errors
/// When the database fails.
pub(crate) async fn place_price<C: ConnectionTrait>(
    conn: &C,
    tenant: &TenantId,
    course: &catalogue::store::entity::course::Model,
    session: &catalogue::store::entity::course_session::Model,
    org: Option<&str>,
) -> Result<i64, BookingError> {
    let covered = match (org, course.sla_service_id.as_deref()) {
        (Some(org), Some(sla)) => {
            holds_sla(
                conn,
                tenant,
                org,
                sla,
                catalogue::domain::uk::uk_date(session.starts_at),
            )
            .await?
        }
        _ => false,
    };
    Ok(crate::domain::price(
        course.price_pence,
        course.sla_price_pence,
        covered,
    ))
}
