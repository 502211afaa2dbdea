//! Retention by review: a rule whose action is "review" puts each record that reaches it
//! in front of an administrator (the review list), who keeps it with a reason until a
//! later day, or disposes of it. Either decision is a disposal record and an audit event;
//! a record kept is put up again once the day it was kept until has passed.
//!
//! The sweep opens reviews (accounts as it pages through them, other records by the day
//! they were made); the privacy officers are emailed when new ones open.

use chrono::{DateTime, NaiveDate, Utc};
use storage::TenantTx;
use storage::audit::{self, AuditEntry};
use tenant_router::config::Period;
use tenant_router::{TenantConfig, TenantId};

use crate::domain::calendar::uk_date;
use crate::domain::executor::{Due, ReviewKind};
use crate::store::retention::Disposal;
use crate::store::reviews::{self as store, ReviewRow};
use crate::{Privacy, PrivacyError};

/// The longest an administrator may keep a record before it is reviewed again.
pub const KEEP_AT_MOST_YEARS: u32 = 10;

/// A review, with the record it is about in words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Review {
    /// The stored review.
    pub row: ReviewRow,
    /// Which records.
    pub kind: Option<ReviewKind>,
    /// The record, in words (the account's email address); `None` once it has gone.
    pub record: Option<String>,
}

/// What the administrator decided.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReviewDecision {
    /// Keep the record, for a reason, until `for_` from today; it is reviewed again then.
    Keep {
        /// Why it is still needed.
        reason: String,
        /// For how long.
        for_: Period,
    },
    /// Delete it now.
    Dispose,
}

impl Privacy {
    /// Opens a review for each of `due` (records of `kind` under rule `rule`) not already
    /// waiting on one, in the caller's transaction. Returns how many were opened.
    pub(crate) async fn open_reviews(
        &self,
        tx: &TenantTx,
        (rule, text): (usize, &str),
        kind: ReviewKind,
        due: &[Due],
        (run_id, now): (&str, DateTime<Utc>),
    ) -> Result<u64, PrivacyError> {
        let ids: Vec<String> = due.iter().map(|(id, _)| id.clone()).collect();
        let fresh: std::collections::HashSet<String> =
            store::not_under_review(tx, kind.as_str(), &ids, uk_date(now))
                .await?
                .into_iter()
                .collect();
        let rows: Vec<ReviewRow> = due
            .iter()
            .filter(|(id, _)| fresh.contains(id))
            .map(|(id, due_on)| ReviewRow {
                id: uuid::Uuid::now_v7().to_string(),
                rule_index: i32::try_from(rule).unwrap_or(i32::MAX),
                rule: text.to_owned(),
                record_kind: kind.as_str().to_owned(),
                record_id: id.clone(),
                due_on: *due_on,
                created_at: now,
                status: "open".to_owned(),
                decided_at: None,
                decided_by: None,
                reason: None,
                keep_until: None,
            })
            .collect();
        store::insert_many(tx, &rows).await?;
        store::note_opened(tx, run_id, rows.len() as u64, now).await?;
        Ok(rows.len() as u64)
    }

    /// Tells the privacy officers (or the DPO), once for a sweep, of the reviews opened and
    /// not yet announced (those of this sweep, and of an earlier one that stopped before
    /// telling them), marking their announcements sent in the same transaction.
    pub(crate) async fn announce_reviews(
        &self,
        cfg: &TenantConfig,
        base_url: &str,
    ) -> Result<(), PrivacyError> {
        let tx = self.db.system_tx(&cfg.slug).await?;
        let n = store::announce(&tx, self.clock.now()).await?;
        if n == 0 {
            tx.rollback().await?;
            return Ok(());
        }
        let waiting = store::open_count(&tx).await?;
        // Some may have been decided (or their account erased) before this email.
        let n = n.min(u64::try_from(waiting).unwrap_or(0));
        if n == 0 {
            tx.commit().await?;
            return Ok(());
        }
        let subject = if n == 1 {
            "A record is due for a retention review".to_owned()
        } else {
            format!("{n} records are due for a retention review")
        };
        let body = format!(
            "Under the retention rules of {service}, {n} records have reached the point where \
             a person decides whether each is still needed ({waiting} are waiting in all). \
             Keep each one with a reason, or delete it:\n\n{base_url}/manage/retention/reviews\n",
            service = cfg.display_name,
        );
        self.tell_officers(&tx, cfg, &subject, &body).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The open reviews, longest due first (at most 200), and how many are open in all.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn reviews(&self, tenant: &TenantId) -> Result<(Vec<Review>, i64), PrivacyError> {
        let tx = self.db.tenant_tx(tenant).await?;
        let rows = store::list(&tx, None).await?;
        let waiting = store::open_count(&tx).await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            out.push(self.describe(&tx, row).await?);
        }
        tx.rollback().await?;
        Ok((out, waiting))
    }

