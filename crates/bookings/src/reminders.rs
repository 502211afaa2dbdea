//! Reminders: the tenant's `bookings.reminder_days` before a session, each delegate with a
//! confirmed place is emailed when and where it is, with the course's pre-course
//! information. A place booked closer to the day than that gets none (its confirmation has
//! just gone). Each booking is claimed by a conditional update of `reminded_at` in the
//! transaction that queues its email, so replicas running the job at once queue it once.
//! The CPD leads of the organisation paying get a copy.

use std::collections::HashMap;

use catalogue::domain::uk::uk_span;
use catalogue::store::entity::{course, course_session};
use chrono::Duration;
use identity::store::entity::account;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait as _, EntityTrait as _, QueryFilter as _, QueryOrder as _, QuerySelect as _,
};
use storage::outbox::{self, Email};
use tenant_router::TenantConfig;

use crate::confirmation::{copy_to_leads, where_};
use crate::store::entity::booking;
use crate::{BookingError, Bookings};

/// Bookings looked at per run; the rest wait for the next minute.
const BATCH: u64 = 500;

impl Bookings {
    /// Queues the reminders now due in `cfg`'s tenant. Returns how many were queued.
    ///
    /// # Errors
    /// When the database fails; nothing from this run is kept.
    pub async fn send_reminders(&self, cfg: &TenantConfig) -> Result<usize, BookingError> {
        let days = i64::from(cfg.bookings.reminder_days);
        if days == 0 {
            return Ok(0);
        }
        let now = self.clock.now();
        let lead = Duration::days(days);
        let tx = self.db.tenant_tx(&cfg.slug).await?;
        let sessions: HashMap<String, course_session::Model> = course_session::Entity::find()
            .filter(course_session::Column::TenantId.eq(cfg.slug.as_str()))
            .filter(course_session::Column::StartsAt.gt(now))
            .filter(course_session::Column::StartsAt.lte(now + lead))
            .filter(course_session::Column::Status.ne("cancelled"))
            .all(&*tx)
            .await?
            .into_iter()
            .map(|s| (s.id.clone(), s))
            .collect();
        if sessions.is_empty() {
            tx.rollback().await?;
            return Ok(0);
        }
        let due = booking::Entity::find()
            .filter(booking::Column::TenantId.eq(cfg.slug.as_str()))
            .filter(booking::Column::Status.eq("confirmed"))
            .filter(booking::Column::RemindedAt.is_null())
            .filter(booking::Column::SessionId.is_in(sessions.keys().map(String::as_str)))
            .order_by_asc(booking::Column::Id)
            .limit(BATCH)
            .all(&*tx)
            .await?;
        let courses: HashMap<String, course::Model> = course::Entity::find()
            .filter(course::Column::TenantId.eq(cfg.slug.as_str()))
            .filter(course::Column::Id.is_in(due.iter().map(|b| b.course_id.as_str())))
            .all(&*tx)
            .await?
            .into_iter()
            .map(|c| (c.id.clone(), c))
            .collect();
        let people: HashMap<String, account::Model> = account::Entity::find()
            .filter(account::Column::TenantId.eq(cfg.slug.as_str()))
            .filter(account::Column::Id.is_in(due.iter().map(|b| b.account_id.as_str())))
            .all(&*tx)
            .await?
            .into_iter()
            .map(|a| (a.id.clone(), a))
            .collect();
        let mut leads: HashMap<String, Vec<storage::alerts::Recipient>> = HashMap::new();
        let mut queued = 0;
        for b in due {
            let claimed = booking::Entity::update_many()
                .filter(booking::Column::TenantId.eq(cfg.slug.as_str()))
                .filter(booking::Column::Id.eq(b.id.as_str()))
                .filter(booking::Column::RemindedAt.is_null())
                .col_expr(booking::Column::RemindedAt, Expr::value(now))
                .exec(&*tx)
                .await?
                .rows_affected
                == 1;
            let (Some(session), Some(course), Some(person)) = (
                sessions.get(&b.session_id),
                courses.get(&b.course_id),
                people.get(&b.account_id),
            ) else {
                continue;
            };
            // Booked inside the window: the confirmation said it all a moment ago.
            if !claimed || b.created_at > session.starts_at - lead {
                continue;
            }
            let body = reminder_text(course, session);
            let subject = format!("Reminder: {}", course.title);
            outbox::enqueue(
                &tx,
                now,
                Email {
                    to: &person.email,
                    subject: &subject,
                    body: &body,
                },
            )
            .await?;
            if let Some(org) = &b.organisation_id {
                if !leads.contains_key(org) {
                    let found = identity::store::organisations::cpd_leads(&tx, org).await?;
                    leads.insert(org.clone(), found);
                }
                let name = format!("{} {}", person.first_name, person.last_name);
                if let Some(to) = leads.get(org) {
                    let mut copies = storage::Writes::new();
                    copy_to_leads(
                        &mut copies,
                        tx.tenant(),
                        now,
                        to,
                        &person.id,
                        &name,
                        &subject,
                        &body,
                    );
                    copies.run(&tx).await?;
                }
            }
            queued += 1;
        }
        tx.commit().await?;
        Ok(queued)
    }
}

/// What a reminder says.
fn reminder_text(course: &course::Model, session: &course_session::Model) -> String {
    let info = match course.pre_course_info.trim() {
        "" => String::new(),
        info => format!("Before you come:\n{info}\n\n"),
    };
    format!(
        "Your course is coming up.\n\n\
         {title}\n{when}\n{place}\n\n\
         {info}\
         If you can no longer come, cancel your place under \"Your bookings\" in your account, \
         so someone on the waiting list can have it.\n",
        title = course.title,
        when = uk_span(session.starts_at, session.ends_at),
        place = where_(session),
    )
}
