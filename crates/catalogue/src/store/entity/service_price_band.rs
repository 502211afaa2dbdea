//! One price band of a traded service.

use sea_orm::entity::prelude::*;

/// A price band.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "service_price_band")]
pub struct Model {
    /// Owning tenant; leads the key.
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: String,
    /// The service.
    #[sea_orm(primary_key, auto_increment = false)]
    pub service_id: String,
    /// Order on the page, from 0.
    #[sea_orm(primary_key, auto_increment = false)]
    pub position: i32,
    /// Who it applies to.
    pub label: String,
    /// Price.
    pub price_pence: i64,
}

/// No relations are navigated from here.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
