//! Places on a session: the conditional updates of `course_session.places_taken` that
//! bookings runs inside its own transactions. The catalogue owns the table; bookings says
//! when a place is taken or given back, and adds its own condition on who may take it.

use sea_orm::sea_query::{Expr, ExprTrait as _, UpdateStatement};
use sea_orm::{ColumnTrait as _, EntityTrait as _, QueryFilter as _, QueryTrait as _, Value};
use tenant_router::TenantId;

use crate::store::entity::{course, course_session};

/// Takes a place on `session_id` if one is free: the database, not a check before it,
/// decides who gets the last one (one row updated, or none).
pub fn take(tenant: &TenantId, session_id: &str) -> UpdateStatement {
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

/// Gives a place on `session_id` back (never below none taken).
pub fn release(tenant: &TenantId, session_id: &str) -> UpdateStatement {
    course_session::Entity::update_many()
        .filter(course_session::Column::TenantId.eq(tenant.as_str()))
        .filter(course_session::Column::Id.eq(session_id))
        .filter(course_session::Column::PlacesTaken.gt(0))
        .col_expr(
            course_session::Column::PlacesTaken,
            Expr::col(course_session::Column::PlacesTaken).sub(1),
        )
        .into_query()
}

/// The text of [`take`] for a checkout that did not lock what it read: the place is taken
/// only while `session` and its course still have the revisions and change times read
/// (a replica of the previous release, during a rolling upgrade, changes a course without
/// counting a revision, but it does set `updated_at`), and while the caller's own
/// condition `also` holds. Binds `$1`–`$7` ([`take_seen_values`]); `also` numbers its
/// own values from `$8`.
///
/// Written as SQL, every value bound (`$n`, which both databases read): it is on every
/// checkout's path, and sea-query's expression trees for it cost more to build and render
/// than the rest of the checkout's statement. The caller keeps the text (it never changes).
pub fn take_seen_text(also: &str) -> String {
    format!(
        r#"UPDATE "course_session" SET "places_taken" = "places_taken" + 1
        WHERE "tenant_id" = $1 AND "id" = $2 AND "status" = 'scheduled'
            AND "places_taken" < "capacity"
        AND "revision" = $3 AND "updated_at" = $4
        AND EXISTS (SELECT 1 FROM "course" WHERE "course"."tenant_id" = $1
            AND "course"."id" = $5 AND "course"."revision" = $6
            AND "course"."updated_at" = $7)
        AND {also}"#
    )
    // One line: the statement log stays readable.
    .split_whitespace()
    .collect::<Vec<_>>()
    .join(" ")
}

/// The values `$1`–`$7` of [`take_seen_text`].
pub fn take_seen_values(
    tenant: &TenantId,
    session: &course_session::Model,
    course: &course::Model,
) -> Vec<Value> {
    vec![
        tenant.as_str().into(),
        session.id.as_str().into(),
        session.revision.into(),
        session.updated_at.into(),
        course.id.as_str().into(),
        course.revision.into(),
        course.updated_at.into(),
    ]
}
