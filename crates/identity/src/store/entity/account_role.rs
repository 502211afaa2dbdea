//! A tenant-wide role held by an account (tenant admin, provider staff).

use sea_orm::entity::prelude::*;

/// A role grant.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "account_role")]
pub struct Model {
    /// Owning tenant; leads the key.
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: String,
    /// The account.
    #[sea_orm(primary_key, auto_increment = false)]
    pub account_id: String,
    /// `tenant_admin` or `provider_staff`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub role: String,
    /// For provider staff: the provider (an id from the tenant's configuration).
    pub provider_id: Option<String>,
    /// When it was granted.
    pub created_at: ChronoDateTimeUtc,
}

/// No relations are navigated from here.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
