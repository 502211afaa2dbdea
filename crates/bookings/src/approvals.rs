//! Authorisation of staff bookings. An organisation may ask (a setting its lead
//! administrators change) that places booked on its account by anyone but a lead
//! administrator wait for one to approve them. Such a place holds its seat as `pending`;
//! the lead administrators are alerted by email; approving confirms it (and sends the
//! confirmation), declining cancels it and passes the seat on.

use catalogue::store::entity::{course, course_session};
use chrono::{DateTime, Utc};
use identity::store::entity::account;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait as _, EntityTrait as _, QueryFilter as _, QueryOrder as _};
use storage::TenantTx;
use storage::outbox::{self, Email};
use tenant_router::TenantConfig;

use crate::common::{Entry, find_session, log};
use crate::confirmation::Confirmed;
use crate::store::entity::{booking, booking_order};
use crate::{BookingError, Bookings};

pub use crate::common::PENDING;

/// Tells the organisation's lead administrators, and each delegate, that places wait for
/// approval.
pub(crate) async fn ask(
    tx: &TenantTx,
    now: DateTime<Utc>,
    org: &str,
    places: &[Confirmed],
) -> Result<(), BookingError> {
    if places.is_empty() {
        return Ok(());
    }
    let leads = identity::store::organisations::lead_admins(tx, org).await?;
    for p in places {
        let Some(person) = account::Entity::find()
            .filter(account::Column::TenantId.eq(tx.tenant().as_str()))
            .filter(account::Column::Id.eq(p.delegate.as_str()))
            .one(&**tx)
            .await?
        else {
            continue;
        };
        let name = format!("{} {}", person.first_name, person.last_name);
        let when = catalogue::domain::uk::uk_span(p.session.starts_at, p.session.ends_at);
        let body = format!(
            "A place booked on your organisation's account needs your approval.\n\n\
             {name}\n{title}\n{when}\n\n\
             Approve or decline it on your organisation's approvals page \
             (/organisations/{org}/approvals), after signing in.\n",
            title = p.course.title,
        );
        let subject = format!("Approval needed: {} for {name}", p.course.title);
        for lead in &leads {
            storage::alerts::enqueue(tx, now, lead, &p.delegate, &subject, &body).await?;
        }
        let body = format!(
            "Your place is held while your organisation's lead administrator approves it.\n\n\
             {title}\n{when}\n\nWe will email you when they have decided.\n",
            title = p.course.title,
        );
        outbox::enqueue(
            tx,
            now,
            Email {
                to: &person.email,
                subject: &format!("Waiting for approval: {}", p.course.title),
                body: &body,
            },
        )
        .await?;
    }
    Ok(())
}

/// A place waiting for approval, as the approvals page shows it.
#[derive(Debug, Clone)]
pub struct PendingPlace {
    /// The booking.
    pub booking_id: String,
    /// The delegate's name.
    pub delegate: String,
    /// The course's title.
    pub course_title: String,
    /// The session.
    pub session: course_session::Model,
    /// Its price.
    pub price_pence: i64,
}

impl Bookings {
    /// The places waiting for `org`'s approval, for its lead administrators (and tenant
    /// administrators).
    ///
    /// # Errors
    /// [`BookingError::NotFound`] for an organisation the actor does not manage (also
    /// another tenant's).
    pub async fn pending_approvals(
        &self,
        cfg: &TenantConfig,
        actor_id: &str,
        org: &str,
    ) -> Result<
        (
            identity::store::entity::organisation::Model,
            Vec<PendingPlace>,
        ),
        BookingError,
    > {
        let tx = self.db.tenant_tx(&cfg.slug).await?;
        let o = managed(&tx, actor_id, org).await?;
        let rows = booking::Entity::find()
            .filter(booking::Column::TenantId.eq(cfg.slug.as_str()))
            .filter(booking::Column::OrganisationId.eq(org))
            .filter(booking::Column::Status.eq(PENDING))
            .order_by_asc(booking::Column::CreatedAt)
            .all(&*tx)
            .await?;
        // Three queries whatever the number of places waiting.
        let (sessions, titles) = crate::common::sessions_and_titles(&tx, &rows).await?;
        let names =
            crate::common::names_of(&tx, rows.iter().map(|b| b.account_id.as_str())).await?;
        let out = rows
            .into_iter()
            .filter_map(|b| {
                Some(PendingPlace {
                    session: sessions.get(&b.session_id)?.clone(),
                    delegate: names.get(&b.account_id).cloned().unwrap_or_default(),
                    course_title: titles.get(&b.course_id).cloned().unwrap_or_default(),
                    booking_id: b.id,
                    price_pence: b.price_pence,
                })
            })
            .collect();
        tx.rollback().await?;
        Ok((o, out))
    }

