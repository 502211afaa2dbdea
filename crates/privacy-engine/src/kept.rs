//! The records of rights requests and complaints are kept for the tenant's
//! `subject_rights.keep_records` after they close (the notice says for how long), as the
//! evidence of how each was answered; the daily job then deletes them with their history
//! (and any copy of data still linked), recording the deletion as a disposal record.

use chrono::{DateTime, Days, Months, NaiveDate, NaiveTime, Utc};
use tenant_router::TenantConfig;
use tenant_router::config::{Period, PeriodUnit};

use crate::PrivacyError;
use crate::domain::calendar::{from_uk, uk_date};
pub use crate::domain::retention::{SENT_MAIL_KEPT_DAYS, sent_mail_kept};
use crate::service::Privacy;
use crate::store::record::{self, History};
use crate::store::retention::Disposal;

/// The day `period` before `day`.
fn minus(period: Period, day: NaiveDate) -> Option<NaiveDate> {
    let n = period.count();
    match period.unit() {
        PeriodUnit::Days => day.checked_sub_days(Days::new(n.into())),
        PeriodUnit::Weeks => day.checked_sub_days(Days::new(u64::from(n) * 7)),
        PeriodUnit::Months => day.checked_sub_months(Months::new(n)),
        PeriodUnit::Years => day.checked_sub_months(Months::new(n.checked_mul(12)?)),
    }
}

/// What is deleted: the table, its history, and the disposal record's kind.
const KINDS: [(&str, History, &str); 2] = [
    (
        "rights_request",
        History {
            table: "rights_request_event",
            parent: "request_id",
            with_account: true,
        },
        "rights_request",
    ),
    (
        "complaint",
        History {
            table: "complaint_event",
            parent: "complaint_id",
            with_account: true,
        },
        "complaint",
    ),
];

impl Privacy {
    /// Deletes the copies of emails sent (or given up on) [`SENT_MAIL_KEPT_DAYS`] days ago
    /// or earlier (UTC days, as the sweep counts), with a disposal record. Returns how
    /// many went.
    ///
    /// # Errors
    /// When the database fails (nothing is then deleted).
    pub async fn dispose_sent_mail(
        &self,
        tenant: &tenant_router::TenantId,
    ) -> Result<u64, PrivacyError> {
        let now = self.clock.now();
        // As the sweep counts: sent on a day, deleted on the day the period runs out.
        let last_day = crate::domain::retention::cutoff(sent_mail_kept(), now.date_naive());
        let before = crate::domain::retention::start_of(last_day.and_then(|d| d.succ_opt()));
        if before == DateTime::<Utc>::MIN_UTC {
            return Ok(0);
        }
        let tx = self.db.system_tx(tenant).await?;
        let n = storage::outbox::delete_sent_before(&tx, before).await?;
        if n > 0 {
            let run = uuid::Uuid::now_v7().to_string();
            let rule = format!(
                "Copies of emails sent: {} after sending",
                sent_mail_kept().describe()
            );
            crate::store::erase::record_disposals(
                &tx,
                now,
                &[Disposal {
                    run_id: &run,
                    rule_index: 0,
                    rule: &rule,
                    action: "delete",
                    record_kind: "outbox_email",
                    account_ref: None,
                    records: i64::try_from(n).unwrap_or(i64::MAX),
                    remaining: serde_json::Value::Array(Vec::new()),
                }],
            )
            .await?;
        }
        tx.commit().await?;
        Ok(n)
    }

    /// Deletes the tenant's requests and complaints closed before the day its
    /// `subject_rights.keep_records` ago, each kind with a disposal record. Returns how many
    /// records went.
    ///
    /// # Errors
    /// When the database fails (nothing is then deleted).
    pub async fn dispose_closed_records(&self, cfg: &TenantConfig) -> Result<u64, PrivacyError> {
        let now = self.clock.now();
        let keep = cfg.subject_rights.keep_records();
        let Some(last_day) = minus(keep, uk_date(now)) else {
            return Ok(0);
        };
        // Closed before that day began (UK time): kept for the whole period, to the day.
        let Some(before) = from_uk(last_day, NaiveTime::MIN) else {
            return Ok(0);
        };
        // A system transaction, as the sweep's: disposal records are not the request path's.
        let tx = self.db.system_tx(&cfg.slug).await?;
        let run = uuid::Uuid::now_v7().to_string();
        let rule = format!(
            "Records of requests and complaints: {} after they close",
            keep.describe()
        );
        let mut total = 0;
        for (table, history, kind) in KINDS {
            let n = record::delete_closed_before(&tx, table, history, before).await?;
            if n > 0 {
                crate::store::erase::record_disposals(
                    &tx,
                    now,
                    &[Disposal {
                        run_id: &run,
                        rule_index: 0,
                        rule: &rule,
                        action: "delete",
                        record_kind: kind,
                        account_ref: None,
                        records: i64::try_from(n).unwrap_or(i64::MAX),
                        remaining: serde_json::Value::Array(Vec::new()),
                    }],
                )
                .await?;
            }
            total += n;
        }
        tx.commit().await?;
        Ok(total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_count_back() {
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        let p = |n, u| Period::new(n, u);
        assert_eq!(
            minus(p(2, PeriodUnit::Years), d("2026-12-05")),
            Some(d("2024-12-05"))
        );
        assert_eq!(
            minus(p(3, PeriodUnit::Months), d("2026-05-31")),
            Some(d("2026-02-28"))
        );
        assert_eq!(
            minus(p(2, PeriodUnit::Weeks), d("2026-12-05")),
            Some(d("2026-11-21"))
        );
        assert_eq!(
            minus(p(90, PeriodUnit::Days), d("2026-12-05")),
            Some(d("2026-09-06"))
        );
    }
}
