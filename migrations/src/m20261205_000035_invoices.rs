//! Invoices and credit notes for what is billed to an organisation. An invoice is issued
//! in the transaction of each checkout or service purchase billed to an organisation, with
//! the lines, prices and SLA discounts that checkout computed; a credit note when a place
//! billed to an organisation is cancelled within the course's terms. Numbers run per
//! tenant and kind (`invoice_counter`), without gaps. Lines name courses and services,
//! never people, so invoices hold no personal data and outlive accounts.

// async_trait expands the signature; its elided lifetime cannot be written out here.
#![allow(elided_lifetimes_in_paths)]

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, string, string_null, text, timestamp_with_time_zone};
use sea_orm_migration::sea_orm::DbBackend;

use crate::tenant_rls;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261205_000035_invoices"
    }
}

#[derive(DeriveIden)]
enum Invoice {
    Table,
    TenantId,
    Id,
    Number,
    Kind,
    OrganisationId,
    OrderId,
    BookingId,
    CreditsNumber,
    IssuedAt,
    TotalPence,
    Lines,
}

#[derive(DeriveIden)]
enum InvoiceCounter {
    Table,
    TenantId,
    Kind,
    Last,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Invoice::Table)
                .col(string(Invoice::TenantId))
                .col(string(Invoice::Id))
                .col(string(Invoice::Number))
                .col(string(Invoice::Kind))
                .col(string(Invoice::OrganisationId))
                .col(string(Invoice::OrderId))
                .col(string_null(Invoice::BookingId))
                .col(string_null(Invoice::CreditsNumber))
                .col(timestamp_with_time_zone(Invoice::IssuedAt))
                .col(big_integer(Invoice::TotalPence))
                .col(text(Invoice::Lines))
                .primary_key(Index::create().col(Invoice::TenantId).col(Invoice::Id))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("invoice_number")
                .table(Invoice::Table)
                .col(Invoice::TenantId)
                .col(Invoice::Number)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("invoice_by_organisation")
                .table(Invoice::Table)
                .col(Invoice::TenantId)
                .col(Invoice::OrganisationId)
                .col(Invoice::IssuedAt)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("invoice_by_order")
                .table(Invoice::Table)
                .col(Invoice::TenantId)
                .col(Invoice::OrderId)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(InvoiceCounter::Table)
                .col(string(InvoiceCounter::TenantId))
                .col(string(InvoiceCounter::Kind))
                .col(big_integer(InvoiceCounter::Last))
                .primary_key(
                    Index::create()
                        .col(InvoiceCounter::TenantId)
                        .col(InvoiceCounter::Kind),
                )
                .to_owned(),
        )
        .await?;
        if m.get_database_backend() == DbBackend::Postgres {
            let conn = m.get_connection();
            conn.execute_unprepared(&tenant_rls("invoice", "SELECT, INSERT"))
                .await?;
            conn.execute_unprepared(&tenant_rls("invoice_counter", "SELECT, INSERT, UPDATE"))
                .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(InvoiceCounter::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(Invoice::Table).to_owned())
            .await
    }
}
