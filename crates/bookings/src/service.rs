//! Checkout and cancellation. One checkout either places the whole order (some places may
//! go to the waiting list) or changes nothing. A place is taken by a conditional update of
//! the session's `places_taken` (`… AND places_taken < capacity`), so the database, not a
//! check-then-insert, decides who gets the last place; the session's CHECK constraint is
//! the backstop.
//!
//! A checkout billed to nobody reads (or remembers, see [`Seen`]), then writes everything in
//! one statement whose takes are required (on PostgreSQL no transaction is opened): each
//! take holds only while the session and course have the revisions read and the person
//! holds no place there. Any other checkout, and one whose take failed (the place went to
//! someone else, the course changed), is one transaction that takes each place first.

use std::sync::Arc;

use catalogue::domain::Status;
use catalogue::store::entity::{course, course_session};
use chrono::{DateTime, Duration, Utc};
use identity::domain::rights::{Right, Rights, membership_status};
use identity::store::entity::account;
use sea_orm::sea_query::{Expr, ExprTrait as _};
use sea_orm::{
    ColumnTrait as _, ConnectionTrait, EntityTrait, FromQueryResult as _, JoinType,
    PaginatorTrait as _, QueryFilter as _, QueryOrder as _, QuerySelect as _, QueryTrait, Set,
    SqlErr,
};
use storage::audit::{self, AuditEntry};
use storage::{Clock, Db, TenantTx, Writes};
use tenant_router::{TenantConfig, TenantId};

use crate::BookingError;
use crate::domain::{
    Booked, CheckoutOutcome, CheckoutRequest, Waiting, check_request, order_number, request_hash,
};
use crate::store::entity::{
    basket_item, booking, booking_order, transaction_log, waiting_list_entry,
};

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

/// The bookings service.
#[derive(Clone)]
pub struct Bookings {
    pub(crate) db: Db,
    pub(crate) clock: Clock,
    /// Told of every change to places, so cached public pages show them.
    pub(crate) catalogue: catalogue::Catalogue,
    /// Sessions lately read with room on them.
    seen: Seen,
}

/// Sessions (with their courses) as a checkout last read them with a place free, so the
/// next checkout of the same session need not read them again. Nothing here is trusted:
/// a place is taken against it only while the session and its course still have the
/// revisions remembered ([`take_seen`]), and a take that fails forgets the session.
/// Keyed by tenant and session, so one tenant's entries never answer another's.
#[derive(Clone)]
struct Seen(moka::sync::Cache<(TenantId, String), Arc<(course_session::Model, course::Model)>>);

impl Seen {
    /// Enough for every upcoming session of a large council; an entry unused for ten
    /// minutes goes.
    fn new() -> Self {
        Self(
            moka::sync::Cache::builder()
                .max_capacity(2_000)
                .time_to_idle(std::time::Duration::from_secs(600))
                .build(),
        )
    }
}

