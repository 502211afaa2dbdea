//! Taking a place on a session: the conditional updates that decide who gets the last one,
//! and what makes a session bookable now.

use catalogue::domain::Status;
use catalogue::store::entity::{course, course_session};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait as _};
use sea_orm::{
    ColumnTrait as _, ConnectionTrait, EntityTrait, FromQueryResult as _, JoinType,
    QueryFilter as _, QuerySelect as _, QueryTrait,
};
use storage::TenantTx;
use tenant_router::TenantId;

use crate::BookingError;
use crate::common::PENDING;
use crate::store::entity::{booking, waiting_list_entry};

/// The session and its course, if a place on it can be booked now.
pub(crate) async fn bookable(
    tx: &TenantTx,
    session_id: &str,
    now: DateTime<Utc>,
) -> Result<(course_session::Model, course::Model), BookingError> {
    let place = place_on(&**tx, tx.tenant(), session_id, None, false, now).await?;
    Ok((place.session, place.course))
}

/// A session found bookable, by [`place_on`].
pub(crate) struct Place {
    pub(crate) session: course_session::Model,
    pub(crate) course: course::Model,
    /// Whether the delegate already holds a place or a waiting-list entry on it.
    pub(crate) held: bool,
    /// Whether a place was free: taken for the delegate when [`place_on`] was asked to
    /// take it, otherwise free when read (to be taken by a required update).
    pub(crate) free: bool,
}

/// The conditional update that takes a place on `session_id` if one is free (the
/// catalogue's [`catalogue::store::places::take`]).
pub(crate) use catalogue::store::places::take as take_place;

/// [`take_place`] for a checkout that did not lock what it read: the catalogue's
/// [`catalogue::store::places::take_seen_text`] (the session and course unchanged since
/// they were read) with bookings' own condition, that `delegate` has no live waiting-list
/// entry on the session. A place `delegate` already holds needs no check here: the
/// booking's unique index (`booking_one_held`) refuses the second, which fails the whole
/// statement ([`duplicate_is_already_booked`]).
pub(crate) fn take_seen(
    tenant: &TenantId,
    session: &course_session::Model,
    course: &course::Model,
    delegate: &str,
) -> storage::sql::Sql {
    static TEXT: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        let waiting = LIVE_WAITING;
        catalogue::store::places::take_seen_text(&format!(
            r#"NOT EXISTS (SELECT 1 FROM "waiting_list_entry"
                WHERE "waiting_list_entry"."tenant_id" = $1
                AND "waiting_list_entry"."session_id" = $2
                AND "waiting_list_entry"."account_id" = $8
                AND "waiting_list_entry"."status" IN ('{}', '{}'))"#,
            waiting[0], waiting[1],
        ))
    });
    let mut values = catalogue::store::places::take_seen_values(tenant, session, course);
    values.push(delegate.into());
    storage::sql::Sql {
        text: TEXT.clone(),
        values,
    }
}

/// Holds `session_id`'s row until the transaction ends, by an update that changes nothing,
/// for a count that must see every booking of the session committed before it and let
/// none commit beside it (an organisation's limit, counted for a place already held, as
/// an accepted waiting-list offer's is): every place taken on the session queues there.
pub(crate) async fn hold_session(tx: &TenantTx, session_id: &str) -> Result<(), BookingError> {
    course_session::Entity::update_many()
        .col_expr(
            course_session::Column::PlacesTaken,
            Expr::col(course_session::Column::PlacesTaken),
        )
        .filter(course_session::Column::TenantId.eq(tx.tenant().as_str()))
        .filter(course_session::Column::Id.eq(session_id))
        .exec(&**tx)
        .await?;
    Ok(())
}

/// A booking's statuses that hold a place.
pub(crate) const HELD: [&str; 2] = [PENDING, "confirmed"];
/// A waiting-list entry's statuses that keep someone in line.
pub(crate) const LIVE_WAITING: [&str; 2] = ["waiting", "offered"];

/// The session and its course, if a place on it can be booked now. With a `delegate`, it
/// says whether the delegate already holds a place or a waiting-list entry there, and
/// with `take` it also takes a place if one is free ([`take_place`]): one statement on
/// PostgreSQL. The caller rolls back, releasing the place, when it refuses the booking.
pub(crate) async fn place_on<C: ConnectionTrait>(
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
pub(crate) fn live_row<E: EntityTrait>(
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
pub(crate) fn check_bookable(
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
