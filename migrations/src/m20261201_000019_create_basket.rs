//! The basket: places a person has picked (for themself or a colleague) and not yet
//! booked. Checkout turns it into an order and empties it in the same transaction.

// async_trait expands the signature; its elided lifetime cannot be written out here.
#![allow(elided_lifetimes_in_paths)]

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{string, timestamp_with_time_zone};
use sea_orm_migration::sea_orm::DbBackend;

use crate::{belongs_to_account, tenant_rls};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261201_000019_create_basket"
    }
}

#[derive(DeriveIden)]
enum BasketItem {
    Table,
    TenantId,
    Id,
    AccountId,
    SessionId,
    DelegateAccountId,
    AddedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(BasketItem::Table)
                .col(string(BasketItem::TenantId))
                .col(string(BasketItem::Id))
                .col(string(BasketItem::AccountId))
                .col(string(BasketItem::SessionId))
                .col(string(BasketItem::DelegateAccountId))
                .col(timestamp_with_time_zone(BasketItem::AddedAt))
                .primary_key(
                    Index::create()
                        .col(BasketItem::TenantId)
                        .col(BasketItem::Id),
                )
                .foreign_key(&mut belongs_to_account("basket_item"))
                .to_owned(),
        )
        .await?;
        let conn = m.get_connection();
        conn.execute_unprepared(
            "CREATE UNIQUE INDEX basket_once ON basket_item \
               (tenant_id, account_id, session_id, delegate_account_id);
             CREATE INDEX basket_by_delegate ON basket_item (tenant_id, delegate_account_id);",
        )
        .await?;
        if m.get_database_backend() == DbBackend::Postgres {
            conn.execute_unprepared(&tenant_rls("basket_item", "SELECT, INSERT, DELETE"))
                .await?;
        }
        Ok(())
    }
}
