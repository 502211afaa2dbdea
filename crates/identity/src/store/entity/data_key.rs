//! Which key in the key store is a tenant's data key (the key itself is never in the
//! database).

use sea_orm::entity::prelude::*;

/// A tenant's data key's name in the key store.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "data_key")]
pub struct Model {
    /// The tenant.
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: String,
    /// The key's id: the key store holds it at `data-key/{key_id}` under the tenant.
    pub key_id: String,
    /// When it was made.
    pub created_at: ChronoDateTimeUtc,
}

/// No relations are navigated from here.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
