//! What the bookings use cases share: the [`Bookings`] service itself, the lookups several
//! of them make, and the transaction log. Every use-case module (checkout, approvals,
//! offers, purchases, …) imports from here and none imports another's internals back.

use std::sync::Arc;

use catalogue::store::entity::{course, course_session};
use chrono::{DateTime, Utc};
use identity::store::entity::account;
use sea_orm::{
    ColumnTrait as _, EntityTrait as _, PaginatorTrait as _, QueryFilter as _, Set, SqlErr,
};
use storage::{Clock, Db, TenantTx, Writes};
use tenant_router::TenantId;

use crate::BookingError;
use crate::store::entity::{booking, booking_order, transaction_log, waiting_list_entry};

/// A booking's status while it waits for a lead administrator's approval.
pub const PENDING: &str = "pending";

/// The bookings service.
#[derive(Clone)]
pub struct Bookings {
    pub(crate) db: Db,
    pub(crate) clock: Clock,
    /// Told of every change to places, so cached public pages show them.
    pub(crate) catalogue: catalogue::Catalogue,
    /// Sessions lately read with room on them.
    pub(crate) seen: Seen,
    /// Tenants whose invoices are about to be numbered in the background.
    pub(crate) numbering: crate::invoices::Numbering,
}

/// Sessions (with their courses) as a checkout last read them with a place free, so the
/// next checkout of the same session need not read them again. Nothing here is trusted:
/// a place is taken against it only while the session and its course still have the
/// revisions remembered ([`take_seen`]), and a take that fails forgets the session.
/// Keyed by tenant and session, so one tenant's entries never answer another's.
#[derive(Clone)]
pub(crate) struct Seen(
    pub(crate) moka::sync::Cache<(TenantId, String), Arc<(course_session::Model, course::Model)>>,
);

