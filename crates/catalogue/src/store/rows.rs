//! The catalogue's row lookups and revision bumps, shared by its use cases.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait as _};
use sea_orm::{ColumnTrait as _, EntityTrait as _, QueryFilter as _, QueryOrder as _};
use storage::TenantTx;

use crate::CatalogueError;
use crate::store::entity::{
    course as course_e, course_session, service_price_band, traded_service,
};

/// A service with its price bands in order.
#[derive(Debug, Clone)]
pub struct ServiceDetail {
    /// The service.
    pub service: traded_service::Model,
    /// Its bands.
    pub bands: Vec<service_price_band::Model>,
}

/// A course with its sessions, soonest first.
#[derive(Debug, Clone)]
pub struct CourseDetail {
    /// The course.
    pub course: course_e::Model,
    /// Its sessions (scheduled and cancelled).
    pub sessions: Vec<course_session::Model>,
    /// The SLA that covers it: (id, title).
    pub sla: Option<(String, String)>,
}

pub(crate) async fn find_course(
    tx: &TenantTx,
    id: &str,
) -> Result<course_e::Model, CatalogueError> {
    course_e::Entity::find()
        .filter(course_e::Column::TenantId.eq(tx.tenant().as_str()))
        .filter(course_e::Column::Id.eq(id))
        .one(&**tx)
        .await?
        .ok_or(CatalogueError::NotFound)
}

pub(crate) async fn find_session(
    tx: &TenantTx,
    course_id: &str,
    id: &str,
) -> Result<course_session::Model, CatalogueError> {
    course_session::Entity::find()
        .filter(course_session::Column::TenantId.eq(tx.tenant().as_str()))
        .filter(course_session::Column::CourseId.eq(course_id))
        .filter(course_session::Column::Id.eq(id))
        .one(&**tx)
        .await?
        .ok_or(CatalogueError::NotFound)
}

pub(crate) async fn sessions_of(
    tx: &TenantTx,
    course_id: &str,
) -> Result<Vec<course_session::Model>, CatalogueError> {
    Ok(course_session::Entity::find()
        .filter(course_session::Column::TenantId.eq(tx.tenant().as_str()))
        .filter(course_session::Column::CourseId.eq(course_id))
        .order_by_asc(course_session::Column::StartsAt)
        .all(&**tx)
        .await?)
}

pub(crate) async fn bands_of(
    tx: &TenantTx,
    id: &str,
) -> Result<Vec<service_price_band::Model>, CatalogueError> {
    Ok(service_price_band::Entity::find()
        .filter(service_price_band::Column::TenantId.eq(tx.tenant().as_str()))
        .filter(service_price_band::Column::ServiceId.eq(id))
        .order_by_asc(service_price_band::Column::Position)
        .all(&**tx)
        .await?)
}

/// Marks a course changed at `now`, adding one to its revision. Every change to a course,
/// or to one of its sessions, ends with it: a checkout takes a place only while the course
/// has the revision it read (see the bookings crate's `take_seen`).
pub(crate) async fn touch_course(
    tx: &TenantTx,
    id: &str,
    now: DateTime<Utc>,
) -> Result<(), CatalogueError> {
    use course_e::Column as C;
    touch::<course_e::Entity>(tx, id, now, [C::TenantId, C::Id, C::UpdatedAt, C::Revision]).await
}

/// [`touch_course`] for a session: every change the catalogue makes to a session ends
/// with it (the places taken are the bookings' and do not count).
pub(crate) async fn touch_session(
    tx: &TenantTx,
    id: &str,
    now: DateTime<Utc>,
) -> Result<(), CatalogueError> {
    use course_session::Column as S;
    touch::<course_session::Entity>(tx, id, now, [S::TenantId, S::Id, S::UpdatedAt, S::Revision])
        .await
}

/// Sets the row's `updated_at` (the third of `columns`) to `now` and adds one to its
/// revision (the fourth), the row found by tenant and id (the first two).
pub(crate) async fn touch<E: sea_orm::EntityTrait>(
    tx: &TenantTx,
    id: &str,
    now: DateTime<Utc>,
    [tenant, key, updated_at, revision]: [E::Column; 4],
) -> Result<(), CatalogueError> {
    E::update_many()
        .filter(tenant.eq(tx.tenant().as_str()))
        .filter(key.eq(id))
        .col_expr(updated_at, now.into())
        .col_expr(revision, Expr::col(revision).add(1))
        .exec(&**tx)
        .await?;
    Ok(())
}

pub(crate) async fn find_service(
    tx: &TenantTx,
    id: &str,
) -> Result<traded_service::Model, CatalogueError> {
    traded_service::Entity::find()
        .filter(traded_service::Column::TenantId.eq(tx.tenant().as_str()))
        .filter(traded_service::Column::Id.eq(id))
        .one(&**tx)
        .await?
        .ok_or(CatalogueError::NotFound)
}
