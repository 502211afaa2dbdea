//! Privacy-notice versions.
//!
//! - `notice_draft`: at most one per tenant, the next notice a tenant administrator is
//!   preparing: the whole tenant configuration it would put in force (contacts, retention
//!   rules) and the tenant's own prose, with the list of changes made since the published
//!   version.
//! - `notice_version`: every published notice, numbered from 1 per tenant. Immutable: the
//!   application may only add rows (PostgreSQL grants), and a trigger refuses any update or
//!   delete on both backends, whoever asks.
//! - `notice_ack`: who has acknowledged a significant change, and when. Goes with the person.

// async_trait expands the signature; its elided lifetime cannot be written out here.
#![allow(elided_lifetimes_in_paths)]

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    boolean, integer, integer_null, string, text, timestamp_with_time_zone,
};
use sea_orm_migration::sea_orm::DbBackend;

use crate::{belongs_to_account, tenant_rls};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261123_000015_create_notice_versions"
    }
}

#[derive(DeriveIden)]
enum NoticeDraft {
    Table,
    TenantId,
    Config,
    Prose,
    BasedOn,
    Changes,
    UpdatedBy,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum NoticeVersion {
    Table,
    TenantId,
    Version,
    Config,
    Prose,
    Notice,
    Significant,
    Summary,
    Changes,
    PublishedBy,
    PublishedAt,
}

#[derive(DeriveIden)]
enum NoticeAck {
    Table,
    TenantId,
    AccountId,
    Version,
    AcknowledgedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(NoticeDraft::Table)
                .col(string(NoticeDraft::TenantId).primary_key())
                .col(text(NoticeDraft::Config))
                .col(text(NoticeDraft::Prose))
                .col(integer_null(NoticeDraft::BasedOn))
                .col(text(NoticeDraft::Changes))
                .col(string(NoticeDraft::UpdatedBy))
                .col(timestamp_with_time_zone(NoticeDraft::UpdatedAt))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(NoticeVersion::Table)
                .col(string(NoticeVersion::TenantId))
                .col(integer(NoticeVersion::Version))
                .col(text(NoticeVersion::Config))
                .col(text(NoticeVersion::Prose))
                .col(text(NoticeVersion::Notice))
                .col(boolean(NoticeVersion::Significant))
                .col(text(NoticeVersion::Summary))
                .col(text(NoticeVersion::Changes))
                .col(string(NoticeVersion::PublishedBy))
                .col(timestamp_with_time_zone(NoticeVersion::PublishedAt))
                .primary_key(
                    Index::create()
                        .col(NoticeVersion::TenantId)
                        .col(NoticeVersion::Version),
                )
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(NoticeAck::Table)
                .col(string(NoticeAck::TenantId))
                .col(string(NoticeAck::AccountId))
                .col(integer(NoticeAck::Version))
                .col(timestamp_with_time_zone(NoticeAck::AcknowledgedAt))
                .primary_key(
                    Index::create()
                        .col(NoticeAck::TenantId)
                        .col(NoticeAck::AccountId)
                        .col(NoticeAck::Version),
                )
                .foreign_key(&mut belongs_to_account("notice_ack"))
                .to_owned(),
        )
        .await?;
        let conn = m.get_connection();
        if m.get_database_backend() == DbBackend::Postgres {
            conn.execute_unprepared(&tenant_rls(
                "notice_draft",
                "SELECT, INSERT, UPDATE, DELETE",
            ))
            .await?;
            conn.execute_unprepared(&tenant_rls("notice_version", "SELECT, INSERT"))
                .await?;
            conn.execute_unprepared(&tenant_rls("notice_ack", "SELECT, INSERT"))
                .await?;
            conn.execute_unprepared(
                "CREATE FUNCTION notice_version_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
                 BEGIN
                   RAISE EXCEPTION 'a published privacy notice cannot be changed or removed';
                 END $$;
                 CREATE TRIGGER notice_version_immutable BEFORE UPDATE OR DELETE ON notice_version
                   FOR EACH ROW EXECUTE FUNCTION notice_version_immutable();",
            )
            .await?;
        } else {
            conn.execute_unprepared(
                "CREATE TRIGGER notice_version_no_update BEFORE UPDATE ON notice_version
                 BEGIN SELECT RAISE(ABORT, 'a published privacy notice cannot be changed or removed'); END;
                 CREATE TRIGGER notice_version_no_delete BEFORE DELETE ON notice_version
                 BEGIN SELECT RAISE(ABORT, 'a published privacy notice cannot be changed or removed'); END;",
            )
            .await?;
        }
        Ok(())
    }
}
