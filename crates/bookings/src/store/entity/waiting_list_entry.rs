//! A delegate waiting for a place on a full session, first come first served.

use sea_orm::entity::prelude::*;

/// A waiting-list entry.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "waiting_list_entry")]
pub struct Model {
    /// Owning tenant; leads the key.
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: String,
    /// Id (UUID v7, so ids sort in arrival order).
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// The order whose checkout put them here.
    pub order_id: String,
    /// The session.
    pub session_id: String,
    /// The session's course.
    pub course_id: String,
    /// The delegate.
    pub account_id: String,
    /// The organisation that would pay.
    pub organisation_id: Option<String>,
    /// `waiting`, `offered` (a place is held for them), `accepted`, `expired` or `withdrawn`.
    pub status: String,
    /// SHA-256 of the offer link's token, while an offer is open.
    pub offer_token_hash: Option<String>,
    /// When the open offer lapses.
    pub offer_expires_at: Option<ChronoDateTimeUtc>,
    /// Joined.
    pub created_at: ChronoDateTimeUtc,
}

/// No relations are navigated from here.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
