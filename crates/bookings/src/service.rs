//! Checkout and cancellation. One checkout either places the whole order (some places may
//! go to the waiting list) or changes nothing. A place is taken by a conditional update of
//! the session's `places_taken` (`… AND places_taken < capacity`), so the database, not a
//! check-then-insert, decides who gets the last place; the session's CHECK constraint is
//! the backstop.
//!
//! A checkout reads (or remembers, see [`Seen`]), then writes everything in one statement
//! whose takes are required (on PostgreSQL no transaction is opened): each take holds only
//! while the session and course have the revisions read and the person holds no place
//! there. One billed to an organisation first reads, in one query, the memberships it
//! needs and the CPD leads to copy. A checkout that needs a lock (its organisation
//! approves bookings, a session limits the organisation's places, a session is in it
//! twice) is one transaction that checks everything and takes its places last
//! ([`crate::checkout`]); one whose take failed (the place went to someone else, the
//! course changed) is one transaction that takes each place first, straight away.

use catalogue::store::entity::{course, course_session};
use chrono::Duration;
use identity::store::entity::account;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait as _, EntityTrait, QueryFilter as _, QueryOrder as _};
use storage::TenantTx;
use storage::audit::{self, AuditEntry};
use tenant_router::{TenantConfig, TenantId};

use crate::checkout::{Facts, Taking};
use crate::common::{Entry, PENDING, find_order, find_session, log, sessions_and_titles};
use crate::domain::{
    Booked, CheckoutOutcome, CheckoutRequest, Waiting, check_request, request_hash,
};
use crate::order::*;
use crate::store::entity::{booking, booking_order, waiting_list_entry};
use crate::{BookingError, Bookings};

/// One of a person's bookings, with what they need to recognise it.
#[derive(Debug, Clone)]
pub struct MyBooking {
    /// The booking.
    pub booking: booking::Model,
    /// Its session.
    pub session: course_session::Model,
    /// Its course's title.
    pub course_title: String,
}

impl Bookings {
    /// Books places (or waiting-list entries) for the booker or their colleagues.
    ///
    /// # Errors
    /// [`BookingError::BadRequest`], [`BookingError::NotFound`] (unknown session, also
    /// another tenant's), [`BookingError::NotBookable`], [`BookingError::AlreadyBooked`],
    /// [`BookingError::NotAllowed`], [`BookingError::PriceMismatch`],
    /// [`BookingError::IdempotencyConflict`]; nothing is changed on any error.
    pub async fn checkout(
        &self,
        cfg: &TenantConfig,
        booker: &account::Model,
        key: &str,
        req: &CheckoutRequest,
    ) -> Result<CheckoutOutcome, BookingError> {
        self.checkout_emptying(cfg, booker, key, req, &[]).await
    }

    /// A checkout that also takes `basket_lines` out of the booker's basket, in the same
    /// transaction.
    pub(crate) async fn checkout_emptying(
        &self,
        cfg: &TenantConfig,
        booker: &account::Model,
        key: &str,
        req: &CheckoutRequest,
        basket_lines: &[String],
    ) -> Result<CheckoutOutcome, BookingError> {
        check_request(key, req)?;
        let hash = request_hash(req);
        let facts = (cfg, booker, key, hash.as_str(), req, basket_lines);
        let done = match self.attempt_alone(facts).await {
            Ok(Alone::Done(outcome)) => Ok(outcome),
            Ok(Alone::NeedsLock) => self.attempt(facts, Taking::Last).await,
            Ok(Alone::Stale) => self.attempt(facts, Taking::First).await,
            Err(refused) => Err(refused),
        };
        match done {
            Ok(outcome) => Ok(outcome),
            // The key is looked up only when something stops the checkout. A retry of a
            // checkout that was placed always stops (on its own places, which it already
            // holds, or on its own order's key, which is unique), so it is answered here
            // with the first result; a checkout that goes through had no twin to answer.
            Err(refused) => match self.replay_key(cfg, &booker.id, key, Some(&hash)).await {
                Ok(Some(first)) => Ok(first),
                Err(BookingError::IdempotencyConflict) => Err(BookingError::IdempotencyConflict),
                // No earlier checkout with this key (or no telling): the refusal stands.
                Ok(None) | Err(_) => Err(refused),
            },
        }
    }

