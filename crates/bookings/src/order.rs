//! A checkout's order: the places checked into lines, staged into one set of writes
//! (bookings or waiting entries, the order, confirmations, the log), and the fast path that
//! writes a checkout in one statement when nothing in it needs a lock.

use std::sync::Arc;

use catalogue::store::entity::{course, course_session};
use chrono::{DateTime, Utc};
use identity::domain::rights::{Right, Rights, membership_status};
use identity::store::entity::{account, membership};
use identity::store::organisations::CheckoutParty;
use sea_orm::{ColumnTrait as _, ConnectionTrait, EntityTrait, QueryFilter as _, QueryTrait, Set};
use storage::Writes;
use storage::audit::{self, AuditEntry};
use tenant_router::{TenantConfig, TenantId};

use crate::BookingError;
use crate::common::{Entry, PENDING, duplicate_is_already_booked, log_later};
use crate::domain::{Booked, CheckoutOutcome, CheckoutRequest, Waiting, order_number};
use crate::store::entity::{basket_item, booking, booking_order, waiting_list_entry};

use crate::common::Seen;
use crate::take::*;

/// The organisation a checkout bills, with what the checkout needs to know of it.
pub(crate) struct Billed {
    pub(crate) organisation: String,
    /// Whether its staff's bookings wait for a lead administrator's approval.
    pub(crate) approves_bookings: bool,
    /// The booker's rights there.
    pub(crate) rights: Rights,
}

impl Billed {
    /// Whether places booked on this account wait for approval (a lead administrator's
    /// own bookings never do).
    pub(crate) fn needs_approval(&self) -> bool {
        self.approves_bookings && !self.rights.has(Right::LeadAdmin)
    }
}

