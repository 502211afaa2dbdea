//! `m20261206_000038_review_announcements`: reviews no officer was told of become one
//! unsent announcement per council, so the next sweep tells of them; going back down keeps
//! those reviews unannounced. On SQLite, and on PostgreSQL (when `DATABASE_URL` names one)
//! as a table owner without superuser, whom forced row-level security binds.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use migration::Migrator;
use sea_orm_migration::MigratorTrait;
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};

async fn strings(db: &DatabaseConnection, sql: &str) -> Vec<String> {
    db.query_all_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap()
        .iter()
        .map(|r| r.try_get_by_index::<String>(0).unwrap())
        .collect()
}

const REVIEWS: [(&str, &str, &str, &str, Option<&str>); 5] = [
    ("stockport", "r1", "2026-01-02T00:00:00Z", "open", None),
    ("stockport", "r2", "2026-01-03T00:00:00Z", "open", None),
    (
        "stockport",
        "r3",
        "2026-01-01T00:00:00Z",
        "open",
        Some("2026-01-01T00:00:00Z"),
    ),
    ("somerset", "r4", "2026-01-01T00:00:00Z", "kept", None),
    (
        "somerset",
        "r5",
        "2026-01-01T00:00:00Z",
        "open",
        Some("2026-01-01T00:00:00Z"),
    ),
];

fn insert(tenant: &str) -> String {
    let rows: Vec<String> = REVIEWS
        .iter()
        .filter(|r| r.0 == tenant)
        .map(|(t, id, at, status, told)| {
            let told = told.map_or_else(|| "NULL".to_owned(), |t| format!("'{t}'"));
            format!(
                "('{t}', '{id}', 0, 'rule', 'account', 'a-{id}', '2026-01-01', '{at}', \
                 '{status}', {told})"
            )
        })
        .collect();
    format!(
        "INSERT INTO retention_review (tenant_id, id, rule_index, rule, record_kind, \
         record_id, due_on, created_at, status, announced_at) VALUES {}",
        rows.join(", ")
    )
}

/// Makes the next statements run as `tenant` (none: as no tenant, as migrations run) on
/// PostgreSQL, whose row-level security is forced on these tables; nothing on SQLite.
async fn scope(db: &DatabaseConnection, tenant: Option<&str>) {
    if db.get_database_backend() == DbBackend::Postgres {
        db.execute_unprepared(&format!(
            "SELECT set_config('app.tenant_id', '{}', false)",
            tenant.unwrap_or("")
        ))
        .await
        .unwrap();
    }
}

/// `sql`'s rows of `tenant` (`{t}` in it stands for the tenant).
async fn rows(db: &DatabaseConnection, tenant: &str, sql: &str) -> Vec<String> {
    scope(db, Some(tenant)).await;
    let out = strings(db, &sql.replace("{t}", tenant)).await;
    scope(db, None).await;
    out
}

/// The migration tested.
const THIS: &str = "m20261206_000038_review_announcements";

/// Runs the migrations up to 000038, adds the reviews, runs 000038 up and down, and checks
/// what each direction left.
async fn up_and_down(db: &DatabaseConnection) {
    Migrator::up(db, Some(common::before(THIS))).await.unwrap();
    for tenant in ["stockport", "somerset"] {
        scope(db, Some(tenant)).await;
        db.execute_unprepared(&insert(tenant)).await.unwrap();
    }
    scope(db, None).await;

    Migrator::up(db, None).await.unwrap();
    let announcements = "SELECT tenant_id || ' ' || reviews || ' ' || CASE WHEN sent_at IS NULL \
         THEN 'unsent' ELSE 'sent' END FROM review_announcement WHERE tenant_id = '{t}'";
    assert_eq!(
        rows(db, "stockport", announcements).await,
        ["stockport 2 unsent"],
        "Stockport's two open, unannounced reviews wait to be announced"
    );
    assert!(
        rows(db, "somerset", announcements).await.is_empty(),
        "Somerset has none"
    );
    assert!(
        db.execute_unprepared("SELECT announced_at FROM retention_review")
            .await
            .is_err(),
        "the flag on each review is gone"
    );

    Migrator::down(db, Some(common::after(THIS) + 1))
        .await
        .unwrap();
    let unannounced = "SELECT id FROM retention_review WHERE tenant_id = '{t}' AND announced_at IS NULL \
         ORDER BY id";
    assert_eq!(
        rows(db, "stockport", unannounced).await,
        ["r1", "r2", "r3"],
        "a council with an announcement unsent has its reviews announced again"
    );
    assert!(
        rows(db, "somerset", unannounced).await.is_empty(),
        "the others were told of"
    );
}

#[tokio::test]
async fn unannounced_reviews_become_one_unsent_announcement_per_council() {
    up_and_down(&common::sqlite().await).await;
}

/// As a table owner without superuser (as deployments migrate), whom forced row-level
/// security binds: the migration must still see every tenant's reviews.
#[tokio::test]
async fn on_postgresql_the_migration_sees_every_tenants_reviews() {
    common::on_postgres_as_owner(|db, _| async move { up_and_down(&db).await }).await;
}
