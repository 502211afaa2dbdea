//! When a provider cancels a session (or a whole course), its bookings are cancelled and
//! every delegate and everyone waiting is told, in the cancelling transaction: the
//! catalogue calls [`CancelBookings`] through its [`SessionsCancelled`] hook.

use catalogue::domain::uk::uk_span;
use catalogue::store::entity::{course, course_session};
use catalogue::{CatalogueError, SessionsCancelled};
use identity::store::entity::account;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait as _, DbErr, EntityTrait as _, QueryFilter as _};
use storage::audit::{self, AuditEntry};
use storage::outbox::{self, Email};
use storage::{Clock, StorageError, TenantTx};

use crate::BookingError;
use crate::store::entity::{booking, waiting_list_entry};

/// The hook the catalogue runs when sessions are cancelled.
#[derive(Clone)]
pub struct CancelBookings {
    clock: Clock,
}

impl CancelBookings {
    /// A hook reading time from `clock`.
    #[must_use]
    pub fn new(clock: Clock) -> Self {
        Self { clock }
    }

    async fn run(
        &self,
        tx: &TenantTx,
        course: &course::Model,
        sessions: &[course_session::Model],
    ) -> Result<(), BookingError> {
        let t = tx.tenant().as_str();
        let ids: Vec<&str> = sessions.iter().map(|s| s.id.as_str()).collect();
        let now = self.clock.now();
        let booked = booking::Entity::find()
            .filter(booking::Column::TenantId.eq(t))
            .filter(booking::Column::SessionId.is_in(ids.clone()))
            .filter(booking::Column::Status.is_in(["confirmed", crate::approvals::PENDING]))
            .all(&**tx)
            .await?;
        let waiting = waiting_list_entry::Entity::find()
            .filter(waiting_list_entry::Column::TenantId.eq(t))
            .filter(waiting_list_entry::Column::SessionId.is_in(ids.clone()))
            .filter(waiting_list_entry::Column::Status.is_in(["waiting", "offered"]))
            .all(&**tx)
            .await?;
        if booked.is_empty() && waiting.is_empty() {
            return Ok(());
        }
        booking::Entity::update_many()
            .filter(booking::Column::TenantId.eq(t))
            .filter(booking::Column::Id.is_in(booked.iter().map(|b| b.id.as_str())))
            .col_expr(booking::Column::Status, Expr::value("cancelled"))
            .col_expr(booking::Column::CancelledAt, Expr::value(now))
            .exec(&**tx)
            .await?;
        waiting_list_entry::Entity::update_many()
            .filter(waiting_list_entry::Column::TenantId.eq(t))
            .filter(waiting_list_entry::Column::Id.is_in(waiting.iter().map(|w| w.id.as_str())))
            .col_expr(waiting_list_entry::Column::Status, Expr::value("cancelled"))
            .exec(&**tx)
            .await?;
        for b in &booked {
            // The organisation is not charged: what it was invoiced is credited.
            crate::invoices::credit(tx, b, now).await?;
            crate::common::log(
                tx,
                now,
                crate::common::Entry {
                    account: &b.account_id,
                    organisation: b.organisation_id.as_deref(),
                    action: "booking.cancelled_by_provider",
                    subject: &b.id,
                    detail: &serde_json::json!({ "session": b.session_id }),
                },
            )
            .await?;
        }
        let people: Vec<&str> = booked
            .iter()
            .map(|b| b.account_id.as_str())
            .chain(waiting.iter().map(|w| w.account_id.as_str()))
            .collect();
        let emails: std::collections::HashMap<String, String> = account::Entity::find()
            .filter(account::Column::TenantId.eq(t))
            .filter(account::Column::Id.is_in(people))
            .all(&**tx)
            .await?
            .into_iter()
            .map(|a| (a.id, a.email))
            .collect();
        let when = |session_id: &str| {
            sessions
                .iter()
                .find(|s| s.id == session_id)
                .map_or_else(String::new, |s| uk_span(s.starts_at, s.ends_at))
        };
        // Who to tell: each delegate (their place is cancelled) and each person waiting.
        let told = booked
            .iter()
            .map(|b| (b.account_id.as_str(), b.session_id.as_str(), true))
            .chain(
                waiting
                    .iter()
                    .map(|w| (w.account_id.as_str(), w.session_id.as_str(), false)),
            );
        for (account, session, had_place) in told {
            let Some(to) = emails.get(account) else {
                continue;
            };
            let when = when(session);
            let title = &course.title;
            let body = if had_place {
                format!(
                    "The provider has cancelled {title} on {when}, so your place is cancelled. \
                     You will not be charged for it.\n\nYour bookings are listed under \"Your \
                     bookings\" in your account.\n"
                )
            } else {
                format!(
                    "The provider has cancelled {title} on {when}. You were on its waiting list; \
                     that list is now closed.\n"
                )
            };
            let subject = format!("Cancelled: {title} on {when}");
            outbox::enqueue(
                tx,
                now,
                Email {
                    to,
                    subject: &subject,
                    body: &body,
                },
            )
            .await?;
        }
        audit::record(
            tx,
            now,
            AuditEntry {
                actor: "system:bookings",
                action: "bookings.cancelled_with_sessions",
                subject: &course.id,
                detail: serde_json::json!({
                    "sessions": ids,
                    "bookings": booked.len(),
                    "waiting": waiting.len(),
                }),
            },
        )
        .await?;
        Ok(())
    }
}

#[async_trait::async_trait]
impl SessionsCancelled for CancelBookings {
    async fn sessions_cancelled(
        &self,
        tx: &TenantTx,
        course: &course::Model,
        sessions: &[course_session::Model],
    ) -> Result<(), CatalogueError> {
        self.run(tx, course, sessions).await.map_err(|e| match e {
            BookingError::Store(s) => CatalogueError::Store(s),
            other => CatalogueError::Store(StorageError::Db(DbErr::Custom(other.to_string()))),
        })
    }
}
