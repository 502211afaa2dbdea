//! Envelope-encryption keys and encrypted special-category values.

// async_trait expands the signature; its elided lifetime cannot be written out here.
#![allow(elided_lifetimes_in_paths)]

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{blob, blob_null, string, timestamp_with_time_zone};
use sea_orm_migration::sea_orm::DbBackend;

use crate::{belongs_to_account, tenant_rls};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261123_000004_create_secrets"
    }
}

#[derive(DeriveIden)]
enum Tenant {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum TenantKey {
    Table,
    TenantId,
    Wrapped,
    CreatedAt,
}

#[derive(DeriveIden)]
enum AccountSecret {
    Table,
    TenantId,
    AccountId,
    SubjectKey,
    SpecialRequirements,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(TenantKey::Table)
                .col(string(TenantKey::TenantId).primary_key())
                .col(blob(TenantKey::Wrapped))
                .col(timestamp_with_time_zone(TenantKey::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(TenantKey::Table, TenantKey::TenantId)
                        .to(Tenant::Table, Tenant::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(AccountSecret::Table)
                .col(string(AccountSecret::TenantId))
                .col(string(AccountSecret::AccountId))
                .col(blob(AccountSecret::SubjectKey))
                .col(blob_null(AccountSecret::SpecialRequirements))
                .col(timestamp_with_time_zone(AccountSecret::UpdatedAt))
                .primary_key(
                    Index::create()
                        .col(AccountSecret::TenantId)
                        .col(AccountSecret::AccountId),
                )
                .foreign_key(&mut belongs_to_account("account_secret"))
                .to_owned(),
        )
        .await?;
        if m.get_database_backend() == DbBackend::Postgres {
            let conn = m.get_connection();
            // A tenant's key is created once and never changed by the request path.
            conn.execute_unprepared(&tenant_rls("tenant_key", "SELECT, INSERT"))
                .await?;
            conn.execute_unprepared(&tenant_rls(
                "account_secret",
                "SELECT, INSERT, UPDATE, DELETE",
            ))
            .await?;
        }
        Ok(())
    }
}
