//! Checkout and cancellation. One checkout is one transaction: it either places the whole
//! order (some places may go to the waiting list) or changes nothing. A place is taken by a
//! conditional update of the session's `places_taken` (`… AND places_taken < capacity`),
//! so the database, not a check-then-insert, decides who gets the last place; the session's
//! CHECK constraint is the backstop.

use catalogue::domain::Status;
use catalogue::store::entity::{course, course_session};
use chrono::{DateTime, Duration, Utc};
use identity::domain::rights::{Right, Rights, membership_status};
use identity::store::entity::account;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait as _, ColumnTrait as _, ConnectionTrait as _, EntityTrait as _,
    PaginatorTrait as _, QueryFilter as _, QueryOrder as _, Set, SqlErr,
};
use storage::audit::{self, AuditEntry};
use storage::{Backend, Clock, Db, TenantTx};
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
}

/// A checkout that lost an idempotency race to a concurrent twin; it is answered as a retry.
enum Attempt {
    Done(CheckoutOutcome),
    Raced,
}

impl Bookings {
    /// Bookings over `db`, reading time from `clock`, telling `catalogue` when places change.
    #[must_use]
    pub fn new(db: Db, clock: Clock, catalogue: catalogue::Catalogue) -> Self {
        Self {
            db,
            clock,
            catalogue,
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
        match self.attempt(cfg, booker, key, req, basket_lines).await? {
            Attempt::Done(outcome) => Ok(outcome),
            // The twin committed first: answer as its retry.
            Attempt::Raced => match self.attempt(cfg, booker, key, req, basket_lines).await? {
                Attempt::Done(outcome) => Ok(outcome),
                Attempt::Raced => Err(BookingError::IdempotencyConflict),
            },
        }
    }

    /// The first answer to an earlier checkout with this key, if there was one.
    pub(crate) async fn replay_key(
        &self,
        cfg: &TenantConfig,
        booker_id: &str,
        key: &str,
    ) -> Result<Option<CheckoutOutcome>, BookingError> {
        let tx = self.db.tenant_tx(&cfg.slug).await?;
        let done = match find_order(&tx, booker_id, key).await? {
            Some(previous) => Some(replay(&tx, previous).await?),
            None => None,
        };
        tx.rollback().await?;
        Ok(done)
    }

    async fn attempt(
        &self,
        cfg: &TenantConfig,
        booker: &account::Model,
        key: &str,
        req: &CheckoutRequest,
        basket_lines: &[String],
    ) -> Result<Attempt, BookingError> {
        let hash = request_hash(req);
        let tx = self.db.tenant_tx(&cfg.slug).await?;
        if self.db.backend() == Backend::Postgres {
            // Bounded waits: a checkout queued behind a stuck lock fails instead of hanging.
            tx.execute_unprepared("SET LOCAL lock_timeout = '5s'")
                .await?;
        }
        if let Some(previous) = find_order(&tx, &booker.id, key).await? {
            if previous.request_hash != hash {
                return Err(BookingError::IdempotencyConflict);
            }
            let outcome = replay(&tx, previous).await?;
            tx.rollback().await?;
            return Ok(Attempt::Done(outcome));
        }
        let now = self.clock.now();
        let org = self.check_organisation(&tx, booker, req).await?;
        // Look everything up and check it before taking any place.
        let mut lines = Vec::with_capacity(req.items.len());
        for item in &req.items {
            let delegate = item
                .delegate_account_id
                .clone()
                .unwrap_or_else(|| booker.id.clone());
            if lines
                .iter()
                .any(|l: &(course_session::Model, String, course::Model, i64)| {
                    l.0.id == item.session_id && l.1 == delegate
                })
            {
                return Err(BookingError::BadRequest(
                    "The same place is in the checkout twice",
                ));
            }
            if delegate != booker.id {
                check_colleague(&tx, org.as_deref(), &delegate).await?;
            }
            let (session, course) = bookable(&tx, &item.session_id, now).await?;
            if already_holds(&tx, &session.id, &delegate).await? {
                return Err(BookingError::AlreadyBooked);
            }
            let amount =
                crate::purchases::place_price(&tx, &course, &session, org.as_deref()).await?;
            lines.push((session, delegate, course, amount));
        }
        let computed: i64 = lines.iter().map(|l| l.3).sum();
        if req.expected_total_pence.is_some_and(|t| t != computed) {
            return Err(BookingError::PriceMismatch {
                computed_pence: computed,
            });
        }
        let order_uuid = uuid::Uuid::now_v7();
        let order_id = order_uuid.to_string();
        let number = order_number(&cfg.short_name, uuid::Uuid::new_v4());
        let mut booked = Vec::new();
        let mut waiting = Vec::new();
        let mut confirmations = Vec::new();
        let mut to_approve = Vec::new();
        let status = if crate::approvals::needs_approval(&tx, booker, org.as_deref()).await? {
            crate::approvals::PENDING
        } else {
            "confirmed"
        };
        for (session, delegate, course, amount) in lines {
            if take_place(&tx, &session.id).await? {
                if let (Some(limit), Some(org)) = (session.org_place_limit, org.as_deref()) {
                    check_org_limit(&tx, &session.id, org, limit).await?;
                }
                let id = uuid::Uuid::now_v7().to_string();
                booking::ActiveModel {
                    tenant_id: Set(cfg.slug.to_string()),
                    id: Set(id.clone()),
                    order_id: Set(order_id.clone()),
                    session_id: Set(session.id.clone()),
                    course_id: Set(course.id.clone()),
                    account_id: Set(delegate.clone()),
                    organisation_id: Set(org.clone()),
                    price_pence: Set(amount),
                    status: Set(status.to_owned()),
                    created_at: Set(now),
                    cancelled_at: Set(None),
                    attendance: Set(None),
                    attendance_marked_at: Set(None),
                    reminded_at: Set(None),
                }
                .insert(&*tx)
                .await
                .map_err(duplicate_is_already_booked)?;
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
                let id = uuid::Uuid::now_v7().to_string();
                waiting_list_entry::ActiveModel {
                    tenant_id: Set(cfg.slug.to_string()),
                    id: Set(id.clone()),
                    order_id: Set(order_id.clone()),
                    session_id: Set(session.id.clone()),
                    course_id: Set(course.id.clone()),
                    account_id: Set(delegate.clone()),
                    organisation_id: Set(org.clone()),
                    status: Set("waiting".to_owned()),
                    offer_token_hash: Set(None),
                    offer_expires_at: Set(None),
                    created_at: Set(now),
                }
                .insert(&*tx)
                .await
                .map_err(duplicate_is_already_booked)?;
                waiting.push(Waiting {
                    entry_id: id,
                    session_id: session.id,
                    delegate_account_id: delegate,
                });
            }
        }
        // Activity, for retention: a booking made by or for a person counts for both.
        let mut active: Vec<&str> = vec![booker.id.as_str()];
        for d in booked
            .iter()
            .map(|b| b.delegate_account_id.as_str())
            .chain(waiting.iter().map(|w| w.delegate_account_id.as_str()))
        {
            if !active.contains(&d) {
                active.push(d);
            }
        }
        for id in active {
            identity::store::touch(&tx, id, now).await?;
        }
        let total: i64 = booked.iter().map(|b| b.price_pence).sum();
        let inserted = booking_order::ActiveModel {
            tenant_id: Set(cfg.slug.to_string()),
            id: Set(order_id.clone()),
            number: Set(number.clone()),
            account_id: Set(booker.id.clone()),
            organisation_id: Set(org.clone()),
            total_pence: Set(total),
            idempotency_key: Set(key.to_owned()),
            request_hash: Set(hash),
            created_at: Set(now),
        }
        .insert(&*tx)
        .await;
        if let Err(e) = inserted {
            if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) {
                tx.rollback().await?;
                return Ok(Attempt::Raced);
            }
            return Err(e.into());
        }
        crate::confirmation::queue(&tx, now, cfg, &number, org.as_deref(), &confirmations).await?;
        if let Some(org) = org.as_deref() {
            crate::approvals::ask(&tx, now, org, &to_approve).await?;
        }
        if !basket_lines.is_empty() {
            basket_item::Entity::delete_many()
                .filter(basket_item::Column::TenantId.eq(cfg.slug.as_str()))
                .filter(basket_item::Column::AccountId.eq(booker.id.as_str()))
                .filter(basket_item::Column::Id.is_in(basket_lines.iter().map(String::as_str)))
                .exec(&*tx)
                .await?;
        }
        let detail = serde_json::json!({
            "order": order_id,
            "booked": booked.iter().map(|b| &b.booking_id).collect::<Vec<_>>(),
            "waiting": waiting.iter().map(|w| &w.entry_id).collect::<Vec<_>>(),
            "total_pence": total,
        });
        log(
            &tx,
            now,
            &booker.id,
            org.as_deref(),
            "checkout",
            &order_id,
            &detail,
        )
        .await?;
        audit::record(
            &tx,
            now,
            AuditEntry {
                actor: &format!("account:{}", booker.id),
                action: "order.placed",
                subject: &order_id,
                detail,
            },
        )
        .await?;
        tx.commit().await?;
        self.catalogue.changed();
        Ok(Attempt::Done(CheckoutOutcome {
            order_id,
            number,
            total_pence: total,
            booked,
            waiting,
            replayed: false,
        }))
    }

