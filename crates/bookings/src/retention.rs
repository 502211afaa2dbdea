//! Bookings and purchases under their own retention rules, for the privacy engine's sweep:
//! bookings on sessions delivered long enough ago are anonymised, and orders delivered
//! long enough ago are deleted with everything that names them. Each call is one set of
//! statements in the caller's (system) transaction.

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait as _, FromQueryResult, Statement, Value};
use storage::{StorageError, TenantTx};

use crate::BookingError;

/// The prefix of an anonymised booking's account id (followed by the booking's own id,
/// which says nothing about the person).
pub const ANONYMISED: &str = "anonymised:";

async fn run(tx: &TenantTx, sql: &str, values: Vec<Value>) -> Result<u64, BookingError> {
    let backend = (**tx).get_database_backend();
    Ok((**tx)
        .execute_raw(Statement::from_sql_and_values(backend, sql, values))
        .await
        .map_err(StorageError::from)?
        .rows_affected())
}

/// Removes the person from every booking on a session that ended before `before`, and
/// deletes the waiting-list entries of those sessions. Returns the bookings anonymised.
///
/// # Errors
/// When a statement fails.
pub async fn anonymise_delivered(
    tx: &TenantTx,
    before: DateTime<Utc>,
) -> Result<u64, BookingError> {
    let t = tx.tenant().as_str();
    let ended = "SELECT s.id FROM course_session s WHERE s.tenant_id = $1 AND s.ends_at < $2";
    // Look before writing: on SQLite even a write that changes nothing takes the one
    // write lock, which the daily sweep should not do for nothing.
    let backend = (**tx).get_database_backend();
    let pending = IdRow::find_by_statement(Statement::from_sql_and_values(
        backend,
        format!(
            "SELECT id FROM booking WHERE tenant_id = $1 AND account_id NOT LIKE '{ANONYMISED}%' \
               AND session_id IN ({ended}) \
             UNION ALL SELECT id FROM waiting_list_entry WHERE tenant_id = $1 AND session_id IN ({ended}) \
             UNION ALL SELECT id FROM disclosure_log WHERE tenant_id = $1 \
               AND account_id NOT LIKE '{ANONYMISED}%' AND session_id IN ({ended}) LIMIT 1"
        ),
        [t.into(), before.into()],
    ))
    .one(&**tx)
    .await
    .map_err(StorageError::from)?;
    if pending.is_none() {
        return Ok(0);
    }
    let n = run(
        tx,
        &format!(
            "UPDATE booking SET account_id = '{ANONYMISED}' || id WHERE tenant_id = $1 \
             AND account_id NOT LIKE '{ANONYMISED}%' AND session_id IN ({ended})"
        ),
        vec![t.into(), before.into()],
    )
    .await?;
    // What was passed to providers about those bookings is kept, without the person.
    run(
        tx,
        &format!(
            "UPDATE disclosure_log SET account_id = '{ANONYMISED}' || id WHERE tenant_id = $1 \
             AND account_id NOT LIKE '{ANONYMISED}%' AND session_id IN ({ended})"
        ),
        vec![t.into(), before.into()],
    )
    .await?;
    run(
        tx,
        &format!("DELETE FROM waiting_list_entry WHERE tenant_id = $1 AND session_id IN ({ended})"),
        vec![t.into(), before.into()],
    )
    .await?;
    Ok(n)
}

#[derive(Debug, FromQueryResult)]
struct IdRow {
    id: String,
}

/// Deletes every order placed before `before` whose sessions all ended before it (and
/// whose services' periods ended before its day), with its bookings, waiting-list
/// entries, service purchases, transaction-log entries and what the services' staff were
/// shown about the buyer. Returns the orders deleted.
///
/// # Errors
/// When a statement fails.
pub async fn delete_delivered_orders(
    tx: &TenantTx,
    before: DateTime<Utc>,
    services_only: bool,
) -> Result<u64, BookingError> {
    // Under a contract-end rule: orders with no course places at all.
    let services = if services_only {
        " AND NOT EXISTS (SELECT 1 FROM booking b WHERE b.tenant_id = o.tenant_id AND b.order_id = o.id) \
          AND NOT EXISTS (SELECT 1 FROM waiting_list_entry w WHERE w.tenant_id = o.tenant_id AND w.order_id = o.id)"
    } else {
        ""
    };
    let t = tx.tenant().as_str();
    let backend = (**tx).get_database_backend();
    let orders = IdRow::find_by_statement(Statement::from_sql_and_values(
        backend,
        format!(
            "SELECT o.id FROM booking_order o WHERE o.tenant_id = $1 AND o.created_at < $2 \
         AND NOT EXISTS (SELECT 1 FROM booking b JOIN course_session s \
             ON s.tenant_id = b.tenant_id AND s.id = b.session_id \
           WHERE b.tenant_id = o.tenant_id AND b.order_id = o.id AND s.ends_at >= $2) \
         AND NOT EXISTS (SELECT 1 FROM waiting_list_entry w JOIN course_session s \
             ON s.tenant_id = w.tenant_id AND s.id = w.session_id \
           WHERE w.tenant_id = o.tenant_id AND w.order_id = o.id AND s.ends_at >= $2) \
         AND NOT EXISTS (SELECT 1 FROM service_purchase p \
           WHERE p.tenant_id = o.tenant_id AND p.order_id = o.id AND p.period_end > $3){services} \
         ORDER BY o.id"
        ),
        [
            t.into(),
            before.into(),
            // A service is delivered on the last day of its period; `before` is the
            // (UTC) midnight after the last day due.
            (before - chrono::Duration::seconds(1)).date_naive().into(),
        ],
    ))
    .all(&**tx)
    .await
    .map_err(StorageError::from)?;
    let mut deleted = 0;
    for chunk in orders.chunks(500) {
        let mut values: Vec<Value> = vec![t.into()];
        let list = placeholders(&mut values, chunk.iter().map(|r| r.id.clone()));
        let by_order = |table: &str| {
            format!("DELETE FROM {table} WHERE tenant_id = $1 AND order_id IN {list}")
        };
        // Log entries name the order (checkout) or one of its bookings (cancellation).
        run(
            tx,
            &format!(
                "DELETE FROM transaction_log WHERE tenant_id = $1 AND (subject IN {list} \
                 OR subject IN (SELECT id FROM booking WHERE tenant_id = $1 AND order_id IN {list}))"
            ),
            values.clone(),
        )
        .await?;
        // What a service's staff were shown about the buyer goes with the purchase.
        run(
            tx,
            &format!(
                "DELETE FROM disclosure_log WHERE tenant_id = $1 \
                 AND session_id IN (SELECT service_id FROM service_purchase \
                   WHERE tenant_id = $1 AND order_id IN {list}) \
                 AND account_id IN (SELECT account_id FROM booking_order \
                   WHERE tenant_id = $1 AND id IN {list}) \
                 AND NOT EXISTS (SELECT 1 FROM service_purchase kept \
                   WHERE kept.tenant_id = $1 AND kept.service_id = disclosure_log.session_id \
                   AND kept.account_id = disclosure_log.account_id AND kept.order_id NOT IN {list})"
            ),
            values.clone(),
        )
        .await?;
        run(tx, &by_order("booking"), values.clone()).await?;
        run(tx, &by_order("service_purchase"), values.clone()).await?;
        run(tx, &by_order("waiting_list_entry"), values.clone()).await?;
        deleted += run(
            tx,
            &format!("DELETE FROM booking_order WHERE tenant_id = $1 AND id IN {list}"),
            values,
        )
        .await?;
    }
    Ok(deleted)
}

