//! Waiting-list offers. When a place frees on a session with people waiting, it is held for
//! the first in line and they are emailed a single-use link that lapses after
//! [`OFFER_HOURS`]; accepting books the held place, and an offer that lapses passes to the
//! next person (or the place goes back to the session when no one is left).

use catalogue::store::entity::{course, course_session};
use chrono::{DateTime, Duration, Utc};
use identity::store::entity::account;
use sea_orm::sea_query::{Expr, ExprTrait as _};
use sea_orm::{
    ActiveModelTrait as _, ColumnTrait as _, ConnectionTrait as _, EntityTrait as _,
    IntoActiveModel as _, QueryFilter as _, QueryOrder as _, QuerySelect as _, QueryTrait as _,
    Set,
};
use sha2::{Digest as _, Sha256};
use storage::TenantTx;
use storage::audit::{self, AuditEntry};
use storage::outbox::{self, Email};
use tenant_router::{TenantConfig, TenantId};

use crate::common::{Entry, find_course, find_session, log};
use crate::store::entity::{booking, booking_order, waiting_list_entry};
use crate::{BookingError, Bookings};

/// How long an offer stays open.
pub const OFFER_HOURS: i64 = 48;

fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// What accepting an offer booked.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Accepted {
    /// The new booking.
    pub booking_id: String,
    /// The order it belongs to.
    pub number: String,
    /// Price charged.
    pub price_pence: i64,
}

/// Gives a freed place on `session_id` to the first person waiting who may take it
/// (`true`), or back to the session (`false`).
///
/// No one is offered a place they could not book: once the session has started or been
/// cancelled, or its course's booking has closed (or is not open yet), the place goes back
/// to the session; and someone waiting on behalf of an organisation that already holds
/// (or has been offered) every place the session allows it keeps their place in line
/// while the next person is offered this one. Every hand-over on a session first holds the session's row
/// ([`crate::take::hold_session`]), so two at once (a cancellation, a lapsed offer, a
/// declined booking, the minute's job offering a free place) queue there, and the second
/// reads the list after the first committed: no one is offered one place twice, and no
/// place is held against an entry already offered another.
pub(crate) async fn pass_on(
    tx: &TenantTx,
    session_id: &str,
    now: DateTime<Utc>,
    base_url: &str,
) -> Result<bool, BookingError> {
    crate::take::hold_session(tx, session_id).await?;
    let Some((entry, deadline, title)) = next_in_line(tx, session_id, now).await? else {
        tx.execute(&catalogue::store::places::release(tx.tenant(), session_id))
            .await?;
        return Ok(false);
    };
    let token = identity::domain::token::generate()
        .map_err(|e| BookingError::Identity(identity::IdentityError::Internal(e.to_string())))?;
    // Open for OFFER_HOURS, but never past the session's start or the close of booking.
    let expires = Ord::min(now + Duration::hours(OFFER_HOURS), deadline);
    let person = identity::store::find_by_id(tx, &entry.account_id).await?;
    let entry_id = entry.id.clone();
    let mut row = entry.into_active_model();
    row.status = Set("offered".to_owned());
    row.offer_token_hash = Set(Some(hash(&token)));
    row.offer_expires_at = Set(Some(expires));
    row.update(&**tx).await?;
    if let Some(p) = person {
        let body = format!(
            "Hello {},\n\nA place has come free on {title}, and you are first on the waiting list.\n\n\
             To take it, sign in and accept it here before {} (UK time):\n\n{base_url}/waiting-list/offers/{token}\n\n\
             If you do not accept it by then, it goes to the next person waiting (or back on \
             sale, if booking has closed by then).\n",
            p.first_name,
            expires
                .with_timezone(&chrono_tz::Europe::London)
                .format("%-d %B %Y at %H:%M"),
        );
        outbox::enqueue(
            tx,
            now,
            Email {
                to: &p.email,
                subject: &format!("A place is free: {title}"),
                body: &body,
            },
        )
        .await?;
    }
    audited(
        tx,
        now,
        "waiting_list.offered",
        &entry_id,
        serde_json::json!({"session": session_id}),
    )
    .await?;
    Ok(true)
}

