//! Booking confirmations: an email to each delegate saying what, when and where, the order
//! number and price and the cancellation terms, with an iCalendar entry attached.

use std::collections::HashMap;

use catalogue::domain::money::format_pence;
use catalogue::domain::uk::uk_span;
use catalogue::store::entity::{course, course_session};
use chrono::{DateTime, Utc};
use icalendar::{Calendar, Component, Event, EventLike};
use identity::store::entity::account;
use sea_orm::{ColumnTrait as _, EntityTrait as _, QueryFilter as _};
use storage::alerts::{self, Recipient};
use storage::outbox::{self, Attachment, Email};
use storage::{TenantTx, Writes};
use tenant_router::{TenantConfig, TenantId};

use crate::BookingError;

/// One confirmed place.
pub(crate) struct Confirmed {
    pub booking_id: String,
    pub delegate: String,
    pub session: course_session::Model,
    pub course: course::Model,
    pub price_pence: i64,
}

/// Who a checkout's confirmations go to: the delegates, and the CPD leads of the
/// organisation paying.
pub(crate) struct Recipients {
    people: HashMap<String, account::Model>,
    leads: Vec<Recipient>,
}

impl Recipients {
    /// Only people in hand (`known`), with no organisation paying: needs no lookup.
    pub(crate) fn known(known: &[&account::Model]) -> Self {
        Self {
            people: known.iter().map(|a| (a.id.clone(), (*a).clone())).collect(),
            leads: Vec::new(),
        }
    }

    /// The booker and, with an organisation billed, its colleagues and CPD leads, as one
    /// read found them ([`identity::store::organisations::checkout_party`]).
    pub(crate) fn of_party(
        booker: &account::Model,
        party: Option<identity::store::organisations::CheckoutParty>,
    ) -> Self {
        let mut found = Self::known(&[booker]);
        if let Some(party) = party {
            found
                .people
                .extend(party.members.into_values().map(|(_, a)| (a.id.clone(), a)));
            found.leads = party.cpd_leads;
        }
        found
    }

    /// The delegates of `places` (looked up in `tx`, except those in `known`, usually the
    /// booker) and the CPD leads of `org`, if any.
    pub(crate) async fn look_up(
        tx: &TenantTx,
        org: Option<&str>,
        known: &[&account::Model],
        places: &[Confirmed],
    ) -> Result<Self, BookingError> {
        let mut found = Self::known(known);
        let unknown: Vec<&str> = places
            .iter()
            .map(|p| p.delegate.as_str())
            .filter(|d| !found.people.contains_key(*d))
            .collect();
        if !unknown.is_empty() {
            found.people.extend(
                account::Entity::find()
                    .filter(account::Column::TenantId.eq(tx.tenant().as_str()))
                    .filter(account::Column::Id.is_in(unknown))
                    .all(&**tx)
                    .await?
                    .into_iter()
                    .map(|a| (a.id.clone(), a)),
            );
        }
        if let Some(org) = org {
            found.leads = identity::store::organisations::cpd_leads(tx, org).await?;
        }
        Ok(found)
    }
}

/// Adds to `writes` a confirmation for each place, with a copy to the CPD leads of the
/// organisation paying (`org`), if it has any. The delegates are looked up in `tx`, except
/// those in `known` (the booker, usually, who is in hand already).
#[allow(clippy::too_many_arguments)] // one call per checkout; each is a different fact
pub(crate) async fn queue(
    tx: &TenantTx,
    writes: &mut Writes,
    now: DateTime<Utc>,
    cfg: &TenantConfig,
    order_number: &str,
    org: Option<&str>,
    known: &[&account::Model],
    places: &[Confirmed],
) -> Result<(), BookingError> {
    if places.is_empty() {
        return Ok(());
    }
    let to = Recipients::look_up(tx, org, known, places).await?;
    stage(writes, tx.tenant(), now, cfg, order_number, &to, places);
    Ok(())
}