impl Bookings {
    /// Bookings over `db`, reading time from `clock`, telling `catalogue` when places change.
    #[must_use]
    pub fn new(db: Db, clock: Clock, catalogue: catalogue::Catalogue) -> Self {
        Self {
            db,
            clock,
            catalogue,
            seen: Seen::new(),
        }
    }

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
        let done = match self
            .attempt_alone(cfg, booker, key, &hash, req, basket_lines)
            .await
        {
            Ok(Some(outcome)) => Ok(outcome),
            Ok(None) => {
                self.attempt(cfg, booker, key, &hash, req, basket_lines)
                    .await
            }
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

    /// One checkout, in one transaction: for each place, one statement takes it if one is
    /// free and looks up what is to be checked (everything is rolled back if a check
    /// fails); then every row the checkout writes goes in one batch ([`Writes`]) before
    /// the commit.
    async fn attempt(
        &self,
        cfg: &TenantConfig,
        booker: &account::Model,
        key: &str,
        hash: &str,
        req: &CheckoutRequest,
        basket_lines: &[String],
    ) -> Result<CheckoutOutcome, BookingError> {
        let tx = self.db.tenant_tx(&cfg.slug).await?;
        let now = self.clock.now();
        let billed = self.check_organisation(&tx, booker, req).await?;
        let org = billed.as_ref().map(|b| b.organisation.clone());
        let mut lines: Vec<Line> = Vec::with_capacity(req.items.len());
        for item in &req.items {
            let delegate = item
                .delegate_account_id
                .clone()
                .unwrap_or_else(|| booker.id.clone());
            check_once(&lines, &item.session_id, &delegate)?;
            if delegate != booker.id {
                check_colleague(&tx, org.as_deref(), &delegate).await?;
            }
            let place = place_on(
                &*tx,
                tx.tenant(),
                &item.session_id,
                Some(&delegate),
                true,
                now,
            )
            .await?;
            if place.held {
                return Err(BookingError::AlreadyBooked);
            }
            let amount =
                crate::purchases::place_price(&tx, &place.course, &place.session, org.as_deref())
                    .await?;
            lines.push(Line {
                session: place.session,
                course: place.course,
                taken: place.free,
                delegate,
                amount,
            });
        }
        check_total(req, &lines)?;
        if let Some(org) = org.as_deref() {
            for (i, line) in lines.iter().enumerate().filter(|(_, l)| l.taken) {
                if let Some(limit) = line.session.org_place_limit {
                    // Places this checkout took before on the session are not written yet.
                    let earlier = lines[..i]
                        .iter()
                        .filter(|e| e.taken && e.session.id == line.session.id)
                        .count();
                    let earlier = u64::try_from(earlier).unwrap_or(u64::MAX);
                    check_org_limit(&tx, &line.session.id, org, limit, earlier).await?;
                }
            }
        }
        let status = if billed.as_ref().is_some_and(Billed::needs_approval) {
            crate::approvals::PENDING
        } else {
            "confirmed"
        };
        let mut writes = Writes::new();
        let order = Order {
            cfg,
            booker,
            key,
            hash,
            now,
            org: org.as_deref(),
            status,
            basket_lines,
        };
        let staged = order.stage(&mut writes, lines);
        let outcome = staged.outcome;
        crate::confirmation::queue(
            &tx,
            &mut writes,
            now,
            cfg,
            &outcome.number,
            org.as_deref(),
            &[booker],
            &staged.confirmations,
        )
        .await?;
        if let Some(org) = org.as_deref() {
            crate::approvals::ask(&tx, now, org, &staged.to_approve).await?;
        }
        // A unique index refusing a row here means a concurrent checkout placed it first:
        // the same person's place (already booked) or this key's order (answered by the
        // caller as a retry).
        writes.run(&tx).await.map_err(duplicate_is_already_booked)?;
        tx.commit().await?;
        self.catalogue.changed();
        Ok(outcome)
    }

    /// A checkout billed to nobody (people booking and paying for themselves), without a
    /// transaction: one read per place (the session, its course, whether the person holds
    /// a place there), then one statement that takes every place read as free and writes
    /// every row, each take required ([`Writes::require_written`]), so it is still all or
    /// nothing. `None` when the checkout bills an organisation (its checks read what the
    /// place must be taken under: [`Self::attempt`] does those) or when a place read as
    /// free went to someone else before the write (nothing was written; the caller then
    /// runs [`Self::attempt`], which takes places first).
    async fn attempt_alone(
        &self,
        cfg: &TenantConfig,
        booker: &account::Model,
        key: &str,
        hash: &str,
        req: &CheckoutRequest,
        basket_lines: &[String],
    ) -> Result<Option<CheckoutOutcome>, BookingError> {
        if req.organisation_id.is_some() || books_for_others(req, booker) {
            return Ok(None);
        }
        let statements = self.db.tenant_statements(&cfg.slug).await?;
        let order = Order {
            cfg,
            booker,
            key,
            hash,
            now: self.clock.now(),
            org: None,
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
            Ok(Some(outcome)) => {
                statements.finish().await?;
                self.catalogue.changed();
                Ok(Some(outcome))
            }
            other => {
                statements.abandon().await?;
                other
            }
        }
    }

    /// The organisation billed, checked, with the booker's rights there: the booker must be
    /// a confirmed member; booking for anyone else needs the booker right there.
    async fn check_organisation(
        &self,
        tx: &TenantTx,
        booker: &account::Model,
        req: &CheckoutRequest,
    ) -> Result<Option<Billed>, BookingError> {
        let for_others = books_for_others(req, booker);
        let Some(org) = req.organisation_id.as_deref() else {
            if for_others {
                return Err(BookingError::NotAllowed(
                    "Booking for colleagues needs the organisation they belong to",
                ));
            }
            return Ok(None);
        };
        let found =
            identity::store::organisations::membership_with_organisation(tx, org, &booker.id)
                .await?;
        let Some((m, o)) = found.filter(|(m, _)| m.status == membership_status::VERIFIED) else {
            return Err(BookingError::NotAllowed(
                "You can only bill an organisation you are a confirmed member of",
            ));
        };
        let rights = Rights::parse(&m.rights).unwrap_or_default();
        if for_others && !(rights.has(Right::Booker) || rights.has(Right::LeadAdmin)) {
            return Err(BookingError::NotAllowed(
                "Booking for colleagues needs the booker right in your organisation",
            ));
        }
        Ok(Some(Billed {
            organisation: org.to_owned(),
            approves_bookings: o.approve_bookings,
            rights,
        }))
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
        tenant: &TenantId,
        account_id: &str,
        booking_id: &str,
        base_url: &str,
    ) -> Result<(), BookingError> {
        let tx = self.db.tenant_tx(tenant).await?;
        let b = booking::Entity::find()
            .filter(booking::Column::TenantId.eq(tenant.as_str()))
            .filter(booking::Column::Id.eq(booking_id))
            .filter(booking::Column::AccountId.eq(account_id))
            .one(&*tx)
            .await?
            .ok_or(BookingError::NotFound)?;
        if b.status != "confirmed" && b.status != crate::approvals::PENDING {
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
        booking::Entity::update_many()
            .filter(booking::Column::TenantId.eq(tenant.as_str()))
            .filter(booking::Column::Id.eq(booking_id))
            .col_expr(booking::Column::Status, Expr::value("cancelled"))
            .col_expr(booking::Column::CancelledAt, Expr::value(now))
            .exec(&*tx)
            .await?;
        identity::store::touch(&tx, account_id, now).await?;
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
        self.catalogue.changed();
        Ok(())
    }
}

/// The sessions (by id) and course titles (by course id) of `bookings`: two queries
/// whatever their number.
pub(crate) async fn sessions_and_titles(
    tx: &TenantTx,
    bookings: &[booking::Model],
) -> Result<
    (
        std::collections::HashMap<String, course_session::Model>,
        std::collections::HashMap<String, String>,
    ),
    BookingError,
> {
    let t = tx.tenant().as_str();
    let sessions = course_session::Entity::find()
        .filter(course_session::Column::TenantId.eq(t))
        .filter(course_session::Column::Id.is_in(bookings.iter().map(|b| b.session_id.as_str())))
        .all(&**tx)
        .await?
        .into_iter()
        .map(|s| (s.id.clone(), s))
        .collect();
    let titles = course::Entity::find()
        .filter(course::Column::TenantId.eq(t))
        .filter(course::Column::Id.is_in(bookings.iter().map(|b| b.course_id.as_str())))
        .all(&**tx)
        .await?
        .into_iter()
        .map(|c| (c.id, c.title))
        .collect();
    Ok((sessions, titles))
}

/// The full names of the accounts `ids`, by id: one query.
pub(crate) async fn names_of<'a>(
    tx: &TenantTx,
    ids: impl IntoIterator<Item = &'a str>,
) -> Result<std::collections::HashMap<String, String>, BookingError> {
    Ok(account::Entity::find()
        .filter(account::Column::TenantId.eq(tx.tenant().as_str()))
        .filter(account::Column::Id.is_in(ids))
        .all(&**tx)
        .await?
        .into_iter()
        .map(|a| (a.id, format!("{} {}", a.first_name, a.last_name)))
        .collect())
}

/// A unique-index violation on a booking or waiting entry means a concurrent checkout gave
/// the same person the same session first.
pub(crate) fn duplicate_is_already_booked(e: sea_orm::DbErr) -> BookingError {
    match e.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => BookingError::AlreadyBooked,
        _ => e.into(),
    }
}

