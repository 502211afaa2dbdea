//! Rights requests (`rights_request`), their history (`rights_request_event`) and the data
//! bundles prepared for them (`rights_bundle`): what a person asked for, how it arrived, the
//! clock the privacy engine keeps on it, and the single-use links to a copy of their data.
//! Also complaints (`complaint`, `complaint_event`): who complained about what, its stage
//! in the tenant's escalation, acknowledgement and outcome. All name the person by account
//! id where they have one, so erasure finds them.

// async_trait expands the signature; its elided lifetime cannot be written out here.
#![allow(elided_lifetimes_in_paths)]

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    date, date_null, integer, string, string_null, text, text_null, timestamp_with_time_zone,
    timestamp_with_time_zone_null,
};
use sea_orm_migration::sea_orm::DbBackend;

use crate::tenant_rls;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261205_000025_rights_requests"
    }
}

#[derive(DeriveIden)]
enum RightsRequest {
    Table,
    TenantId,
    Id,
    Kind,
    Channel,
    AccountId,
    RequesterName,
    RequesterEmail,
    Details,
    ReceivedOn,
    StartedOn,
    PausedSince,
    PausedDays,
    ExtensionMonths,
    ExtensionReason,
    DueOn,
    Stage,
    Outcome,
    Assignee,
    HoldId,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
    ClosedAt,
}

#[derive(DeriveIden)]
enum RightsRequestEvent {
    Table,
    TenantId,
    Id,
    RequestId,
    AccountId,
    OccurredAt,
    Actor,
    Action,
    Note,
}

#[derive(DeriveIden)]
enum RightsBundle {
    Table,
    TenantId,
    Id,
    RequestId,
    AccountId,
    ObjectKey,
    TokenHash,
    CreatedAt,
    ExpiresAt,
    UsedAt,
}

#[derive(DeriveIden)]
enum Complaint {
    Table,
    TenantId,
    Id,
    AccountId,
    ComplainantName,
    ComplainantEmail,
    About,
    Channel,
    ReceivedOn,
    AcknowledgeBy,
    AcknowledgedAt,
    Stage,
    Status,
    Outcome,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
    ClosedAt,
}

