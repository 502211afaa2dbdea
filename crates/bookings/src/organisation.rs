//! The organisation view: what an organisation's lead administrator (or a tenant admin)
//! sees of the bookings and orders billed to it, and what it has spent.

use catalogue::store::entity::course_session;
use identity::store::entity::organisation;
use sea_orm::{ColumnTrait as _, EntityTrait as _, QueryFilter as _, QueryOrder as _};

use crate::store::entity::{booking, booking_order, service_purchase};
use crate::{BookingError, Bookings};

/// One booking billed to the organisation.
#[derive(Debug, Clone)]
pub struct OrgBooking {
    /// The booking.
    pub booking: booking::Model,
    /// The delegate's name (`None` once the person's account is gone).
    pub delegate: Option<String>,
    /// The course's title.
    pub course_title: String,
    /// The session.
    pub session: course_session::Model,
}

/// An organisation's bookings, orders and spend.
#[derive(Debug, Clone)]
pub struct OrgView {
    /// The organisation.
    pub organisation: organisation::Model,
    /// Bookings, soonest session first.
    pub bookings: Vec<OrgBooking>,
    /// Orders, newest first.
    pub orders: Vec<booking_order::Model>,
    /// What the places not cancelled and the services held cost, in pence.
    pub spend_pence: i64,
}

impl Bookings {
    /// The organisation's view for `actor`.
    ///
    /// # Errors
    /// [`BookingError::NotFound`] unless the actor is a verified lead administrator of the
    /// organisation or a tenant admin (also for another tenant's organisation).
    pub async fn organisation_view(
        &self,
        tenant: &tenant_router::TenantId,
        actor_id: &str,
        org_id: &str,
    ) -> Result<OrgView, BookingError> {
        let tx = self.db.tenant_tx(tenant).await?;
        let org = identity::store::organisations::find(&tx, org_id)
            .await?
            .ok_or(BookingError::NotFound)?;
        if !identity::store::organisations::can_manage(&tx, actor_id, &org.id).await? {
            return Err(BookingError::NotFound);
        }
        let t = tenant.as_str();
        let bookings = booking::Entity::find()
            .filter(booking::Column::TenantId.eq(t))
            .filter(booking::Column::OrganisationId.eq(org_id))
            .all(&*tx)
            .await?;
        let orders = booking_order::Entity::find()
            .filter(booking_order::Column::TenantId.eq(t))
            .filter(booking_order::Column::OrganisationId.eq(org_id))
            .order_by_desc(booking_order::Column::CreatedAt)
            .all(&*tx)
            .await?;
        let (sessions, titles) = crate::common::sessions_and_titles(&tx, &bookings).await?;
        let names =
            crate::common::names_of(&tx, bookings.iter().map(|b| b.account_id.as_str())).await?;
        let purchases: i64 = service_purchase::Entity::find()
            .filter(service_purchase::Column::TenantId.eq(t))
            .filter(service_purchase::Column::OrganisationId.eq(org_id))
            .filter(service_purchase::Column::Status.eq(crate::purchases::ACTIVE))
            .all(&*tx)
            .await?
            .iter()
            .map(|p| p.price_pence)
            .sum();
        tx.rollback().await?;
        let spend_pence = purchases
            + bookings
                .iter()
                .filter(|b| b.status != "cancelled")
                .map(|b| b.price_pence)
                .sum::<i64>();
        let mut rows: Vec<OrgBooking> = bookings
            .into_iter()
            .filter_map(|b| {
                let session = sessions.get(&b.session_id)?.clone();
                Some(OrgBooking {
                    delegate: names.get(&b.account_id).cloned(),
                    course_title: titles.get(&b.course_id).cloned().unwrap_or_default(),
                    session,
                    booking: b,
                })
            })
            .collect();
        rows.sort_by_key(|r| r.session.starts_at);
        Ok(OrgView {
            organisation: org,
            bookings: rows,
            orders,
            spend_pence,
        })
    }
}
