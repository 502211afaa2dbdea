//! Audit events waiting to be sealed into the tenant's hash chain.
//!
//! A change writes its audit event here, in its own transaction, without locking anything;
//! sealing (a job every second, and every read of the log) moves waiting events into
//! `audit_event` in order, linking each to the one before. So the chain no longer makes a
//! tenant's transactions commit one at a time, and an event still commits or fails with
//! the change it records.

// async_trait expands the signature; its elided lifetime cannot be written out here.
#![allow(elided_lifetimes_in_paths)]

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{string, text, timestamp_with_time_zone};
use sea_orm_migration::sea_orm::DbBackend;

use crate::tenant_rls;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261201_000018_create_audit_pending"
    }
}

#[derive(DeriveIden)]
enum AuditPending {
    Table,
    TenantId,
    Id,
    OccurredAt,
    Actor,
    Action,
    Subject,
    Detail,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(AuditPending::Table)
                .col(string(AuditPending::TenantId))
                .col(string(AuditPending::Id))
                .col(timestamp_with_time_zone(AuditPending::OccurredAt))
                .col(string(AuditPending::Actor))
                .col(string(AuditPending::Action))
                .col(string(AuditPending::Subject))
                .col(text(AuditPending::Detail))
                .primary_key(
                    Index::create()
                        .col(AuditPending::TenantId)
                        .col(AuditPending::Id),
                )
                .to_owned(),
        )
        .await?;
        if m.get_database_backend() == DbBackend::Postgres {
            m.get_connection()
                .execute_unprepared(&tenant_rls("audit_pending", "SELECT, INSERT, DELETE"))
                .await?;
        }
        Ok(())
    }
}