    /// Review `id`, whatever its status.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn review(
        &self,
        tenant: &TenantId,
        id: &str,
    ) -> Result<Option<Review>, PrivacyError> {
        let tx = self.db.tenant_tx(tenant).await?;
        let row = store::list(&tx, Some(id)).await?.into_iter().next();
        let out = match row {
            Some(row) => Some(self.describe(&tx, row).await?),
            None => None,
        };
        tx.rollback().await?;
        Ok(out)
    }

    async fn describe(&self, tx: &TenantTx, row: ReviewRow) -> Result<Review, PrivacyError> {
        let kind = ReviewKind::parse(&row.record_kind);
        let email = self.accounts.email_of(tx, &row.record_id).await?;
        let record = match kind {
            Some(ReviewKind::Accounts) => email.map(|e| format!("The account of {e}")),
            Some(ReviewKind::InductionRecords) => {
                email.map(|e| format!("The induction record of {e}"))
            }
            None => None,
        };
        Ok(Review { row, kind, record })
    }

    /// Records the decision on open review `id`: keeps the record with the reason (a
    /// disposal record of the decision), or deletes it (an account as erasure does, holds
    /// and booked places permitting). Audited.
    ///
    /// # Errors
    /// [`PrivacyError::Refused`] (`no_such_review`, `review_decided`, `record_gone`);
    /// [`PrivacyError::Invalid`] for a keep without a reason or for too long;
    /// [`PrivacyError::Deferred`] when a hold or booking stands in the way of deleting an
    /// account. Nothing changes in any of these cases.
    pub async fn decide_review(
        &self,
        cfg: &TenantConfig,
        id: &str,
        decision: &ReviewDecision,
        by: &str,
    ) -> Result<ReviewRow, PrivacyError> {
        let now = self.clock.now();
        let today = uk_date(now);
        if let ReviewDecision::Keep { reason, for_ } = decision {
            let mut problems = Vec::new();
            if reason.trim().is_empty() {
                problems.push(("reason", "Say why the record is still needed.".to_owned()));
            } else if reason.chars().count() > 2000 {
                problems.push((
                    "reason",
                    "Give the reason in 2,000 characters or fewer.".to_owned(),
                ));
            }
            let limit = Period::new(KEEP_AT_MOST_YEARS, tenant_router::config::PeriodUnit::Years);
            let until = for_.after(today);
            if for_.count() == 0 || until.is_none() || until > limit.after(today) {
                problems.push((
                    "keep_count",
                    format!("Keep it for at least a day and at most {KEEP_AT_MOST_YEARS} years."),
                ));
            }
            if !problems.is_empty() {
                return Err(PrivacyError::Invalid(problems));
            }
        }
        // A system transaction: deleting an account erases from tables the request path
        // may only append to.
        let tx = self.db.system_tx(&cfg.slug).await?;
        let refuse = |code, message| PrivacyError::Refused { code, message };
        let Some(mut row) = store::list(&tx, Some(id)).await?.into_iter().next() else {
            return Err(refuse("no_such_review", "There is no such review."));
        };
        if row.status != "open" {
            return Err(refuse(
                "review_decided",
                "This review has already been decided.",
            ));
        }
        let kind = ReviewKind::parse(&row.record_kind)
            .ok_or_else(|| PrivacyError::Corrupt(format!("review kind {}", row.record_kind)))?;
        let Some(email) = self.accounts.email_of(&tx, &row.record_id).await? else {
            return Err(refuse(
                "record_gone",
                "The record has already been deleted.",
            ));
        };
        if matches!(decision, ReviewDecision::Dispose) && kind == ReviewKind::Accounts {
            still_due(&*self.accounts, &tx, cfg, &row, today).await?;
        }
        // The decision is claimed first, by a change only an open review allows: two
        // officers deciding at once cannot both act.
        row.decided_at = Some(now);
        row.decided_by = Some(by.to_owned());
        match decision {
            ReviewDecision::Keep { reason, for_ } => {
                row.status = "kept".to_owned();
                row.reason = Some(reason.trim().to_owned());
                row.keep_until = for_.after(today);
            }
            ReviewDecision::Dispose => row.status = "disposed".to_owned(),
        }
        if !store::decide(&tx, &row).await? {
            return Err(refuse(
                "review_decided",
                "This review has already been decided.",
            ));
        }
        let run = uuid::Uuid::now_v7().to_string();
        // The disposal record to write, unless erasure writes its own.
        let record: Option<(&str, serde_json::Value)> = match decision {
            ReviewDecision::Keep { reason, .. } => {
                let until = row.keep_until;
                Some((
                    "keep",
                    serde_json::json!([{
                        "what": "the whole record, kept after review",
                        "why": reason.trim(),
                        "until": until,
                    }]),
                ))
            }
            ReviewDecision::Dispose => {
                match kind {
                    ReviewKind::Accounts => {
                        // Writes its own disposal record, and deletes the person's reviews
                        // (this one included): the disposal record is what remains.
                        self.erase_account(
                            &tx,
                            cfg,
                            (&row.record_id, &email),
                            &[],
                            (&run, &row.rule),
                        )
                        .await?;
                        None
                    }
                    ReviewKind::InductionRecords => {
                        if !self
                            .accounts
                            .delete_record(&tx, kind, &row.record_id)
                            .await?
                        {
                            return Err(refuse(
                                "record_gone",
                                "The record has already been deleted.",
                            ));
                        }
                        Some(("delete", serde_json::json!([])))
                    }
                }
            }
        };
        if let Some((action, remaining)) = record {
            crate::store::erase::record_disposals(
                &tx,
                now,
                &[Disposal {
                    run_id: &run,
                    rule_index: usize::try_from(row.rule_index).unwrap_or(0),
                    rule: &row.rule,
                    action,
                    record_kind: kind.as_str(),
                    account_ref: Some(&row.record_id),
                    records: 1,
                    remaining,
                }],
            )
            .await?;
        }
        audit::record(
            &tx,
            now,
            AuditEntry {
                actor: by,
                action: &format!("retention.review_{}", row.status),
                subject: &row.record_id,
                detail: serde_json::json!({
                    "review": row.id,
                    "kind": row.record_kind,
                    "rule": row.rule,
                    "reason": row.reason,
                    "keep_until": row.keep_until,
                }),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(row)
    }
}

/// Refuses to delete an account that no longer meets the rule that put it up for review:
/// used since, or its rule changed.
async fn still_due(
    accounts: &dyn crate::accounts::Accounts,
    tx: &TenantTx,
    cfg: &TenantConfig,
    row: &ReviewRow,
    today: chrono::NaiveDate,
) -> Result<(), PrivacyError> {
    let period = usize::try_from(row.rule_index)
        .ok()
        .filter(|i| {
            matches!(
                crate::domain::executor::executor(&cfg.retention, *i),
                Ok(crate::domain::executor::Executor::Review(
                    ReviewKind::Accounts
                ))
            )
        })
        .and_then(|i| cfg.retention[i].after);
    let last = accounts.last_active(tx, &row.record_id).await?;
    match (period, last) {
        (Some(p), Some(l)) if p.after(l).is_some_and(|d| d <= today) => Ok(()),
        _ => Err(PrivacyError::Refused {
            code: "review_no_longer_due",
            message: "The account has been used since it came up for review, or its rule has \
                      changed, so it is not deleted. Record that it is kept instead.",
        }),
    }
}

impl Privacy {
    /// Opens reviews for the records other than accounts that review rules reach by
    /// `today`, in a transaction of its own (rolled back unless `apply`). Returns, per
    /// rule, how many were opened.
    pub(crate) async fn review_records(
        &self,
        (tenant, cfg): (&TenantId, &TenantConfig),
        today: NaiveDate,
        (run_id, apply): (&str, bool),
    ) -> Result<Vec<(usize, u64)>, PrivacyError> {
        use crate::domain::executor::{Executor, executor};
        let now = self.clock.now();
        let tx = self.db.system_tx(tenant).await?;
        let mut out = Vec::new();
        for i in 0..cfg.retention.len() {
            let Ok(Executor::Review(kind)) = executor(&cfg.retention, i) else {
                continue;
            };
            if kind == ReviewKind::Accounts {
                continue;
            }
            let Some(period) = cfg.retention[i].after else {
                continue;
            };
            let Some(last) = crate::domain::retention::cutoff(period, today) else {
                continue;
            };
            let before = crate::domain::retention::start_of(last.succ_opt());
            let due: Vec<Due> = self
                .accounts
                .records_made_before(&tx, kind, before)
                .await?
                .into_iter()
                .filter_map(|(id, at)| Some((id, period.after(at.date_naive())?)))
                .collect();
            let text = crate::domain::notice::rule_text(cfg, i);
            let n = self
                .open_reviews(&tx, (i, &text), kind, &due, (run_id, now))
                .await?;
            out.push((i, n));
        }
        if apply {
            tx.commit().await?;
        } else {
            tx.rollback().await?;
        }
        Ok(out)
    }
}