    /// The first answer to an earlier checkout with this key, if there was one;
    /// [`BookingError::IdempotencyConflict`] if its request's hash is not `hash` (when given).
    pub(crate) async fn replay_key(
        &self,
        cfg: &TenantConfig,
        booker_id: &str,
        key: &str,
        hash: Option<&str>,
    ) -> Result<Option<CheckoutOutcome>, BookingError> {
        let tx = self.db.tenant_tx(&cfg.slug).await?;
        let done = match find_order(&tx, booker_id, key).await? {
            Some(previous) if hash.is_some_and(|h| h != previous.request_hash) => {
                return Err(BookingError::IdempotencyConflict);
            }
            Some(previous) => Some(replay(&tx, previous).await?),
            None => None,
        };
        tx.rollback().await?;
        Ok(done)
    }

    /// A checkout without a transaction: for an organisation billed, one read of the
    /// people it concerns; one read per place not remembered (the session, its course,
    /// whether the person holds a place there); then one statement that takes every place
    /// read as free and writes every row, each take required
    /// ([`Writes::require_written`]), so it is still all or nothing. Otherwise [`Alone`]
    /// says why nothing was written, and so how the caller runs [`Self::attempt`]: taking
    /// the places last when the checkout needs a lock, first when a take failed.
    async fn attempt_alone(
        &self,
        (cfg, booker, key, hash, req, basket_lines): Facts<'_>,
    ) -> Result<Alone, BookingError> {
        let org = req.organisation_id.as_deref();
        // Booking for colleagues needs an organisation (the transaction says so); two
        // places on one session cannot both be taken in one statement.
        if (org.is_none() && books_for_others(req, booker)) || repeats_a_session(req) {
            return Ok(Alone::NeedsLock);
        }
        let statements = self.db.tenant_statements(&cfg.slug).await?;
        let order = Order {
            cfg,
            booker,
            key,
            hash,
            now: self.clock.now(),
            org,
            status: "confirmed",
            basket_lines,
        };
        let done = match &statements {
            storage::TenantStatements::Alone { pool, tenant } => {
                order.alone_on(pool, tenant, &self.seen, req).await
            }
            storage::TenantStatements::Together(tx) => {
                order.alone_on(&**tx, tx.tenant(), &self.seen, req).await
            }
        };
        match done {
            Ok(Alone::Done(outcome)) => {
                statements.finish().await?;
                self.catalogue.changed(&cfg.slug);
                // Billed to an organisation, a place taken: its invoice waits for a number.
                if org.is_some() && !outcome.booked.is_empty() {
                    self.number_soon(cfg);
                }
                Ok(Alone::Done(outcome))
            }
            other => {
                statements.abandon().await?;
                other
            }
        }
    }

