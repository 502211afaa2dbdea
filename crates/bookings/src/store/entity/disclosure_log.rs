//! One person's data passed to a provider on one occasion.

use sea_orm::entity::prelude::*;

/// A disclosure-log row.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "disclosure_log")]
pub struct Model {
    /// Owning tenant; leads the key.
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: String,
    /// Id (UUID v7).
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// The disclosure (one list read), shared by its rows.
    pub disclosure_id: String,
    /// Whose data.
    pub account_id: String,
    /// The provider that received it.
    pub provider_id: String,
    /// The session whose delegate list, or the traded service whose purchasers, it was.
    pub session_id: String,
    /// The account that read the list.
    pub actor_id: String,
    /// The fields disclosed, comma-separated (`name,job_title`).
    pub fields: String,
    /// `page`, `csv` or `json`.
    pub format: String,
    /// When.
    pub occurred_at: ChronoDateTimeUtc,
}

/// No relations are navigated from here.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