pub(crate) async fn find_order(
    tx: &TenantTx,
    account_id: &str,
    key: &str,
) -> Result<Option<booking_order::Model>, BookingError> {
    Ok(booking_order::Entity::find()
        .filter(booking_order::Column::TenantId.eq(tx.tenant().as_str()))
        .filter(booking_order::Column::AccountId.eq(account_id))
        .filter(booking_order::Column::IdempotencyKey.eq(key))
        .one(&**tx)
        .await?)
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

/// A colleague booked for must be a confirmed member of the organisation billed.
async fn check_colleague(
    tx: &TenantTx,
    org: Option<&str>,
    delegate: &str,
) -> Result<(), BookingError> {
    let Some(org) = org else {
        return Err(BookingError::NotAllowed(
            "Booking for colleagues needs the organisation they belong to",
        ));
    };
    let member = identity::store::organisations::membership(tx, org, delegate).await?;
    if member.is_some_and(|m| m.status == membership_status::VERIFIED) {
        Ok(())
    } else {
        Err(BookingError::NotAllowed(
            "You can only book for confirmed members of your organisation",
        ))
    }
}

pub(crate) async fn find_session(
    tx: &TenantTx,
    id: &str,
) -> Result<course_session::Model, BookingError> {
    course_session::Entity::find()
        .filter(course_session::Column::TenantId.eq(tx.tenant().as_str()))
        .filter(course_session::Column::Id.eq(id))
        .one(&**tx)
        .await?
        .ok_or(BookingError::NotFound)
}

/// The session and its course, if a place on it can be booked now.
pub(crate) async fn bookable(
    tx: &TenantTx,
    session_id: &str,
    now: DateTime<Utc>,
) -> Result<(course_session::Model, course::Model), BookingError> {
    let place = place_on(&**tx, tx.tenant(), session_id, None, false, now).await?;
    Ok((place.session, place.course))
}

/// The organisation a checkout bills, with what the checkout needs to know of it.
pub(crate) struct Billed {
    organisation: String,
    /// Whether its staff's bookings wait for a lead administrator's approval.
    approves_bookings: bool,
    /// The booker's rights there.
    rights: Rights,
}

impl Billed {
    /// Whether places booked on this account wait for approval (a lead administrator's
    /// own bookings never do).
    fn needs_approval(&self) -> bool {
        self.approves_bookings && !self.rights.has(Right::LeadAdmin)
    }
}

/// One place of a checkout, checked.
struct Line {
    session: course_session::Model,
    course: course::Model,
    /// Whether the delegate has a place: taken, or free and to be taken by the checkout's
    /// write (otherwise they are to wait).
    taken: bool,
    delegate: String,
    amount: i64,
}

/// Whether any place of the checkout is for someone other than the booker.
fn books_for_others(req: &CheckoutRequest, booker: &account::Model) -> bool {
    req.items.iter().any(|i| {
        i.delegate_account_id
            .as_deref()
            .is_some_and(|d| d != booker.id)
    })
}

/// Refuses a checkout that has the same delegate on the same session twice.
fn check_once(lines: &[Line], session_id: &str, delegate: &str) -> Result<(), BookingError> {
    if lines
        .iter()
        .any(|l| l.session.id == session_id && l.delegate == delegate)
    {
        return Err(BookingError::BadRequest(
            "The same place is in the checkout twice",
        ));
    }
    Ok(())
}

/// Refuses a checkout whose expected total is not the computed one.
fn check_total(req: &CheckoutRequest, lines: &[Line]) -> Result<(), BookingError> {
    let computed: i64 = lines.iter().map(|l| l.amount).sum();
    if req.expected_total_pence.is_some_and(|t| t != computed) {
        return Err(BookingError::PriceMismatch {
            computed_pence: computed,
        });
    }
    Ok(())
}

/// What every checkout writes the same way, whichever path took its places.
struct Order<'a> {
    cfg: &'a TenantConfig,
    booker: &'a account::Model,
    key: &'a str,
    hash: &'a str,
    now: DateTime<Utc>,
    /// The organisation billed.
    org: Option<&'a str>,
    /// The status of the bookings made (confirmed, or waiting for approval).
    status: &'static str,
    /// Basket lines to take out of the booker's basket.
    basket_lines: &'a [String],
}

