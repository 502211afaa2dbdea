//! `review_announcement`: what the privacy officers are told when a sweep opens retention
//! reviews, one row per sweep run (how many reviews it opened, and when the email went).
//! It replaces `retention_review.announced_at`, which the sweep had to set on every review
//! it opened (200,000 rows in one statement for a council the size of the benchmark) just
//! to send one email. A run's row is written with its reviews, page by page; the email and
//! the row's `sent_at` are written together, so a sweep that stopped before the email
//! leaves its row for the next sweep to announce.
//!
//! Reviews that were never announced (a sweep stopped before telling anyone) become one
//! unsent row per tenant, so the next sweep still tells of them.

// async_trait expands the signature; its elided lifetime cannot be written out here.
#![allow(elided_lifetimes_in_paths)]

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer, string, timestamp_with_time_zone, timestamp_with_time_zone_null,
};
use sea_orm_migration::sea_orm::DbBackend;

use crate::{every_tenant, tenant_rls};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261206_000038_review_announcements"
    }
}

#[derive(DeriveIden)]
enum RetentionReview {
    Table,
    AnnouncedAt,
}

#[derive(DeriveIden)]
enum ReviewAnnouncement {
    Table,
    TenantId,
    RunId,
    Reviews,
    CreatedAt,
    SentAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(ReviewAnnouncement::Table)
                .col(string(ReviewAnnouncement::TenantId))
                .col(string(ReviewAnnouncement::RunId))
                .col(big_integer(ReviewAnnouncement::Reviews))
                .col(timestamp_with_time_zone(ReviewAnnouncement::CreatedAt))
                .col(timestamp_with_time_zone_null(ReviewAnnouncement::SentAt))
                .primary_key(
                    Index::create()
                        .col(ReviewAnnouncement::TenantId)
                        .col(ReviewAnnouncement::RunId),
                )
                .to_owned(),
        )
        .await?;
        // Copied before row-level security is forced on the new table.
        every_tenant(
            m,
            &["retention_review"],
            "INSERT INTO review_announcement (tenant_id, run_id, reviews, created_at)
             SELECT tenant_id, 'before-announcements', COUNT(*), MIN(created_at)
             FROM retention_review WHERE status = 'open' AND announced_at IS NULL
             GROUP BY tenant_id",
        )
        .await?;
        if m.get_database_backend() == DbBackend::Postgres {
            m.get_connection()
                .execute_unprepared(&tenant_rls("review_announcement", "SELECT, INSERT, UPDATE"))
                .await?;
        }
        m.alter_table(
            Table::alter()
                .table(RetentionReview::Table)
                .drop_column(RetentionReview::AnnouncedAt)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(RetentionReview::Table)
                .add_column(timestamp_with_time_zone_null(RetentionReview::AnnouncedAt))
                .to_owned(),
        )
        .await?;
        // A council with an announcement still unsent has all its reviews left unannounced
        // (the next sweep tells of them, some a second time); the rest were told of.
        every_tenant(
            m,
            &["retention_review", "review_announcement"],
            "UPDATE retention_review SET announced_at = created_at
             WHERE NOT EXISTS (SELECT 1 FROM review_announcement a
               WHERE a.tenant_id = retention_review.tenant_id AND a.sent_at IS NULL)",
        )
        .await?;
        m.drop_table(Table::drop().table(ReviewAnnouncement::Table).to_owned())
            .await
    }
}
