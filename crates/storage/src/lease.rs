//! Leases for background jobs that must run on one replica at a time (the daily retention
//! sweep). A lease is a row naming its holder until a time; taking it is one conditional
//! statement, so two replicas racing for it cannot both win, on SQLite or PostgreSQL.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ConnectionTrait as _, Statement};

use crate::{Db, StorageError};

/// Takes the lease `name` for `holder` until `now + ttl` if it is free (never taken, or
/// expired). Returns whether `holder` now holds it.
///
/// # Errors
/// [`StorageError::Db`] when the database fails.
pub async fn try_acquire(
    db: &Db,
    name: &str,
    holder: &str,
    now: DateTime<Utc>,
    ttl: Duration,
) -> Result<bool, StorageError> {
    // In a transaction that takes SQLite's writer turn: a write beside the queue would
    // commit under a request's open transaction and fail its next write.
    let tx = db.platform_tx().await?;
    let conn = &*tx;
    let backend = conn.get_database_backend();
    let until = now + ttl;
    conn.execute_raw(Statement::from_sql_and_values(
        backend,
        "INSERT INTO job_lease (name, holder, expires_at) VALUES ($1, '', $2) ON CONFLICT DO NOTHING",
        [name.into(), now.into()],
    ))
    .await?;
    let taken = conn
        .execute_raw(Statement::from_sql_and_values(
            backend,
            "UPDATE job_lease SET holder = $1, expires_at = $2 WHERE name = $3 AND expires_at <= $4",
            [holder.into(), until.into(), name.into(), now.into()],
        ))
        .await?
        .rows_affected();
    tx.commit().await?;
    Ok(taken == 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DbOptions;

    #[tokio::test]
    async fn one_holder_until_the_lease_expires() {
        let db = Db::connect(
            "sqlite::memory:",
            &DbOptions {
                pg_schema: None,
                max_connections: Some(1),
            },
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
        db.migrate().await.unwrap_or_else(|e| panic!("{e}"));
        let now = Utc::now();
        let day = Duration::hours(23);
        assert!(
            try_acquire(&db, "sweep", "a", now, day)
                .await
                .unwrap_or(false)
        );
        assert!(
            !try_acquire(&db, "sweep", "b", now, day)
                .await
                .unwrap_or(true)
        );
        assert!(
            !try_acquire(&db, "sweep", "a", now + Duration::hours(1), day)
                .await
                .unwrap_or(true)
        );
        assert!(
            try_acquire(&db, "sweep", "b", now + day, day)
                .await
                .unwrap_or(false)
        );
        assert!(
            try_acquire(&db, "other", "a", now, day)
                .await
                .unwrap_or(false)
        );
    }
}
