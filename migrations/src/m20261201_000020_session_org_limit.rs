//! An optional limit on how many places one organisation may hold on a session.

// async_trait expands the signature; its elided lifetime cannot be written out here.
#![allow(elided_lifetimes_in_paths)]

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::integer_null;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261201_000020_session_org_limit"
    }
}

#[derive(DeriveIden)]
enum CourseSession {
    Table,
    OrgPlaceLimit,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // Expand only: a nullable column (no limit), so running code is unaffected.
        m.alter_table(
            Table::alter()
                .table(CourseSession::Table)
                .add_column(integer_null(CourseSession::OrgPlaceLimit))
                .to_owned(),
        )
        .await?;
        m.get_connection()
            .execute_unprepared(
                "CREATE INDEX booking_by_session_org ON booking (tenant_id, session_id, organisation_id, status)",
            )
            .await?;
        Ok(())
    }
}
