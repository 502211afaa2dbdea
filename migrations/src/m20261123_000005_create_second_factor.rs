//! Second factor: TOTP secrets and single-use recovery codes.

// async_trait expands the signature; its elided lifetime cannot be written out here.
#![allow(elided_lifetimes_in_paths)]

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer_null, blob, string, timestamp_with_time_zone, timestamp_with_time_zone_null,
};
use sea_orm_migration::sea_orm::DbBackend;

use crate::{belongs_to_account, tenant_rls};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261123_000005_create_second_factor"
    }
}

#[derive(DeriveIden)]
enum AccountTotp {
    Table,
    TenantId,
    AccountId,
    SecretSealed,
    ConfirmedAt,
    LastStep,
    CreatedAt,
}

#[derive(DeriveIden)]
enum RecoveryCode {
    Table,
    TenantId,
    AccountId,
    CodeHash,
    UsedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(AccountTotp::Table)
                .col(string(AccountTotp::TenantId))
                .col(string(AccountTotp::AccountId))
                .col(blob(AccountTotp::SecretSealed))
                .col(timestamp_with_time_zone_null(AccountTotp::ConfirmedAt))
                .col(big_integer_null(AccountTotp::LastStep))
                .col(timestamp_with_time_zone(AccountTotp::CreatedAt))
                .primary_key(
                    Index::create()
                        .col(AccountTotp::TenantId)
                        .col(AccountTotp::AccountId),
                )
                .foreign_key(&mut belongs_to_account("account_totp"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(RecoveryCode::Table)
                .col(string(RecoveryCode::TenantId))
                .col(string(RecoveryCode::AccountId))
                .col(string(RecoveryCode::CodeHash))
                .col(timestamp_with_time_zone_null(RecoveryCode::UsedAt))
                .primary_key(
                    Index::create()
                        .col(RecoveryCode::TenantId)
                        .col(RecoveryCode::AccountId)
                        .col(RecoveryCode::CodeHash),
                )
                .foreign_key(&mut belongs_to_account("recovery_code"))
                .to_owned(),
        )
        .await?;
        if m.get_database_backend() == DbBackend::Postgres {
            let conn = m.get_connection();
            for table in ["account_totp", "recovery_code"] {
                conn.execute_unprepared(&tenant_rls(table, "SELECT, INSERT, UPDATE, DELETE"))
                    .await?;
            }
        }
        Ok(())
    }
}
