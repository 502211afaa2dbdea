//! Offboarding and keys kept apart from the data.
//!
//! - `data_key`: which key in the key store (outside the database) is a tenant's data key.
//!   The key itself, wrapped under the master key, lives only in the key store, so
//!   destroying it there makes the tenant's encrypted values unreadable in every copy of
//!   the database, backups included. The older `tenant_key` table (the wrapped key in the
//!   database) is emptied as each tenant's key moves out on first use.
//! - `offboarded_tenant`: a council that has left: when, where its archive went, and the
//!   hostnames it answered to. Its slug is never reused; while its row is there the
//!   published notices of that tenant, otherwise immutable, may be deleted.

// async_trait expands the signature; its elided lifetime cannot be written out here.
#![allow(elided_lifetimes_in_paths)]

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{string, text, timestamp_with_time_zone};
use sea_orm_migration::sea_orm::DbBackend;

use crate::{APP_ROLE, tenant_rls};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261205_000034_offboarding"
    }
}

#[derive(DeriveIden)]
enum Tenant {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum DataKey {
    Table,
    TenantId,
    KeyId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum OffboardedTenant {
    Table,
    Id,
    DisplayName,
    Hostnames,
    Archive,
    ArchiveSha256,
    Counts,
    OffboardedAt,
}

const NOTICE_IMMUTABLE: &str = "a published privacy notice cannot be changed or removed";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(DataKey::Table)
                .col(string(DataKey::TenantId).primary_key())
                .col(string(DataKey::KeyId))
                .col(timestamp_with_time_zone(DataKey::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(DataKey::Table, DataKey::TenantId)
                        .to(Tenant::Table, Tenant::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(OffboardedTenant::Table)
                .col(string(OffboardedTenant::Id).primary_key())
                .col(string(OffboardedTenant::DisplayName))
                .col(text(OffboardedTenant::Hostnames))
                .col(string(OffboardedTenant::Archive))
                .col(string(OffboardedTenant::ArchiveSha256))
                .col(text(OffboardedTenant::Counts))
                .col(timestamp_with_time_zone(OffboardedTenant::OffboardedAt))
                .to_owned(),
        )
        .await?;
        let conn = m.get_connection();
        if m.get_database_backend() == DbBackend::Postgres {
            conn.execute_unprepared(&tenant_rls("data_key", "SELECT, INSERT"))
                .await?;
            conn.execute_unprepared(&format!(
                "GRANT DELETE ON tenant_key TO {APP_ROLE};
                 GRANT SELECT ON offboarded_tenant TO {APP_ROLE};
                 CREATE OR REPLACE FUNCTION notice_version_immutable() RETURNS trigger
                 LANGUAGE plpgsql AS $$
                 BEGIN
                   IF TG_OP = 'DELETE' AND EXISTS
                     (SELECT 1 FROM offboarded_tenant WHERE id = OLD.tenant_id) THEN
                     RETURN OLD;
                   END IF;
                   RAISE EXCEPTION '{NOTICE_IMMUTABLE}';
                 END $$;"
            ))
            .await?;
        } else {
            conn.execute_unprepared(&format!(
                "DROP TRIGGER notice_version_no_delete;
                 CREATE TRIGGER notice_version_no_delete BEFORE DELETE ON notice_version
                 WHEN NOT EXISTS (SELECT 1 FROM offboarded_tenant WHERE id = old.tenant_id)
                 BEGIN SELECT RAISE(ABORT, '{NOTICE_IMMUTABLE}'); END;"
            ))
            .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let conn = m.get_connection();
        if m.get_database_backend() == DbBackend::Postgres {
            conn.execute_unprepared(&format!(
                "CREATE OR REPLACE FUNCTION notice_version_immutable() RETURNS trigger
                 LANGUAGE plpgsql AS $$
                 BEGIN RAISE EXCEPTION '{NOTICE_IMMUTABLE}'; END $$;"
            ))
            .await?;
        } else {
            conn.execute_unprepared(&format!(
                "DROP TRIGGER notice_version_no_delete;
                 CREATE TRIGGER notice_version_no_delete BEFORE DELETE ON notice_version
                 BEGIN SELECT RAISE(ABORT, '{NOTICE_IMMUTABLE}'); END;"
            ))
            .await?;
        }
        m.drop_table(Table::drop().table(OffboardedTenant::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(DataKey::Table).to_owned())
            .await
    }
}
