//! Downloadable resources: the row describes the file; the bytes live in object storage
//! under the tenant's prefix.

// async_trait expands the signature; its elided lifetime cannot be written out here.
#![allow(elided_lifetimes_in_paths)]

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, string, text, timestamp_with_time_zone};
use sea_orm_migration::sea_orm::DbBackend;

use crate::tenant_rls;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261123_000010_create_resource"
    }
}

#[derive(DeriveIden)]
enum Tenant {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Resource {
    Table,
    TenantId,
    Id,
    ProviderId,
    Title,
    Summary,
    Access,
    FileName,
    ContentType,
    SizeBytes,
    ObjectKey,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Resource::Table)
                .col(string(Resource::TenantId))
                .col(string(Resource::Id))
                .col(string(Resource::ProviderId))
                .col(string(Resource::Title))
                .col(text(Resource::Summary))
                .col(string(Resource::Access))
                .col(string(Resource::FileName))
                .col(string(Resource::ContentType))
                .col(big_integer(Resource::SizeBytes))
                .col(string(Resource::ObjectKey))
                .col(timestamp_with_time_zone(Resource::CreatedAt))
                .col(timestamp_with_time_zone(Resource::UpdatedAt))
                .primary_key(Index::create().col(Resource::TenantId).col(Resource::Id))
                .foreign_key(
                    ForeignKey::create()
                        .from(Resource::Table, Resource::TenantId)
                        .to(Tenant::Table, Tenant::Id),
                )
                .to_owned(),
        )
        .await?;
        if m.get_database_backend() == DbBackend::Postgres {
            m.get_connection()
                .execute_unprepared(&tenant_rls("resource", "SELECT, INSERT, UPDATE, DELETE"))
                .await?;
        }
        Ok(())
    }
}
