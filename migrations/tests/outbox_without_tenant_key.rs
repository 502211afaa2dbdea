//! `m20261206_000039_outbox_without_tenant_key`: on PostgreSQL, queuing an email no longer
//! locks the council's `tenant` row (shown by queuing one while another transaction holds
//! that row: with the key it waits); going back down restores the key.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use migration::Migrator;
use sea_orm_migration::MigratorTrait;
use sea_orm_migration::sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement,
    TransactionTrait,
};

const THIS: &str = "m20261206_000039_outbox_without_tenant_key";

/// Queues an email for `tenant` on `db` while another connection holds `tenant`'s row
/// (`FOR UPDATE`); whether the email was queued before the lock timeout.
async fn queued_beside_a_held_tenant_row(db: &DatabaseConnection, url: &str, n: u32) -> bool {
    let mut options = ConnectOptions::new(url.to_owned());
    options.max_connections(1).min_connections(1);
    let other = Database::connect(options).await.unwrap();
    let holder = other.begin().await.unwrap();
    holder
        .execute_unprepared("SELECT id FROM tenant WHERE id = 'somerset' FOR UPDATE")
        .await
        .unwrap();
    let queued = db
        .execute_unprepared(&format!(
            "SET lock_timeout = '300ms'; \
             SELECT set_config('app.tenant_id', 'somerset', false); \
             INSERT INTO outbox_email (tenant_id, id, to_address, subject, body_text, created_at, attempts) \
             VALUES ('somerset', 'e{n}', 'a@school.example', 'Booked', 'Booked.', now(), 0)"
        ))
        .await
        .is_ok();
    db.execute_unprepared("RESET lock_timeout; SELECT set_config('app.tenant_id', '', false)")
        .await
        .unwrap();
    holder.rollback().await.unwrap();
    other.close().await.unwrap();
    queued
}

#[tokio::test]
async fn on_postgresql_queuing_an_email_leaves_the_councils_row_alone() {
    common::on_postgres_as_owner(|db, url| async move {
        Migrator::up(&db, Some(common::before(THIS))).await.unwrap();
        db.execute_unprepared(
            "INSERT INTO tenant (id, display_name, config, config_sha256, created_at, updated_at) \
             VALUES ('somerset', 'Somerset', '', '', now(), now())",
        )
        .await
        .unwrap();
        assert!(
            !queued_beside_a_held_tenant_row(&db, &url, 1).await,
            "with the key, queuing an email waits for the council's row"
        );

        Migrator::up(&db, Some(common::after(THIS) + 1))
            .await
            .unwrap();
        assert!(
            queued_beside_a_held_tenant_row(&db, &url, 2).await,
            "without it, the email is queued at once"
        );

        Migrator::down(&db, Some(common::after(THIS) + 1))
            .await
            .unwrap();
        assert!(
            !queued_beside_a_held_tenant_row(&db, &url, 3).await,
            "going down restores the key"
        );
    })
    .await;
}

/// The tables `outbox_email`'s foreign keys point to, on SQLite.
async fn outbox_keys(db: &DatabaseConnection) -> Vec<String> {
    db.query_all_raw(Statement::from_string(
        DbBackend::Sqlite,
        "SELECT \"table\" FROM pragma_foreign_key_list('outbox_email')",
    ))
    .await
    .unwrap()
    .iter()
    .map(|r| r.try_get_by_index::<String>(0).unwrap())
    .collect()
}

#[tokio::test]
async fn on_sqlite_the_key_stays_both_ways() {
    let db = common::sqlite().await;
    Migrator::up(&db, None).await.unwrap();
    assert_eq!(outbox_keys(&db).await, ["tenant"], "SQLite keeps the key");
    Migrator::down(&db, Some(common::after(THIS) + 1))
        .await
        .unwrap();
    assert_eq!(outbox_keys(&db).await, ["tenant"]);
}
