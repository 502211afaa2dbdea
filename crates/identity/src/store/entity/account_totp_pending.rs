//! A second factor being set up: its secret (encrypted), waiting for a code from it.

use sea_orm::entity::prelude::*;

/// A TOTP secret not yet in force.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "account_totp_pending")]
pub struct Model {
    /// Owning tenant; leads the key.
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: String,
    /// The account.
    #[sea_orm(primary_key, auto_increment = false)]
    pub account_id: String,
    /// The new secret, encrypted under the tenant key, bound to the account.
    pub secret_sealed: Vec<u8>,
    /// When the set-up began.
    pub created_at: ChronoDateTimeUtc,
}

/// No relations are navigated from here.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
