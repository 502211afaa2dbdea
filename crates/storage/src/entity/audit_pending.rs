//! An audit event written with its change, waiting to be sealed into the tenant's chain.

use sea_orm::entity::prelude::*;

/// A waiting audit event.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_pending")]
pub struct Model {
    /// Owning tenant; leads the key.
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: String,
    /// Id (UUID v7: sealing follows it).
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// When it happened.
    pub occurred_at: ChronoDateTimeUtc,
    /// Who did it.
    pub actor: String,
    /// What was done.
    pub action: String,
    /// What it was done to.
    pub subject: String,
    /// Details as JSON.
    #[sea_orm(column_type = "Text")]
    pub detail: String,
}

/// No relations are navigated from here.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
