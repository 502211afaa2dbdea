//! A traded service or SLA bought for an organisation.

use sea_orm::entity::prelude::*;

/// A purchase.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "service_purchase")]
pub struct Model {
    /// Owning tenant; leads the key.
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: String,
    /// Id (UUID v7).
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// The order it was bought under.
    pub order_id: String,
    /// The traded service.
    pub service_id: String,
    /// The organisation it is for (and billed).
    pub organisation_id: String,
    /// Who bought it.
    pub account_id: String,
    /// The price band chosen.
    pub band: String,
    /// Price, computed from the band.
    pub price_pence: i64,
    /// First day covered (the service's period).
    pub period_start: Date,
    /// Last day covered.
    pub period_end: Date,
    /// `active` or `cancelled`.
    pub status: String,
    /// Bought.
    pub created_at: ChronoDateTimeUtc,
}

/// No relations are navigated from here.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
