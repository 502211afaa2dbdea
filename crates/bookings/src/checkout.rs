//! The checkout that runs as one transaction: one that needs a lock (its organisation's
//! bookings wait for approval, a session has a limit per organisation, a session is in it
//! twice), which takes its places last, and any whose one-statement write
//! ([`crate::order::Order::alone_on`]) found a place gone, which takes them first.
//!
//! It reads and checks everything first, without locks (the booker's and colleagues'
//! memberships and the CPD leads in one read, [`read_party`], as the one-statement path
//! does; each session and course, the price), and takes its places last, in the batch
//! that writes the order ([`Taking::Last`]): each take holds only while the session and
//! course have the revisions read ([`take_seen`]). So the session's row is locked only
//! from that one statement to the commit, not across the checkout's reads: checkouts on
//! the same session (a school booking its staff onto a popular course) do not queue behind
//! each other's round trips. When a take fails (the place went since the read, the course
//! changed) nothing is written and the checkout runs again taking each place first
//! ([`Taking::First`]), which gives the exact answer: the place, or the waiting list.

use identity::store::entity::account;
use storage::{TenantTx, Writes};
use tenant_router::TenantConfig;

use crate::common::{OrgLimit, check_org_limit, duplicate_is_already_booked};
use crate::domain::{CheckoutOutcome, CheckoutRequest};
use crate::order::*;
use crate::take::*;
use crate::{BookingError, Bookings};

/// What a checkout is given: the council, the booker, the idempotency key and the
/// request's hash, the request, and the basket lines it empties.
pub(crate) type Facts<'a> = (
    &'a TenantConfig,
    &'a account::Model,
    &'a str,
    &'a str,
    &'a CheckoutRequest,
    &'a [String],
);

/// When a transactional checkout takes its places.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Taking {
    /// In the write batch, against what was read ([`take_seen`]); nothing is written if
    /// one is gone.
    Last,
    /// As each place is read, holding its session's row until the commit.
    First,
}

impl Bookings {
    /// A checkout as one transaction, taking its places last (`start`) and then, if one
    /// went since the read, first; or first from the start.
    pub(crate) async fn attempt(
        &self,
        facts: Facts<'_>,
        start: Taking,
    ) -> Result<CheckoutOutcome, BookingError> {
        if start == Taking::Last
            && let Some(done) = self.attempt_taking(facts, Taking::Last).await?
        {
            return Ok(done);
        }
        // Taking first, the batch requires nothing: it writes, or fails with the database's
        // error, or (its random order number drawn before) runs again.
        for _ in 0..3 {
            if let Some(done) = self.attempt_taking(facts, Taking::First).await? {
                return Ok(done);
            }
        }
        Err(
            storage::StorageError::from(sea_orm::DbErr::Custom(storage::writes::UNMET.to_owned()))
                .into(),
        )
    }