/// A checkout staged into a [`Writes`]: its answer and the places to confirm or to have
/// approved.
struct Staged {
    outcome: CheckoutOutcome,
    confirmations: Vec<crate::confirmation::Confirmed>,
    to_approve: Vec<crate::confirmation::Confirmed>,
}

impl Order<'_> {
    /// Adds to `writes` the rows of a checkout of `lines` (places checked and, where
    /// `taken`, taken or to be taken): each booking or waiting-list entry, the people's
    /// activity, the order, the basket lines it empties, the transaction log entry and
    /// the audit event. Confirmations and approvals are the caller's: they may need
    /// lookups.
    fn stage(&self, writes: &mut Writes, lines: Vec<Line>) -> Staged {
        let Self {
            cfg,
            booker,
            now,
            org,
            status,
            ..
        } = *self;
        let order_id = uuid::Uuid::now_v7().to_string();
        let number = order_number(&cfg.short_name, uuid::Uuid::new_v4());
        let mut booked = Vec::new();
        let mut waiting = Vec::new();
        let mut confirmations = Vec::new();
        let mut to_approve = Vec::new();
        for Line {
            session,
            course,
            taken,
            delegate,
            amount,
        } in lines
        {
            let id = uuid::Uuid::now_v7().to_string();
            if taken {
                writes.insert(booking::ActiveModel {
                    tenant_id: Set(cfg.slug.to_string()),
                    id: Set(id.clone()),
                    order_id: Set(order_id.clone()),
                    session_id: Set(session.id.clone()),
                    course_id: Set(course.id.clone()),
                    account_id: Set(delegate.clone()),
                    organisation_id: Set(org.map(str::to_owned)),
                    price_pence: Set(amount),
                    status: Set(status.to_owned()),
                    created_at: Set(now),
                    cancelled_at: Set(None),
                    attendance: Set(None),
                    attendance_marked_at: Set(None),
                    reminded_at: Set(None),
                });
                let place = crate::confirmation::Confirmed {
                    booking_id: id.clone(),
                    delegate: delegate.clone(),
                    session: session.clone(),
                    course: course.clone(),
                    price_pence: amount,
                };
                if status == crate::approvals::PENDING {
                    to_approve.push(place);
                } else {
                    confirmations.push(place);
                }
                booked.push(Booked {
                    booking_id: id,
                    session_id: session.id,
                    delegate_account_id: delegate,
                    price_pence: amount,
                    status: status.to_owned(),
                });
            } else {
                writes.insert(waiting_list_entry::ActiveModel {
                    tenant_id: Set(cfg.slug.to_string()),
                    id: Set(id.clone()),
                    order_id: Set(order_id.clone()),
                    session_id: Set(session.id.clone()),
                    course_id: Set(course.id.clone()),
                    account_id: Set(delegate.clone()),
                    organisation_id: Set(org.map(str::to_owned)),
                    status: Set("waiting".to_owned()),
                    offer_token_hash: Set(None),
                    offer_expires_at: Set(None),
                    created_at: Set(now),
                });
                waiting.push(Waiting {
                    entry_id: id,
                    session_id: session.id,
                    delegate_account_id: delegate,
                });
            }
        }
        // Activity, for retention: a booking made by or for a person counts for both (the
        // booker's only if not counted within the hour, see `identity::store::touch_due`).
        let mut active: Vec<&str> = Vec::new();
        if identity::store::touch_due(booker, now) {
            active.push(booker.id.as_str());
        }
        for d in booked
            .iter()
            .map(|b| b.delegate_account_id.as_str())
            .chain(waiting.iter().map(|w| w.delegate_account_id.as_str()))
        {
            if d != booker.id && !active.contains(&d) {
                active.push(d);
            }
        }
        for id in active {
            identity::store::touch_later(writes, &cfg.slug, id, now);
        }
        let total: i64 = booked.iter().map(|b| b.price_pence).sum();
        writes.insert(booking_order::ActiveModel {
            tenant_id: Set(cfg.slug.to_string()),
            id: Set(order_id.clone()),
            number: Set(number.clone()),
            account_id: Set(booker.id.clone()),
            organisation_id: Set(org.map(str::to_owned)),
            total_pence: Set(total),
            idempotency_key: Set(self.key.to_owned()),
            request_hash: Set(self.hash.to_owned()),
            created_at: Set(now),
        });
        if !self.basket_lines.is_empty() {
            writes.delete(
                basket_item::Entity::delete_many()
                    .filter(basket_item::Column::TenantId.eq(cfg.slug.as_str()))
                    .filter(basket_item::Column::AccountId.eq(booker.id.as_str()))
                    .filter(
                        basket_item::Column::Id.is_in(self.basket_lines.iter().map(String::as_str)),
                    )
                    .into_query(),
            );
        }
        let detail = serde_json::json!({
            "order": order_id,
            "booked": booked.iter().map(|b| &b.booking_id).collect::<Vec<_>>(),
            "waiting": waiting.iter().map(|w| &w.entry_id).collect::<Vec<_>>(),
            "total_pence": total,
        });
        log_later(
            writes,
            &cfg.slug,
            now,
            Entry {
                account: &booker.id,
                organisation: org,
                action: "checkout",
                subject: &order_id,
                detail: &detail,
            },
        );
        audit::add(
            writes,
            &cfg.slug,
            now,
            AuditEntry {
                actor: &format!("account:{}", booker.id),
                action: "order.placed",
                subject: &order_id,
                detail,
            },
        );
        Staged {
            outcome: CheckoutOutcome {
                order_id,
                number,
                total_pence: total,
                booked,
                waiting,
                replayed: false,
            },
            confirmations,
            to_approve,
        }
    }

    /// [`Bookings::attempt_alone`]'s work on `conn`: the booker's own places, remembered
    /// (`seen`) or read, then one statement. `None` when a take failed (a place read as
    /// free was gone by the write, or the session or course had changed, or the booker
    /// joined its waiting list since) or when the checkout would be refused on anything
    /// remembered: the sessions are forgotten, and the transaction, which reads
    /// everything, gives the answer. A place the booker already holds is refused by the
    /// booking's unique index: [`BookingError::AlreadyBooked`], the session still
    /// remembered (nothing about it was stale).
    async fn alone_on<C: ConnectionTrait>(
        &self,
        conn: &C,
        tenant: &TenantId,
        seen: &Seen,
        req: &CheckoutRequest,
    ) -> Result<Option<CheckoutOutcome>, BookingError> {
        let me = self.booker.id.as_str();
        let forget = || {
            for item in &req.items {
                seen.0
                    .invalidate(&(tenant.clone(), item.session_id.clone()));
            }
        };
        let mut remembered_any = false;
        let lines = match self
            .lines_alone(conn, tenant, seen, req, &mut remembered_any)
            .await
        {
            Ok(lines) => lines,
            Err(_) if remembered_any => {
                forget();
                return Ok(None);
            }
            Err(refused) => return Err(refused),
        };
        let mut writes = Writes::new();
        for line in lines.iter().filter(|l| l.taken) {
            writes.require_written(take_seen(tenant, &line.session, &line.course, me));
        }
        let staged = self.stage(&mut writes, lines);
        crate::confirmation::stage(
            &mut writes,
            tenant,
            self.now,
            self.cfg,
            &staged.outcome.number,
            &crate::confirmation::Recipients::known(&[self.booker]),
            &staged.confirmations,
        );
        match writes.run_on(conn).await {
            Err(e) if storage::writes::is_unmet(&e) => {
                forget();
                Ok(None)
            }
            // As in `attempt`: a unique index refusing a row means a concurrent checkout
            // placed it first.
            done => {
                done.map_err(duplicate_is_already_booked)?;
                Ok(Some(staged.outcome))
            }
        }
    }

    /// The checked lines of a self-billed checkout, each session remembered (`seen`) or
    /// read; sets `remembered_any` when a line came from memory.
    async fn lines_alone<C: ConnectionTrait>(
        &self,
        conn: &C,
        tenant: &TenantId,
        seen: &Seen,
        req: &CheckoutRequest,
        remembered_any: &mut bool,
    ) -> Result<Vec<Line>, BookingError> {
        let me = self.booker.id.as_str();
        let mut lines: Vec<Line> = Vec::with_capacity(req.items.len());
        for item in &req.items {
            check_once(&lines, &item.session_id, me)?;
            let key = (tenant.clone(), item.session_id.clone());
            // Remembered (only sessions read with room are), and bookable now: the take
            // checks the rest. Anything else is read, for the exact answer.
            let remembered = seen
                .0
                .get(&key)
                .filter(|s| check_bookable(&s.0, &s.1, self.now).is_ok());
            let place = match remembered {
                Some(s) => {
                    *remembered_any = true;
                    Place {
                        session: s.0.clone(),
                        course: s.1.clone(),
                        held: false,
                        free: true,
                    }
                }
                None => {
                    let place =
                        place_on(conn, tenant, &item.session_id, Some(me), false, self.now).await?;
                    if place.free {
                        seen.0
                            .insert(key, Arc::new((place.session.clone(), place.course.clone())));
                    }
                    place
                }
            };
            if place.held {
                return Err(BookingError::AlreadyBooked);
            }
            // Billed to nobody: no SLA can cover it.
            let amount = crate::domain::price(
                place.course.price_pence,
                place.course.sla_price_pence,
                false,
            );
            lines.push(Line {
                session: place.session,
                course: place.course,
                taken: place.free,
                delegate: me.to_owned(),
                amount,
            });
        }
        check_total(req, &lines)?;
        Ok(lines)
    }
}

