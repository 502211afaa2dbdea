//! A person's identity at an OpenID provider, linked to their account.

use sea_orm::entity::prelude::*;

/// A federated identity.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "federated_identity")]
pub struct Model {
    /// Owning tenant; leads the key.
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: String,
    /// The provider's issuer URL.
    #[sea_orm(primary_key, auto_increment = false)]
    pub issuer: String,
    /// The person's subject identifier at that issuer.
    #[sea_orm(primary_key, auto_increment = false)]
    pub subject: String,
    /// The linked account.
    pub account_id: String,
    /// When it was linked.
    pub created_at: ChronoDateTimeUtc,
}

/// No relations are navigated from here.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