/// Deletes the transaction-log entries recorded before `before`. Returns how many went.
///
/// # Errors
/// When the statement fails.
pub async fn delete_log_before(tx: &TenantTx, before: DateTime<Utc>) -> Result<u64, BookingError> {
    run(
        tx,
        "DELETE FROM transaction_log WHERE tenant_id = $1 AND occurred_at < $2",
        vec![tx.tenant().as_str().into(), before.into()],
    )
    .await
}

/// Binds each of `items` after the values already in `values`; returns `($n, …)`.
fn placeholders(values: &mut Vec<Value>, items: impl Iterator<Item = String>) -> String {
    let mut list = Vec::new();
    for item in items {
        values.push(item.into());
        list.push(format!("${}", values.len()));
    }
    format!("({})", list.join(", "))
}

fn privacy_error(e: BookingError) -> privacy_engine::PrivacyError {
    match e {
        BookingError::Store(e) => privacy_engine::PrivacyError::Store(e),
        BookingError::Privacy(e) => e,
        other => privacy_engine::PrivacyError::Accounts(other.to_string()),
    }
}

/// Bookings' side of the privacy engine's sweep: bookings anonymised and orders deleted
/// under service-delivered rules, and the certificates a deleted person leaves.
#[derive(FromQueryResult)]
struct CountRow {
    n: i64,
}

#[async_trait::async_trait]
impl privacy_engine::Records for crate::Bookings {
    async fn apply(
        &self,
        tx: &TenantTx,
        kind: privacy_engine::domain::executor::RecordKind,
        before: DateTime<Utc>,
    ) -> Result<Option<u64>, privacy_engine::PrivacyError> {
        use privacy_engine::domain::executor::RecordKind;
        let n = match kind {
            RecordKind::Bookings => anonymise_delivered(tx, before).await,
            RecordKind::Orders => delete_delivered_orders(tx, before, false).await,
            RecordKind::ServiceOrders => delete_delivered_orders(tx, before, true).await,
            RecordKind::TransactionLog => delete_log_before(tx, before).await,
            RecordKind::PageViews => return Ok(None),
        };
        n.map(Some).map_err(privacy_error)
    }

    async fn open_commitments(
        &self,
        tx: &TenantTx,
        account: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<String>, privacy_engine::PrivacyError> {
        let backend = (**tx).get_database_backend();
        let [pending, confirmed] = crate::take::HELD;
        let row = CountRow::find_by_statement(Statement::from_sql_and_values(
            backend,
            format!(
                "SELECT COUNT(*) AS n FROM booking b JOIN course_session s \
                 ON s.tenant_id = b.tenant_id AND s.id = b.session_id \
                 WHERE b.tenant_id = $1 AND b.account_id = $2 AND b.status IN ('{pending}', '{confirmed}') \
                 AND s.starts_at > $3"
            ),
            [tx.tenant().as_str().into(), account.into(), now.into()],
        ))
        .one(&**tx)
        .await
        .map_err(|e| privacy_error(StorageError::from(e).into()))?;
        let n = row.map_or(0, |r| r.n);
        Ok(if n > 0 {
            vec![format!(
                "{n} place(s) booked on sessions still to come: cancel them first, or wait until \
                 they have taken place"
            )]
        } else {
            Vec::new()
        })
    }

    async fn files_of(
        &self,
        tx: &TenantTx,
        accounts: &[String],
    ) -> Result<Vec<String>, privacy_engine::PrivacyError> {
        crate::after_course::certificate_keys(tx, accounts)
            .await
            .map_err(privacy_error)
    }
}
