//! Service purchases: a traded service or SLA bought for an organisation, for the service's
//! period, under an order (`booking_order`) like a checkout's. An active purchase of an SLA
//! is what prices a course it covers at the SLA price. At most one active purchase of a
//! service per organisation, enforced by a partial unique index.

// async_trait expands the signature; its elided lifetime cannot be written out here.
#![allow(elided_lifetimes_in_paths)]

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, date, string, timestamp_with_time_zone};
use sea_orm_migration::sea_orm::DbBackend;

use crate::tenant_rls;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261201_000017_create_service_purchase"
    }
}

#[derive(DeriveIden)]
enum ServicePurchase {
    Table,
    TenantId,
    Id,
    OrderId,
    ServiceId,
    OrganisationId,
    AccountId,
    Band,
    PricePence,
    PeriodStart,
    PeriodEnd,
    Status,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(ServicePurchase::Table)
                .col(string(ServicePurchase::TenantId))
                .col(string(ServicePurchase::Id))
                .col(string(ServicePurchase::OrderId))
                .col(string(ServicePurchase::ServiceId))
                .col(string(ServicePurchase::OrganisationId))
                .col(string(ServicePurchase::AccountId))
                .col(string(ServicePurchase::Band))
                .col(big_integer(ServicePurchase::PricePence))
                .col(date(ServicePurchase::PeriodStart))
                .col(date(ServicePurchase::PeriodEnd))
                .col(string(ServicePurchase::Status))
                .col(timestamp_with_time_zone(ServicePurchase::CreatedAt))
                .primary_key(
                    Index::create()
                        .col(ServicePurchase::TenantId)
                        .col(ServicePurchase::Id),
                )
                .to_owned(),
        )
        .await?;
        let conn = m.get_connection();
        conn.execute_unprepared(
            "CREATE UNIQUE INDEX purchase_one_active ON service_purchase \
               (tenant_id, organisation_id, service_id) WHERE status = 'active';
             CREATE INDEX purchase_by_order ON service_purchase (tenant_id, order_id);",
        )
        .await?;
        if m.get_database_backend() == DbBackend::Postgres {
            conn.execute_unprepared(&tenant_rls(
                "service_purchase",
                "SELECT, INSERT, UPDATE, DELETE",
            ))
            .await?;
        }
        Ok(())
    }
}
