//! `api_token`: a tenant's API tokens for integrators' systems. Only a SHA-256 hash of each
//! token is kept (the token is shown once, when created); a token acts for the tenant
//! administrator who made it, within its scopes, until it expires or is revoked, and goes
//! with that person's account.

// async_trait expands the signature; its elided lifetime cannot be written out here.
#![allow(elided_lifetimes_in_paths)]

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{string, timestamp_with_time_zone, timestamp_with_time_zone_null};
use sea_orm_migration::sea_orm::DbBackend;

use crate::{belongs_to_account, tenant_rls};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261205_000033_api_tokens"
    }
}

#[derive(DeriveIden)]
enum ApiToken {
    Table,
    TenantId,
    Id,
    Name,
    SecretHash,
    Scopes,
    AccountId,
    CreatedAt,
    ExpiresAt,
    RevokedAt,
    LastUsedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(ApiToken::Table)
                .col(string(ApiToken::TenantId))
                .col(string(ApiToken::Id))
                .col(string(ApiToken::Name))
                .col(string(ApiToken::SecretHash))
                .col(string(ApiToken::Scopes))
                .col(string(ApiToken::AccountId))
                .col(timestamp_with_time_zone(ApiToken::CreatedAt))
                .col(timestamp_with_time_zone(ApiToken::ExpiresAt))
                .col(timestamp_with_time_zone_null(ApiToken::RevokedAt))
                .col(timestamp_with_time_zone_null(ApiToken::LastUsedAt))
                .primary_key(Index::create().col(ApiToken::TenantId).col(ApiToken::Id))
                .foreign_key(&mut belongs_to_account("api_token"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("api_token_secret")
                .table(ApiToken::Table)
                .col(ApiToken::TenantId)
                .col(ApiToken::SecretHash)
                .unique()
                .to_owned(),
        )
        .await?;
        if m.get_database_backend() == DbBackend::Postgres {
            m.get_connection()
                .execute_unprepared(&tenant_rls("api_token", "SELECT, INSERT, UPDATE, DELETE"))
                .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(ApiToken::Table).to_owned())
            .await
    }
}
