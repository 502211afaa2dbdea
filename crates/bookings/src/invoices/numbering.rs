//! Numbering invoices after their checkout commits: the tenant's counter row is taken,
//! every invoice waiting in `invoice_pending` is numbered in the order issued and
//! moved into `invoice`, gapless (see the parent module).

use chrono::{DateTime, Utc};
use sea_orm::{EntityTrait as _, FromQueryResult, Set};
use storage::TenantTx;
use storage::sql::Sql;

use super::INVOICE;
use crate::BookingError;
use crate::store::entity::invoice;

/// An invoice waiting for its number.
#[derive(FromQueryResult)]
struct Pending {
    id: String,
    short_name: String,
    organisation_id: String,
    order_id: String,
    issued_at: DateTime<Utc>,
    total_pence: i64,
    lines: String,
}

/// The oldest waiting invoices, at most 500 (one insert's worth of bound values).
async fn pending(tx: &TenantTx) -> Result<Vec<Pending>, BookingError> {
    let mut sql = Sql::default();
    let t = sql.bind(tx.tenant().as_str());
    sql.text = format!(
        "SELECT id, short_name, organisation_id, order_id, issued_at, total_pence, lines \
         FROM invoice_pending WHERE tenant_id = {t} ORDER BY issued_at, id LIMIT 500"
    );
    let backend = sea_orm::ConnectionTrait::get_database_backend(&**tx);
    Ok(Pending::find_by_statement(sql.statement(backend))
        .all(&**tx)
        .await
        .map_err(storage::StorageError::from)?)
}

/// Whether any invoice of the tenant (or of `order_id`) waits for its number.
pub(super) async fn any_pending(
    tx: &TenantTx,
    order_id: Option<&str>,
) -> Result<bool, BookingError> {
    #[derive(FromQueryResult)]
    struct One {
        #[allow(dead_code)]
        one: i32,
    }
    let mut sql = Sql::default();
    let t = sql.bind(tx.tenant().as_str());
    let of_order = match order_id {
        Some(o) => format!(" AND order_id = {}", sql.bind(o)),
        None => String::new(),
    };
    sql.text =
        format!("SELECT 1 AS one FROM invoice_pending WHERE tenant_id = {t}{of_order} LIMIT 1");
    let backend = sea_orm::ConnectionTrait::get_database_backend(&**tx);
    Ok(One::find_by_statement(sql.statement(backend))
        .one(&**tx)
        .await
        .map_err(storage::StorageError::from)?
        .is_some())
}

/// Numbers every invoice of the tenant waiting for one, in the order they were issued, in
/// the caller's transaction; returns how many. The counter row is taken (`FOR UPDATE`)
/// before the waiting invoices are read, so two of these at once (two replicas, a
/// background numbering and a read) number each invoice once: the second waits for the
/// first's commit and then finds them gone. Afterwards nothing committed before it is left
/// waiting.
///
/// # Errors
/// When the database fails.
pub async fn number_pending(tx: &TenantTx) -> Result<u64, BookingError> {
    let backend = sea_orm::ConnectionTrait::get_database_backend(&**tx);
    #[derive(FromQueryResult)]
    struct Last {
        last: i64,
    }
    // SQLite has one writer at a time: the transaction already holds the database.
    let lock = match backend {
        sea_orm::DbBackend::Postgres => " FOR UPDATE",
        _ => "",
    };
    let counter = || {
        let mut sql = Sql::default();
        let t = sql.bind(tx.tenant().as_str());
        let k = sql.bind(INVOICE);
        sql.text =
            format!("SELECT last FROM invoice_counter WHERE tenant_id = {t} AND kind = {k}{lock}");
        Last::find_by_statement(sql.statement(backend))
    };
    let mut taken = counter()
        .one(&**tx)
        .await
        .map_err(storage::StorageError::from)?;
    if taken.is_none() {
        // Nothing waiting (a tenant offboarded while this waited for its turn, say): no
        // counter row to make.
        if pending(tx).await?.is_empty() {
            return Ok(0);
        }
        // The tenant's first invoice: make the row (a concurrent first waits here), take it.
        let mut sql = Sql::default();
        let t = sql.bind(tx.tenant().as_str());
        let k = sql.bind(INVOICE);
        sql.text = format!(
            "INSERT INTO invoice_counter (tenant_id, kind, last) VALUES ({t}, {k}, 0) \
             ON CONFLICT (tenant_id, kind) DO NOTHING"
        );
        sql.execute(tx).await?;
        taken = counter()
            .one(&**tx)
            .await
            .map_err(storage::StorageError::from)?;
    }
    let Some(Last { mut last }) = taken else {
        return Ok(0);
    };
    // Invoices committed while these were numbered are taken too: a burst of checkouts is
    // numbered by one transaction.
    let mut numbered = 0;
    loop {
        let waiting = pending(tx).await?;
        if waiting.is_empty() {
            break;
        }
        let mut rows = Vec::with_capacity(waiting.len());
        for p in &waiting {
            last += 1;
            rows.push(invoice::ActiveModel {
                tenant_id: Set(tx.tenant().to_string()),
                id: Set(p.id.clone()),
                number: Set(format!("{}-INV-{last:06}", p.short_name)),
                kind: Set(INVOICE.to_owned()),
                organisation_id: Set(p.organisation_id.clone()),
                order_id: Set(p.order_id.clone()),
                booking_id: Set(None),
                credits_number: Set(None),
                issued_at: Set(p.issued_at),
                total_pence: Set(p.total_pence),
                lines: Set(p.lines.clone()),
            });
        }
        invoice::Entity::insert_many(rows)
            .exec(&**tx)
            .await
            .map_err(storage::StorageError::from)?;
        let ids: Vec<String> = waiting.iter().map(|p| p.id.clone()).collect();
        let mut sql = Sql::default();
        let t = sql.bind(tx.tenant().as_str());
        let list = sql.among(tx, &ids);
        sql.text = format!("DELETE FROM invoice_pending WHERE tenant_id = {t} AND id {list}");
        sql.execute(tx).await?;
        numbered += waiting.len() as u64;
    }
    if numbered > 0 {
        let mut sql = Sql::default();
        let n = sql.bind(last);
        let t = sql.bind(tx.tenant().as_str());
        let k = sql.bind(INVOICE);
        sql.text =
            format!("UPDATE invoice_counter SET last = {n} WHERE tenant_id = {t} AND kind = {k}");
        sql.execute(tx).await?;
    }
    Ok(numbered)
}
