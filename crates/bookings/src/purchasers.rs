//! A traded service's view of who bought it: for each purchase, the organisation, band,
//! period and status, and of the buyer exactly the fields the tenant's notice gives the
//! service's provider (`purchase` categories with `fields`, such as Somerset's
//! `purchase.buyer_details`). Every read that shows a person is logged as a disclosure,
//! like a delegate list; a person who restricted the use of their data is shown as
//! restricted.

use catalogue::domain::Manager;
use catalogue::store::entity::traded_service;
use chrono::NaiveDate;
use sea_orm::{ColumnTrait as _, EntityTrait as _, QueryFilter as _, QueryOrder as _};
use tenant_router::TenantConfig;
use tenant_router::config::PersonField;

use crate::delegates::{
    Disclosure, Format, RESTRICTED, fields_for, log_disclosure, people_and_organisations, value,
};
use crate::store::entity::service_purchase;
use crate::{BookingError, Bookings};

/// One purchase of the service.
#[derive(Debug, Clone)]
pub struct Purchaser {
    /// The purchase.
    pub purchase_id: String,
    /// The organisation it was bought for.
    pub organisation: String,
    /// The price band.
    pub band: String,
    /// The contract period.
    pub period: (NaiveDate, NaiveDate),
    /// `active` or `cancelled`.
    pub status: String,
    /// The buyer's values, in the order of [`PurchaserList::fields`].
    pub values: Vec<String>,
    /// The buyer restricted the use of their data: nothing of theirs is shown.
    pub restricted: bool,
}

/// Who bought a service.
#[derive(Debug, Clone)]
pub struct PurchaserList {
    /// The service.
    pub service: traded_service::Model,
    /// The buyer's fields the provider receives (may be none).
    pub fields: Vec<PersonField>,
    /// Purchases, newest first.
    pub purchasers: Vec<Purchaser>,
}

/// The buyer's fields a provider receives: those of the `purchase` categories in its
/// `receives` list.
#[must_use]
pub fn buyer_fields(cfg: &TenantConfig, provider_id: &str) -> Vec<PersonField> {
    fields_for(cfg, provider_id, &["purchase"])
}

impl Bookings {
    /// Who bought service `service_id`, for `manager`, logging who received whose data.
    ///
    /// # Errors
    /// [`BookingError::NotFound`] for an unknown service, another tenant's, or one of a
    /// provider the manager does not work for.
    pub async fn purchasers(
        &self,
        cfg: &TenantConfig,
        manager: &Manager,
        service_id: &str,
        format: Format,
    ) -> Result<PurchaserList, BookingError> {
        let tx = self.db.tenant_tx(&cfg.slug).await?;
        let service = traded_service::Entity::find()
            .filter(traded_service::Column::TenantId.eq(cfg.slug.as_str()))
            .filter(traded_service::Column::Id.eq(service_id))
            .one(&*tx)
            .await?
            .ok_or(BookingError::NotFound)?;
        if !manager.manages(&service.provider_id) {
            return Err(BookingError::NotFound);
        }
        let fields = buyer_fields(cfg, &service.provider_id);
        let purchases = service_purchase::Entity::find()
            .filter(service_purchase::Column::TenantId.eq(cfg.slug.as_str()))
            .filter(service_purchase::Column::ServiceId.eq(service_id))
            .order_by_desc(service_purchase::Column::CreatedAt)
            .all(&*tx)
            .await?;
        let ids: Vec<String> = purchases.iter().map(|p| p.account_id.clone()).collect();
        let (people, orgs) = people_and_organisations(
            &tx,
            &ids,
            purchases
                .iter()
                .map(|p| p.organisation_id.clone())
                .collect(),
        )
        .await?;
        let now = self.clock.now();
        let restricted = privacy_engine::effects::restricted(&tx, &ids, now).await?;
        let purchasers: Vec<Purchaser> = purchases
            .iter()
            .map(|p| {
                let org = orgs.get(&p.organisation_id).cloned().unwrap_or_default();
                let held = restricted.contains(&p.account_id);
                let values = if held {
                    vec![RESTRICTED.to_owned(); fields.len()]
                } else {
                    let person = people.get(&p.account_id);
                    fields
                        .iter()
                        .map(|f| value(*f, person, Some(&org)))
                        .collect()
                };
                Purchaser {
                    purchase_id: p.id.clone(),
                    organisation: org,
                    band: p.band.clone(),
                    period: (p.period_start, p.period_end),
                    status: p.status.clone(),
                    values,
                    restricted: held,
                }
            })
            .collect();
        if !fields.is_empty() {
            let mut shown: Vec<String> = purchases
                .iter()
                .filter(|p| !restricted.contains(&p.account_id))
                .map(|p| p.account_id.clone())
                .collect();
            shown.sort();
            shown.dedup();
            let actor = manager.actor();
            log_disclosure(
                &tx,
                now,
                &Disclosure {
                    provider: &service.provider_id,
                    of: &service.id,
                    actor: &actor,
                    fields: &fields,
                    format,
                    action: "purchasers.disclosed",
                },
                &shown,
                purchasers.iter().filter(|p| p.restricted).count(),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(PurchaserList {
            service,
            fields,
            purchasers,
        })
    }
}
