//! The transaction log: every basket and order action against the acting account and
//! organisation (append-only).

use sea_orm::entity::prelude::*;

/// A logged action.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "transaction_log")]
pub struct Model {
    /// Owning tenant; leads the key.
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: String,
    /// Id (UUID v7).
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// Who acted.
    pub account_id: String,
    /// For which organisation.
    pub organisation_id: Option<String>,
    /// `checkout`, `booking.cancel`, …
    pub action: String,
    /// What it concerned (order or booking id).
    pub subject: String,
    /// Details as JSON (ids and amounts).
    pub detail: String,
    /// When.
    pub occurred_at: ChronoDateTimeUtc,
}

/// No relations are navigated from here.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
