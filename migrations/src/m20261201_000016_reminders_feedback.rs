//! Reminders, pre-course information and feedback.
//!
//! - `course.pre_course_info`: what delegates need to know before the day (sent with the
//!   reminder and shown with the booking); `course.certificate_after_feedback`: whether the
//!   certificate waits until the delegate has given feedback.
//! - `booking.reminded_at`: when the reminder was queued, so it is queued once.
//! - `course_feedback`: one questionnaire answer per attended booking, kept per course and
//!   erased with the person.

// async_trait expands the signature; its elided lifetime cannot be written out here.
#![allow(elided_lifetimes_in_paths)]

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    boolean, integer, string, text, timestamp_with_time_zone, timestamp_with_time_zone_null,
};
use sea_orm_migration::sea_orm::DbBackend;

use crate::{belongs_to_account, tenant_rls};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261201_000016_reminders_feedback"
    }
}

#[derive(DeriveIden)]
enum Course {
    Table,
    PreCourseInfo,
    CertificateAfterFeedback,
}

#[derive(DeriveIden)]
enum Booking {
    Table,
    RemindedAt,
}

#[derive(DeriveIden)]
enum CourseFeedback {
    Table,
    TenantId,
    Id,
    BookingId,
    CourseId,
    SessionId,
    AccountId,
    Rating,
    Useful,
    Improve,
    SubmittedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // Expand only: new columns with defaults, so running code is unaffected.
        m.alter_table(
            Table::alter()
                .table(Course::Table)
                .add_column(text(Course::PreCourseInfo).default(""))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Course::Table)
                .add_column(boolean(Course::CertificateAfterFeedback).default(false))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Booking::Table)
                .add_column(timestamp_with_time_zone_null(Booking::RemindedAt))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(CourseFeedback::Table)
                .col(string(CourseFeedback::TenantId))
                .col(string(CourseFeedback::Id))
                .col(string(CourseFeedback::BookingId))
                .col(string(CourseFeedback::CourseId))
                .col(string(CourseFeedback::SessionId))
                .col(string(CourseFeedback::AccountId))
                .col(integer(CourseFeedback::Rating))
                .col(text(CourseFeedback::Useful))
                .col(text(CourseFeedback::Improve))
                .col(timestamp_with_time_zone(CourseFeedback::SubmittedAt))
                .primary_key(
                    Index::create()
                        .col(CourseFeedback::TenantId)
                        .col(CourseFeedback::Id),
                )
                .foreign_key(&mut belongs_to_account("course_feedback"))
                .to_owned(),
        )
        .await?;
        let conn = m.get_connection();
        conn.execute_unprepared(
            "CREATE UNIQUE INDEX feedback_one_per_booking ON course_feedback (tenant_id, booking_id);
             CREATE INDEX feedback_by_course ON course_feedback (tenant_id, course_id, submitted_at);
             CREATE INDEX booking_unreminded ON booking (tenant_id, status, reminded_at);",
        )
        .await?;
        if m.get_database_backend() == DbBackend::Postgres {
            conn.execute_unprepared(&tenant_rls("course_feedback", "SELECT, INSERT, DELETE"))
                .await?;
        }
        Ok(())
    }
}