/// The first entry waiting on `session_id` that may be offered a place now (see
/// [`pass_on`]), with the latest an offer may run to (the session's start, or the close
/// of booking if sooner) and the course's title; `None` when the session is not open for booking or no one
/// waiting may take the place. The session's row is held by the caller.
async fn next_in_line(
    tx: &TenantTx,
    session_id: &str,
    now: DateTime<Utc>,
) -> Result<Option<(waiting_list_entry::Model, DateTime<Utc>, String)>, BookingError> {
    let session = find_session(tx, session_id).await?;
    let course = find_course(tx, &session.course_id).await?;
    if crate::take::check_bookable(&session, &course, now).is_err() {
        return Ok(None);
    }
    let deadline = course
        .booking_closes_at
        .map_or(session.starts_at, |c| Ord::min(c, session.starts_at));
    let waiting = waiting_list_entry::Entity::find()
        .filter(waiting_list_entry::Column::TenantId.eq(tx.tenant().as_str()))
        .filter(waiting_list_entry::Column::SessionId.eq(session_id))
        .filter(waiting_list_entry::Column::Status.eq("waiting"))
        .order_by_asc(waiting_list_entry::Column::CreatedAt)
        .order_by_asc(waiting_list_entry::Column::Id)
        .all(&**tx)
        .await?;
    for entry in waiting {
        if let (Some(limit), Some(org)) =
            (session.org_place_limit, entry.organisation_id.as_deref())
        {
            // Places held for the organisation's open offers count towards its limit.
            match crate::common::check_org_limit(
                tx,
                session_id,
                org,
                limit,
                crate::common::OrgLimit::AlsoTaking(0),
            )
            .await
            {
                Ok(()) => {}
                Err(BookingError::NotBookable { .. }) => continue,
                Err(e) => return Err(e),
            }
        }
        return Ok(Some((entry, deadline, course.title)));
    }
    Ok(None)
}

