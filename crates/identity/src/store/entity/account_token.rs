//! A single-use, expiring token sent by email (verification, password reset).

use sea_orm::entity::prelude::*;

/// A token; only its SHA-256 is stored.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "account_token")]
pub struct Model {
    /// Owning tenant; leads the key.
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: String,
    /// SHA-256 of the token, hex.
    #[sea_orm(primary_key, auto_increment = false)]
    pub token_hash: String,
    /// The account it acts on.
    pub account_id: String,
    /// `verify_email`, `reset_password`, `invitation` or `change_email`.
    pub purpose: String,
    /// When it was issued.
    pub created_at: ChronoDateTimeUtc,
    /// When it stops working.
    pub expires_at: ChronoDateTimeUtc,
    /// When it was used; a used token never works again.
    pub used_at: Option<ChronoDateTimeUtc>,
    /// For `change_email`: the address the token confirms.
    pub new_email: Option<String>,
}

/// No relations are navigated from here.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
