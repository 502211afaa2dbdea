//! The breach log (`breach`) and its history (`breach_event`): a personal-data breach as
//! the privacy officer records it (what happened, whose data, when it was found, the risk
//! to people), the decisions to report it to the ICO and to tell the people affected, and
//! who did what. A breach names no account: it describes a group of people in words.

// async_trait expands the signature; its elided lifetime cannot be written out here.
#![allow(elided_lifetimes_in_paths)]

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    string, string_null, text, text_null, timestamp_with_time_zone, timestamp_with_time_zone_null,
};
use sea_orm_migration::sea_orm::DbBackend;

use crate::tenant_rls;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261205_000027_breaches"
    }
}

#[derive(DeriveIden)]
enum Breach {
    Table,
    TenantId,
    Id,
    Summary,
    PeopleAffected,
    Categories,
    DiscoveredAt,
    Risk,
    RiskReason,
    IcoDecision,
    IcoReportedAt,
    IcoReference,
    IcoReason,
    PeopleDecision,
    PeopleToldAt,
    PeopleReason,
    Status,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
    ClosedAt,
}

#[derive(DeriveIden)]
enum BreachEvent {
    Table,
    TenantId,
    Id,
    BreachId,
    OccurredAt,
    Actor,
    Action,
    Note,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Breach::Table)
                .col(string(Breach::TenantId))
                .col(string(Breach::Id))
                .col(text(Breach::Summary))
                .col(text(Breach::PeopleAffected))
                .col(text(Breach::Categories))
                .col(timestamp_with_time_zone(Breach::DiscoveredAt))
                .col(string(Breach::Risk))
                .col(text(Breach::RiskReason))
                .col(string(Breach::IcoDecision))
                .col(timestamp_with_time_zone_null(Breach::IcoReportedAt))
                .col(string_null(Breach::IcoReference))
                .col(text_null(Breach::IcoReason))
                .col(string(Breach::PeopleDecision))
                .col(timestamp_with_time_zone_null(Breach::PeopleToldAt))
                .col(text_null(Breach::PeopleReason))
                .col(string(Breach::Status))
                .col(string(Breach::CreatedBy))
                .col(timestamp_with_time_zone(Breach::CreatedAt))
                .col(timestamp_with_time_zone(Breach::UpdatedAt))
                .col(timestamp_with_time_zone_null(Breach::ClosedAt))
                .primary_key(Index::create().col(Breach::TenantId).col(Breach::Id))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(BreachEvent::Table)
                .col(string(BreachEvent::TenantId))
                .col(string(BreachEvent::Id))
                .col(string(BreachEvent::BreachId))
                .col(timestamp_with_time_zone(BreachEvent::OccurredAt))
                .col(string(BreachEvent::Actor))
                .col(string(BreachEvent::Action))
                .col(text_null(BreachEvent::Note))
                .primary_key(
                    Index::create()
                        .col(BreachEvent::TenantId)
                        .col(BreachEvent::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(
                            BreachEvent::Table,
                            (BreachEvent::TenantId, BreachEvent::BreachId),
                        )
                        .to(Breach::Table, (Breach::TenantId, Breach::Id))
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        if m.get_database_backend() == DbBackend::Postgres {
            let conn = m.get_connection();
            for table in ["breach", "breach_event"] {
                // Kept as evidence: the request path never deletes a breach record.
                conn.execute_unprepared(&tenant_rls(table, "SELECT, INSERT, UPDATE"))
                    .await?;
            }
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(BreachEvent::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(Breach::Table).to_owned())
            .await
    }
}