impl Bookings {
    /// Accepts an offer: books the held place for the person it was offered to.
    ///
    /// # Errors
    /// [`BookingError::NotFound`] for an unknown link or someone else's offer;
    /// [`BookingError::OfferExpired`] once it has lapsed (it then passes on);
    /// [`BookingError::CannotCancel`]-style conflict when already used.
    pub async fn accept_offer(
        &self,
        cfg: &TenantConfig,
        who: &account::Model,
        token: &str,
        base_url: &str,
    ) -> Result<Accepted, BookingError> {
        let tx = self.db.tenant_tx(&cfg.slug).await?;
        let entry = waiting_list_entry::Entity::find()
            .filter(waiting_list_entry::Column::TenantId.eq(cfg.slug.as_str()))
            .filter(waiting_list_entry::Column::OfferTokenHash.eq(hash(token)))
            .one(&*tx)
            .await?
            .filter(|e| e.account_id == who.id)
            .ok_or(BookingError::NotFound)?;
        match entry.status.as_str() {
            "offered" => {}
            // The token stays on an accepted entry so its link can say so.
            "expired" => return Err(BookingError::OfferExpired),
            _ => return Err(BookingError::OfferUsed),
        }
        let now = self.clock.now();
        if entry.offer_expires_at.is_none_or(|t| t <= now) {
            expire(&tx, entry, now, base_url).await?;
            tx.commit().await?;
            self.catalogue.changed(&cfg.slug);
            return Err(BookingError::OfferExpired);
        }
        // The session or its course may have stopped taking bookings since the offer was
        // made (cancelled, or booking closed early): the offer lapses, and its place goes
        // back (no one else may be offered it either).
        let session = find_session(&tx, &entry.session_id).await?;
        let course = find_course(&tx, &session.course_id).await?;
        if let Err(refused) = crate::take::check_bookable(&session, &course, now) {
            expire(&tx, entry, now, base_url).await?;
            tx.commit().await?;
            self.catalogue.changed(&cfg.slug);
            return Err(refused);
        }
        // Claimed first, by a conditional update: an offer lapsing at this moment (the
        // minute's job) or accepted twice at once goes one way only, and every hand-over
        // locks the entry before the session, as `expire` does.
        let claimed = waiting_list_entry::Entity::update_many()
            .filter(waiting_list_entry::Column::TenantId.eq(cfg.slug.as_str()))
            .filter(waiting_list_entry::Column::Id.eq(&entry.id))
            .filter(waiting_list_entry::Column::Status.eq("offered"))
            .col_expr(waiting_list_entry::Column::Status, Expr::value("accepted"))
            .exec(&*tx)
            .await?;
        if claimed.rows_affected != 1 {
            let now_status = waiting_list_entry::Entity::find()
                .filter(waiting_list_entry::Column::TenantId.eq(cfg.slug.as_str()))
                .filter(waiting_list_entry::Column::Id.eq(&entry.id))
                .one(&*tx)
                .await?
                .map(|e| e.status);
            tx.rollback().await?;
            return Err(match now_status.as_deref() {
                Some("expired") => BookingError::OfferExpired,
                _ => BookingError::OfferUsed,
            });
        }
        let price = crate::purchases::place_price(
            &*tx,
            tx.tenant(),
            &course,
            &session,
            entry.organisation_id.as_deref(),
        )
        .await?;
        if let (Some(limit), Some(org)) =
            (session.org_place_limit, entry.organisation_id.as_deref())
        {
            // The place is already held for the offer: the session's row is held for the
            // count, as a checkout's take holds it.
            crate::take::hold_session(&tx, &session.id).await?;
            if let Err(refused) = crate::common::check_org_limit(
                &tx,
                &session.id,
                org,
                limit,
                crate::common::OrgLimit::AlsoTaking(0),
            )
            .await
            {
                if !matches!(refused, BookingError::NotBookable { .. }) {
                    return Err(refused);
                }
                // The organisation's limit was lowered, or its colleagues booked, since the
                // offer: the person keeps their turn and the place goes on.
                back_in_line(&tx, &entry, now, base_url).await?;
                tx.commit().await?;
                self.catalogue.changed(&cfg.slug);
                return Err(BookingError::NotBookable {
                    code: "organisation_limit",
                    message: "Your organisation already has all the places it may have on \
                              this session, so this place has gone to the next person waiting. \
                              You are still on the waiting list, in your turn",
                });
            }
        }
        let order_id = uuid::Uuid::now_v7().to_string();
        let number = crate::common::insert_order(&tx, &cfg.short_name, |number| {
            booking_order::ActiveModel {
                tenant_id: Set(cfg.slug.to_string()),
                id: Set(order_id.clone()),
                number: Set(number),
                account_id: Set(who.id.clone()),
                organisation_id: Set(entry.organisation_id.clone()),
                total_pence: Set(price),
                idempotency_key: Set(format!("offer-{}", entry.id)),
                request_hash: Set("waiting-list-offer".to_owned()),
                created_at: Set(now),
            }
        })
        .await?
        .number;
        let booking_id = uuid::Uuid::now_v7().to_string();
        // The place was held when the offer was made: no place is taken here.
        booking::ActiveModel {
            tenant_id: Set(cfg.slug.to_string()),
            id: Set(booking_id.clone()),
            order_id: Set(order_id.clone()),
            session_id: Set(session.id.clone()),
            course_id: Set(course.id.clone()),
            account_id: Set(who.id.clone()),
            organisation_id: Set(entry.organisation_id.clone()),
            price_pence: Set(price),
            status: Set("confirmed".to_owned()),
            created_at: Set(now),
            cancelled_at: Set(None),
            attendance: Set(None),
            attendance_marked_at: Set(None),
            reminded_at: Set(None),
        }
        .insert(&*tx)
        .await
        .map_err(crate::common::duplicate_is_already_booked)?;
        identity::store::touch(&tx, &who.id, now).await?;
        let invoiced = match entry.organisation_id.as_deref() {
            Some(org) => crate::invoices::for_order(&tx, cfg, org, &order_id, now).await?,
            None => false,
        };
        let organisation = entry.organisation_id.clone();
        let entry_id = entry.id.clone();
        let detail = serde_json::json!({"entry": entry_id, "booking": booking_id, "order": order_id, "total_pence": price});
        log(
            &tx,
            now,
            Entry {
                account: &who.id,
                organisation: organisation.as_deref(),
                action: "waiting_list.accept",
                subject: &order_id,
                detail: &detail,
            },
        )
        .await?;
        audit::record(
            &tx,
            now,
            AuditEntry {
                actor: &format!("account:{}", who.id),
                action: "waiting_list.accepted",
                subject: &entry_id,
                detail,
            },
        )
        .await?;
        tx.commit().await?;
        self.catalogue.changed(&cfg.slug);
        if invoiced {
            self.number_soon(cfg);
        }
        Ok(Accepted {
            booking_id,
            number,
            price_pence: price,
        })
    }

