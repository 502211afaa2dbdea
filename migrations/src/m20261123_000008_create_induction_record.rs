//! The induction module's record, one per account, in its own table (its own data category).

// async_trait expands the signature; its elided lifetime cannot be written out here.
#![allow(elided_lifetimes_in_paths)]

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{date, string, string_null, timestamp_with_time_zone};
use sea_orm_migration::sea_orm::DbBackend;

use crate::{belongs_to_account, tenant_rls};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261123_000008_create_induction_record"
    }
}

#[derive(DeriveIden)]
enum InductionRecord {
    Table,
    TenantId,
    AccountId,
    Trn,
    QualificationInstitution,
    KeyStage,
    YearGroup,
    StartDate,
    DateOfBirth,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(InductionRecord::Table)
                .col(string(InductionRecord::TenantId))
                .col(string(InductionRecord::AccountId))
                .col(string(InductionRecord::Trn))
                .col(string(InductionRecord::QualificationInstitution))
                .col(string(InductionRecord::KeyStage))
                .col(string_null(InductionRecord::YearGroup))
                .col(date(InductionRecord::StartDate))
                .col(date(InductionRecord::DateOfBirth))
                .col(timestamp_with_time_zone(InductionRecord::UpdatedAt))
                .primary_key(
                    Index::create()
                        .col(InductionRecord::TenantId)
                        .col(InductionRecord::AccountId),
                )
                .foreign_key(&mut belongs_to_account("induction_record"))
                .to_owned(),
        )
        .await?;
        if m.get_database_backend() == DbBackend::Postgres {
            m.get_connection()
                .execute_unprepared(&tenant_rls(
                    "induction_record",
                    "SELECT, INSERT, UPDATE, DELETE",
                ))
                .await?;
        }
        Ok(())
    }
}
