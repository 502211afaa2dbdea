//! `induction_record.created_at`: the day a record was made, which Somerset's review rule
//! counts from ("six years after it was recorded"); `updated_at` moves with every edit.
//! Existing records take their last change as the best day known.

// async_trait expands the signature; its elided lifetime cannot be written out here.
#![allow(elided_lifetimes_in_paths)]

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::timestamp_with_time_zone_null;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261205_000030_induction_created"
    }
}

#[derive(DeriveIden)]
enum InductionRecord {
    Table,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(InductionRecord::Table)
                .add_column(timestamp_with_time_zone_null(InductionRecord::CreatedAt))
                .to_owned(),
        )
        .await?;
        m.get_connection()
            .execute_unprepared("UPDATE induction_record SET created_at = updated_at")
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(InductionRecord::Table)
                .drop_column(InductionRecord::CreatedAt)
                .to_owned(),
        )
        .await
    }
}
