//! A CPD record: a course a person attended, and the hours it counts for.

use sea_orm::entity::prelude::*;

/// A CPD record.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "cpd_record")]
pub struct Model {
    /// Owning tenant; leads the key.
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: String,
    /// Id (UUID v7).
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// Whose.
    pub account_id: String,
    /// The attended booking.
    pub booking_id: String,
    /// The course.
    pub course_id: String,
    /// The course's title when attended.
    pub title: String,
    /// CPD minutes.
    pub minutes: i32,
    /// The day the session ended (UK).
    pub completed_on: Date,
    /// Recorded.
    pub created_at: ChronoDateTimeUtc,
}

/// No relations are navigated from here.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