/// The organisation `org` billed, checked, given the booker's membership there (with
/// whether the organisation approves its staff's bookings), if any: the booker must be a
/// confirmed member; booking for anyone else (`for_others`) needs the booker right there.
pub(crate) fn billed(
    org: &str,
    mine: Option<(&membership::Model, bool)>,
    for_others: bool,
) -> Result<Billed, BookingError> {
    let Some((m, approves_bookings)) =
        mine.filter(|(m, _)| m.status == membership_status::VERIFIED)
    else {
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
    Ok(Billed {
        organisation: org.to_owned(),
        approves_bookings,
        rights,
    })
}

/// A colleague booked for must be a confirmed member (`member`: their membership there)
/// of the organisation billed, if one is (`billed`).
pub(crate) fn check_colleague(
    billed: bool,
    member: Option<&membership::Model>,
) -> Result<(), BookingError> {
    if !billed {
        return Err(BookingError::NotAllowed(
            "Booking for colleagues needs the organisation they belong to",
        ));
    }
    if member.is_some_and(|m| m.status == membership_status::VERIFIED) {
        Ok(())
    } else {
        Err(BookingError::NotAllowed(
            "You can only book for confirmed members of your organisation",
        ))
    }
}

/// Whether any session is in the checkout more than once (for different people): two
/// takes of one row in one statement, of which PostgreSQL applies only one.
pub(crate) fn repeats_a_session(req: &CheckoutRequest) -> bool {
    req.items.iter().enumerate().any(|(i, item)| {
        req.items[..i]
            .iter()
            .any(|earlier| earlier.session_id == item.session_id)
    })
}

/// One place of a checkout, checked.
pub(crate) struct Line {
    pub(crate) session: course_session::Model,
    pub(crate) course: course::Model,
    /// Whether the delegate has a place: taken, or free and to be taken by the checkout's
    /// write (otherwise they are to wait).
    pub(crate) taken: bool,
    pub(crate) delegate: String,
    pub(crate) amount: i64,
}

/// Whether any place of the checkout is for someone other than the booker.
pub(crate) fn books_for_others(req: &CheckoutRequest, booker: &account::Model) -> bool {
    req.items.iter().any(|i| {
        i.delegate_account_id
            .as_deref()
            .is_some_and(|d| d != booker.id)
    })
}

/// Who a checkout billed to `org` concerns, in one read
/// ([`identity::store::organisations::checkout_party`]): the booker's and the colleagues'
/// memberships with their accounts, and the CPD leads; and the organisation billed,
/// checked ([`billed`]). Both ways of checking out read them so.
pub(crate) async fn read_party<C: ConnectionTrait>(
    conn: &C,
    tenant: &TenantId,
    org: &str,
    booker: &account::Model,
    req: &CheckoutRequest,
) -> Result<(Billed, Option<CheckoutParty>), BookingError> {
    let me = booker.id.as_str();
    let mut people = vec![me];
    people.extend(
        req.items
            .iter()
            .filter_map(|i| i.delegate_account_id.as_deref()),
    );
    people.sort_unstable();
    people.dedup();
    let party = identity::store::organisations::checkout_party(conn, tenant, org, &people).await?;
    let mine = party
        .as_ref()
        .and_then(|p| p.members.get(me).map(|(m, _)| (m, p.approves_bookings)));
    let billed = billed(org, mine, books_for_others(req, booker))?;
    Ok((billed, party))
}

/// Refuses a checkout that has the same delegate on the same session twice.
pub(crate) fn check_once(
    lines: &[Line],
    session_id: &str,
    delegate: &str,
) -> Result<(), BookingError> {
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
pub(crate) fn check_total(req: &CheckoutRequest, lines: &[Line]) -> Result<(), BookingError> {
    let computed: i64 = lines.iter().map(|l| l.amount).sum();
    if req.expected_total_pence.is_some_and(|t| t != computed) {
        return Err(BookingError::PriceMismatch {
            computed_pence: computed,
        });
    }
    Ok(())
}

/// What a checkout without a transaction ([`Order::alone_on`]) came to.
pub(crate) enum Alone {
    /// Written, all of it.
    Done(CheckoutOutcome),
    /// Nothing written: it needs what one statement cannot hold (approval, a limit per
    /// organisation, a session twice). The transaction takes its places last.
    NeedsLock,
    /// Nothing written: a take failed or something remembered was stale. The transaction
    /// takes each place first, which gives the exact answer.
    Stale,
}

/// What every checkout writes the same way, whichever path took its places.
pub(crate) struct Order<'a> {
    pub(crate) cfg: &'a TenantConfig,
    pub(crate) booker: &'a account::Model,
    pub(crate) key: &'a str,
    pub(crate) hash: &'a str,
    pub(crate) now: DateTime<Utc>,
    /// The organisation billed.
    pub(crate) org: Option<&'a str>,
    /// The status of the bookings made (confirmed, or waiting for approval).
    pub(crate) status: &'static str,
    /// Basket lines to take out of the booker's basket.
    pub(crate) basket_lines: &'a [String],
}

/// A checkout staged into a [`Writes`]: its answer and the places to confirm or to have
/// approved.
pub(crate) struct Staged {
    pub(crate) outcome: CheckoutOutcome,
    pub(crate) confirmations: Vec<crate::confirmation::Confirmed>,
    pub(crate) to_approve: Vec<crate::confirmation::Confirmed>,
}

impl Order<'_> {
    /// Adds to `writes` the rows of a checkout of `lines` (places checked and, where
    /// `taken`, taken or to be taken): each booking or waiting-list entry, the people's
    /// activity, the order, the basket lines it empties, the transaction log entry and
    /// the audit event. Confirmations and approvals are the caller's: they may need
    /// lookups.
    pub(crate) fn stage(&self, writes: &mut Writes, lines: Vec<Line>) -> Staged {
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
                if status == PENDING {
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

    /// [`Bookings::attempt_alone`]'s work on `conn`: who an organisation's checkout
    /// concerns (one read), the places, remembered (`seen`) or read, then one statement.
    ///
    /// [`Alone::Stale`] when a take failed (a place read as free was gone by the write, the
    /// session or course had changed, or the delegate joined its waiting list since) or
    /// when the checkout would be refused on anything remembered: the sessions are
    /// forgotten, and the transaction, which reads everything, gives the answer. Also when
    /// the order's random number was drawn before ([`crate::common::number_taken`]),
    /// forgetting nothing. [`Alone::NeedsLock`], forgetting nothing, when the checkout
    /// needs what one statement cannot hold: its bookings wait for approval (the lead
    /// administrators are asked in the transaction), or a session taken has a limit per
    /// organisation (counted under the session's lock). A place the delegate already holds
    /// is refused by the booking's unique index: [`BookingError::AlreadyBooked`], the
    /// session still remembered (nothing about it was stale).
    pub(crate) async fn alone_on<C: ConnectionTrait>(
        &self,
        conn: &C,
        tenant: &TenantId,
        seen: &Seen,
        req: &CheckoutRequest,
    ) -> Result<Alone, BookingError> {
        let forget = || {
            for item in &req.items {
                seen.0
                    .invalidate(&(tenant.clone(), item.session_id.clone()));
            }
        };
        let party = match self.org {
            Some(org) => match self.party(conn, tenant, org, req).await? {
                Some(party) => Some(party),
                None => return Ok(Alone::NeedsLock),
            },
            None => None,
        };
        let mut remembered_any = false;
        let lines = match self
            .lines_alone(conn, tenant, seen, req, party.as_ref(), &mut remembered_any)
            .await
        {
            Ok(lines) => lines,
            Err(_) if remembered_any => {
                forget();
                return Ok(Alone::Stale);
            }
            Err(refused) => return Err(refused),
        };
        if self.org.is_some()
            && lines
                .iter()
                .any(|l| l.taken && l.session.org_place_limit.is_some())
        {
            return Ok(Alone::NeedsLock);
        }
        let invoice = self.invoice_lines(&lines);
        let mut writes = Writes::new();
        for line in lines.iter().filter(|l| l.taken) {
            writes.require_written(take_seen(
                tenant,
                &line.session,
                &line.course,
                &line.delegate,
            ));
        }
        let staged = self.stage(&mut writes, lines);
        let to = crate::confirmation::Recipients::of_party(self.booker, party);
        crate::confirmation::stage(
            &mut writes,
            tenant,
            self.now,
            self.cfg,
            &staged.outcome.number,
            &to,
            &staged.confirmations,
        );
        self.invoice(&mut writes, tenant, &staged.outcome.order_id, &invoice)?;
        match writes.run_on(conn).await {
            Err(e) if storage::writes::is_unmet(&e) => {
                forget();
                Ok(Alone::Stale)
            }
            Err(e) if crate::common::number_taken(&e) => Ok(Alone::Stale),
            // As in `attempt`: a unique index refusing a row means a concurrent checkout
            // placed it first.
            done => {
                done.map_err(duplicate_is_already_booked)?;
                Ok(Alone::Done(staged.outcome))
            }
        }
    }

    /// Who the checkout billed to `org` concerns ([`read_party`]); `None` when its
    /// bookings wait for approval.
    async fn party<C: ConnectionTrait>(
        &self,
        conn: &C,
        tenant: &TenantId,
        org: &str,
        req: &CheckoutRequest,
    ) -> Result<Option<CheckoutParty>, BookingError> {
        let (billed, party) = read_party(conn, tenant, org, self.booker, req).await?;
        Ok(party.filter(|_| !billed.needs_approval()))
    }

    /// The invoice lines of the places `lines` take, when an organisation is billed.
    pub(crate) fn invoice_lines(&self, lines: &[Line]) -> Vec<crate::invoices::Line> {
        if self.org.is_none() {
            return Vec::new();
        }
        lines
            .iter()
            .filter(|l| l.taken)
            .map(|l| crate::invoices::place_line(&l.course, &l.session, l.amount))
            .collect()
    }

    /// Adds to `writes` the organisation's invoice of `lines` for the order `order_id`
    /// (numbered after the commit); whether there was one (an organisation billed, a
    /// place taken).
    pub(crate) fn invoice(
        &self,
        writes: &mut Writes,
        tenant: &TenantId,
        order_id: &str,
        lines: &[crate::invoices::Line],
    ) -> Result<bool, BookingError> {
        match self.org {
            Some(org) if !lines.is_empty() => {
                writes.insert(crate::invoices::pending_invoice(
                    tenant.as_str(),
                    self.cfg,
                    org,
                    order_id,
                    lines,
                    self.now,
                )?);
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    /// The checked lines of a checkout without a transaction, each session remembered
    /// (`seen`) or read; each colleague booked for checked against the `party` billed;
    /// sets `remembered_any` when a line came from memory.
    pub(crate) async fn lines_alone<C: ConnectionTrait>(
        &self,
        conn: &C,
        tenant: &TenantId,
        seen: &Seen,
        req: &CheckoutRequest,
        party: Option<&CheckoutParty>,
        remembered_any: &mut bool,
    ) -> Result<Vec<Line>, BookingError> {
        let me = self.booker.id.as_str();
        let mut lines: Vec<Line> = Vec::with_capacity(req.items.len());
        for item in &req.items {
            let delegate = item.delegate_account_id.as_deref().unwrap_or(me);
            check_once(&lines, &item.session_id, delegate)?;
            if delegate != me {
                let member = party.and_then(|p| p.members.get(delegate)).map(|(m, _)| m);
                check_colleague(party.is_some(), member)?;
            }
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
                    let place = place_on(
                        conn,
                        tenant,
                        &item.session_id,
                        Some(delegate),
                        false,
                        self.now,
                    )
                    .await?;
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
            let amount = crate::purchases::place_price(
                conn,
                tenant,
                &place.course,
                &place.session,
                self.org,
            )
            .await?;
            lines.push(Line {
                session: place.session,
                course: place.course,
                taken: place.free,
                delegate: delegate.to_owned(),
                amount,
            });
        }
        check_total(req, &lines)?;
        Ok(lines)
    }
}
