//! What the migration tests share: a database migrated as deployments migrate.

#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use std::future::Future;

use migration::Migrator;
use sea_orm_migration::MigratorTrait;
use sea_orm_migration::sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection};

/// How many migrations come after the one named `name` (which must exist), so
/// `Migrator::up(db, Some(len - after - 1))` stops just before it and
/// `Migrator::down(db, Some(after + 1))` undoes it and every later one.
pub fn after(name: &str) -> u32 {
    let all = Migrator::migrations();
    let at = all
        .iter()
        .position(|m| m.name() == name)
        .unwrap_or_else(|| panic!("no migration {name}"));
    u32::try_from(all.len() - at - 1).unwrap()
}

/// How many migrations come before the one named `name`.
pub fn before(name: &str) -> u32 {
    u32::try_from(Migrator::migrations().len()).unwrap() - after(name) - 1
}

/// An empty SQLite database in memory, on one connection (each connection to `:memory:`
/// is a database of its own).
pub async fn sqlite() -> DatabaseConnection {
    let mut options = ConnectOptions::new("sqlite::memory:");
    options.max_connections(1).min_connections(1);
    Database::connect(options).await.unwrap()
}

/// Runs `check` on PostgreSQL (when `DATABASE_URL` names one) as a table owner without
/// superuser, as deployments migrate: forced row-level security binds it. `check` gets a
/// connection and the address to open more as the same role. The role has a
/// schema of its own, found first on its search path (`"$user"`); both go afterwards,
/// whatever `check` finds.
pub async fn on_postgres_as_owner<F, Fut>(check: F)
where
    F: FnOnce(DatabaseConnection, String) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    let Some(url) = std::env::var("DATABASE_URL")
        .ok()
        .filter(|u| u.starts_with("postgres"))
    else {
        return;
    };
    let admin = Database::connect(&url).await.unwrap();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let owner = format!("migration_owner_{}_{nanos}", std::process::id());
    let as_owner = url.replacen("://postgres@", &format!("://{owner}@"), 1);
    assert_ne!(as_owner, url, "DATABASE_URL names the user postgres");
    admin
        .execute_unprepared(&format!(
            "CREATE ROLE {owner} LOGIN NOSUPERUSER CREATEROLE NOBYPASSRLS; \
             CREATE SCHEMA {owner} AUTHORIZATION {owner}"
        ))
        .await
        .unwrap();
    // In a task of its own, so the role and schema go whatever the checks find.
    let outcome = tokio::spawn(async move {
        let mut options = ConnectOptions::new(as_owner.clone());
        options.max_connections(1).min_connections(1);
        let db = Database::connect(options).await.unwrap();
        check(db.clone(), as_owner).await;
        db.close().await.unwrap();
    })
    .await;
    let dropped = admin
        .execute_unprepared(&format!(
            "DROP SCHEMA {owner} CASCADE; DROP OWNED BY {owner}; DROP ROLE {owner}"
        ))
        .await;
    if let Err(failed) = outcome {
        std::panic::resume_unwind(failed.into_panic());
    }
    dropped.unwrap();
}
