//! Analytics as the platform keeps it: one count per page per day, for visitors who agreed
//! to analytics. No visitor id, address or browser detail is stored, so the counts say
//! nothing about anyone; the tenant's analytics retention rule deletes old days.

use chrono::NaiveDate;
use sea_orm::{ConnectionTrait as _, FromQueryResult, Statement};

use crate::{StorageError, TenantTx};

/// Longest path counted; longer ones are counted under their first characters.
const PATH_MAX: usize = 200;

/// Counts one view of `path` on `day`.
///
/// # Errors
/// When the statement fails.
pub async fn count(tx: &TenantTx, day: NaiveDate, path: &str) -> Result<(), StorageError> {
    let backend = (**tx).get_database_backend();
    let path: String = path.chars().take(PATH_MAX).collect();
    (**tx)
        .execute_raw(Statement::from_sql_and_values(
            backend,
            "INSERT INTO page_view (tenant_id, day, path, views) VALUES ($1, $2, $3, 1) \
             ON CONFLICT (tenant_id, day, path) DO UPDATE SET views = page_view.views + 1",
            [tx.tenant().as_str().into(), day.into(), path.into()],
        ))
        .await?;
    Ok(())
}

/// Deletes the counts of days before `day`. Returns how many daily counts went.
///
/// # Errors
/// When the statement fails.
pub async fn delete_before(tx: &TenantTx, day: NaiveDate) -> Result<u64, StorageError> {
    let backend = (**tx).get_database_backend();
    Ok((**tx)
        .execute_raw(Statement::from_sql_and_values(
            backend,
            "DELETE FROM page_view WHERE tenant_id = $1 AND day < $2",
            [tx.tenant().as_str().into(), day.into()],
        ))
        .await?
        .rows_affected())
}

/// Views of one page.
#[derive(Clone, Debug, PartialEq, Eq, FromQueryResult)]
pub struct PageCount {
    /// The page.
    pub path: String,
    /// Views in the period.
    pub views: i64,
}

/// Views per page from `from` to `to` (inclusive), most viewed first, at most `limit`.
///
/// # Errors
/// When the query fails.
pub async fn top_pages(
    tx: &TenantTx,
    from: NaiveDate,
    to: NaiveDate,
    limit: u64,
) -> Result<Vec<PageCount>, StorageError> {
    let backend = (**tx).get_database_backend();
    Ok(PageCount::find_by_statement(Statement::from_sql_and_values(
        backend,
        "SELECT path, CAST(SUM(views) AS BIGINT) AS views FROM page_view \
         WHERE tenant_id = $1 AND day >= $2 AND day <= $3 \
         GROUP BY path ORDER BY views DESC, path LIMIT $4",
        [
            tx.tenant().as_str().into(),
            from.into(),
            to.into(),
            i64::try_from(limit).unwrap_or(i64::MAX).into(),
        ],
    ))
    .all(&**tx)
    .await?)
}
