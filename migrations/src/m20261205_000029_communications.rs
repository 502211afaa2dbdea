//! `communication`: a newsletter or marketing email written by tenant staff, kept as a
//! draft until sent, then as the record of what went to how many people.
//! `outbox_email.unsubscribe_url`: the one-click unsubscribe address a message carries in
//! its `List-Unsubscribe` header (RFC 8058).

// async_trait expands the signature; its elided lifetime cannot be written out here.
#![allow(elided_lifetimes_in_paths)]

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    integer, string, string_null, text, text_null, timestamp_with_time_zone,
    timestamp_with_time_zone_null,
};
use sea_orm_migration::sea_orm::DbBackend;

use crate::tenant_rls;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261205_000029_communications"
    }
}

#[derive(DeriveIden)]
enum Communication {
    Table,
    TenantId,
    Id,
    Purpose,
    Subject,
    Body,
    Status,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
    SentBy,
    SentAt,
    Recipients,
}

#[derive(DeriveIden)]
enum OutboxEmail {
    Table,
    UnsubscribeUrl,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Communication::Table)
                .col(string(Communication::TenantId))
                .col(string(Communication::Id))
                .col(string(Communication::Purpose))
                .col(string(Communication::Subject))
                .col(text(Communication::Body))
                .col(string(Communication::Status))
                .col(string(Communication::CreatedBy))
                .col(timestamp_with_time_zone(Communication::CreatedAt))
                .col(timestamp_with_time_zone(Communication::UpdatedAt))
                .col(string_null(Communication::SentBy))
                .col(timestamp_with_time_zone_null(Communication::SentAt))
                .col(integer(Communication::Recipients).default(0))
                .primary_key(
                    Index::create()
                        .col(Communication::TenantId)
                        .col(Communication::Id),
                )
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(OutboxEmail::Table)
                .add_column(text_null(OutboxEmail::UnsubscribeUrl))
                .to_owned(),
        )
        .await?;
        if m.get_database_backend() == DbBackend::Postgres {
            m.get_connection()
                .execute_unprepared(&tenant_rls("communication", "SELECT, INSERT, UPDATE"))
                .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(OutboxEmail::Table)
                .drop_column(OutboxEmail::UnsubscribeUrl)
                .to_owned(),
        )
        .await?;
        m.drop_table(Table::drop().table(Communication::Table).to_owned())
            .await
    }
}
