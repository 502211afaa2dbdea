//! Schema migrations, one set for SQLite (the embedded default) and PostgreSQL.
//!
//! Invariants every migration keeps:
//! - every tenant-owned table has a `tenant_id` column leading its primary key, and foreign
//!   keys between tenant-owned tables include `tenant_id`;
//! - on PostgreSQL every tenant-owned table gets forced row-level security and the
//!   `tenant_isolation` policy through [`tenant_rls`], and grants for the request-path role
//!   [`APP_ROLE`], which owns nothing and cannot bypass RLS;
//! - applied migrations are never edited: changes are new files (expand, then contract);
//! - a data migration over tenant tables runs through [`every_tenant`], or on PostgreSQL
//!   forced row-level security hides every row from it.

pub use sea_orm_migration::prelude::*;

mod m20261123_000001_create_platform;
mod m20261123_000002_create_accounts;
mod m20261123_000003_create_organisations;
mod m20261123_000004_create_secrets;
mod m20261123_000005_create_second_factor;
mod m20261123_000006_create_federated_identity;
mod m20261123_000007_create_consent_and_alerts;
mod m20261123_000008_create_induction_record;
mod m20261123_000009_create_catalogue;
mod m20261123_000010_create_resource;
mod m20261123_000011_create_bookings;
mod m20261123_000012_create_retention;
mod m20261123_000013_create_attendance;
mod m20261123_000014_outbox_delivery;
mod m20261123_000015_create_notice_versions;
mod m20261201_000016_reminders_feedback;
mod m20261201_000017_create_service_purchase;
mod m20261201_000018_create_audit_pending;
mod m20261201_000019_create_basket;
mod m20261201_000020_session_org_limit;
mod m20261201_000021_booking_approval;
mod m20261201_000022_catalogue_revision;
mod m20261202_000023_booking_unreminded_dropped;
mod m20261205_000024_second_factor_pending;
mod m20261205_000025_rights_requests;
mod m20261205_000026_email_change;
mod m20261205_000027_breaches;
mod m20261205_000028_page_views_and_reviews;
mod m20261205_000029_communications;
mod m20261205_000030_induction_created;
mod m20261205_000031_held_alerts;
mod m20261205_000032_review_announced;
mod m20261205_000033_api_tokens;
mod m20261205_000034_offboarding;
mod m20261205_000035_invoices;
mod m20261205_000036_invoice_numbering;
mod m20261206_000037_tenant_hostnames;
mod m20261206_000038_review_announcements;
mod m20261206_000039_outbox_without_tenant_key;

/// The PostgreSQL role request-path transactions switch to (`SET LOCAL ROLE`). Created by
/// the first migration; NOLOGIN, no BYPASSRLS, owns no table.
pub const APP_ROLE: &str = "portal_app";

/// The transaction-local setting that scopes a transaction to one tenant.
pub const TENANT_SETTING: &str = "app.tenant_id";

/// Every migration, in order.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261123_000001_create_platform::Migration),
            Box::new(m20261123_000002_create_accounts::Migration),
            Box::new(m20261123_000003_create_organisations::Migration),
            Box::new(m20261123_000004_create_secrets::Migration),
            Box::new(m20261123_000005_create_second_factor::Migration),
            Box::new(m20261123_000006_create_federated_identity::Migration),
            Box::new(m20261123_000007_create_consent_and_alerts::Migration),
            Box::new(m20261123_000008_create_induction_record::Migration),
            Box::new(m20261123_000009_create_catalogue::Migration),
            Box::new(m20261123_000010_create_resource::Migration),
            Box::new(m20261123_000011_create_bookings::Migration),
            Box::new(m20261123_000012_create_retention::Migration),
            Box::new(m20261123_000013_create_attendance::Migration),
            Box::new(m20261123_000014_outbox_delivery::Migration),
            Box::new(m20261123_000015_create_notice_versions::Migration),
            Box::new(m20261201_000016_reminders_feedback::Migration),
            Box::new(m20261201_000017_create_service_purchase::Migration),
            Box::new(m20261201_000018_create_audit_pending::Migration),
            Box::new(m20261201_000019_create_basket::Migration),
            Box::new(m20261201_000020_session_org_limit::Migration),
            Box::new(m20261201_000021_booking_approval::Migration),
            Box::new(m20261201_000022_catalogue_revision::Migration),
            Box::new(m20261202_000023_booking_unreminded_dropped::Migration),
            Box::new(m20261205_000024_second_factor_pending::Migration),
            Box::new(m20261205_000025_rights_requests::Migration),
            Box::new(m20261205_000026_email_change::Migration),
            Box::new(m20261205_000027_breaches::Migration),
            Box::new(m20261205_000028_page_views_and_reviews::Migration),
            Box::new(m20261205_000029_communications::Migration),
            Box::new(m20261205_000030_induction_created::Migration),
            Box::new(m20261205_000031_held_alerts::Migration),
            Box::new(m20261205_000032_review_announced::Migration),
            Box::new(m20261205_000033_api_tokens::Migration),
            Box::new(m20261205_000034_offboarding::Migration),
            Box::new(m20261205_000035_invoices::Migration),
            Box::new(m20261205_000036_invoice_numbering::Migration),
            Box::new(m20261206_000037_tenant_hostnames::Migration),
            Box::new(m20261206_000038_review_announcements::Migration),
            Box::new(m20261206_000039_outbox_without_tenant_key::Migration),
        ]
    }
}

/// A foreign key from `(tenant_id, account_id)` of `table` to the account it belongs to;
/// deleting the account deletes the row (its data goes with the person).
#[must_use]
pub fn belongs_to_account(table: &str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(
            Alias::new(table),
            (Alias::new("tenant_id"), Alias::new("account_id")),
        )
        .to(
            Alias::new("account"),
            (Alias::new("tenant_id"), Alias::new("id")),
        )
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

/// PostgreSQL statements that put a tenant-owned table under forced row-level security,
/// keyed on the transaction-local tenant setting, and grant `privileges` to [`APP_ROLE`].
/// With no setting (or an empty one) the policy matches no row, so a forgotten scope reads
/// nothing and writes fail.
#[must_use]
pub fn tenant_rls(table: &str, privileges: &str) -> String {
    format!(
        "ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;
         ALTER TABLE {table} FORCE ROW LEVEL SECURITY;
         CREATE POLICY tenant_isolation ON {table}
           USING (tenant_id = NULLIF(current_setting('{TENANT_SETTING}', true), ''))
           WITH CHECK (tenant_id = NULLIF(current_setting('{TENANT_SETTING}', true), ''));
         GRANT {privileges} ON {table} TO {APP_ROLE};"
    )
}

/// Runs `sql` over every tenant's rows of `tables`. On PostgreSQL their row-level security
/// is forced, even for their owner, and the migrating connection names no tenant, so it
/// would see no rows: the forcing is lifted for the statement, within this migration's
/// transaction. (Data migrations that read or change tenant tables go through this.)
pub async fn every_tenant(m: &SchemaManager<'_>, tables: &[&str], sql: &str) -> Result<(), DbErr> {
    let conn = m.get_connection();
    let postgres = m.get_database_backend() == sea_orm_migration::sea_orm::DbBackend::Postgres;
    for table in tables.iter().filter(|_| postgres) {
        conn.execute_unprepared(&format!("ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY"))
            .await?;
    }
    conn.execute_unprepared(sql).await?;
    for table in tables.iter().filter(|_| postgres) {
        conn.execute_unprepared(&format!("ALTER TABLE {table} FORCE ROW LEVEL SECURITY"))
            .await?;
    }
    Ok(())
}
