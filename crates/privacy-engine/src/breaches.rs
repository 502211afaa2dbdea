//! The breach log: a privacy officer records a personal-data breach (what happened, whose
//! data described in words, which of the tenant's data categories, when the council
//! became aware of it, the risk to people and why). The ICO's 72 hours run from discovery
//! ([`crate::domain::breach`]); the privacy officers (or, with none, the DPO's published
//! address) are emailed at once with the deadline, and daily while the ICO decision is
//! still to be made. The decisions to report to the ICO and to tell the people affected
//! are recorded with their dates, the ICO's reference, how people were told, or the reason
//! not to; a breach likely to result in a risk cannot be marked as not reportable, and a
//! breach closes only once what its risk requires is decided. Every step is in its history
//! and the audit log.

use chrono::{DateTime, Utc};
use storage::TenantTx;
use storage::audit::{self, AuditEntry};
use storage::outbox::{self, Email};
use tenant_router::TenantConfig;

use crate::PrivacyError;
use crate::domain::breach::{self, Decision, IcoStatus, Refusal, Risk, ico_deadline, ico_status};
use crate::domain::calendar::long_moment;
use crate::domain::rights::reference_with;
use crate::rights::required;
use crate::service::Privacy;
use crate::store::breaches::{self as store, BreachRow};
use crate::store::record::EventRow;

/// A breach to record.
#[derive(Clone, Copy, Debug)]
pub struct NewBreach<'a> {
    /// What happened.
    pub summary: &'a str,
    /// Whose data, described (a group and how many; not names).
    pub people_affected: &'a str,
    /// Ids of the tenant's data categories involved.
    pub categories: &'a [String],
    /// When the council became aware of it.
    pub discovered_at: DateTime<Utc>,
    /// The risk to people.
    pub risk: Risk,
    /// Why that risk.
    pub risk_reason: &'a str,
    /// Who records it (`account:…`).
    pub by: &'a str,
}

