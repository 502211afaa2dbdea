//! `retention_review.announced_at`: when the privacy officers were told of a review, so a
//! sweep that stopped before telling them is made good by the next one. Reviews already
//! open were announced when they opened.

// async_trait expands the signature; its elided lifetime cannot be written out here.
#![allow(elided_lifetimes_in_paths)]

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::timestamp_with_time_zone_null;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261205_000032_review_announced"
    }
}

#[derive(DeriveIden)]
enum RetentionReview {
    Table,
    AnnouncedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(RetentionReview::Table)
                .add_column(timestamp_with_time_zone_null(RetentionReview::AnnouncedAt))
                .to_owned(),
        )
        .await?;
        m.get_connection()
            .execute_unprepared("UPDATE retention_review SET announced_at = created_at")
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(RetentionReview::Table)
                .drop_column(RetentionReview::AnnouncedAt)
                .to_owned(),
        )
        .await
    }
}
