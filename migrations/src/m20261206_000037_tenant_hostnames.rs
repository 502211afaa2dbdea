//! Each hostname answers for one council, held by the database. A tenant's hostnames were
//! only in its configuration (a JSON text), so the rule that no two councils claim one host
//! was the application's: checked before each onboarding and each published notice, from
//! rows read a moment before, so two operators applying folders at once (or one import of
//! two folders naming the same host) could both pass. `tenant_hostname` has a row per
//! tenant and hostname, written with the tenant row and replaced whenever a published
//! notice puts a new configuration in force, and a unique index on the hostname alone:
//! the second claim fails, whoever makes it.
//!
//! Existing tenants' hostnames are copied in, the oldest tenant first; a hostname two rows
//! already claimed stays with the older (the one the registry has served since, the later
//! being set aside at start-up).

// async_trait expands the signature; its elided lifetime cannot be written out here.
#![allow(elided_lifetimes_in_paths)]

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::string;
use sea_orm_migration::sea_orm::DbBackend;

use crate::tenant_rls;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261206_000037_tenant_hostnames"
    }
}

#[derive(DeriveIden)]
enum Tenant {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum TenantHostname {
    Table,
    TenantId,
    Hostname,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(TenantHostname::Table)
                .col(string(TenantHostname::TenantId))
                .col(string(TenantHostname::Hostname))
                .primary_key(
                    Index::create()
                        .col(TenantHostname::TenantId)
                        .col(TenantHostname::Hostname),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(TenantHostname::Table, TenantHostname::TenantId)
                        .to(Tenant::Table, Tenant::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("tenant_hostname_unique")
                .table(TenantHostname::Table)
                .col(TenantHostname::Hostname)
                .unique()
                .to_owned(),
        )
        .await?;
        let conn = m.get_connection();
        // Copied before row-level security is forced: the migrating role names no tenant.
        if m.get_database_backend() == DbBackend::Postgres {
            conn.execute_unprepared(
                "INSERT INTO tenant_hostname (tenant_id, hostname)
                 SELECT DISTINCT ON (h.value) t.id, h.value
                 FROM tenant t CROSS JOIN LATERAL
                      json_array_elements_text((t.config::json) -> 'hostnames') AS h(value)
                 ORDER BY h.value, t.created_at, t.id
                 ON CONFLICT DO NOTHING",
            )
            .await?;
            conn.execute_unprepared(&tenant_rls("tenant_hostname", "SELECT"))
                .await?;
        } else {
            conn.execute_unprepared(
                "INSERT OR IGNORE INTO tenant_hostname (tenant_id, hostname)
                 SELECT t.id, j.value FROM tenant t, json_each(t.config, '$.hostnames') j
                 ORDER BY t.created_at, t.id",
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(TenantHostname::Table).to_owned())
            .await
    }
}
