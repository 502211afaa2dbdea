//! Attendance, CPD records and the log of disclosures to providers.
//!
//! - `booking.attendance`: `attended` or `no_show` once the provider marks the register.
//! - `cpd_record`: one per attended booking (hours from the course), kept with the person
//!   and erased with them.
//! - `disclosure_log`: one row per person per disclosure of a delegate list to a provider
//!   (who received whose data, which fields, when). It outlives the person's account, with
//!   the person pseudonymised, so the council can still show what it passed on.

// async_trait expands the signature; its elided lifetime cannot be written out here.
#![allow(elided_lifetimes_in_paths)]

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    date, integer, string, string_null, timestamp_with_time_zone, timestamp_with_time_zone_null,
};
use sea_orm_migration::sea_orm::DbBackend;

use crate::{belongs_to_account, tenant_rls};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261123_000013_create_attendance"
    }
}

#[derive(DeriveIden)]
enum Booking {
    Table,
    Attendance,
    AttendanceMarkedAt,
}

#[derive(DeriveIden)]
enum CpdRecord {
    Table,
    TenantId,
    Id,
    AccountId,
    BookingId,
    CourseId,
    Title,
    Minutes,
    CompletedOn,
    CreatedAt,
}

#[derive(DeriveIden)]
enum DisclosureLog {
    Table,
    TenantId,
    Id,
    DisclosureId,
    AccountId,
    ProviderId,
    SessionId,
    ActorId,
    Fields,
    Format,
    OccurredAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // Expand only: new nullable columns, so running code is unaffected.
        m.alter_table(
            Table::alter()
                .table(Booking::Table)
                .add_column(string_null(Booking::Attendance))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Booking::Table)
                .add_column(timestamp_with_time_zone_null(Booking::AttendanceMarkedAt))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(CpdRecord::Table)
                .col(string(CpdRecord::TenantId))
                .col(string(CpdRecord::Id))
                .col(string(CpdRecord::AccountId))
                .col(string(CpdRecord::BookingId))
                .col(string(CpdRecord::CourseId))
                .col(string(CpdRecord::Title))
                .col(integer(CpdRecord::Minutes))
                .col(date(CpdRecord::CompletedOn))
                .col(timestamp_with_time_zone(CpdRecord::CreatedAt))
                .primary_key(Index::create().col(CpdRecord::TenantId).col(CpdRecord::Id))
                .foreign_key(&mut belongs_to_account("cpd_record"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(DisclosureLog::Table)
                .col(string(DisclosureLog::TenantId))
                .col(string(DisclosureLog::Id))
                .col(string(DisclosureLog::DisclosureId))
                .col(string(DisclosureLog::AccountId))
                .col(string(DisclosureLog::ProviderId))
                .col(string(DisclosureLog::SessionId))
                .col(string(DisclosureLog::ActorId))
                .col(string(DisclosureLog::Fields))
                .col(string(DisclosureLog::Format))
                .col(timestamp_with_time_zone(DisclosureLog::OccurredAt))
                .primary_key(
                    Index::create()
                        .col(DisclosureLog::TenantId)
                        .col(DisclosureLog::Id),
                )
                .to_owned(),
        )
        .await?;
        let conn = m.get_connection();
        conn.execute_unprepared(
            "CREATE UNIQUE INDEX cpd_one_per_booking ON cpd_record (tenant_id, booking_id);
             CREATE INDEX cpd_by_account ON cpd_record (tenant_id, account_id, completed_on);
             CREATE INDEX disclosure_by_account ON disclosure_log (tenant_id, account_id);
             CREATE INDEX disclosure_by_session ON disclosure_log (tenant_id, session_id, occurred_at);",
        )
        .await?;
        if m.get_database_backend() == DbBackend::Postgres {
            conn.execute_unprepared(&tenant_rls("cpd_record", "SELECT, INSERT, DELETE"))
                .await?;
            // The disclosure log is append-only for the application.
            conn.execute_unprepared(&tenant_rls("disclosure_log", "SELECT, INSERT"))
                .await?;
        }
        Ok(())
    }
}
