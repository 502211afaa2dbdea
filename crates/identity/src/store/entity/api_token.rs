//! An API token for an integrator's system: only its hash is kept.

use sea_orm::entity::prelude::*;

/// A token.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "api_token")]
pub struct Model {
    /// Owning tenant; leads the key.
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: String,
    /// Id (UUID v7).
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// What the administrator called it ("Finance system").
    pub name: String,
    /// SHA-256 of the token, hex.
    pub secret_hash: String,
    /// Comma-separated scopes, `area:read` or `area:write`.
    pub scopes: String,
    /// The tenant administrator it acts for (who made it).
    pub account_id: String,
    /// When it was made.
    pub created_at: ChronoDateTimeUtc,
    /// When it stops working.
    pub expires_at: ChronoDateTimeUtc,
    /// When it was revoked, if it was.
    pub revoked_at: Option<ChronoDateTimeUtc>,
    /// When it was last used.
    pub last_used_at: Option<ChronoDateTimeUtc>,
}

/// No relations are navigated from here.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
