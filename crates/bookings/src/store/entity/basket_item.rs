//! A place picked and not yet booked.

use sea_orm::entity::prelude::*;

/// A basket line.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "basket_item")]
pub struct Model {
    /// Owning tenant; leads the key.
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: String,
    /// Id (UUID v7).
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// Whose basket.
    pub account_id: String,
    /// The session.
    pub session_id: String,
    /// Who the place is for (the basket's owner when booking for themself).
    pub delegate_account_id: String,
    /// Added.
    pub added_at: ChronoDateTimeUtc,
}

/// No relations are navigated from here.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
