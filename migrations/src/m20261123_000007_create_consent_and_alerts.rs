//! The consent ledger (append-only) and each account's management-alert frequency.

// async_trait expands the signature; its elided lifetime cannot be written out here.
#![allow(elided_lifetimes_in_paths)]

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{boolean, string, timestamp_with_time_zone};
use sea_orm_migration::sea_orm::DbBackend;

use crate::{belongs_to_account, tenant_rls};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261123_000007_create_consent_and_alerts"
    }
}

#[derive(DeriveIden)]
enum Account {
    Table,
    AlertFrequency,
}

#[derive(DeriveIden)]
enum ConsentEvent {
    Table,
    TenantId,
    Id,
    AccountId,
    Purpose,
    Given,
    Method,
    NoticeVersion,
    OccurredAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // Expand only: a new column with a default, so running code is unaffected.
        m.alter_table(
            Table::alter()
                .table(Account::Table)
                .add_column(string(Account::AlertFrequency).default("daily"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(ConsentEvent::Table)
                .col(string(ConsentEvent::TenantId))
                .col(string(ConsentEvent::Id))
                .col(string(ConsentEvent::AccountId))
                .col(string(ConsentEvent::Purpose))
                .col(boolean(ConsentEvent::Given))
                .col(string(ConsentEvent::Method))
                .col(string(ConsentEvent::NoticeVersion))
                .col(timestamp_with_time_zone(ConsentEvent::OccurredAt))
                .primary_key(
                    Index::create()
                        .col(ConsentEvent::TenantId)
                        .col(ConsentEvent::Id),
                )
                .foreign_key(&mut belongs_to_account("consent_event"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("consent_event_by_account")
                .table(ConsentEvent::Table)
                .col(ConsentEvent::TenantId)
                .col(ConsentEvent::AccountId)
                .to_owned(),
        )
        .await?;
        if m.get_database_backend() == DbBackend::Postgres {
            // Append-only for the request path: consent history is evidence.
            m.get_connection()
                .execute_unprepared(&tenant_rls("consent_event", "SELECT, INSERT"))
                .await?;
        }
        Ok(())
    }
}
