//! Accounts, their single-use tokens (email verification, password reset), and the email
//! outbox every crate sends through.

// async_trait expands the signature; its elided lifetime cannot be written out here.
#![allow(elided_lifetimes_in_paths)]

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    boolean, string, string_null, text, text_null, timestamp_with_time_zone,
    timestamp_with_time_zone_null,
};
use sea_orm_migration::sea_orm::DbBackend;

use crate::tenant_rls;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261123_000002_create_accounts"
    }
}

#[derive(DeriveIden)]
enum Tenant {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Account {
    Table,
    TenantId,
    Id,
    Email,
    EmailVerifiedAt,
    PasswordHash,
    FirstName,
    LastName,
    JobTitle,
    JobCategory,
    Telephone,
    BusinessAddress,
    OrganisationName,
    OrganisationTelephone,
    IsChildminder,
    PersonalTelephone,
    HomeAddress,
    Status,
    CreatedAt,
    CreatedBy,
    LastActivityAt,
}

#[derive(DeriveIden)]
enum AccountToken {
    Table,
    TenantId,
    TokenHash,
    AccountId,
    Purpose,
    CreatedAt,
    ExpiresAt,
    UsedAt,
}

#[derive(DeriveIden)]
enum OutboxEmail {
    Table,
    TenantId,
    Id,
    ToAddress,
    Subject,
    BodyText,
    CreatedAt,
    SentAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Account::Table)
                .col(string(Account::TenantId))
                .col(string(Account::Id))
                .col(string(Account::Email))
                .col(timestamp_with_time_zone_null(Account::EmailVerifiedAt))
                .col(string_null(Account::PasswordHash))
                .col(string(Account::FirstName))
                .col(string(Account::LastName))
                .col(string_null(Account::JobTitle))
                .col(string_null(Account::JobCategory))
                .col(string_null(Account::Telephone))
                .col(text_null(Account::BusinessAddress))
                .col(string_null(Account::OrganisationName))
                .col(string_null(Account::OrganisationTelephone))
                .col(boolean(Account::IsChildminder))
                .col(string_null(Account::PersonalTelephone))
                .col(text_null(Account::HomeAddress))
                .col(string(Account::Status))
                .col(timestamp_with_time_zone(Account::CreatedAt))
                .col(string_null(Account::CreatedBy))
                .col(timestamp_with_time_zone(Account::LastActivityAt))
                .primary_key(Index::create().col(Account::TenantId).col(Account::Id))
                .foreign_key(
                    ForeignKey::create()
                        .from(Account::Table, Account::TenantId)
                        .to(Tenant::Table, Tenant::Id),
                )
                .to_owned(),
        )
        .await?;
        // One account per email per tenant; the same email at two councils is two accounts.
        m.create_index(
            Index::create()
                .name("account_email_per_tenant")
                .table(Account::Table)
                .col(Account::TenantId)
                .col(Account::Email)
                .unique()
                .to_owned(),
        )
        .await?;
        // Retention sweeps scan by last activity within a tenant.
        m.create_index(
            Index::create()
                .name("account_last_activity")
                .table(Account::Table)
                .col(Account::TenantId)
                .col(Account::LastActivityAt)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(AccountToken::Table)
                .col(string(AccountToken::TenantId))
                .col(string(AccountToken::TokenHash))
                .col(string(AccountToken::AccountId))
                .col(string(AccountToken::Purpose))
                .col(timestamp_with_time_zone(AccountToken::CreatedAt))
                .col(timestamp_with_time_zone(AccountToken::ExpiresAt))
                .col(timestamp_with_time_zone_null(AccountToken::UsedAt))
                .primary_key(
                    Index::create()
                        .col(AccountToken::TenantId)
                        .col(AccountToken::TokenHash),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(
                            AccountToken::Table,
                            (AccountToken::TenantId, AccountToken::AccountId),
                        )
                        .to(Account::Table, (Account::TenantId, Account::Id))
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(OutboxEmail::Table)
                .col(string(OutboxEmail::TenantId))
                .col(string(OutboxEmail::Id))
                .col(string(OutboxEmail::ToAddress))
                .col(string(OutboxEmail::Subject))
                .col(text(OutboxEmail::BodyText))
                .col(timestamp_with_time_zone(OutboxEmail::CreatedAt))
                .col(timestamp_with_time_zone_null(OutboxEmail::SentAt))
                .primary_key(
                    Index::create()
                        .col(OutboxEmail::TenantId)
                        .col(OutboxEmail::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(OutboxEmail::Table, OutboxEmail::TenantId)
                        .to(Tenant::Table, Tenant::Id),
                )
                .to_owned(),
        )
        .await?;

        if m.get_database_backend() == DbBackend::Postgres {
            let conn = m.get_connection();
            for table in ["account", "account_token", "outbox_email"] {
                conn.execute_unprepared(&tenant_rls(table, "SELECT, INSERT, UPDATE, DELETE"))
                    .await?;
            }
        }
        Ok(())
    }
}