    /// Lapses every open offer past its time, passing each place on. Safe to run on every
    /// replica at once: each offer is claimed by a conditional update.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn expire_offers(
        &self,
        tenant: &TenantId,
        base_url: &str,
    ) -> Result<usize, BookingError> {
        let now = self.clock.now();
        let tx = self.db.tenant_tx(tenant).await?;
        let due = waiting_list_entry::Entity::find()
            .filter(waiting_list_entry::Column::TenantId.eq(tenant.as_str()))
            .filter(waiting_list_entry::Column::Status.eq("offered"))
            .filter(waiting_list_entry::Column::OfferExpiresAt.lte(now))
            .all(&*tx)
            .await?;
        tx.rollback().await?;
        let mut done = 0;
        for entry in due {
            let tx = self.db.tenant_tx(tenant).await?;
            if expire(&tx, entry, now, base_url).await? {
                tx.commit().await?;
                self.catalogue.changed(tenant);
                done += 1;
            } else {
                tx.rollback().await?;
            }
        }
        Ok(done)
    }

    /// Offers each free place on a session that has people waiting to the first in line,
    /// as a cancellation would have; returns how many places were offered. A place can be
    /// free with people waiting when a checkout read the session as full and put someone on
    /// its waiting list while a cancellation, which found no one waiting yet, gave the
    /// place back. Sessions that have started, and courses not open for booking, are left.
    /// Safe to run on every replica at once, and beside cancellations: each place is taken
    /// by the conditional update a checkout uses, which holds the session's row as
    /// [`pass_on`] does, and [`pass_on`] gives it back if no one may be offered it by then.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn offer_free_places(
        &self,
        tenant: &TenantId,
        base_url: &str,
    ) -> Result<usize, BookingError> {
        let now = self.clock.now();
        let tx = self.db.tenant_tx(tenant).await?;
        let waited_for = waiting_list_entry::Entity::find()
            .select_only()
            .column(waiting_list_entry::Column::SessionId)
            .filter(waiting_list_entry::Column::TenantId.eq(tenant.as_str()))
            .filter(waiting_list_entry::Column::Status.eq("waiting"))
            .into_query();
        let sessions: Vec<String> = course_session::Entity::find()
            .select_only()
            .column(course_session::Column::Id)
            .filter(course_session::Column::TenantId.eq(tenant.as_str()))
            .filter(course_session::Column::Status.eq("scheduled"))
            .filter(course_session::Column::StartsAt.gt(now))
            .filter(
                Expr::col(course_session::Column::PlacesTaken)
                    .lt(Expr::col(course_session::Column::Capacity)),
            )
            .filter(course_session::Column::Id.in_subquery(waited_for))
            .filter(course_session::Column::CourseId.in_subquery(open_for_booking(tenant, now)))
            .into_tuple()
            .all(&*tx)
            .await?;
        tx.rollback().await?;
        let mut offered = 0;
        for session_id in sessions {
            // One place at a time, each in its own transaction, while places stay free and
            // people wait.
            loop {
                let tx = self.db.tenant_tx(tenant).await?;
                let taken = tx
                    .execute(&catalogue::store::places::take(tenant, &session_id))
                    .await?
                    .rows_affected();
                if taken != 1 {
                    tx.rollback().await?;
                    break;
                }
                if !pass_on(&tx, &session_id, now, base_url).await? {
                    // No one waiting may have it: the place stays as it was.
                    tx.rollback().await?;
                    break;
                }
                tx.commit().await?;
                self.catalogue.changed(tenant);
                offered += 1;
            }
        }
        Ok(offered)
    }
}