    /// The person's live bookings, soonest session first.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn mine(
        &self,
        tenant: &TenantId,
        account_id: &str,
    ) -> Result<Vec<MyBooking>, BookingError> {
        let tx = self.db.tenant_tx(tenant).await?;
        let bookings = booking::Entity::find()
            .filter(booking::Column::TenantId.eq(tenant.as_str()))
            .filter(booking::Column::AccountId.eq(account_id))
            .order_by_asc(booking::Column::CreatedAt)
            .all(&*tx)
            .await?;
        let (sessions, titles) = sessions_and_titles(&tx, &bookings).await?;
        let mut out: Vec<MyBooking> = bookings
            .into_iter()
            .filter_map(|b| {
                let session = sessions.get(&b.session_id)?.clone();
                let course_title = titles.get(&b.course_id).cloned().unwrap_or_default();
                Some(MyBooking {
                    booking: b,
                    session,
                    course_title,
                })
            })
            .collect();
        tx.rollback().await?;
        out.sort_by_key(|m| m.session.starts_at);
        Ok(out)
    }

    /// Cancels the person's own booking, within the course's free-cancellation notice; the
    /// place goes to the first person waiting (emailed an offer with a link under
    /// `base_url`), or back to the session.
    ///
    /// # Errors
    /// [`BookingError::NotFound`] (also someone else's booking);
    /// [`BookingError::CannotCancel`] after the notice period or once cancelled.
    pub async fn cancel(
        &self,
        cfg: &TenantConfig,
        account_id: &str,
        booking_id: &str,
        base_url: &str,
    ) -> Result<(), BookingError> {
        let tenant = &cfg.slug;
        let tx = self.db.tenant_tx(tenant).await?;
        let b = booking::Entity::find()
            .filter(booking::Column::TenantId.eq(tenant.as_str()))
            .filter(booking::Column::Id.eq(booking_id))
            .filter(booking::Column::AccountId.eq(account_id))
            .one(&*tx)
            .await?
            .ok_or(BookingError::NotFound)?;
        if b.status != "confirmed" && b.status != PENDING {
            return Err(BookingError::CannotCancel(
                "This booking is already cancelled",
            ));
        }
        let session = find_session(&tx, &b.session_id).await?;
        let notice = course::Entity::find()
            .filter(course::Column::TenantId.eq(tenant.as_str()))
            .filter(course::Column::Id.eq(&b.course_id))
            .one(&*tx)
            .await?
            .map_or(0, |c| c.cancellation_notice_days);
        let now = self.clock.now();
        if now > session.starts_at - Duration::days(i64::from(notice)) {
            return Err(BookingError::CannotCancel(
                "It is too late to cancel online: contact the course organiser",
            ));
        }
        // Only a place still held changes: two cancels at once (or a cancel and the
        // approver's decline) credit and release it once.
        let changed = booking::Entity::update_many()
            .filter(booking::Column::TenantId.eq(tenant.as_str()))
            .filter(booking::Column::Id.eq(booking_id))
            .filter(booking::Column::Status.is_in(["confirmed", PENDING]))
            .col_expr(booking::Column::Status, Expr::value("cancelled"))
            .col_expr(booking::Column::CancelledAt, Expr::value(now))
            .exec(&*tx)
            .await?
            .rows_affected;
        if changed != 1 {
            return Err(BookingError::CannotCancel(
                "This booking is already cancelled",
            ));
        }
        identity::store::touch(&tx, account_id, now).await?;
        // Within terms (online cancelling is allowed only then): what an organisation paid
        // for the place is credited.
        crate::invoices::credit(&tx, &b, now).await?;
        // The place goes to the first person waiting (held for their offer), or back to the
        // session when no one is.
        crate::offers::pass_on(&tx, &b.session_id, now, base_url).await?;
        let detail = serde_json::json!({"booking": booking_id, "session": b.session_id});
        log(
            &tx,
            now,
            Entry {
                account: account_id,
                organisation: b.organisation_id.as_deref(),
                action: "booking.cancel",
                subject: booking_id,
                detail: &detail,
            },
        )
        .await?;
        audit::record(
            &tx,
            now,
            AuditEntry {
                actor: &format!("account:{account_id}"),
                action: "booking.cancelled",
                subject: booking_id,
                detail,
            },
        )
        .await?;
        tx.commit().await?;
        self.catalogue.changed(tenant);
        Ok(())
    }
}

/// The first answer to a checkout, rebuilt from what it stored.
async fn replay(
    tx: &TenantTx,
    order: booking_order::Model,
) -> Result<CheckoutOutcome, BookingError> {
    let booked = booking::Entity::find()
        .filter(booking::Column::TenantId.eq(tx.tenant().as_str()))
        .filter(booking::Column::OrderId.eq(&order.id))
        .order_by_asc(booking::Column::Id)
        .all(&**tx)
        .await?
        .into_iter()
        .map(|b| Booked {
            booking_id: b.id,
            session_id: b.session_id,
            delegate_account_id: b.account_id,
            price_pence: b.price_pence,
            status: b.status,
        })
        .collect();
    let waiting = waiting_list_entry::Entity::find()
        .filter(waiting_list_entry::Column::TenantId.eq(tx.tenant().as_str()))
        .filter(waiting_list_entry::Column::OrderId.eq(&order.id))
        .order_by_asc(waiting_list_entry::Column::Id)
        .all(&**tx)
        .await?
        .into_iter()
        .map(|w| Waiting {
            entry_id: w.id,
            session_id: w.session_id,
            delegate_account_id: w.account_id,
        })
        .collect();
    Ok(CheckoutOutcome {
        order_id: order.id,
        number: order.number,
        total_pence: order.total_pence,
        booked,
        waiting,
        replayed: true,
    })
}
