//! `outbox_email` loses its foreign key to `tenant` (PostgreSQL). Every queued email
//! checked it: a `FOR KEY SHARE` lock on the council's one `tenant` row, taken by each
//! checkout, reminder and alert at once, so PostgreSQL built a new multixact for that row
//! with every email (measured: about a seventh of what queuing a confirmation costs the
//! database). Row-level security already pins each row's `tenant_id` to the connection's
//! council, which the platform opens only for a council it serves, and offboarding deletes
//! a council's emails before its `tenant` row (it names every table with a `tenant_id`).
//! SQLite keeps the key: it takes no such lock, and dropping a key there means rebuilding
//! the table.

// async_trait expands the signature; its elided lifetime cannot be written out here.
#![allow(elided_lifetimes_in_paths)]

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261206_000039_outbox_without_tenant_key"
    }
}

/// The key's name, as PostgreSQL named it when `m20261123_000002` created the table.
const KEY: &str = "outbox_email_tenant_id_fkey";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        m.get_connection()
            .execute_unprepared(&format!(
                "ALTER TABLE outbox_email DROP CONSTRAINT IF EXISTS {KEY}"
            ))
            .await
            .map(|_| ())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        // Not checked against the emails already queued: one left by a council since
        // offboarded would stop the way back (the key holds for every email from now on).
        m.get_connection()
            .execute_unprepared(&format!(
                "ALTER TABLE outbox_email ADD CONSTRAINT {KEY}
                 FOREIGN KEY (tenant_id) REFERENCES tenant (id) NOT VALID"
            ))
            .await
            .map(|_| ())
    }
}
