//! Orders, bookings, waiting lists and the transaction log. A person holds at most one live
//! booking and one live waiting-list entry per session (partial unique indexes); the place
//! itself is taken by a conditional update of `course_session.places_taken`, which its CHECK
//! keeps within capacity.
//!
//! Orders, bookings and the transaction log outlive the account they name (purchase records
//! have their own retention; the person is pseudonymised, not the record deleted), so they
//! carry the account id without a cascading foreign key. Waiting-list entries go with the
//! account.

// async_trait expands the signature; its elided lifetime cannot be written out here.
#![allow(elided_lifetimes_in_paths)]

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer, string, string_null, text, timestamp_with_time_zone, timestamp_with_time_zone_null,
};
use sea_orm_migration::sea_orm::DbBackend;

use crate::tenant_rls;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261123_000011_create_bookings"
    }
}

#[derive(DeriveIden)]
enum Account {
    Table,
    TenantId,
    Id,
}

#[derive(DeriveIden)]
enum CourseSession {
    Table,
    TenantId,
    Id,
}

#[derive(DeriveIden)]
enum BookingOrder {
    Table,
    TenantId,
    Id,
    Number,
    AccountId,
    OrganisationId,
    TotalPence,
    IdempotencyKey,
    RequestHash,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Booking {
    Table,
    TenantId,
    Id,
    OrderId,
    SessionId,
    CourseId,
    AccountId,
    OrganisationId,
    PricePence,
    Status,
    CreatedAt,
    CancelledAt,
}

#[derive(DeriveIden)]
enum WaitingListEntry {
    Table,
    TenantId,
    Id,
    OrderId,
    SessionId,
    CourseId,
    AccountId,
    OrganisationId,
    Status,
    OfferTokenHash,
    OfferExpiresAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum TransactionLog {
    Table,
    TenantId,
    Id,
    AccountId,
    OrganisationId,
    Action,
    Subject,
    Detail,
    OccurredAt,
}

fn to_account<T: IntoIden + 'static>(table: T, column: impl IntoIden) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from_tbl(table)
        .from_col(Alias::new("tenant_id"))
        .from_col(column)
        .to(Account::Table, (Account::TenantId, Account::Id))
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

fn to_session<T: IntoIden + 'static>(table: T) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from_tbl(table)
        .from_col(Alias::new("tenant_id"))
        .from_col(Alias::new("session_id"))
        .to(
            CourseSession::Table,
            (CourseSession::TenantId, CourseSession::Id),
        )
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(BookingOrder::Table)
                .col(string(BookingOrder::TenantId))
                .col(string(BookingOrder::Id))
                .col(string(BookingOrder::Number))
                .col(string(BookingOrder::AccountId))
                .col(string_null(BookingOrder::OrganisationId))
                .col(big_integer(BookingOrder::TotalPence))
                .col(string(BookingOrder::IdempotencyKey))
                .col(string(BookingOrder::RequestHash))
                .col(timestamp_with_time_zone(BookingOrder::CreatedAt))
                .primary_key(
                    Index::create()
                        .col(BookingOrder::TenantId)
                        .col(BookingOrder::Id),
                )
                .to_owned(),
        )
        .await?;
        for (name, cols) in [
            (
                "booking_order_number",
                vec![BookingOrder::TenantId, BookingOrder::Number],
            ),
            (
                "booking_order_idempotency",
                vec![
                    BookingOrder::TenantId,
                    BookingOrder::AccountId,
                    BookingOrder::IdempotencyKey,
                ],
            ),
        ] {
            let mut idx = Index::create();
            idx.name(name).table(BookingOrder::Table).unique();
            for c in cols {
                idx.col(c);
            }
            m.create_index(idx.to_owned()).await?;
        }
        m.create_table(
            Table::create()
                .table(Booking::Table)
                .col(string(Booking::TenantId))
                .col(string(Booking::Id))
                .col(string(Booking::OrderId))
                .col(string(Booking::SessionId))
                .col(string(Booking::CourseId))
                .col(string(Booking::AccountId))
                .col(string_null(Booking::OrganisationId))
                .col(big_integer(Booking::PricePence))
                .col(string(Booking::Status))
                .col(timestamp_with_time_zone(Booking::CreatedAt))
                .col(timestamp_with_time_zone_null(Booking::CancelledAt))
                .primary_key(Index::create().col(Booking::TenantId).col(Booking::Id))
                .foreign_key(&mut to_session(Booking::Table))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(WaitingListEntry::Table)
                .col(string(WaitingListEntry::TenantId))
                .col(string(WaitingListEntry::Id))
                .col(string(WaitingListEntry::OrderId))
                .col(string(WaitingListEntry::SessionId))
                .col(string(WaitingListEntry::CourseId))
                .col(string(WaitingListEntry::AccountId))
                .col(string_null(WaitingListEntry::OrganisationId))
                .col(string(WaitingListEntry::Status))
                .col(string_null(WaitingListEntry::OfferTokenHash))
                .col(timestamp_with_time_zone_null(
                    WaitingListEntry::OfferExpiresAt,
                ))
                .col(timestamp_with_time_zone(WaitingListEntry::CreatedAt))
                .primary_key(
                    Index::create()
                        .col(WaitingListEntry::TenantId)
                        .col(WaitingListEntry::Id),
                )
                .foreign_key(&mut to_account(
                    WaitingListEntry::Table,
                    WaitingListEntry::AccountId,
                ))
                .foreign_key(&mut to_session(WaitingListEntry::Table))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(TransactionLog::Table)
                .col(string(TransactionLog::TenantId))
                .col(string(TransactionLog::Id))
                .col(string(TransactionLog::AccountId))
                .col(string_null(TransactionLog::OrganisationId))
                .col(string(TransactionLog::Action))
                .col(string(TransactionLog::Subject))
                .col(text(TransactionLog::Detail))
                .col(timestamp_with_time_zone(TransactionLog::OccurredAt))
                .primary_key(
                    Index::create()
                        .col(TransactionLog::TenantId)
                        .col(TransactionLog::Id),
                )
                .to_owned(),
        )
        .await?;
        let conn = m.get_connection();
        // Partial unique indexes (both databases support them): one live booking and one
        // live waiting-list entry per person per session, whatever the race.
        conn.execute_unprepared(
            "CREATE UNIQUE INDEX booking_one_live ON booking (tenant_id, session_id, account_id) \
             WHERE status = 'confirmed';
             CREATE UNIQUE INDEX waiting_one_live ON waiting_list_entry (tenant_id, session_id, account_id) \
             WHERE status IN ('waiting', 'offered');
             CREATE INDEX booking_by_account ON booking (tenant_id, account_id);
             CREATE INDEX waiting_by_session ON waiting_list_entry (tenant_id, session_id, created_at);",
        )
        .await?;
        if m.get_database_backend() == DbBackend::Postgres {
            for table in ["booking_order", "booking", "waiting_list_entry"] {
                conn.execute_unprepared(&tenant_rls(table, "SELECT, INSERT, UPDATE, DELETE"))
                    .await?;
            }
            // The transaction log is append-only for the application.
            conn.execute_unprepared(&tenant_rls("transaction_log", "SELECT, INSERT"))
                .await?;
        }
        Ok(())
    }
}
