//! A person's membership of an organisation, with their access rights there.

use sea_orm::entity::prelude::*;

/// A membership.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "membership")]
pub struct Model {
    /// Owning tenant; leads the key.
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: String,
    /// The organisation.
    #[sea_orm(primary_key, auto_increment = false)]
    pub organisation_id: String,
    /// The person.
    #[sea_orm(primary_key, auto_increment = false)]
    pub account_id: String,
    /// Comma-separated rights: `member`, `booker`, `purchaser`, `lead_admin`.
    pub rights: String,
    /// `claimed` (self-registered, awaiting the lead administrator), `verified` or `left`.
    pub status: String,
    /// When it began.
    pub created_at: ChronoDateTimeUtc,
    /// Last change.
    pub updated_at: ChronoDateTimeUtc,
}

/// No relations are navigated from here.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