impl Seen {
    /// Enough for every upcoming session of a large council; an entry unused for ten
    /// minutes goes.
    pub(crate) fn new() -> Self {
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
            numbering: crate::invoices::Numbering::default(),
        }
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

/// Whether `e` is the order-number index refusing a number another order drew first (the
/// numbers are random, so it can happen): nothing was written, and the checkout runs again,
/// drawing another. The index is `booking_order_number` on PostgreSQL; SQLite names its
/// columns.
pub fn number_taken(e: &sea_orm::DbErr) -> bool {
    matches!(
        e.sql_err(),
        Some(SqlErr::UniqueConstraintViolation(m))
            if m.contains("booking_order_number") || m.contains("booking_order.number")
    )
}

/// Inserts the order `row` makes with a number drawn for it, drawing again (three times at
/// most) when the number was drawn before; returns the order. Each try is a savepoint, so
/// a clash leaves the transaction usable. Any other error (such as the order's
/// idempotency key taken by a twin) is the database's, for the caller to read.
pub(crate) async fn insert_order(
    tx: &TenantTx,
    short_name: &str,
    row: impl Fn(String) -> booking_order::ActiveModel,
) -> Result<booking_order::Model, sea_orm::DbErr> {
    let draw = || crate::domain::order_number(short_name, uuid::Uuid::new_v4());
    insert_drawn(tx, draw, row).await
}

/// [`insert_order`] with the numbers drawn by `draw`.
async fn insert_drawn(
    tx: &TenantTx,
    mut draw: impl FnMut() -> String,
    row: impl Fn(String) -> booking_order::ActiveModel,
) -> Result<booking_order::Model, sea_orm::DbErr> {
    use sea_orm::{ActiveModelTrait as _, TransactionTrait as _};
    let mut tries = 0;
    loop {
        tries += 1;
        let savepoint = (**tx).begin().await?;
        match row(draw()).insert(&savepoint).await {
            Ok(order) => {
                savepoint.commit().await?;
                return Ok(order);
            }
            Err(e) if number_taken(&e) && tries < 3 => savepoint.rollback().await?,
            Err(e) => return Err(e),
        }
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

/// The tenant's course `course_id`.
pub(crate) async fn find_course(
    tx: &TenantTx,
    course_id: &str,
) -> Result<course::Model, BookingError> {
    course::Entity::find()
        .filter(course::Column::TenantId.eq(tx.tenant().as_str()))
        .filter(course::Column::Id.eq(course_id))
        .one(&**tx)
        .await?
        .ok_or(BookingError::NotFound)
}

/// What [`check_org_limit`] counts besides the places written before this transaction.
#[derive(Debug, Clone, Copy)]
pub(crate) enum OrgLimit {
    /// This many more, taken by this transaction but not yet written.
    AlsoTaking(u64),
    /// Nothing more: this transaction's places are written, and counted with the rest.
    Written,
}

/// Refuses a place beyond the organisation's limit on the session, counting the places it
/// holds (its confirmed and pending bookings, and the places held for waiting-list offers
/// made to people waiting on its behalf) and what `counting` says. Called after the place
/// is taken, by an update that holds the session's row until commit: every booking of the
/// session queues there, so the count includes every place committed before this one and
/// concurrent checkouts cannot both take an organisation's last place.
pub(crate) async fn check_org_limit(
    tx: &TenantTx,
    session_id: &str,
    org: &str,
    limit: i32,
    counting: OrgLimit,
) -> Result<(), BookingError> {
    let held = booking::Entity::find()
        .filter(booking::Column::TenantId.eq(tx.tenant().as_str()))
        .filter(booking::Column::SessionId.eq(session_id))
        .filter(booking::Column::OrganisationId.eq(org))
        .filter(booking::Column::Status.is_in(["confirmed", PENDING]))
        .count(&**tx)
        .await?;
    let offered = waiting_list_entry::Entity::find()
        .filter(waiting_list_entry::Column::TenantId.eq(tx.tenant().as_str()))
        .filter(waiting_list_entry::Column::SessionId.eq(session_id))
        .filter(waiting_list_entry::Column::OrganisationId.eq(org))
        .filter(waiting_list_entry::Column::Status.eq("offered"))
        .count(&**tx)
        .await?;
    let held = held + offered;
    // (`count` is sea-orm's `PaginatorTrait::count`: one `SELECT COUNT(*)`.)
    let limit = u64::try_from(limit).unwrap_or(0);
    let over = match counting {
        OrgLimit::AlsoTaking(also) => held.saturating_add(also) >= limit,
        OrgLimit::Written => held > limit,
    };
    if over {
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use sea_orm::{ConnectionTrait as _, Set, SqlErr};

    use super::*;

    /// An order of Harrow's with the idempotency key `key`.
    fn order(key: &str) -> impl Fn(String) -> booking_order::ActiveModel {
        let key = key.to_owned();
        move |number| booking_order::ActiveModel {
            tenant_id: Set("harrow".to_owned()),
            id: Set(uuid::Uuid::now_v7().to_string()),
            number: Set(number),
            account_id: Set("a1".to_owned()),
            organisation_id: Set(None),
            total_pence: Set(100),
            idempotency_key: Set(key.clone()),
            request_hash: Set("h".to_owned()),
            created_at: Set(chrono::Utc::now()),
        }
    }

    /// Draws `numbers` in turn.
    fn drawing(numbers: &[&str]) -> impl FnMut() -> String {
        let mut numbers = numbers
            .iter()
            .map(|n| (*n).to_owned())
            .collect::<Vec<_>>()
            .into_iter();
        move || numbers.next().unwrap()
    }

    /// On SQLite in memory, and on a schema of its own on PostgreSQL when `DATABASE_URL`
    /// names one (where a failed statement spoils the transaction unless a savepoint
    /// takes it back): the numbers drawn again, the twin's key, the transaction still
    /// usable.
    #[tokio::test]
    async fn a_number_drawn_before_is_drawn_again_and_a_taken_key_is_the_callers() {
        let sqlite = storage::Db::connect(
            "sqlite::memory:",
            &storage::DbOptions {
                pg_schema: None,
                max_connections: Some(1),
            },
        )
        .await
        .unwrap();
        clashes_on(&sqlite).await;
        let Some(url) = std::env::var("DATABASE_URL")
            .ok()
            .filter(|u| u.starts_with("postgres"))
        else {
            return;
        };
        let schema = format!("t_{}", uuid::Uuid::new_v4().simple());
        let admin = storage::Db::connect(&url, &storage::DbOptions::default())
            .await
            .unwrap();
        admin
            .platform()
            .execute_unprepared(&format!("CREATE SCHEMA {schema}"))
            .await
            .unwrap();
        let pg = storage::Db::connect(
            &url,
            &storage::DbOptions {
                pg_schema: Some(schema.clone()),
                max_connections: Some(2),
            },
        )
        .await
        .unwrap();
        // In a task of its own, so the schema goes whatever the checks find.
        let outcome = tokio::spawn(async move {
            clashes_on(&pg).await;
            pg.close().await.unwrap();
        })
        .await;
        admin
            .platform()
            .execute_unprepared(&format!("DROP SCHEMA {schema} CASCADE"))
            .await
            .unwrap();
        if let Err(failed) = outcome {
            std::panic::resume_unwind(failed.into_panic());
        }
    }

    async fn clashes_on(db: &storage::Db) {
        db.migrate().await.unwrap();
        let tx = db.tenant_tx(&"harrow".parse().unwrap()).await.unwrap();
        let first = insert_drawn(&tx, drawing(&["SS4E-A"]), order("k1"))
            .await
            .unwrap();
        assert_eq!(first.number, "SS4E-A");
        let second = insert_drawn(&tx, drawing(&["SS4E-A", "SS4E-B"]), order("k2"))
            .await
            .unwrap();
        assert_eq!(second.number, "SS4E-B", "drawn again after the clash");
        // The key taken by a twin is not a clash: the caller hears of it at once.
        let twin = insert_drawn(&tx, drawing(&["SS4E-C"]), order("k1"))
            .await
            .unwrap_err();
        assert!(!number_taken(&twin));
        assert!(matches!(
            twin.sql_err(),
            Some(SqlErr::UniqueConstraintViolation(_))
        ));
        // Three clashes in a row give up, with the clash.
        let unlucky = insert_drawn(&tx, drawing(&["SS4E-A", "SS4E-B", "SS4E-A"]), order("k3"))
            .await
            .unwrap_err();
        assert!(number_taken(&unlucky));
        // Each clash was a savepoint: the transaction still works, with three orders in it.
        let third = insert_drawn(&tx, drawing(&["SS4E-D"]), order("k3"))
            .await
            .unwrap();
        assert_eq!(third.number, "SS4E-D");
        let orders = booking_order::Entity::find().all(&*tx).await.unwrap();
        assert_eq!(orders.len(), 3);
    }
}
