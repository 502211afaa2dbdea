//! Organisations (schools, settings, colleges, childminder businesses), people's memberships
//! of them with access rights, and tenant-wide roles.

// async_trait expands the signature; its elided lifetime cannot be written out here.
#![allow(elided_lifetimes_in_paths)]

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{string, string_null, timestamp_with_time_zone};
use sea_orm_migration::sea_orm::DbBackend;

use crate::{belongs_to_account, tenant_rls};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261123_000003_create_organisations"
    }
}

#[derive(DeriveIden)]
enum Tenant {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Organisation {
    Table,
    TenantId,
    Id,
    Name,
    Kind,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Membership {
    Table,
    TenantId,
    OrganisationId,
    AccountId,
    Rights,
    Status,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum AccountRole {
    Table,
    TenantId,
    AccountId,
    Role,
    ProviderId,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Organisation::Table)
                .col(string(Organisation::TenantId))
                .col(string(Organisation::Id))
                .col(string(Organisation::Name))
                .col(string(Organisation::Kind))
                .col(timestamp_with_time_zone(Organisation::CreatedAt))
                .primary_key(
                    Index::create()
                        .col(Organisation::TenantId)
                        .col(Organisation::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(Organisation::Table, Organisation::TenantId)
                        .to(Tenant::Table, Tenant::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("organisation_name_per_tenant")
                .table(Organisation::Table)
                .col(Organisation::TenantId)
                .col(Organisation::Name)
                .unique()
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Membership::Table)
                .col(string(Membership::TenantId))
                .col(string(Membership::OrganisationId))
                .col(string(Membership::AccountId))
                .col(string(Membership::Rights))
                .col(string(Membership::Status))
                .col(timestamp_with_time_zone(Membership::CreatedAt))
                .col(timestamp_with_time_zone(Membership::UpdatedAt))
                .primary_key(
                    Index::create()
                        .col(Membership::TenantId)
                        .col(Membership::OrganisationId)
                        .col(Membership::AccountId),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(
                            Membership::Table,
                            (Membership::TenantId, Membership::OrganisationId),
                        )
                        .to(
                            Organisation::Table,
                            (Organisation::TenantId, Organisation::Id),
                        ),
                )
                .foreign_key(&mut belongs_to_account("membership"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("membership_by_account")
                .table(Membership::Table)
                .col(Membership::TenantId)
                .col(Membership::AccountId)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(AccountRole::Table)
                .col(string(AccountRole::TenantId))
                .col(string(AccountRole::AccountId))
                .col(string(AccountRole::Role))
                .col(string_null(AccountRole::ProviderId))
                .col(timestamp_with_time_zone(AccountRole::CreatedAt))
                .primary_key(
                    Index::create()
                        .col(AccountRole::TenantId)
                        .col(AccountRole::AccountId)
                        .col(AccountRole::Role),
                )
                .foreign_key(&mut belongs_to_account("account_role"))
                .to_owned(),
        )
        .await?;

        if m.get_database_backend() == DbBackend::Postgres {
            let conn = m.get_connection();
            for table in ["organisation", "membership", "account_role"] {
                conn.execute_unprepared(&tenant_rls(table, "SELECT, INSERT, UPDATE, DELETE"))
                    .await?;
            }
        }
        Ok(())
    }
}
