//! `m20261206_000038_review_announcements` on SQLite: reviews no officer was told of
//! become one unsent announcement per council, so the next sweep tells of them; going back
//! down keeps those reviews unannounced.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use migration::Migrator;
use sea_orm_migration::MigratorTrait;
use sea_orm_migration::sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement,
};

async fn strings(db: &DatabaseConnection, sql: &str) -> Vec<String> {
    db.query_all_raw(Statement::from_string(DbBackend::Sqlite, sql))
        .await
        .unwrap()
        .iter()
        .map(|r| r.try_get_by_index::<String>(0).unwrap())
        .collect()
}

#[tokio::test]
async fn unannounced_reviews_become_one_unsent_announcement_per_council() {
    // One connection: each connection to `:memory:` is a database of its own.
    let mut options = ConnectOptions::new("sqlite::memory:");
    options.max_connections(1).min_connections(1);
    let db = Database::connect(options).await.unwrap();
    let before = u32::try_from(Migrator::migrations().len() - 1).unwrap();
    Migrator::up(&db, Some(before)).await.unwrap();
    db.execute_unprepared(
        "INSERT INTO retention_review (tenant_id, id, rule_index, rule, record_kind, record_id,
           due_on, created_at, status, announced_at) VALUES
         ('stockport', 'r1', 0, 'rule', 'account', 'a1', '2026-01-01', '2026-01-02T00:00:00Z', 'open', NULL),
         ('stockport', 'r2', 0, 'rule', 'account', 'a2', '2026-01-01', '2026-01-03T00:00:00Z', 'open', NULL),
         ('stockport', 'r3', 0, 'rule', 'account', 'a3', '2026-01-01', '2026-01-01T00:00:00Z', 'open', '2026-01-01T00:00:00Z'),
         ('somerset', 'r4', 0, 'rule', 'induction', 'a4', '2026-01-01', '2026-01-01T00:00:00Z', 'kept', NULL),
         ('somerset', 'r5', 0, 'rule', 'induction', 'a5', '2026-01-01', '2026-01-01T00:00:00Z', 'open', '2026-01-01T00:00:00Z')",
    )
    .await
    .unwrap();

    Migrator::up(&db, None).await.unwrap();
    assert_eq!(
        strings(
            &db,
            "SELECT tenant_id || ' ' || reviews || ' ' || (sent_at IS NULL) FROM review_announcement"
        )
        .await,
        ["stockport 2 1"],
        "Stockport's two open, unannounced reviews wait to be announced; Somerset has none"
    );
    assert!(
        db.execute_unprepared("SELECT announced_at FROM retention_review")
            .await
            .is_err(),
        "the flag on each review is gone"
    );

    Migrator::down(&db, Some(1)).await.unwrap();
    assert_eq!(
        strings(
            &db,
            "SELECT id FROM retention_review WHERE announced_at IS NULL ORDER BY id"
        )
        .await,
        ["r1", "r2", "r3"],
        "a council with an announcement unsent has its reviews announced again"
    );
}
