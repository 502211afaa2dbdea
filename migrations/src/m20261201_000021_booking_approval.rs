//! Authorisation of staff bookings: an organisation may ask that places its staff book on
//! its account wait for a lead administrator's approval. Such a place holds its seat as
//! `pending` until approved (`confirmed`) or declined (`cancelled`), so the one-live-place
//! rule now covers pending places too.

// async_trait expands the signature; its elided lifetime cannot be written out here.
#![allow(elided_lifetimes_in_paths)]

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::boolean;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261201_000021_booking_approval"
    }
}

#[derive(DeriveIden)]
enum Organisation {
    Table,
    ApproveBookings,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Organisation::Table)
                .add_column(boolean(Organisation::ApproveBookings).default(false))
                .to_owned(),
        )
        .await?;
        let conn = m.get_connection();
        conn.execute_unprepared(
            "CREATE UNIQUE INDEX booking_one_held ON booking (tenant_id, session_id, account_id) \
             WHERE status IN ('confirmed', 'pending')",
        )
        .await?;
        conn.execute_unprepared("DROP INDEX booking_one_live")
            .await?;
        Ok(())
    }
}