#[derive(DeriveIden)]
enum ComplaintEvent {
    Table,
    TenantId,
    Id,
    ComplaintId,
    AccountId,
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
                .table(RightsRequest::Table)
                .col(string(RightsRequest::TenantId))
                .col(string(RightsRequest::Id))
                .col(string(RightsRequest::Kind))
                .col(string(RightsRequest::Channel))
                .col(string_null(RightsRequest::AccountId))
                .col(string(RightsRequest::RequesterName))
                .col(string_null(RightsRequest::RequesterEmail))
                .col(text(RightsRequest::Details))
                .col(date(RightsRequest::ReceivedOn))
                .col(date_null(RightsRequest::StartedOn))
                .col(date_null(RightsRequest::PausedSince))
                .col(integer(RightsRequest::PausedDays))
                .col(integer(RightsRequest::ExtensionMonths))
                .col(text_null(RightsRequest::ExtensionReason))
                .col(date_null(RightsRequest::DueOn))
                .col(string(RightsRequest::Stage))
                .col(string_null(RightsRequest::Outcome))
                .col(string_null(RightsRequest::Assignee))
                .col(string_null(RightsRequest::HoldId))
                .col(string(RightsRequest::CreatedBy))
                .col(timestamp_with_time_zone(RightsRequest::CreatedAt))
                .col(timestamp_with_time_zone(RightsRequest::UpdatedAt))
                .col(timestamp_with_time_zone_null(RightsRequest::ClosedAt))
                .primary_key(
                    Index::create()
                        .col(RightsRequest::TenantId)
                        .col(RightsRequest::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("rights_request_by_account")
                .table(RightsRequest::Table)
                .col(RightsRequest::TenantId)
                .col(RightsRequest::AccountId)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("rights_request_by_due")
                .table(RightsRequest::Table)
                .col(RightsRequest::TenantId)
                .col(RightsRequest::Stage)
                .col(RightsRequest::DueOn)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(RightsRequestEvent::Table)
                .col(string(RightsRequestEvent::TenantId))
                .col(string(RightsRequestEvent::Id))
                .col(string(RightsRequestEvent::RequestId))
                .col(string_null(RightsRequestEvent::AccountId))
                .col(timestamp_with_time_zone(RightsRequestEvent::OccurredAt))
                .col(string(RightsRequestEvent::Actor))
                .col(string(RightsRequestEvent::Action))
                .col(text_null(RightsRequestEvent::Note))
                .primary_key(
                    Index::create()
                        .col(RightsRequestEvent::TenantId)
                        .col(RightsRequestEvent::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(
                            RightsRequestEvent::Table,
                            (RightsRequestEvent::TenantId, RightsRequestEvent::RequestId),
                        )
                        .to(
                            RightsRequest::Table,
                            (RightsRequest::TenantId, RightsRequest::Id),
                        )
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("rights_request_event_by_request")
                .table(RightsRequestEvent::Table)
                .col(RightsRequestEvent::TenantId)
                .col(RightsRequestEvent::RequestId)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(RightsBundle::Table)
                .col(string(RightsBundle::TenantId))
                .col(string(RightsBundle::Id))
                .col(string(RightsBundle::RequestId))
                .col(string(RightsBundle::AccountId))
                .col(string(RightsBundle::ObjectKey))
                .col(string(RightsBundle::TokenHash))
                .col(timestamp_with_time_zone(RightsBundle::CreatedAt))
                .col(timestamp_with_time_zone(RightsBundle::ExpiresAt))
                .col(timestamp_with_time_zone_null(RightsBundle::UsedAt))
                .primary_key(
                    Index::create()
                        .col(RightsBundle::TenantId)
                        .col(RightsBundle::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(
                            RightsBundle::Table,
                            (RightsBundle::TenantId, RightsBundle::RequestId),
                        )
                        .to(
                            RightsRequest::Table,
                            (RightsRequest::TenantId, RightsRequest::Id),
                        )
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("rights_bundle_by_token")
                .table(RightsBundle::Table)
                .col(RightsBundle::TenantId)
                .col(RightsBundle::TokenHash)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Complaint::Table)
                .col(string(Complaint::TenantId))
                .col(string(Complaint::Id))
                .col(string_null(Complaint::AccountId))
                .col(string(Complaint::ComplainantName))
                .col(string_null(Complaint::ComplainantEmail))
                .col(text(Complaint::About))
                .col(string(Complaint::Channel))
                .col(date(Complaint::ReceivedOn))
                .col(date(Complaint::AcknowledgeBy))
                .col(timestamp_with_time_zone_null(Complaint::AcknowledgedAt))
                .col(integer(Complaint::Stage))
                .col(string(Complaint::Status))
                .col(text_null(Complaint::Outcome))
                .col(string(Complaint::CreatedBy))
                .col(timestamp_with_time_zone(Complaint::CreatedAt))
                .col(timestamp_with_time_zone(Complaint::UpdatedAt))
                .col(timestamp_with_time_zone_null(Complaint::ClosedAt))
                .primary_key(Index::create().col(Complaint::TenantId).col(Complaint::Id))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(ComplaintEvent::Table)
                .col(string(ComplaintEvent::TenantId))
                .col(string(ComplaintEvent::Id))
                .col(string(ComplaintEvent::ComplaintId))
                .col(string_null(ComplaintEvent::AccountId))
                .col(timestamp_with_time_zone(ComplaintEvent::OccurredAt))
                .col(string(ComplaintEvent::Actor))
                .col(string(ComplaintEvent::Action))
                .col(text_null(ComplaintEvent::Note))
                .primary_key(
                    Index::create()
                        .col(ComplaintEvent::TenantId)
                        .col(ComplaintEvent::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(
                            ComplaintEvent::Table,
                            (ComplaintEvent::TenantId, ComplaintEvent::ComplaintId),
                        )
                        .to(Complaint::Table, (Complaint::TenantId, Complaint::Id))
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        if m.get_database_backend() == DbBackend::Postgres {
            let conn = m.get_connection();
            for table in [
                "rights_request",
                "rights_request_event",
                "rights_bundle",
                "complaint",
                "complaint_event",
            ] {
                conn.execute_unprepared(&tenant_rls(table, "SELECT, INSERT, UPDATE, DELETE"))
                    .await?;
            }
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(ComplaintEvent::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(Complaint::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(RightsBundle::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(RightsRequestEvent::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(RightsRequest::Table).to_owned())
            .await
    }
}
