//! An invoice or credit note billed to an organisation (see `crate::invoices`).

use sea_orm::entity::prelude::*;

/// An invoice or a credit note.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "invoice")]
pub struct Model {
    /// Owning tenant; leads the key.
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: String,
    /// Id (UUID v7).
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// The number on it (`SSE-INV-000042`, `SSE-CN-000007`), gapless per tenant and kind.
    pub number: String,
    /// `invoice` or `credit_note`.
    pub kind: String,
    /// The organisation billed.
    pub organisation_id: String,
    /// The order it bills (or whose place a credit note refunds).
    pub order_id: String,
    /// For a credit note: the cancelled booking.
    pub booking_id: Option<String>,
    /// For a credit note: the number of the invoice it credits.
    pub credits_number: Option<String>,
    /// When it was issued.
    pub issued_at: ChronoDateTimeUtc,
    /// Its total in pence (negative for a credit note).
    pub total_pence: i64,
    /// Its lines, as JSON (`crate::invoices::Line`).
    #[sea_orm(column_type = "Text")]
    pub lines: String,
}

/// No relations are navigated from here.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
