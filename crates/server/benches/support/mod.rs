//! What the PostgreSQL benchmarks share: a schema of their own and the portal built on it.

use sea_orm::{ConnectionTrait as _, Database, DatabaseConnection};
use server::{Application, Settings};

/// A fixed key, for benchmarks only.
pub const BENCH_MASTER_KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

/// The portal on a fresh schema of `url`, with the launch tenants; also a plain connection
/// and the schema's name (drop it with [`drop_schema`]). The temporary folder must live as
/// long as the portal.
pub async fn portal_on_fresh_schema(
    url: &str,
    data: &std::path::Path,
    max_connections: Option<u32>,
) -> (Application, DatabaseConnection, String) {
    let schema = format!("bench_{}", uuid::Uuid::new_v4().simple());
    let admin = Database::connect(url).await.unwrap();
    admin
        .execute_unprepared(&format!("CREATE SCHEMA {schema}"))
        .await
        .unwrap();
    let tenants = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tenants");
    let mut settings = Settings::embedded(data, &tenants).unwrap();
    settings.database.url = Some(url.to_owned().into());
    settings.database.schema = Some(schema.clone());
    settings.database.max_connections = max_connections;
    settings.security.master_key = Some(BENCH_MASTER_KEY.to_owned().into());
    let app = Application::build(settings).await.unwrap();
    (app, admin, schema)
}

/// Drops the benchmark's schema.
pub async fn drop_schema(admin: &DatabaseConnection, schema: &str) {
    admin
        .execute_unprepared(&format!("DROP SCHEMA {schema} CASCADE"))
        .await
        .unwrap();
}

/// CPU time (user and system, in Linux's 1/100 s ticks) used so far by this process and by
/// every process named `postgres` on the machine; zeros where `/proc` cannot tell.
#[allow(dead_code, reason = "the bundle benchmark does not measure CPU")]
pub fn cpu() -> (u64, u64) {
    // Fields 14 and 15 of `/proc/<pid>/stat`, counted after the command name's `)`.
    let ticks = |path: std::path::PathBuf| -> Option<u64> {
        let stat = std::fs::read_to_string(path).ok()?;
        let mut fields = stat.get(stat.rfind(')')? + 2..)?.split(' ').skip(11);
        let user: u64 = fields.next()?.parse().ok()?;
        let system: u64 = fields.next()?.parse().ok()?;
        Some(user + system)
    };
    let me = ticks("/proc/self/stat".into()).unwrap_or(0);
    let Ok(all) = std::fs::read_dir("/proc") else {
        return (me, 0);
    };
    let pg = all
        .flatten()
        .filter(|e| {
            std::fs::read_to_string(e.path().join("comm")).is_ok_and(|c| c.trim() == "postgres")
        })
        .filter_map(|e| ticks(e.path().join("stat")))
        .sum();
    (me, pg)
}
