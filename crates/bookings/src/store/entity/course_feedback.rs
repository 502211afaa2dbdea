//! A delegate's answers to a course's feedback questionnaire.

use sea_orm::entity::prelude::*;

/// One questionnaire answer, per attended booking.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "course_feedback")]
pub struct Model {
    /// Owning tenant; leads the key.
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: String,
    /// Id (UUID v7).
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// The booking it is about (one answer per booking).
    pub booking_id: String,
    /// The course.
    pub course_id: String,
    /// The session attended.
    pub session_id: String,
    /// Who answered.
    pub account_id: String,
    /// Overall rating, 1 (poor) to 5 (excellent).
    pub rating: i32,
    /// What was most useful.
    #[sea_orm(column_type = "Text")]
    pub useful: String,
    /// What could be better.
    #[sea_orm(column_type = "Text")]
    pub improve: String,
    /// When it was given.
    pub submitted_at: ChronoDateTimeUtc,
}

/// No relations are navigated from here.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
