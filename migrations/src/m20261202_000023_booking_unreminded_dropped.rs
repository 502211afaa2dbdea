//! Drops `booking_unreminded` (tenant, status, reminded_at): the reminder job finds its
//! bookings by session (those starting within the tenant's reminder days), which
//! `booking_by_session_org` serves, so nothing read through this index, and every booking
//! paid for it when written.
//!
//! Safe during a rolling upgrade: the previous release's queries are the same, and an
//! index is only ever a way to read. Dropping it locks `booking` for a moment.

// async_trait expands the signature; its elided lifetime cannot be written out here.
#![allow(elided_lifetimes_in_paths)]

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261202_000023_booking_unreminded_dropped"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.get_connection()
            .execute_unprepared("DROP INDEX IF EXISTS booking_unreminded")
            .await?;
        Ok(())
    }
}
