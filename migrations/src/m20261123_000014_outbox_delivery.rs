//! Delivery state for the email outbox: a sender claims a message until a time (so two
//! replicas never hold it at once), counts attempts and keeps the last error. Also one
//! text attachment per message (a booking confirmation's calendar entry), with its file
//! name and media type.

// async_trait expands the signature; its elided lifetime cannot be written out here.
#![allow(elided_lifetimes_in_paths)]

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{integer, string_null, text_null, timestamp_with_time_zone_null};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261123_000014_outbox_delivery"
    }
}

#[derive(DeriveIden)]
enum OutboxEmail {
    Table,
    ClaimedUntil,
    Attempts,
    LastError,
    AttachmentName,
    AttachmentType,
    AttachmentText,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // Expand only: nullable columns and a default, so running code is unaffected.
        for col in [
            timestamp_with_time_zone_null(OutboxEmail::ClaimedUntil),
            integer(OutboxEmail::Attempts).default(0).to_owned(),
            text_null(OutboxEmail::LastError),
            string_null(OutboxEmail::AttachmentName),
            string_null(OutboxEmail::AttachmentType),
            text_null(OutboxEmail::AttachmentText),
        ] {
            m.alter_table(
                Table::alter()
                    .table(OutboxEmail::Table)
                    .add_column(col)
                    .to_owned(),
            )
            .await?;
        }
        m.get_connection()
            .execute_unprepared(
                "CREATE INDEX outbox_unsent ON outbox_email (tenant_id, sent_at, id)",
            )
            .await?;
        Ok(())
    }
}
