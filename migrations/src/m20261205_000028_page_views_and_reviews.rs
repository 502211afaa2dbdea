//! `page_view`: analytics as daily counts per page, with nothing about who viewed it, aged
//! out by the tenant's analytics retention rule. `retention_review`: the records a
//! retention rule puts in front of an administrator (review rules), each kept with a
//! reason until a later review or disposed of.

// async_trait expands the signature; its elided lifetime cannot be written out here.
#![allow(elided_lifetimes_in_paths)]

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer, date, date_null, integer, string, string_null, text, text_null,
    timestamp_with_time_zone, timestamp_with_time_zone_null,
};
use sea_orm_migration::sea_orm::DbBackend;

use crate::tenant_rls;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261205_000028_page_views_and_reviews"
    }
}

#[derive(DeriveIden)]
enum PageView {
    Table,
    TenantId,
    Day,
    Path,
    Views,
}

#[derive(DeriveIden)]
enum RetentionReview {
    Table,
    TenantId,
    Id,
    RuleIndex,
    Rule,
    RecordKind,
    RecordId,
    DueOn,
    CreatedAt,
    Status,
    DecidedAt,
    DecidedBy,
    Reason,
    KeepUntil,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(PageView::Table)
                .col(string(PageView::TenantId))
                .col(date(PageView::Day))
                .col(string(PageView::Path))
                .col(big_integer(PageView::Views))
                .primary_key(
                    Index::create()
                        .col(PageView::TenantId)
                        .col(PageView::Day)
                        .col(PageView::Path),
                )
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(RetentionReview::Table)
                .col(string(RetentionReview::TenantId))
                .col(string(RetentionReview::Id))
                .col(integer(RetentionReview::RuleIndex))
                .col(text(RetentionReview::Rule))
                .col(string(RetentionReview::RecordKind))
                .col(string(RetentionReview::RecordId))
                .col(date(RetentionReview::DueOn))
                .col(timestamp_with_time_zone(RetentionReview::CreatedAt))
                .col(string(RetentionReview::Status))
                .col(timestamp_with_time_zone_null(RetentionReview::DecidedAt))
                .col(string_null(RetentionReview::DecidedBy))
                .col(text_null(RetentionReview::Reason))
                .col(date_null(RetentionReview::KeepUntil))
                .primary_key(
                    Index::create()
                        .col(RetentionReview::TenantId)
                        .col(RetentionReview::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("retention_review_record")
                .table(RetentionReview::Table)
                .col(RetentionReview::TenantId)
                .col(RetentionReview::RecordKind)
                .col(RetentionReview::RecordId)
                .to_owned(),
        )
        .await?;
        if m.get_database_backend() == DbBackend::Postgres {
            let conn = m.get_connection();
            // Requests count views and decide reviews; only the sweep deletes.
            for table in ["page_view", "retention_review"] {
                conn.execute_unprepared(&tenant_rls(table, "SELECT, INSERT, UPDATE"))
                    .await?;
            }
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(RetentionReview::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(PageView::Table).to_owned())
            .await
    }
}