/// A session found bookable, by [`place_on`].
struct Place {
    session: course_session::Model,
    course: course::Model,
    /// Whether the delegate already holds a place or a waiting-list entry on it.
    held: bool,
    /// Whether a place was free: taken for the delegate when [`place_on`] was asked to
    /// take it, otherwise free when read (to be taken by a required update).
    free: bool,
}

/// The conditional update that takes a place on `session_id` if one is free: the
/// database, not a check before it, decides who gets the last one.
fn take_place(tenant: &TenantId, session_id: &str) -> sea_orm::sea_query::UpdateStatement {
    course_session::Entity::update_many()
        .col_expr(
            course_session::Column::PlacesTaken,
            Expr::col(course_session::Column::PlacesTaken).add(1),
        )
        .filter(course_session::Column::TenantId.eq(tenant.as_str()))
        .filter(course_session::Column::Id.eq(session_id))
        .filter(course_session::Column::Status.eq("scheduled"))
        .filter(
            Expr::col(course_session::Column::PlacesTaken)
                .lt(Expr::col(course_session::Column::Capacity)),
        )
        .into_query()
}

/// [`take_place`] for a checkout that did not lock what it read: it takes the place only
/// while `session` and `course` still have the revisions read (so nothing the booking is
/// confirmed with has changed since) and `delegate` has no live waiting-list entry on the
/// session. A place `delegate` already holds needs no check here: the booking's unique
/// index (`booking_one_held`) refuses the second, which fails the whole statement
/// ([`duplicate_is_already_booked`]). The times they were last changed must match too: a replica of
/// the previous release, during a rolling upgrade, changes a course without counting a
/// revision, but it does set `updated_at`.
///
/// Written as SQL, every value bound (`$n`, which both databases read): it is on every
/// checkout's path, and sea-query's expression trees for it cost more to build and render
/// than the rest of the checkout's statement. Its first line is [`take_place`]'s.
fn take_seen(
    tenant: &TenantId,
    session: &course_session::Model,
    course: &course::Model,
    delegate: &str,
) -> storage::sql::Sql {
    static TEXT: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        let waiting = LIVE_WAITING;
        format!(
            r#"UPDATE "course_session" SET "places_taken" = "places_taken" + 1
            WHERE "tenant_id" = $1 AND "id" = $2 AND "status" = 'scheduled'
                AND "places_taken" < "capacity"
            AND "revision" = $3 AND "updated_at" = $4
            AND EXISTS (SELECT 1 FROM "course" WHERE "course"."tenant_id" = $1
                AND "course"."id" = $5 AND "course"."revision" = $6
                AND "course"."updated_at" = $7)
            AND NOT EXISTS (SELECT 1 FROM "waiting_list_entry"
                WHERE "waiting_list_entry"."tenant_id" = $1
                AND "waiting_list_entry"."session_id" = $2
                AND "waiting_list_entry"."account_id" = $8
                AND "waiting_list_entry"."status" IN ('{}', '{}'))"#,
            waiting[0], waiting[1],
        )
        // One line: the statement log stays readable.
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
    });
    storage::sql::Sql {
        text: TEXT.clone(),
        values: vec![
            tenant.as_str().into(),
            session.id.as_str().into(),
            session.revision.into(),
            session.updated_at.into(),
            course.id.as_str().into(),
            course.revision.into(),
            course.updated_at.into(),
            delegate.into(),
        ],
    }
}

