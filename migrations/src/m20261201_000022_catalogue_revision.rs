//! A revision count on courses and sessions: what a checkout read is what it writes
//! against.
//!
//! Every catalogue change to a course or session row adds one (places taken do not: they
//! are the bookings' own count). A checkout that read a session and its course, or had
//! them in memory, takes its place only while both still have the revisions it read, so a
//! booking is never confirmed with a title, time, venue or price that has since changed.

// async_trait expands the signature; its elided lifetime cannot be written out here.
#![allow(elided_lifetimes_in_paths)]

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::big_integer;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261201_000022_catalogue_revision"
    }
}

#[derive(DeriveIden)]
enum Course {
    Table,
    Revision,
}

#[derive(DeriveIden)]
enum CourseSession {
    Table,
    Revision,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // Expand only: existing rows start at 0, which running code never compares.
        m.alter_table(
            Table::alter()
                .table(Course::Table)
                .add_column(big_integer(Course::Revision).default(0))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(CourseSession::Table)
                .add_column(big_integer(CourseSession::Revision).default(0))
                .to_owned(),
        )
        .await
    }
}
