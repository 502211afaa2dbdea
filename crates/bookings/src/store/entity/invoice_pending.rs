//! An invoice waiting for its number (see `crate::invoices::number_pending`).

use sea_orm::entity::prelude::*;

/// An invoice written with its checkout, to be numbered just after the commit.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "invoice_pending")]
pub struct Model {
    /// Owning tenant; leads the key.
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: String,
    /// Id (UUID v7); the invoice keeps it.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// The tenant's short name when it was issued (the number's prefix).
    pub short_name: String,
    /// The organisation billed.
    pub organisation_id: String,
    /// The order it bills.
    pub order_id: String,
    /// When it was issued.
    pub issued_at: ChronoDateTimeUtc,
    /// Its total in pence.
    pub total_pence: i64,
    /// Its lines, as JSON (`crate::invoices::Line`).
    #[sea_orm(column_type = "Text")]
    pub lines: String,
}

/// No relations are navigated from here.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
