//! An order: what one checkout bought, with its idempotency key.

use sea_orm::entity::prelude::*;

/// An order.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "booking_order")]
pub struct Model {
    /// Owning tenant; leads the key.
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: String,
    /// Id (UUID v7).
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// The order number people quote (`SSE-7F3K9Q2M`).
    pub number: String,
    /// Who placed it.
    pub account_id: String,
    /// The organisation billed, if any.
    pub organisation_id: Option<String>,
    /// Total of the confirmed bookings.
    pub total_pence: i64,
    /// The checkout's idempotency key.
    pub idempotency_key: String,
    /// SHA-256 of the request, so a reused key with other content is refused.
    pub request_hash: String,
    /// Placed.
    pub created_at: ChronoDateTimeUtc,
}

/// No relations are navigated from here.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
