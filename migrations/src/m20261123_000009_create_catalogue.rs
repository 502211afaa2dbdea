//! The catalogue: courses and events with their sessions, traded services with price bands,
//! and the full-text search index over both. Providers live in the tenant's configuration
//! (they carry the sharing rules the privacy notice is compiled from), so rows name them by id.

// async_trait expands the signature; its elided lifetime cannot be written out here.
#![allow(elided_lifetimes_in_paths)]

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer, big_integer_null, date, integer, string, string_null, text,
    timestamp_with_time_zone, timestamp_with_time_zone_null,
};
use sea_orm_migration::sea_orm::DbBackend;

use crate::tenant_rls;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261123_000009_create_catalogue"
    }
}

#[derive(DeriveIden)]
enum Tenant {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Course {
    Table,
    TenantId,
    Id,
    ProviderId,
    Kind,
    Title,
    Summary,
    Description,
    DescriptionHtml,
    Audiences,
    JobCategories,
    Phases,
    CpdMinutes,
    PricePence,
    SlaServiceId,
    SlaPricePence,
    BookingOpensAt,
    BookingClosesAt,
    CancellationNoticeDays,
    CancellationTerms,
    Status,
    CreatedAt,
    UpdatedAt,
    PublishedAt,
}

#[derive(DeriveIden)]
enum CourseSession {
    Table,
    TenantId,
    Id,
    CourseId,
    StartsAt,
    EndsAt,
    Venue,
    OnlineUrl,
    Capacity,
    PlacesTaken,
    Status,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum TradedService {
    Table,
    TenantId,
    Id,
    ProviderId,
    Title,
    Summary,
    Description,
    DescriptionHtml,
    Audiences,
    PeriodStart,
    PeriodEnd,
    Term,
    Status,
    CreatedAt,
    UpdatedAt,
    PublishedAt,
}

#[derive(DeriveIden)]
enum ServicePriceBand {
    Table,
    TenantId,
    ServiceId,
    Position,
    Label,
    PricePence,
}

/// SQLite's search index: an FTS5 table kept in step by triggers, so no write path can
/// forget it. Porter stemming matches "assess" to "assessment" as PostgreSQL's English
/// configuration does.
const SQLITE_SEARCH: &str = "
CREATE VIRTUAL TABLE catalogue_fts USING fts5(
  tenant_id UNINDEXED, kind UNINDEXED, item_id UNINDEXED, title, summary, body,
  tokenize = 'porter unicode61'
);
CREATE TRIGGER course_fts_insert AFTER INSERT ON course BEGIN
  INSERT INTO catalogue_fts (tenant_id, kind, item_id, title, summary, body)
  VALUES (new.tenant_id, 'course', new.id, new.title, new.summary, new.description);
END;
CREATE TRIGGER course_fts_update AFTER UPDATE OF title, summary, description ON course BEGIN
  DELETE FROM catalogue_fts WHERE tenant_id = old.tenant_id AND kind = 'course' AND item_id = old.id;
  INSERT INTO catalogue_fts (tenant_id, kind, item_id, title, summary, body)
  VALUES (new.tenant_id, 'course', new.id, new.title, new.summary, new.description);
END;
CREATE TRIGGER course_fts_delete AFTER DELETE ON course BEGIN
  DELETE FROM catalogue_fts WHERE tenant_id = old.tenant_id AND kind = 'course' AND item_id = old.id;
END;
CREATE TRIGGER service_fts_insert AFTER INSERT ON traded_service BEGIN
  INSERT INTO catalogue_fts (tenant_id, kind, item_id, title, summary, body)
  VALUES (new.tenant_id, 'service', new.id, new.title, new.summary, new.description);
END;
CREATE TRIGGER service_fts_update AFTER UPDATE OF title, summary, description ON traded_service BEGIN
  DELETE FROM catalogue_fts WHERE tenant_id = old.tenant_id AND kind = 'service' AND item_id = old.id;
  INSERT INTO catalogue_fts (tenant_id, kind, item_id, title, summary, body)
  VALUES (new.tenant_id, 'service', new.id, new.title, new.summary, new.description);
END;
CREATE TRIGGER service_fts_delete AFTER DELETE ON traded_service BEGIN
  DELETE FROM catalogue_fts WHERE tenant_id = old.tenant_id AND kind = 'service' AND item_id = old.id;
END;
";

/// PostgreSQL's search index: expression indexes (no extra column), matched by the same
/// expression in queries (`catalogue::store::search`).
const POSTGRES_SEARCH: &str = "
CREATE INDEX course_search ON course USING GIN
  (to_tsvector('english', title || ' ' || summary || ' ' || description));
CREATE INDEX traded_service_search ON traded_service USING GIN
  (to_tsvector('english', title || ' ' || summary || ' ' || description));
";

fn belongs_to_tenant<T: IntoIden + 'static>(
    table: T,
    column: impl IntoIden,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(table, column)
        .to(Tenant::Table, Tenant::Id)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(TradedService::Table)
                .col(string(TradedService::TenantId))
                .col(string(TradedService::Id))
                .col(string(TradedService::ProviderId))
                .col(string(TradedService::Title))
                .col(text(TradedService::Summary))
                .col(text(TradedService::Description))
                .col(text(TradedService::DescriptionHtml))
                .col(string(TradedService::Audiences))
                .col(date(TradedService::PeriodStart))
                .col(date(TradedService::PeriodEnd))
                .col(string(TradedService::Term))
                .col(string(TradedService::Status))
                .col(timestamp_with_time_zone(TradedService::CreatedAt))
                .col(timestamp_with_time_zone(TradedService::UpdatedAt))
                .col(timestamp_with_time_zone_null(TradedService::PublishedAt))
                .primary_key(
                    Index::create()
                        .col(TradedService::TenantId)
                        .col(TradedService::Id),
                )
                .foreign_key(&mut belongs_to_tenant(
                    TradedService::Table,
                    TradedService::TenantId,
                ))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(ServicePriceBand::Table)
                .col(string(ServicePriceBand::TenantId))
                .col(string(ServicePriceBand::ServiceId))
                .col(integer(ServicePriceBand::Position))
                .col(string(ServicePriceBand::Label))
                .col(big_integer(ServicePriceBand::PricePence))
                .primary_key(
                    Index::create()
                        .col(ServicePriceBand::TenantId)
                        .col(ServicePriceBand::ServiceId)
                        .col(ServicePriceBand::Position),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(
                            ServicePriceBand::Table,
                            (ServicePriceBand::TenantId, ServicePriceBand::ServiceId),
                        )
                        .to(
                            TradedService::Table,
                            (TradedService::TenantId, TradedService::Id),
                        )
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Course::Table)
                .col(string(Course::TenantId))
                .col(string(Course::Id))
                .col(string(Course::ProviderId))
                .col(string(Course::Kind))
                .col(string(Course::Title))
                .col(text(Course::Summary))
                .col(text(Course::Description))
                .col(text(Course::DescriptionHtml))
                .col(string(Course::Audiences))
                .col(string(Course::JobCategories))
                .col(string(Course::Phases))
                .col(integer(Course::CpdMinutes))
                .col(big_integer(Course::PricePence))
                .col(string_null(Course::SlaServiceId))
                .col(big_integer_null(Course::SlaPricePence))
                .col(timestamp_with_time_zone_null(Course::BookingOpensAt))
                .col(timestamp_with_time_zone_null(Course::BookingClosesAt))
                .col(integer(Course::CancellationNoticeDays))
                .col(text(Course::CancellationTerms))
                .col(string(Course::Status))
                .col(timestamp_with_time_zone(Course::CreatedAt))
                .col(timestamp_with_time_zone(Course::UpdatedAt))
                .col(timestamp_with_time_zone_null(Course::PublishedAt))
                .primary_key(Index::create().col(Course::TenantId).col(Course::Id))
                .foreign_key(&mut belongs_to_tenant(Course::Table, Course::TenantId))
                .foreign_key(
                    ForeignKey::create()
                        .from(Course::Table, (Course::TenantId, Course::SlaServiceId))
                        .to(
                            TradedService::Table,
                            (TradedService::TenantId, TradedService::Id),
                        ),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("course_by_status")
                .table(Course::Table)
                .col(Course::TenantId)
                .col(Course::Status)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(CourseSession::Table)
                .col(string(CourseSession::TenantId))
                .col(string(CourseSession::Id))
                .col(string(CourseSession::CourseId))
                .col(timestamp_with_time_zone(CourseSession::StartsAt))
                .col(timestamp_with_time_zone(CourseSession::EndsAt))
                .col(string_null(CourseSession::Venue))
                .col(string_null(CourseSession::OnlineUrl))
                .col(integer(CourseSession::Capacity))
                .col(integer(CourseSession::PlacesTaken).default(0))
                .col(string(CourseSession::Status))
                .col(timestamp_with_time_zone(CourseSession::CreatedAt))
                .col(timestamp_with_time_zone(CourseSession::UpdatedAt))
                .primary_key(
                    Index::create()
                        .col(CourseSession::TenantId)
                        .col(CourseSession::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(
                            CourseSession::Table,
                            (CourseSession::TenantId, CourseSession::CourseId),
                        )
                        .to(Course::Table, (Course::TenantId, Course::Id))
                        .on_delete(ForeignKeyAction::Cascade),
                )
                // The database, not the application, is the last word on places: a
                // booking that would overfill a session fails here whatever the race.
                .check(Expr::cust(
                    "capacity >= 0 AND places_taken >= 0 AND places_taken <= capacity",
                ))
                .check(Expr::cust("ends_at > starts_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("course_session_by_course")
                .table(CourseSession::Table)
                .col(CourseSession::TenantId)
                .col(CourseSession::CourseId)
                .col(CourseSession::StartsAt)
                .to_owned(),
        )
        .await?;
        let conn = m.get_connection();
        match m.get_database_backend() {
            DbBackend::Postgres => {
                conn.execute_unprepared(POSTGRES_SEARCH).await?;
                for (table, privileges) in [
                    ("traded_service", "SELECT, INSERT, UPDATE, DELETE"),
                    ("service_price_band", "SELECT, INSERT, UPDATE, DELETE"),
                    ("course", "SELECT, INSERT, UPDATE, DELETE"),
                    ("course_session", "SELECT, INSERT, UPDATE, DELETE"),
                ] {
                    conn.execute_unprepared(&tenant_rls(table, privileges))
                        .await?;
                }
            }
            _ => {
                conn.execute_unprepared(SQLITE_SEARCH).await?;
            }
        }
        Ok(())
    }
}
