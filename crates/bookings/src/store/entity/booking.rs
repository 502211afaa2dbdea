//! A place on a session held by a delegate.

use sea_orm::entity::prelude::*;

/// A booking.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "booking")]
pub struct Model {
    /// Owning tenant; leads the key.
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: String,
    /// Id (UUID v7).
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// The order it came from.
    pub order_id: String,
    /// The session.
    pub session_id: String,
    /// The session's course.
    pub course_id: String,
    /// The delegate.
    pub account_id: String,
    /// The organisation paying, if any.
    pub organisation_id: Option<String>,
    /// Price charged, computed at checkout.
    pub price_pence: i64,
    /// `confirmed` or `cancelled`.
    pub status: String,
    /// Booked.
    pub created_at: ChronoDateTimeUtc,
    /// Cancelled.
    pub cancelled_at: Option<ChronoDateTimeUtc>,
    /// `attended` or `no_show`, once the register is marked.
    pub attendance: Option<String>,
    /// When the register was last marked for this booking.
    pub attendance_marked_at: Option<ChronoDateTimeUtc>,
    /// When the reminder was queued (or skipped, for a place booked inside the window).
    pub reminded_at: Option<ChronoDateTimeUtc>,
}

/// No relations are navigated from here.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
