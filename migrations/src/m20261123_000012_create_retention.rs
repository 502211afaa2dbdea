//! Retention: holds that block deletion, warnings already sent, the disposal record of
//! every retention action, and the lease that makes one replica the sweep's runner.
//!
//! Disposal records and warnings name accounts by id only. Disposal records outlive the
//! account (they say what was removed and what remains), so they have no foreign key to
//! it; holds and warnings go with the account.

// async_trait expands the signature; its elided lifetime cannot be written out here.
#![allow(elided_lifetimes_in_paths)]

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer, date, integer, string, string_null, text, timestamp_with_time_zone,
    timestamp_with_time_zone_null,
};
use sea_orm_migration::sea_orm::DbBackend;

use crate::{belongs_to_account, tenant_rls};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261123_000012_create_retention"
    }
}

#[derive(DeriveIden)]
enum RetentionHold {
    Table,
    TenantId,
    Id,
    AccountId,
    Kind,
    Reason,
    PlacedBy,
    CreatedAt,
    Until,
    ReleasedAt,
}

#[derive(DeriveIden)]
enum RetentionWarning {
    Table,
    TenantId,
    AccountId,
    Step,
    DueOn,
    WarnedAt,
}

#[derive(DeriveIden)]
enum DisposalRecord {
    Table,
    TenantId,
    Id,
    RunId,
    RuleIndex,
    Rule,
    Action,
    RecordKind,
    AccountRef,
    Records,
    Remaining,
    OccurredAt,
}

#[derive(DeriveIden)]
enum JobLease {
    Table,
    Name,
    Holder,
    ExpiresAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(RetentionHold::Table)
                .col(string(RetentionHold::TenantId))
                .col(string(RetentionHold::Id))
                .col(string(RetentionHold::AccountId))
                .col(string(RetentionHold::Kind))
                .col(text(RetentionHold::Reason))
                .col(string(RetentionHold::PlacedBy))
                .col(timestamp_with_time_zone(RetentionHold::CreatedAt))
                .col(timestamp_with_time_zone_null(RetentionHold::Until))
                .col(timestamp_with_time_zone_null(RetentionHold::ReleasedAt))
                .primary_key(
                    Index::create()
                        .col(RetentionHold::TenantId)
                        .col(RetentionHold::Id),
                )
                .foreign_key(&mut belongs_to_account("retention_hold"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(RetentionWarning::Table)
                .col(string(RetentionWarning::TenantId))
                .col(string(RetentionWarning::AccountId))
                .col(string(RetentionWarning::Step))
                .col(date(RetentionWarning::DueOn))
                .col(timestamp_with_time_zone(RetentionWarning::WarnedAt))
                .primary_key(
                    Index::create()
                        .col(RetentionWarning::TenantId)
                        .col(RetentionWarning::AccountId)
                        .col(RetentionWarning::Step)
                        .col(RetentionWarning::DueOn),
                )
                .foreign_key(&mut belongs_to_account("retention_warning"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(DisposalRecord::Table)
                .col(string(DisposalRecord::TenantId))
                .col(string(DisposalRecord::Id))
                .col(string(DisposalRecord::RunId))
                .col(integer(DisposalRecord::RuleIndex))
                .col(text(DisposalRecord::Rule))
                .col(string(DisposalRecord::Action))
                .col(string(DisposalRecord::RecordKind))
                .col(string_null(DisposalRecord::AccountRef))
                .col(big_integer(DisposalRecord::Records))
                .col(text(DisposalRecord::Remaining))
                .col(timestamp_with_time_zone(DisposalRecord::OccurredAt))
                .primary_key(
                    Index::create()
                        .col(DisposalRecord::TenantId)
                        .col(DisposalRecord::Id),
                )
                .to_owned(),
        )
        .await?;
        // Platform table: one row per background job that must run on one replica only.
        m.create_table(
            Table::create()
                .table(JobLease::Table)
                .col(string(JobLease::Name).primary_key())
                .col(string(JobLease::Holder))
                .col(timestamp_with_time_zone(JobLease::ExpiresAt))
                .to_owned(),
        )
        .await?;
        let conn = m.get_connection();
        conn.execute_unprepared(
            // Erasure finds a person's rows in every table by account id (or address).
            "CREATE INDEX disposal_by_account ON disposal_record (tenant_id, account_ref);
             CREATE INDEX hold_by_account ON retention_hold (tenant_id, account_id);
             CREATE INDEX token_by_account ON account_token (tenant_id, account_id);
             CREATE INDEX federated_by_account ON federated_identity (tenant_id, account_id);
             CREATE INDEX outbox_by_address ON outbox_email (tenant_id, to_address);
             CREATE INDEX log_by_account ON transaction_log (tenant_id, account_id);
             CREATE INDEX waiting_by_account ON waiting_list_entry (tenant_id, account_id);",
        )
        .await?;
        if m.get_database_backend() == DbBackend::Postgres {
            conn.execute_unprepared(&tenant_rls("retention_hold", "SELECT, INSERT, UPDATE"))
                .await?;
            conn.execute_unprepared(&tenant_rls("retention_warning", "SELECT, INSERT"))
                .await?;
            // Disposal records are written by the sweep (the connecting role) and only read
            // on the request path.
            conn.execute_unprepared(&tenant_rls("disposal_record", "SELECT"))
                .await?;
        }
        Ok(())
    }
}