    /// One checkout, in one transaction ([`Taking`] says when it takes its places); then
    /// every row the checkout writes goes in one batch ([`Writes`]) before the commit.
    /// `None` when taking last found a place gone (or its session or course changed)
    /// since the read, or when the order's random number was drawn before: nothing was
    /// written, and the caller runs it again taking first.
    async fn attempt_taking(
        &self,
        (cfg, booker, key, hash, req, basket_lines): Facts<'_>,
        taking: Taking,
    ) -> Result<Option<CheckoutOutcome>, BookingError> {
        let tx = self.db.tenant_tx(&cfg.slug).await?;
        let now = self.clock.now();
        let (billed, party) = match req.organisation_id.as_deref() {
            Some(org) => {
                let (billed, party) = read_party(&*tx, tx.tenant(), org, booker, req).await?;
                (Some(billed), party)
            }
            None => {
                if books_for_others(req, booker) {
                    check_colleague(false, None)?;
                }
                (None, None)
            }
        };
        let org = billed.as_ref().map(|b| b.organisation.clone());
        // Two places on one session would be two takes of one row in one statement
        // ([`repeats_a_session`]; the other would change no row, so the batch would fail
        // and the checkout run again): such a checkout takes its places first.
        let taking = if taking == Taking::Last && repeats_a_session(req) {
            Taking::First
        } else {
            taking
        };
        let mut lines: Vec<Line> = Vec::with_capacity(req.items.len());
        for item in &req.items {
            let delegate = item
                .delegate_account_id
                .clone()
                .unwrap_or_else(|| booker.id.clone());
            check_once(&lines, &item.session_id, &delegate)?;
            if delegate != booker.id {
                let member = party
                    .as_ref()
                    .and_then(|p| p.members.get(&delegate))
                    .map(|(m, _)| m);
                check_colleague(org.is_some(), member)?;
            }
            let place = place_on(
                &*tx,
                tx.tenant(),
                &item.session_id,
                Some(&delegate),
                taking == Taking::First,
                now,
            )
            .await?;
            if place.held {
                return Err(BookingError::AlreadyBooked);
            }
            let amount = crate::purchases::place_price(
                &*tx,
                tx.tenant(),
                &place.course,
                &place.session,
                org.as_deref(),
            )
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
        // The organisation's limit on a session is counted once its row is held: here when
        // the places were taken first, after the batch (which takes them) otherwise.
        let limited: Vec<(String, i32)> = match org.as_deref() {
            Some(org) => {
                let mut limited = Vec::new();
                for (i, line) in lines.iter().enumerate().filter(|(_, l)| l.taken) {
                    let Some(limit) = line.session.org_place_limit else {
                        continue;
                    };
                    if taking == Taking::First {
                        // Places this checkout took before on the session are not written yet.
                        let earlier = lines[..i]
                            .iter()
                            .filter(|e| e.taken && e.session.id == line.session.id)
                            .count();
                        let earlier = u64::try_from(earlier).unwrap_or(u64::MAX);
                        check_org_limit(
                            &tx,
                            &line.session.id,
                            org,
                            limit,
                            OrgLimit::AlsoTaking(earlier),
                        )
                        .await?;
                    } else {
                        limited.push((line.session.id.clone(), limit));
                    }
                }
                limited
            }
            None => Vec::new(),
        };
        let status = if billed.as_ref().is_some_and(Billed::needs_approval) {
            crate::common::PENDING
        } else {
            "confirmed"
        };
        let mut writes = Writes::new();
        if taking == Taking::Last {
            // First in the batch: on SQLite none of its other writes runs before a refusal
            // (an approval's alerts, written before the batch, are rolled back with it).
            for line in lines.iter().filter(|l| l.taken) {
                writes.require_written(take_seen(
                    tx.tenant(),
                    &line.session,
                    &line.course,
                    &line.delegate,
                ));
            }
        }
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
        // Billed to an organisation: the invoice for the places taken, in the same batch.
        let invoice_lines = order.invoice_lines(&lines);
        let staged = order.stage(&mut writes, lines);
        let outcome = staged.outcome;
        let to = crate::confirmation::Recipients::of_party(booker, party);
        crate::confirmation::stage(
            &mut writes,
            tx.tenant(),
            now,
            cfg,
            &outcome.number,
            &to,
            &staged.confirmations,
        );
        if let Some(org) = org.as_deref() {
            crate::approvals::ask(&tx, now, org, &staged.to_approve).await?;
        }
        let invoiced =
            order.invoice(&mut writes, tx.tenant(), &outcome.order_id, &invoice_lines)?;
        // A unique index refusing a row here means a concurrent checkout placed it first:
        // the same person's place (already booked) or this key's order (answered by the
        // caller as a retry).
        let written = match writes.run(&tx).await {
            Err(e) if storage::writes::is_unmet(&e) || crate::common::number_taken(&e) => {
                tx.rollback().await?;
                return Ok(None);
            }
            done => done.map_err(duplicate_is_already_booked),
        };
        let checked = match (written, org.as_deref()) {
            (Ok(()), Some(org)) => over_limit(&tx, org, &limited).await,
            (done, _) => done,
        };
        // Refused after the batch took the places: rolled back now, so the session's row
        // is not held until the connection's next use.
        if let Err(refused) = checked {
            tx.rollback().await?;
            return Err(refused);
        }
        tx.commit().await?;
        self.catalogue.changed(&cfg.slug);
        if invoiced {
            self.number_soon(cfg);
        }
        Ok(Some(outcome))
    }
}

/// Refuses the checkout if the organisation now holds more places than its limit on any
/// of the `limited` sessions (counted after the batch, which holds their rows).
async fn over_limit(
    tx: &TenantTx,
    org: &str,
    limited: &[(String, i32)],
) -> Result<(), BookingError> {
    for (session, limit) in limited {
        check_org_limit(tx, session, org, *limit, OrgLimit::Written).await?;
    }
    Ok(())
}