/// The ids of the tenant's published courses open for booking at `now`.
fn open_for_booking(tenant: &TenantId, now: DateTime<Utc>) -> sea_orm::sea_query::SelectStatement {
    course::Entity::find()
        .select_only()
        .column(course::Column::Id)
        .filter(course::Column::TenantId.eq(tenant.as_str()))
        .filter(course::Column::Status.eq("published"))
        .filter(
            course::Column::BookingOpensAt
                .is_null()
                .or(course::Column::BookingOpensAt.lte(now)),
        )
        .filter(
            course::Column::BookingClosesAt
                .is_null()
                .or(course::Column::BookingClosesAt.gt(now)),
        )
        .into_query()
}

/// An offer its organisation's limit stops from being accepted: the person waits again, in
/// their old turn (next in line skips them while their organisation is at its limit), and
/// the place is offered to the next person who may have it, or goes back on sale.
async fn back_in_line(
    tx: &TenantTx,
    entry: &waiting_list_entry::Model,
    now: DateTime<Utc>,
    base_url: &str,
) -> Result<(), BookingError> {
    waiting_list_entry::Entity::update_many()
        .filter(waiting_list_entry::Column::TenantId.eq(tx.tenant().as_str()))
        .filter(waiting_list_entry::Column::Id.eq(&entry.id))
        .col_expr(waiting_list_entry::Column::Status, Expr::value("waiting"))
        .col_expr(
            waiting_list_entry::Column::OfferTokenHash,
            Expr::value(Option::<String>::None),
        )
        .col_expr(
            waiting_list_entry::Column::OfferExpiresAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .exec(&**tx)
        .await?;
    audited(
        tx,
        now,
        "waiting_list.offer_returned",
        &entry.id,
        serde_json::json!({"session": entry.session_id, "reason": "organisation_limit"}),
    )
    .await?;
    pass_on(tx, &entry.session_id, now, base_url).await?;
    Ok(())
}

/// Marks an open offer lapsed (if no one got there first) and passes its place on.
async fn expire(
    tx: &TenantTx,
    entry: waiting_list_entry::Model,
    now: DateTime<Utc>,
    base_url: &str,
) -> Result<bool, BookingError> {
    let claimed = waiting_list_entry::Entity::update_many()
        .filter(waiting_list_entry::Column::TenantId.eq(tx.tenant().as_str()))
        .filter(waiting_list_entry::Column::Id.eq(&entry.id))
        .filter(waiting_list_entry::Column::Status.eq("offered"))
        .col_expr(waiting_list_entry::Column::Status, Expr::value("expired"))
        .col_expr(
            waiting_list_entry::Column::OfferTokenHash,
            Expr::value(Option::<String>::None),
        )
        .exec(&**tx)
        .await?;
    if claimed.rows_affected != 1 {
        return Ok(false);
    }
    audited(
        tx,
        now,
        "waiting_list.lapsed",
        &entry.id,
        serde_json::json!({"session": entry.session_id}),
    )
    .await?;
    pass_on(tx, &entry.session_id, now, base_url).await?;
    Ok(true)
}

/// An audit event of the waiting list's own doing about the entry `entry_id`.
async fn audited(
    tx: &TenantTx,
    now: DateTime<Utc>,
    action: &str,
    entry_id: &str,
    detail: serde_json::Value,
) -> Result<(), BookingError> {
    audit::record(
        tx,
        now,
        AuditEntry {
            actor: "system:waiting-list",
            action,
            subject: entry_id,
            detail,
        },
    )
    .await?;
    Ok(())
}