    /// The organisation billed, checked: the booker must be a confirmed member; booking for
    /// anyone else needs the booker right there.
    async fn check_organisation(
        &self,
        tx: &TenantTx,
        booker: &account::Model,
        req: &CheckoutRequest,
    ) -> Result<Option<String>, BookingError> {
        let for_others = req.items.iter().any(|i| {
            i.delegate_account_id
                .as_deref()
                .is_some_and(|d| d != booker.id)
        });
        let Some(org) = req.organisation_id.as_deref() else {
            if for_others {
                return Err(BookingError::NotAllowed(
                    "Booking for colleagues needs the organisation they belong to",
                ));
            }
            return Ok(None);
        };
        let membership = identity::store::organisations::membership(tx, org, &booker.id).await?;
        let Some(m) = membership.filter(|m| m.status == membership_status::VERIFIED) else {
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
        Ok(Some(org.to_owned()))
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
        // Two queries for all the sessions and courses, not two per booking.
        let sessions = course_session::Entity::find()
            .filter(course_session::Column::TenantId.eq(tenant.as_str()))
            .filter(course_session::Column::Id.is_in(bookings.iter().map(|b| b.session_id.clone())))
            .all(&*tx)
            .await?;
        let titles: std::collections::HashMap<String, String> = course::Entity::find()
            .filter(course::Column::TenantId.eq(tenant.as_str()))
            .filter(course::Column::Id.is_in(bookings.iter().map(|b| b.course_id.clone())))
            .all(&*tx)
            .await?
            .into_iter()
            .map(|c| (c.id, c.title))
            .collect();
        let mut out: Vec<MyBooking> = bookings
            .into_iter()
            .filter_map(|b| {
                let session = sessions.iter().find(|s| s.id == b.session_id)?.clone();
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
            account_id,
            b.organisation_id.as_deref(),
            "booking.cancel",
            booking_id,
            &detail,
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
    let session = find_session(tx, session_id).await?;
    let course = course::Entity::find()
        .filter(course::Column::TenantId.eq(tx.tenant().as_str()))
        .filter(course::Column::Id.eq(&session.course_id))
        .one(&**tx)
        .await?
        .ok_or(BookingError::NotFound)?;
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
    Ok((session, course))
}

async fn already_holds(
    tx: &TenantTx,
    session_id: &str,
    account_id: &str,
) -> Result<bool, BookingError> {
    let booked = booking::Entity::find()
        .filter(booking::Column::TenantId.eq(tx.tenant().as_str()))
        .filter(booking::Column::SessionId.eq(session_id))
        .filter(booking::Column::AccountId.eq(account_id))
        .filter(booking::Column::Status.is_in(["confirmed", crate::approvals::PENDING]))
        .one(&**tx)
        .await?
        .is_some();
    let waiting = waiting_list_entry::Entity::find()
        .filter(waiting_list_entry::Column::TenantId.eq(tx.tenant().as_str()))
        .filter(waiting_list_entry::Column::SessionId.eq(session_id))
        .filter(waiting_list_entry::Column::AccountId.eq(account_id))
        .filter(waiting_list_entry::Column::Status.is_in(["waiting", "offered"]))
        .one(&**tx)
        .await?
        .is_some();
    Ok(booked || waiting)
}

/// Refuses a place beyond the organisation's limit on the session. Called after
/// [`take_place`], whose update holds the session's row until commit: every booking of the
/// session queues there, so the count includes every place committed before this one and
/// concurrent checkouts cannot both take an organisation's last place.
pub(crate) async fn check_org_limit(
    tx: &TenantTx,
    session_id: &str,
    org: &str,
    limit: i32,
) -> Result<(), BookingError> {
    let held = booking::Entity::find()
        .filter(booking::Column::TenantId.eq(tx.tenant().as_str()))
        .filter(booking::Column::SessionId.eq(session_id))
        .filter(booking::Column::OrganisationId.eq(org))
        .filter(booking::Column::Status.is_in(["confirmed", crate::approvals::PENDING]))
        .count(&**tx)
        .await?;
    // (`count` is sea-orm's `PaginatorTrait::count`: one `SELECT COUNT(*)`.)
    if held >= u64::try_from(limit).unwrap_or(0) {
        return Err(BookingError::NotBookable {
            code: "organisation_limit",
            message: "Your organisation already has all the places it may have on this session",
        });
    }
    Ok(())
}

/// Takes one place if one is free: a single conditional update, so concurrent checkouts
/// cannot both take the last place.
async fn take_place(tx: &TenantTx, session_id: &str) -> Result<bool, BookingError> {
    let backend = (**tx).get_database_backend();
    let sql = "UPDATE course_session SET places_taken = places_taken + 1 \
               WHERE tenant_id = $1 AND id = $2 AND status = 'scheduled' AND places_taken < capacity";
    let done = tx
        .execute_raw(sea_orm::Statement::from_sql_and_values(
            backend,
            sql,
            [tx.tenant().as_str().into(), session_id.into()],
        ))
        .await?;
    Ok(done.rows_affected() == 1)
}

pub(crate) async fn log(
    tx: &TenantTx,
    now: DateTime<Utc>,
    account_id: &str,
    organisation_id: Option<&str>,
    action: &str,
    subject: &str,
    detail: &serde_json::Value,
) -> Result<(), BookingError> {
    transaction_log::ActiveModel {
        tenant_id: Set(tx.tenant().to_string()),
        id: Set(uuid::Uuid::now_v7().to_string()),
        account_id: Set(account_id.to_owned()),
        organisation_id: Set(organisation_id.map(str::to_owned)),
        action: Set(action.to_owned()),
        subject: Set(subject.to_owned()),
        detail: Set(detail.to_string()),
        occurred_at: Set(now),
    }
    .insert(&**tx)
    .await?;
    Ok(())
}