    /// Approves (confirms, and sends the confirmation) or declines (cancels, passing the
    /// seat on) a place waiting for `org`'s approval.
    ///
    /// # Errors
    /// [`BookingError::NotFound`] for an organisation the actor does not manage or a place
    /// that is not waiting for its approval.
    pub async fn decide(
        &self,
        cfg: &TenantConfig,
        actor_id: &str,
        org: &str,
        booking_id: &str,
        approve: bool,
        base_url: &str,
    ) -> Result<(), BookingError> {
        let t = cfg.slug.as_str();
        let now = self.clock.now();
        let tx = self.db.tenant_tx(&cfg.slug).await?;
        managed(&tx, actor_id, org).await?;
        let b = booking::Entity::find()
            .filter(booking::Column::TenantId.eq(t))
            .filter(booking::Column::Id.eq(booking_id))
            .filter(booking::Column::OrganisationId.eq(org))
            .filter(booking::Column::Status.eq(PENDING))
            .one(&*tx)
            .await?
            .ok_or(BookingError::NotFound)?;
        let (status, action) = if approve {
            ("confirmed", "booking.approve")
        } else {
            ("cancelled", "booking.decline")
        };
        let changed = booking::Entity::update_many()
            .filter(booking::Column::TenantId.eq(t))
            .filter(booking::Column::Id.eq(b.id.as_str()))
            .filter(booking::Column::Status.eq(PENDING))
            .col_expr(booking::Column::Status, Expr::value(status))
            .col_expr(
                booking::Column::CancelledAt,
                Expr::value((!approve).then_some(now)),
            )
            .exec(&*tx)
            .await?
            .rows_affected;
        if changed != 1 {
            return Err(BookingError::NotFound);
        }
        if !approve {
            crate::invoices::credit(&tx, &b, now).await?;
        }
        let session = find_session(&tx, &b.session_id).await?;
        let course = course::Entity::find()
            .filter(course::Column::TenantId.eq(t))
            .filter(course::Column::Id.eq(b.course_id.as_str()))
            .one(&*tx)
            .await?
            .ok_or(BookingError::NotFound)?;
        if approve {
            let number = booking_order::Entity::find()
                .filter(booking_order::Column::TenantId.eq(t))
                .filter(booking_order::Column::Id.eq(b.order_id.as_str()))
                .one(&*tx)
                .await?
                .map(|o| o.number)
                .unwrap_or_default();
            let place = Confirmed {
                booking_id: b.id.clone(),
                delegate: b.account_id.clone(),
                session,
                course,
                price_pence: b.price_pence,
            };
            let mut mail = storage::Writes::new();
            crate::confirmation::queue(&tx, &mut mail, now, cfg, &number, Some(org), &[], &[place])
                .await?;
            mail.run(&tx).await?;
        } else {
            crate::offers::pass_on(&tx, &b.session_id, now, base_url).await?;
            if let Some(person) = account::Entity::find()
                .filter(account::Column::TenantId.eq(t))
                .filter(account::Column::Id.eq(b.account_id.as_str()))
                .one(&*tx)
                .await?
            {
                let body = format!(
                    "Your organisation's lead administrator did not approve your place on:\n\n\
                     {title}\n{when}\n\nAsk them if you need to know why.\n",
                    title = course.title,
                    when = catalogue::domain::uk::uk_span(session.starts_at, session.ends_at),
                );
                outbox::enqueue(
                    &tx,
                    now,
                    Email {
                        to: &person.email,
                        subject: &format!("Not approved: {}", course.title),
                        body: &body,
                    },
                )
                .await?;
            }
        }
        let detail = serde_json::json!({ "booking": b.id, "session": b.session_id });
        log(
            &tx,
            now,
            Entry {
                account: actor_id,
                organisation: Some(org),
                action,
                subject: &b.id,
                detail: &detail,
            },
        )
        .await?;
        tx.commit().await?;
        self.catalogue.changed(&cfg.slug);
        Ok(())
    }

    /// Turns approval of staff bookings on or off, for the organisation's managers.
    ///
    /// # Errors
    /// [`BookingError::NotFound`] for an organisation the actor does not manage.
    pub async fn set_approval(
        &self,
        cfg: &TenantConfig,
        actor_id: &str,
        org: &str,
        on: bool,
    ) -> Result<(), BookingError> {
        let now = self.clock.now();
        let tx = self.db.tenant_tx(&cfg.slug).await?;
        managed(&tx, actor_id, org).await?;
        identity::store::organisations::set_approve_bookings(&tx, org, on).await?;
        storage::audit::record(
            &tx,
            now,
            storage::audit::AuditEntry {
                actor: &format!("account:{actor_id}"),
                action: "organisation.booking_approval_set",
                subject: org,
                detail: serde_json::json!({ "on": on }),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

async fn managed(
    tx: &TenantTx,
    actor_id: &str,
    org: &str,
) -> Result<identity::store::entity::organisation::Model, BookingError> {
    let o = identity::store::organisations::find(tx, org)
        .await?
        .ok_or(BookingError::NotFound)?;
    if !identity::store::organisations::can_manage(tx, actor_id, &o.id).await? {
        return Err(BookingError::NotFound);
    }
    Ok(o)
}
