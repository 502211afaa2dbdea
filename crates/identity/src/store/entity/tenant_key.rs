//! A tenant's data key, wrapped under the master key.

use sea_orm::entity::prelude::*;

/// A wrapped tenant key.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "tenant_key")]
pub struct Model {
    /// The tenant.
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: String,
    /// Nonce ‖ ciphertext of the key under the master key.
    pub wrapped: Vec<u8>,
    /// When it was made.
    pub created_at: ChronoDateTimeUtc,
}

/// No relations are navigated from here.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
