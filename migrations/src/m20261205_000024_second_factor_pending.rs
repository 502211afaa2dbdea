//! A second factor being set up waits in `account_totp_pending` until a code from it is
//! entered; only then does it replace the one in force (`account_totp`). Before this, the
//! set-up page overwrote the confirmed secret the moment it was opened.
//!
//! Unconfirmed rows of `account_totp` (set-ups begun and never finished) move across, so
//! `account_totp` holds confirmed factors only. Safe during a rolling upgrade: the previous
//! release reads `account_totp` as before, and a set-up it begins is one it also finishes.

// async_trait expands the signature; its elided lifetime cannot be written out here.
#![allow(elided_lifetimes_in_paths)]

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{blob, string, timestamp_with_time_zone};
use sea_orm_migration::sea_orm::DbBackend;

use crate::{belongs_to_account, tenant_rls};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261205_000024_second_factor_pending"
    }
}

#[derive(DeriveIden)]
enum AccountTotpPending {
    Table,
    TenantId,
    AccountId,
    SecretSealed,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(AccountTotpPending::Table)
                .col(string(AccountTotpPending::TenantId))
                .col(string(AccountTotpPending::AccountId))
                .col(blob(AccountTotpPending::SecretSealed))
                .col(timestamp_with_time_zone(AccountTotpPending::CreatedAt))
                .primary_key(
                    Index::create()
                        .col(AccountTotpPending::TenantId)
                        .col(AccountTotpPending::AccountId),
                )
                .foreign_key(&mut belongs_to_account("account_totp_pending"))
                .to_owned(),
        )
        .await?;
        let conn = m.get_connection();
        let postgres = m.get_database_backend() == DbBackend::Postgres;
        // Row-level security is forced on `account_totp`, even for its owner: lift it for
        // the move (this migration's transaction), so every tenant's rows are seen.
        if postgres {
            conn.execute_unprepared("ALTER TABLE account_totp NO FORCE ROW LEVEL SECURITY")
                .await?;
        }
        conn.execute_unprepared(
            "INSERT INTO account_totp_pending (tenant_id, account_id, secret_sealed, created_at) \
             SELECT tenant_id, account_id, secret_sealed, created_at FROM account_totp \
             WHERE confirmed_at IS NULL",
        )
        .await?;
        conn.execute_unprepared("DELETE FROM account_totp WHERE confirmed_at IS NULL")
            .await?;
        if postgres {
            conn.execute_unprepared("ALTER TABLE account_totp FORCE ROW LEVEL SECURITY")
                .await?;
            conn.execute_unprepared(&tenant_rls(
                "account_totp_pending",
                "SELECT, INSERT, UPDATE, DELETE",
            ))
            .await?;
        }
        Ok(())
    }
}
