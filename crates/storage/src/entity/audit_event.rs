//! One entry in a tenant's hash-chained, insert-only audit log.

use sea_orm::entity::prelude::*;

/// An audit event.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_event")]
pub struct Model {
    /// Owning tenant; leads the key.
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: String,
    /// Position in the tenant's chain, from 1.
    #[sea_orm(primary_key, auto_increment = false)]
    pub seq: i64,
    /// When it happened.
    pub occurred_at: ChronoDateTimeUtc,
    /// Who did it (`system`, `operator:<name>`, `account:<id>`).
    pub actor: String,
    /// What was done, e.g. `tenant.imported`.
    pub action: String,
    /// What it was done to.
    pub subject: String,
    /// Details as JSON.
    #[sea_orm(column_type = "Text")]
    pub detail: String,
    /// Hash of the previous event (64 zeros for the first).
    pub prev_hash: String,
    /// SHA-256 over this event's fields and `prev_hash`.
    pub hash: String,
}

/// No relations are navigated from here.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