/// A booking's statuses that hold a place.
const HELD: [&str; 2] = [crate::approvals::PENDING, "confirmed"];
/// A waiting-list entry's statuses that keep someone in line.
const LIVE_WAITING: [&str; 2] = ["waiting", "offered"];

/// The session and its course, if a place on it can be booked now. With a `delegate`, it
/// says whether the delegate already holds a place or a waiting-list entry there, and
/// with `take` it also takes a place if one is free ([`take_place`]): one statement on
/// PostgreSQL. The caller rolls back, releasing the place, when it refuses the booking.
async fn place_on<C: ConnectionTrait>(
    conn: &C,
    tenant: &TenantId,
    session_id: &str,
    delegate: Option<&str>,
    take: bool,
    now: DateTime<Utc>,
) -> Result<Place, BookingError> {
    let t = tenant.as_str();
    let mut select = course_session::Entity::find()
        .select_also(course::Entity)
        .join(
            JoinType::InnerJoin,
            course_session::Entity::belongs_to(course::Entity)
                .from((
                    course_session::Column::TenantId,
                    course_session::Column::CourseId,
                ))
                .to((course::Column::TenantId, course::Column::Id))
                .into(),
        )
        .filter(course_session::Column::TenantId.eq(t))
        .filter(course_session::Column::Id.eq(session_id))
        .into_query();
    if let Some(delegate) = delegate {
        use booking::Column as B;
        use waiting_list_entry::Column as W;
        let booked = live_row::<booking::Entity>(
            [B::TenantId, B::SessionId, B::AccountId, B::Status],
            [t, session_id, delegate],
            HELD,
        );
        let waiting = live_row::<waiting_list_entry::Entity>(
            [W::TenantId, W::SessionId, W::AccountId, W::Status],
            [t, session_id, delegate],
            LIVE_WAITING,
        );
        // 1 or 0 rather than a boolean, which SQLite does not have.
        select.expr_as(
            Expr::case(Expr::exists(booked).or(Expr::exists(waiting)), 1).finally(0),
            "held",
        );
    }
    let (taken, row) = if take {
        let (updated, row) =
            storage::writes::update_then_select(conn, take_place(tenant, session_id), select)
                .await?;
        (Some(updated == 1), row)
    } else {
        (None, conn.query_one(&select).await?)
    };
    let row = row.ok_or(BookingError::NotFound)?;
    let session = course_session::Model::from_query_result(&row, "A_")?;
    let course = course::Model::from_query_result(&row, "B_")?;
    check_bookable(&session, &course, now)?;
    let held = delegate.is_some() && row.try_get::<i32>("", "held")? == 1;
    let free = taken.unwrap_or(session.places_taken < session.capacity);
    Ok(Place {
        session,
        course,
        held,
        free,
    })
}