/// Adds to `writes` a confirmation for each place, to `to`'s delegates and CPD leads.
pub(crate) fn stage(
    writes: &mut Writes,
    tenant: &TenantId,
    now: DateTime<Utc>,
    cfg: &TenantConfig,
    order_number: &str,
    to: &Recipients,
    places: &[Confirmed],
) {
    let (people, leads) = (&to.people, &to.leads);
    for p in places {
        let Some(person) = people.get(&p.delegate) else {
            continue;
        };
        let to = &person.email;
        let when = uk_span(p.session.starts_at, p.session.ends_at);
        let place = where_(&p.session);
        let terms = if p.course.cancellation_terms.trim().is_empty() {
            String::new()
        } else {
            format!("\n{}\n", p.course.cancellation_terms.trim())
        };
        let body = format!(
            "Your place is booked.\n\n\
             {title}\n{when}\n{place}\n\n\
             Order {order_number}, price {price}.\n\n\
             You can cancel it under \"Your bookings\" in your account up to {days} days before \
             it starts.{terms}\n\
             A calendar entry is attached.\n",
            title = p.course.title,
            price = format_pence(p.price_pence),
            days = p.course.cancellation_notice_days,
        );
        let info = match p.course.pre_course_info.trim() {
            "" => String::new(),
            info => format!("\nBefore you come:\n{info}\n"),
        };
        let body = format!("{body}{info}");
        let subject = format!("Booking confirmed: {}", p.course.title);
        let ics = calendar(cfg, p);
        outbox::add(
            writes,
            tenant,
            now,
            Email {
                to,
                subject: &subject,
                body: &body,
            },
            Some(Attachment {
                name: "booking.ics",
                content_type: "text/calendar; charset=utf-8; method=PUBLISH",
                text: &ics,
            }),
        );
        let name = format!("{} {}", person.first_name, person.last_name);
        copy_to_leads(
            writes,
            tenant,
            now,
            leads,
            &p.delegate,
            &name,
            &subject,
            &body,
        );
    }
}

/// Adds to `writes` a copy, for the organisation's CPD leads, of an email about a
/// colleague's place (not for the colleague themself, who has the original). A copy is a
/// management alert: it goes at each lead's chosen frequency.
#[allow(clippy::too_many_arguments)] // each is a different fact of the one email
pub(crate) fn copy_to_leads(
    writes: &mut Writes,
    tenant: &TenantId,
    now: DateTime<Utc>,
    leads: &[Recipient],
    delegate_id: &str,
    delegate_name: &str,
    subject: &str,
    body: &str,
) {
    let body = format!(
        "A copy for your organisation's CPD lead, about {delegate_name}'s place.\n\n{body}"
    );
    let subject = format!("Copy: {subject} ({delegate_name})");
    for lead in leads.iter().filter(|l| l.id != delegate_id) {
        alerts::add(writes, tenant, now, lead, delegate_id, &subject, &body);
    }
}

/// The iCalendar (RFC 5545) entry for one place; its UID is the booking's, so a calendar
/// that imports it twice keeps one event.
fn calendar(cfg: &TenantConfig, p: &Confirmed) -> String {
    let event = Event::new()
        .uid(&format!("{}@{}.portal", p.booking_id, cfg.slug))
        .summary(&p.course.title)
        .starts(p.session.starts_at)
        .ends(p.session.ends_at)
        .location(&where_(&p.session))
        .description(&format!("Booked through {}.", cfg.display_name))
        .done();
    Calendar::new().push(event).done().to_string()
}

/// Where a session takes place, in words.
pub(crate) fn where_(s: &course_session::Model) -> String {
    match (s.venue.as_deref(), s.online_url.as_deref()) {
        (Some(v), Some(u)) => format!("{v}, or online: {u}"),
        (Some(v), None) => v.to_owned(),
        (None, Some(u)) => format!("Online: {u}"),
        (None, None) => "Venue to be confirmed".to_owned(),
    }
}
