//! A course or event.

use sea_orm::entity::prelude::*;

/// A course or event.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "course")]
pub struct Model {
    /// Owning tenant; leads the key.
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: String,
    /// Id (UUID v7).
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// Provider id from the tenant's configuration.
    pub provider_id: String,
    /// `course` or `event`.
    pub kind: String,
    /// Title.
    pub title: String,
    /// Summary.
    pub summary: String,
    /// Markdown as written.
    pub description: String,
    /// The markdown rendered and sanitised when saved (what pages serve).
    pub description_html: String,
    /// `,a,b,` list of audiences.
    pub audiences: String,
    /// `,a,b,` list of job categories.
    pub job_categories: String,
    /// `,a,b,` list of phases.
    pub phases: String,
    /// CPD minutes.
    pub cpd_minutes: i32,
    /// Standard price per delegate.
    pub price_pence: i64,
    /// Service whose holders pay the SLA price.
    pub sla_service_id: Option<String>,
    /// SLA price per delegate.
    pub sla_price_pence: Option<i64>,
    /// Booking opens.
    pub booking_opens_at: Option<ChronoDateTimeUtc>,
    /// Booking closes.
    pub booking_closes_at: Option<ChronoDateTimeUtc>,
    /// Free cancellation notice in days.
    pub cancellation_notice_days: i32,
    /// Terms in words.
    pub cancellation_terms: String,
    /// What delegates need to know before the day.
    #[sea_orm(column_type = "Text")]
    pub pre_course_info: String,
    /// Whether the certificate waits for the delegate's feedback.
    pub certificate_after_feedback: bool,
    /// `draft`, `published` or `cancelled`.
    pub status: String,
    /// Created.
    pub created_at: ChronoDateTimeUtc,
    /// Last changed.
    pub updated_at: ChronoDateTimeUtc,
    /// First published.
    pub published_at: Option<ChronoDateTimeUtc>,
    /// How many times the catalogue has changed the course since it was created; see
    /// `touch_course`.
    pub revision: i64,
}

/// No relations are navigated from here.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
