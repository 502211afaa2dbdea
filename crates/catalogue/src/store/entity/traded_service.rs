//! A traded service or SLA.

use sea_orm::entity::prelude::*;

/// A traded service.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "traded_service")]
pub struct Model {
    /// Owning tenant; leads the key.
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: String,
    /// Id (UUID v7).
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// Provider id from the tenant's configuration.
    pub provider_id: String,
    /// Title.
    pub title: String,
    /// Summary.
    pub summary: String,
    /// Markdown as written.
    pub description: String,
    /// Rendered and sanitised when saved.
    pub description_html: String,
    /// `,a,b,` list of audiences.
    pub audiences: String,
    /// First day covered.
    pub period_start: Date,
    /// Last day covered.
    pub period_end: Date,
    /// Term in words.
    pub term: String,
    /// `draft`, `published` or `cancelled`.
    pub status: String,
    /// Created.
    pub created_at: ChronoDateTimeUtc,
    /// Last changed.
    pub updated_at: ChronoDateTimeUtc,
    /// First published.
    pub published_at: Option<ChronoDateTimeUtc>,
}

/// No relations are navigated from here.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