/// What a privacy officer records about a breach.
#[derive(Clone, Copy, Debug)]
pub enum BreachAction<'a> {
    /// A new assessment of the risk, with the reason.
    Assess(Risk, &'a str),
    /// Reported to the ICO at this moment, with the ICO's reference.
    Reported(DateTime<Utc>, &'a str),
    /// Not reported, for this reason (only for an unlikely risk).
    NotReported(&'a str),
    /// The people were told at this moment, in this way.
    PeopleTold(DateTime<Utc>, &'a str),
    /// The people are not told, for this reason.
    PeopleNotTold(&'a str),
    /// A note.
    Note(&'a str),
    /// Closes it, with what was done to contain it and stop it happening again.
    Close(&'a str),
}

/// A breach with where its ICO report stands.
#[derive(Clone, Debug)]
pub struct BreachSummary {
    /// The stored breach.
    pub row: BreachRow,
    /// `BR-…`
    pub reference: String,
    /// When the ICO must have the report.
    pub deadline: DateTime<Utc>,
    /// Where the report stands now.
    pub ico: IcoStatus,
}

/// `BR-` and eight characters of the id.
#[must_use]
pub fn reference(id: &str) -> String {
    reference_with("BR", id)
}

fn refused(r: Refusal) -> PrivacyError {
    PrivacyError::Refused {
        code: r.code(),
        message: r.message(),
    }
}

fn invalid(p: Option<(&'static str, String)>) -> Result<(), PrivacyError> {
    match p {
        Some(p) => Err(PrivacyError::Invalid(vec![p])),
        None => Ok(()),
    }
}

/// The problem of a moment that must lie between discovery and now, if any.
fn between(
    field: &'static str,
    at: DateTime<Utc>,
    discovered: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Option<(&'static str, String)> {
    if at > now {
        Some((field, "The date and time must be in the past".to_owned()))
    } else if at < discovered {
        Some((
            field,
            "The date and time must be after the breach was discovered".to_owned(),
        ))
    } else {
        None
    }
}

fn status(decision: &str) -> Decision {
    Decision::parse(decision).unwrap_or(Decision::Pending)
}

impl Privacy {
    fn breach_summary(&self, row: BreachRow) -> BreachSummary {
        BreachSummary {
            reference: reference(&row.id),
            deadline: ico_deadline(row.discovered_at),
            ico: ico_status(
                status(&row.ico_decision),
                row.discovered_at,
                self.clock.now(),
            ),
            row,
        }
    }

    /// Records a breach, audits it and emails the privacy officers its ICO deadline.
    ///
    /// # Errors
    /// [`PrivacyError::Invalid`] with every problem; nothing is stored.
    pub async fn log_breach(
        &self,
        cfg: &TenantConfig,
        new: &NewBreach<'_>,
        base_url: &str,
    ) -> Result<BreachRow, PrivacyError> {
        let now = self.clock.now();
        let mut problems: Vec<(&'static str, String)> = [
            required("summary", new.summary, "what happened"),
            required("people_affected", new.people_affected, "whose data it was"),
            required(
                "risk_reason",
                new.risk_reason,
                "why you assessed the risk so",
            ),
        ]
        .into_iter()
        .flatten()
        .collect();
        if new.categories.is_empty() {
            problems.push(("categories", "Choose the kinds of data involved".to_owned()));
        } else if let Some(unknown) = new
            .categories
            .iter()
            .find(|c| !cfg.data_categories.iter().any(|d| &d.id == *c))
        {
            problems.push((
                "categories",
                format!("{unknown} is not one of this council's kinds of data"),
            ));
        }
        if new.discovered_at > now {
            problems.push((
                "discovered",
                "The time it was discovered must be in the past".to_owned(),
            ));
        }
        if !problems.is_empty() {
            return Err(PrivacyError::Invalid(problems));
        }
        let row = BreachRow {
            id: uuid::Uuid::now_v7().to_string(),
            summary: new.summary.trim().to_owned(),
            people_affected: new.people_affected.trim().to_owned(),
            categories: new.categories.join(","),
            discovered_at: new.discovered_at,
            risk: new.risk.as_str().to_owned(),
            risk_reason: new.risk_reason.trim().to_owned(),
            ico_decision: Decision::Pending.as_str().to_owned(),
            ico_reported_at: None,
            ico_reference: None,
            ico_reason: None,
            people_decision: Decision::Pending.as_str().to_owned(),
            people_told_at: None,
            people_reason: None,
            status: "open".to_owned(),
            created_by: new.by.to_owned(),
            created_at: now,
            updated_at: now,
            closed_at: None,
        };
        let tx = self.db.tenant_tx(&cfg.slug).await?;
        store::insert(&tx, &row).await?;
        let note = format!("{}: {}", new.risk.describe(), row.risk_reason);
        store::add_event(&tx, &row, now, new.by, "logged", Some(&note)).await?;
        self.audit_breach(&tx, &row, new.by, "breach.logged")
            .await?;
        let summary = self.breach_summary(row);
        let (subject, body) = breach_mail(cfg, &[&summary], base_url);
        self.tell_officers(&tx, cfg, &subject, &body).await?;
        tx.commit().await?;
        Ok(summary.row)
    }

    async fn audit_breach(
        &self,
        tx: &TenantTx,
        row: &BreachRow,
        by: &str,
        action: &str,
    ) -> Result<(), PrivacyError> {
        audit::record(
            tx,
            self.clock.now(),
            AuditEntry {
                actor: by,
                action,
                subject: &row.id,
                detail: serde_json::json!({
                    "risk": row.risk,
                    "ico": row.ico_decision,
                    "people": row.people_decision,
                    "status": row.status,
                }),
            },
        )
        .await?;
        Ok(())
    }

    /// Emails the tenant's privacy officers (or, with none, the DPO's published address);
    /// returns how many emails were queued.
    pub(crate) async fn tell_officers(
        &self,
        tx: &TenantTx,
        cfg: &TenantConfig,
        subject: &str,
        body: &str,
    ) -> Result<usize, PrivacyError> {
        let officers = self.accounts.privacy_officers(tx).await?;
        let to: Vec<String> = if officers.is_empty() {
            cfg.dpo.email.iter().cloned().collect()
        } else {
            officers.into_iter().map(|o| o.email).collect()
        };
        for address in &to {
            outbox::enqueue(
                tx,
                self.clock.now(),
                Email {
                    to: address,
                    subject,
                    body,
                },
            )
            .await?;
        }
        Ok(to.len())
    }

    /// The tenant's breaches: open ones first, oldest discovery first.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn breaches(&self, cfg: &TenantConfig) -> Result<Vec<BreachSummary>, PrivacyError> {
        let tx = self.db.tenant_tx(&cfg.slug).await?;
        let rows = store::list(&tx, None).await?;
        tx.rollback().await?;
        Ok(rows.into_iter().map(|r| self.breach_summary(r)).collect())
    }

    /// One breach and its history.
    ///
    /// # Errors
    /// [`PrivacyError::NoSuchRequest`] when the tenant has no such breach.
    pub async fn breach(
        &self,
        cfg: &TenantConfig,
        id: &str,
    ) -> Result<(BreachSummary, Vec<EventRow>), PrivacyError> {
        let tx = self.db.tenant_tx(&cfg.slug).await?;
        let row = store::list(&tx, Some(id))
            .await?
            .pop()
            .ok_or(PrivacyError::NoSuchRequest)?;
        let events = store::events(&tx, id).await?;
        tx.rollback().await?;
        Ok((self.breach_summary(row), events))
    }

    /// Records `action` on breach `id`, by `by`; in its history and audited. Returns the
    /// breach as it now is.
    ///
    /// # Errors
    /// [`PrivacyError::NoSuchRequest`]; [`PrivacyError::Refused`] when the breach is
    /// closed, an unreported breach is not of unlikely risk, or closing comes before the
    /// decisions; [`PrivacyError::Invalid`] for a missing reason or a moment outside
    /// discovery to now. Nothing changes in any of these cases.
    pub async fn act_on_breach(
        &self,
        cfg: &TenantConfig,
        id: &str,
        action: BreachAction<'_>,
        by: &str,
    ) -> Result<BreachRow, PrivacyError> {
        let now = self.clock.now();
        let tx = self.db.tenant_tx(&cfg.slug).await?;
        let mut row = store::list(&tx, Some(id))
            .await?
            .pop()
            .ok_or(PrivacyError::NoSuchRequest)?;
        if row.status != "open" {
            return Err(refused(Refusal::Closed));
        }
        let risk = Risk::parse(&row.risk).unwrap_or(Risk::High);
        let (event, note): (&str, String) = match action {
            BreachAction::Assess(new, reason) => {
                invalid(required(
                    "risk_reason",
                    reason,
                    "why you assessed the risk so",
                ))?;
                row.risk = new.as_str().to_owned();
                row.risk_reason = reason.trim().to_owned();
                // A decision not to act made under a lower risk no longer stands.
                let mut reopened = String::new();
                if new != Risk::Unlikely && status(&row.ico_decision) == Decision::NotRequired {
                    row.ico_decision = Decision::Pending.as_str().to_owned();
                    row.ico_reason = None;
                    reopened.push_str(" The decision not to report it to the ICO is reopened.");
                }
                if new == Risk::High && status(&row.people_decision) == Decision::NotRequired {
                    row.people_decision = Decision::Pending.as_str().to_owned();
                    row.people_reason = None;
                    reopened.push_str(" The decision not to tell the people is reopened.");
                }
                (
                    "assessed",
                    format!("{}: {}{reopened}", new.describe(), reason.trim()),
                )
            }
            BreachAction::Reported(at, ico_ref) => {
                invalid(between("reported", at, row.discovered_at, now))?;
                invalid(required("ico_reference", ico_ref, "the ICO's reference"))?;
                row.ico_decision = Decision::Done.as_str().to_owned();
                row.ico_reported_at = Some(at);
                row.ico_reference = Some(ico_ref.trim().to_owned());
                let late = if at > ico_deadline(row.discovered_at) {
                    " (after the 72 hours: the report must say why)"
                } else {
                    ""
                };
                (
                    "reported",
                    format!(
                        "Reported to the ICO {}{late}, reference {}",
                        long_moment(at),
                        ico_ref.trim()
                    ),
                )
            }
            BreachAction::NotReported(reason) => {
                breach::may_skip_ico(risk).map_err(refused)?;
                invalid(required("ico_reason", reason, "why it is not reported"))?;
                row.ico_decision = Decision::NotRequired.as_str().to_owned();
                row.ico_reason = Some(reason.trim().to_owned());
                ("not_reported", reason.trim().to_owned())
            }
            BreachAction::PeopleTold(at, how) => {
                invalid(between("told", at, row.discovered_at, now))?;
                invalid(required("people_reason", how, "how the people were told"))?;
                row.people_decision = Decision::Done.as_str().to_owned();
                row.people_told_at = Some(at);
                row.people_reason = Some(how.trim().to_owned());
                (
                    "people_told",
                    format!("Told {}: {}", long_moment(at), how.trim()),
                )
            }
            BreachAction::PeopleNotTold(reason) => {
                invalid(required(
                    "people_not_reason",
                    reason,
                    "why the people are not told",
                ))?;
                row.people_decision = Decision::NotRequired.as_str().to_owned();
                row.people_reason = Some(reason.trim().to_owned());
                ("people_not_told", reason.trim().to_owned())
            }
            BreachAction::Note(text) => {
                invalid(required("note", text, "a note"))?;
                ("note", text.trim().to_owned())
            }
            BreachAction::Close(text) => {
                invalid(required("close_note", text, "what was done"))?;
                breach::may_close(
                    risk,
                    status(&row.ico_decision),
                    status(&row.people_decision),
                )
                .map_err(refused)?;
                row.status = "closed".to_owned();
                row.closed_at = Some(now);
                ("closed", text.trim().to_owned())
            }
        };
        row.updated_at = now;
        store::save(&tx, &row).await?;
        store::add_event(&tx, &row, now, by, event, Some(&note)).await?;
        self.audit_breach(&tx, &row, by, &format!("breach.{event}"))
            .await?;
        tx.commit().await?;
        Ok(row)
    }

    /// Emails the privacy officers the open breaches whose ICO decision is still to be
    /// made, with their deadlines (the daily reminder). Returns how many emails were queued.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn send_breach_reminders(
        &self,
        cfg: &TenantConfig,
        base_url: &str,
    ) -> Result<usize, PrivacyError> {
        let open: Vec<BreachSummary> = self
            .breaches(cfg)
            .await?
            .into_iter()
            .filter(|b| {
                b.row.status == "open"
                    && matches!(b.ico, IcoStatus::Due(_) | IcoStatus::Overdue)
                    && Risk::parse(&b.row.risk) != Some(Risk::Unlikely)
            })
            .collect();
        if open.is_empty() {
            return Ok(0);
        }
        let refs: Vec<&BreachSummary> = open.iter().collect();
        let (subject, body) = breach_mail(cfg, &refs, base_url);
        let tx = self.db.tenant_tx(&cfg.slug).await?;
        let sent = self.tell_officers(&tx, cfg, &subject, &body).await?;
        tx.commit().await?;
        Ok(sent)
    }
}

/// The email about `breaches` whose ICO report is still to be decided.
fn breach_mail(
    cfg: &TenantConfig,
    breaches: &[&BreachSummary],
    base_url: &str,
) -> (String, String) {
    let lines: Vec<String> = breaches
        .iter()
        .map(|b| {
            let when = match b.ico {
                IcoStatus::Overdue => {
                    format!("the ICO's 72 hours ended {}", long_moment(b.deadline))
                }
                _ => format!("report to the ICO by {}", long_moment(b.deadline)),
            };
            format!(
                "- {reference} ({risk}), {when}: {base_url}/manage/breaches/{id}",
                reference = b.reference,
                risk = Risk::parse(&b.row.risk).map_or("", Risk::describe),
                id = b.row.id,
            )
        })
        .collect();
    let subject = if breaches.len() == 1 {
        format!(
            "Personal-data breach {}: ICO decision due",
            breaches[0].reference
        )
    } else {
        format!(
            "{} personal-data breaches: ICO decision due",
            breaches.len()
        )
    };
    let body = format!(
        "{service} has personal-data breaches whose report to the ICO is still to be decided. \
         A breach likely to result in a risk to people must be reported within 72 hours of \
         becoming aware of it.\n\n{list}\n\nThe breach log: {base_url}/manage/breaches\n",
        service = cfg.display_name,
        list = lines.join("\n"),
    );
    (subject, body)
}
