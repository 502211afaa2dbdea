//! Invoices waiting for their number. A checkout billed to an organisation writes its
//! invoice here, in its own transaction, and the invoice is numbered just after the commit
//! (`bookings::invoices::number_pending`): numbering takes the tenant's one counter row, and
//! taking it inside every checkout made all of a council's organisation checkouts wait for
//! each other's commits. Numbers still run without gaps, in the order invoices were issued;
//! nothing reads an invoice before it is numbered (reads number what is waiting first).

// async_trait expands the signature; its elided lifetime cannot be written out here.
#![allow(elided_lifetimes_in_paths)]

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, string, text, timestamp_with_time_zone};
use sea_orm_migration::sea_orm::DbBackend;

use crate::tenant_rls;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261205_000036_invoice_numbering"
    }
}

#[derive(DeriveIden)]
enum InvoicePending {
    Table,
    TenantId,
    Id,
    ShortName,
    OrganisationId,
    OrderId,
    IssuedAt,
    TotalPence,
    Lines,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(InvoicePending::Table)
                .col(string(InvoicePending::TenantId))
                .col(string(InvoicePending::Id))
                .col(string(InvoicePending::ShortName))
                .col(string(InvoicePending::OrganisationId))
                .col(string(InvoicePending::OrderId))
                .col(timestamp_with_time_zone(InvoicePending::IssuedAt))
                .col(big_integer(InvoicePending::TotalPence))
                .col(text(InvoicePending::Lines))
                .primary_key(
                    Index::create()
                        .col(InvoicePending::TenantId)
                        .col(InvoicePending::Id),
                )
                .to_owned(),
        )
        .await?;
        if m.get_database_backend() == DbBackend::Postgres {
            m.get_connection()
                .execute_unprepared(&tenant_rls("invoice_pending", "SELECT, INSERT, DELETE"))
                .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(InvoicePending::Table).to_owned())
            .await
    }
}