/// `SELECT 1` from `E` where the row of tenant, session and account (`of`, in the order
/// of `cols`, the fourth being the status) has one of the live `statuses`.
///
/// The statuses are written into the SQL rather than bound: they are the predicate of the
/// partial unique index that holds one live row per person and session, and PostgreSQL
/// can only use a partial index for a prepared statement's (generic) plan when the
/// statement itself implies the index's predicate. With bound statuses it walks all of
/// the person's bookings instead.
fn live_row<E: EntityTrait>(
    cols: [E::Column; 4],
    of: [&str; 3],
    statuses: [&'static str; 2],
) -> sea_orm::sea_query::SelectStatement {
    let [tenant, session, account, status] = cols;
    E::find()
        .select_only()
        .expr(Expr::val(1))
        .filter(tenant.eq(of[0]))
        .filter(session.eq(of[1]))
        .filter(account.eq(of[2]))
        .filter(Expr::col((E::default(), status)).is_in(statuses.map(|s| Expr::Constant(s.into()))))
        .into_query()
}

/// Refuses a place on `session` of `course` at `now` unless both are open for booking.
fn check_bookable(
    session: &course_session::Model,
    course: &course::Model,
    now: DateTime<Utc>,
) -> Result<(), BookingError> {
    let refuse = |code, message| Err(BookingError::NotBookable { code, message });
    match Status::parse(&course.status) {
        // A draft is not public: as if it did not exist.
        Status::Draft => return Err(BookingError::NotFound),
        Status::Cancelled => return refuse("cancelled", "This course has been cancelled"),
        Status::Published => {}
    }
    if session.status == "cancelled" {
        return refuse("cancelled", "This session has been cancelled");
    }
    if session.starts_at <= now {
        return refuse("session_started", "This session has already started");
    }
    if course.booking_opens_at.is_some_and(|t| now < t) {
        return refuse(
            "booking_not_open",
            "Booking for this course has not opened yet",
        );
    }
    if course.booking_closes_at.is_some_and(|t| now >= t) {
        return refuse("booking_closed", "Booking for this course has closed");
    }
    Ok(())
}

/// Refuses a place beyond the organisation's limit on the session, counting the places it
/// holds and `also` more taken by this transaction but not yet written. Called after the
/// place is taken, by an update that holds the session's row until commit: every booking
/// of the session queues there, so the count includes every place committed before this
/// one and concurrent checkouts cannot both take an organisation's last place.
pub(crate) async fn check_org_limit(
    tx: &TenantTx,
    session_id: &str,
    org: &str,
    limit: i32,
    also: u64,
) -> Result<(), BookingError> {
    let held = booking::Entity::find()
        .filter(booking::Column::TenantId.eq(tx.tenant().as_str()))
        .filter(booking::Column::SessionId.eq(session_id))
        .filter(booking::Column::OrganisationId.eq(org))
        .filter(booking::Column::Status.is_in(["confirmed", crate::approvals::PENDING]))
        .count(&**tx)
        .await?;
    // (`count` is sea-orm's `PaginatorTrait::count`: one `SELECT COUNT(*)`.)
    if held + also >= u64::try_from(limit).unwrap_or(0) {
        return Err(BookingError::NotBookable {
            code: "organisation_limit",
            message: "Your organisation already has all the places it may have on this session",
        });
    }
    Ok(())
}

/// A transaction-log entry: who did what to what, with details.
pub(crate) struct Entry<'a> {
    pub account: &'a str,
    pub organisation: Option<&'a str>,
    pub action: &'a str,
    pub subject: &'a str,
    pub detail: &'a serde_json::Value,
}

/// Writes a transaction-log entry in `tx`.
pub(crate) async fn log(
    tx: &TenantTx,
    now: DateTime<Utc>,
    entry: Entry<'_>,
) -> Result<(), BookingError> {
    let mut writes = Writes::new();
    log_later(&mut writes, tx.tenant(), now, entry);
    writes.run(tx).await?;
    Ok(())
}

/// Adds a transaction-log entry to `writes` (see [`log`]).
pub(crate) fn log_later(writes: &mut Writes, tenant: &TenantId, now: DateTime<Utc>, e: Entry<'_>) {
    writes.insert(transaction_log::ActiveModel {
        tenant_id: Set(tenant.to_string()),
        id: Set(uuid::Uuid::now_v7().to_string()),
        account_id: Set(e.account.to_owned()),
        organisation_id: Set(e.organisation.map(str::to_owned)),
        action: Set(e.action.to_owned()),
        subject: Set(e.subject.to_owned()),
        detail: Set(e.detail.to_string()),
        occurred_at: Set(now),
    });
}
