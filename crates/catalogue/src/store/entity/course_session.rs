//! One dated session of a course.

use sea_orm::entity::prelude::*;

/// A session.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "course_session")]
pub struct Model {
    /// Owning tenant; leads the key.
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: String,
    /// Id (UUID v7).
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// The course.
    pub course_id: String,
    /// Start.
    pub starts_at: ChronoDateTimeUtc,
    /// End.
    pub ends_at: ChronoDateTimeUtc,
    /// Venue.
    pub venue: Option<String>,
    /// Online link.
    pub online_url: Option<String>,
    /// Places.
    pub capacity: i32,
    /// Most places one organisation may hold (none when absent).
    pub org_place_limit: Option<i32>,
    /// Places booked (bookings change it with a conditional update; a CHECK keeps it
    /// within capacity).
    pub places_taken: i32,
    /// `scheduled` or `cancelled`.
    pub status: String,
    /// Created.
    pub created_at: ChronoDateTimeUtc,
    /// Last changed.
    pub updated_at: ChronoDateTimeUtc,
    /// How many times the catalogue has changed the row (places taken do not count); see
    /// `touch_session`.
    pub revision: i64,
}

impl Model {
    /// Places still free.
    #[must_use]
    pub fn places_left(&self) -> i32 {
        (self.capacity - self.places_taken).max(0)
    }
}

/// No relations are navigated from here.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
