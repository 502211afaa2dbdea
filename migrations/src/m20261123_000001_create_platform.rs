//! Tenants as rows, and the per-tenant audit log.

// async_trait expands the signature; its elided lifetime cannot be written out here.
#![allow(elided_lifetimes_in_paths)]

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer, blob_null, string, string_null, text, timestamp_with_time_zone,
};
use sea_orm_migration::sea_orm::DbBackend;

use crate::{APP_ROLE, tenant_rls};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261123_000001_create_platform"
    }
}

#[derive(DeriveIden)]
enum Tenant {
    Table,
    Id,
    DisplayName,
    Config,
    ConfigSha256,
    Logo,
    LogoContentType,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum AuditEvent {
    Table,
    TenantId,
    Seq,
    OccurredAt,
    Actor,
    Action,
    Subject,
    Detail,
    PrevHash,
    Hash,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let pg = m.get_database_backend() == DbBackend::Postgres;
        if pg {
            m.get_connection()
                .execute_unprepared(include_str!("sql/app_role.sql"))
                .await?;
        }
        // A platform table: tenants are resolved before any tenant scope exists.
        m.create_table(
            Table::create()
                .table(Tenant::Table)
                .col(string(Tenant::Id).primary_key())
                .col(string(Tenant::DisplayName))
                .col(text(Tenant::Config))
                .col(string(Tenant::ConfigSha256))
                .col(blob_null(Tenant::Logo))
                .col(string_null(Tenant::LogoContentType))
                .col(timestamp_with_time_zone(Tenant::CreatedAt))
                .col(timestamp_with_time_zone(Tenant::UpdatedAt))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(AuditEvent::Table)
                .col(string(AuditEvent::TenantId))
                .col(big_integer(AuditEvent::Seq))
                .col(timestamp_with_time_zone(AuditEvent::OccurredAt))
                .col(string(AuditEvent::Actor))
                .col(string(AuditEvent::Action))
                .col(string(AuditEvent::Subject))
                .col(text(AuditEvent::Detail))
                .col(string(AuditEvent::PrevHash))
                .col(string(AuditEvent::Hash))
                .primary_key(
                    Index::create()
                        .col(AuditEvent::TenantId)
                        .col(AuditEvent::Seq),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(AuditEvent::Table, AuditEvent::TenantId)
                        .to(Tenant::Table, Tenant::Id),
                )
                .to_owned(),
        )
        .await?;
        if pg {
            let conn = m.get_connection();
            conn.execute_unprepared(&format!("GRANT SELECT ON tenant TO {APP_ROLE};"))
                .await?;
            // Insert-only: the request path may append to the audit log, never rewrite it.
            conn.execute_unprepared(&tenant_rls("audit_event", "SELECT, INSERT"))
                .await?;
        }
        Ok(())
    }
}
