//! Identities at OpenID providers, linked to accounts, keyed by (issuer, subject).

// async_trait expands the signature; its elided lifetime cannot be written out here.
#![allow(elided_lifetimes_in_paths)]

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{string, timestamp_with_time_zone};
use sea_orm_migration::sea_orm::DbBackend;

use crate::{belongs_to_account, tenant_rls};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261123_000006_create_federated_identity"
    }
}

#[derive(DeriveIden)]
enum FederatedIdentity {
    Table,
    TenantId,
    Issuer,
    Subject,
    AccountId,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(FederatedIdentity::Table)
                .col(string(FederatedIdentity::TenantId))
                .col(string(FederatedIdentity::Issuer))
                .col(string(FederatedIdentity::Subject))
                .col(string(FederatedIdentity::AccountId))
                .col(timestamp_with_time_zone(FederatedIdentity::CreatedAt))
                .primary_key(
                    Index::create()
                        .col(FederatedIdentity::TenantId)
                        .col(FederatedIdentity::Issuer)
                        .col(FederatedIdentity::Subject),
                )
                .foreign_key(&mut belongs_to_account("federated_identity"))
                .to_owned(),
        )
        .await?;
        if m.get_database_backend() == DbBackend::Postgres {
            m.get_connection()
                .execute_unprepared(&tenant_rls(
                    "federated_identity",
                    "SELECT, INSERT, UPDATE, DELETE",
                ))
                .await?;
        }
        Ok(())
    }
}
