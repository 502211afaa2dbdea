//! Complaints about how a council handles personal data (or its service), made online by
//! anyone, signed in or not, or logged by a privacy officer when they came another way.
//! Each is acknowledged within the tenant's stated working days (never later than 30
//! days): at once by email when there is an address, otherwise by the officer, whose desk
//! shows the day it is due. It moves through the escalation steps the notice lists, and is
//! closed with an outcome. Every email to the complainant names the next step and the
//! Information Commissioner's Office.

use chrono::{Days, NaiveDate};
use storage::TenantTx;
use storage::audit::{self, AuditEntry};
use tenant_router::TenantConfig;

use crate::PrivacyError;
use crate::domain::calendar::{self, long_date};
use crate::domain::notice::ICO;
use crate::domain::rights::Channel;
use crate::rights::required;
use crate::service::Privacy;
use crate::store::complaints::{self as store, ComplaintEventRow, ComplaintRow};

/// No complaint waits longer than this for an acknowledgement, whatever the tenant states.
pub const ACKNOWLEDGE_AT_MOST_DAYS: u64 = 30;

/// A complaint to record.
#[derive(Clone, Copy, Debug)]
pub struct NewComplaint<'a> {
    /// The complainant's account, when signed in.
    pub account_id: Option<&'a str>,
    /// Who complains.
    pub name: &'a str,
    /// Where to answer, when known.
    pub email: Option<&'a str>,
    /// What it is about.
    pub about: &'a str,
    /// How it arrived.
    pub channel: Channel,
    /// The day it arrived.
    pub received_on: NaiveDate,
    /// Who records it (`account:…`, or `public` for the online form).
    pub by: &'a str,
}

/// What a privacy officer does to a complaint.
#[derive(Clone, Copy, Debug)]
pub enum ComplaintAction<'a> {
    /// Records that it was acknowledged (by telephone or letter, say), with how.
    Acknowledge(&'a str),
    /// Moves it to the next escalation step, with why.
    Escalate(&'a str),
    /// Adds a note.
    Note(&'a str),
    /// Closes it with the outcome, which the complainant is sent.
    Close(&'a str),
}

/// A complaint with where it stands.
#[derive(Clone, Debug)]
pub struct ComplaintSummary {
    /// The stored complaint.
    pub row: ComplaintRow,
    /// `CP-…`
    pub reference: String,
    /// Who has it now: the service, or an escalation step.
    pub stage: String,
    /// Not acknowledged, and past the day it should have been.
    pub acknowledgement_overdue: bool,
}

/// `CP-` and eight characters of the id (see [`crate::domain::rights::reference_with`]).
#[must_use]
pub fn reference(id: &str) -> String {
    crate::domain::rights::reference_with("CP", id)
}

/// The stage names of `cfg`: the service itself, then its escalation steps.
#[must_use]
pub fn stages(cfg: &TenantConfig) -> Vec<String> {
    std::iter::once(format!("{} (the service)", cfg.display_name))
        .chain(cfg.complaints.iter().flat_map(|c| c.escalation.clone()))
        .collect()
}

/// The day a complaint received on `received` must be acknowledged by.
#[must_use]
pub fn acknowledge_by(cfg: &TenantConfig, received: NaiveDate) -> NaiveDate {
    let cap = received
        .checked_add_days(Days::new(ACKNOWLEDGE_AT_MOST_DAYS))
        .unwrap_or(received);
    cfg.complaints
        .as_ref()
        .and_then(|c| c.acknowledge_within_working_days)
        .map_or(cap, |n| {
            calendar::working_days_after(received, u32::from(n)).min(cap)
        })
}

impl Privacy {
    fn summary(&self, cfg: &TenantConfig, row: ComplaintRow) -> ComplaintSummary {
        let names = stages(cfg);
        let at = usize::try_from(row.stage).unwrap_or(0).min(names.len() - 1);
        ComplaintSummary {
            reference: reference(&row.id),
            stage: names[at].clone(),
            acknowledgement_overdue: row.acknowledged_at.is_none()
                && row.status == "open"
                && self.uk_today() > row.acknowledge_by,
            row,
        }
    }

    /// Records a complaint and, when there is an address, acknowledges it at once by email.
    ///
    /// # Errors
    /// [`PrivacyError::Invalid`] with every problem (nothing is stored); otherwise when the
    /// database fails.
    pub async fn file_complaint(
        &self,
        cfg: &TenantConfig,
        new: &NewComplaint<'_>,
    ) -> Result<ComplaintRow, PrivacyError> {
        let now = self.clock.now();
        let today = calendar::uk_date(now);
        let mut problems: Vec<(&'static str, String)> = [
            required("name", new.name, "your name"),
            required("about", new.about, "what the complaint is about"),
        ]
        .into_iter()
        .flatten()
        .collect();
        if let Some(e) = new.email
            && !crate::rights::looks_like_email(e.trim())
        {
            problems.push((
                "email",
                "Enter an email address in the correct format, like name@example.com".to_owned(),
            ));
        }
        if new.received_on > today || (today - new.received_on).num_days() > 366 {
            problems.push((
                "received_on",
                "The date received must be within the last year and not in the future".to_owned(),
            ));
        }
        if !problems.is_empty() {
            return Err(PrivacyError::Invalid(problems));
        }
        let tx = self.db.tenant_tx(&cfg.slug).await?;
        let mut row = ComplaintRow {
            id: uuid::Uuid::now_v7().to_string(),
            account_id: new.account_id.map(str::to_owned),
            complainant_name: new.name.trim().to_owned(),
            complainant_email: new.email.map(|e| e.trim().to_lowercase()),
            about: new.about.trim().to_owned(),
            channel: new.channel.as_str().to_owned(),
            received_on: new.received_on,
            acknowledge_by: acknowledge_by(cfg, new.received_on),
            acknowledged_at: None,
            stage: 0,
            status: "open".to_owned(),
            outcome: None,
            created_by: new.by.to_owned(),
            created_at: now,
            updated_at: now,
            closed_at: None,
        };
        store::insert(&tx, &row).await?;
        store::add_event(
            &tx,
            &row,
            now,
            new.by,
            "received",
            Some(new.channel.describe()),
        )
        .await?;
        if row.complainant_email.is_some() {
            row.acknowledged_at = Some(now);
            store::save(&tx, &row).await?;
            store::add_event(&tx, &row, now, "system", "acknowledged", Some("By email")).await?;
            let text = format!(
                "{service} received your complaint on {received}. {who} will look into it and \
                 reply.",
                service = cfg.display_name,
                received = long_date(row.received_on),
                who = stages(cfg)[0],
            );
            self.tell_complainant(&tx, cfg, &row, "We have your complaint", &text)
                .await?;
        }
        self.audit_complaint(&tx, &row, new.by, "complaints.received")
            .await?;
        tx.commit().await?;
        Ok(row)
    }

    /// Emails the complainant (when there is an address): `text`, where the complaint is
    /// now and what they can do next, ending with the ICO.
    async fn tell_complainant(
        &self,
        tx: &TenantTx,
        cfg: &TenantConfig,
        row: &ComplaintRow,
        subject: &str,
        text: &str,
    ) -> Result<(), PrivacyError> {
        let Some(to) = &row.complainant_email else {
            return Ok(());
        };
        let names = stages(cfg);
        let next = usize::try_from(row.stage + 1).unwrap_or(usize::MAX);
        let onward = match names.get(next) {
            Some(step) => {
                format!("If you are not satisfied, you can ask for it to go to: {step}. ")
            }
            None => String::new(),
        };
        let body = format!(
            "Dear {name},\n\n{text}\n\nYour reference is {reference}.\n\n{onward}You also have \
             the right to complain to the {ICO}.\n",
            name = row.complainant_name,
            reference = reference(&row.id),
        );
        let subject = format!("{subject} ({})", reference(&row.id));
        storage::outbox::enqueue(
            tx,
            self.clock.now(),
            storage::outbox::Email {
                to,
                subject: &subject,
                body: &body,
            },
        )
        .await?;
        Ok(())
    }

    async fn audit_complaint(
        &self,
        tx: &TenantTx,
        row: &ComplaintRow,
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
                detail: serde_json::json!({ "stage": row.stage, "status": row.status }),
            },
        )
        .await?;
        Ok(())
    }

    /// The tenant's complaints, open ones first.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn complaints(
        &self,
        cfg: &TenantConfig,
    ) -> Result<Vec<ComplaintSummary>, PrivacyError> {
        let tx = self.db.tenant_tx(&cfg.slug).await?;
        let rows = store::list(&tx, None).await?;
        tx.rollback().await?;
        Ok(rows.into_iter().map(|r| self.summary(cfg, r)).collect())
    }

    /// One complaint and its history.
    ///
    /// # Errors
    /// [`PrivacyError::NoSuchRequest`] when the tenant has no such complaint.
    pub async fn complaint(
        &self,
        cfg: &TenantConfig,
        id: &str,
    ) -> Result<(ComplaintSummary, Vec<ComplaintEventRow>), PrivacyError> {
        let tx = self.db.tenant_tx(&cfg.slug).await?;
        let row = store::list(&tx, Some(id))
            .await?
            .pop()
            .ok_or(PrivacyError::NoSuchRequest)?;
        let events = store::events(&tx, id).await?;
        tx.rollback().await?;
        Ok((self.summary(cfg, row), events))
    }

    /// Applies `action` to complaint `id`; recorded, audited, and the complainant told when
    /// it is escalated or closed.
    ///
    /// # Errors
    /// [`PrivacyError::NoSuchRequest`]; [`PrivacyError::Invalid`] for a missing note;
    /// [`PrivacyError::Refused`] when the complaint is closed, already acknowledged, or at
    /// its last step. Nothing changes in any of these cases.
    pub async fn act_on_complaint(
        &self,
        cfg: &TenantConfig,
        id: &str,
        action: ComplaintAction<'_>,
        by: &str,
    ) -> Result<ComplaintRow, PrivacyError> {
        let now = self.clock.now();
        let tx = self.db.tenant_tx(&cfg.slug).await?;
        let mut row = store::list(&tx, Some(id))
            .await?
            .pop()
            .ok_or(PrivacyError::NoSuchRequest)?;
        let refuse = |code, message| Err(PrivacyError::Refused { code, message });
        if row.status != "open" {
            return refuse(
                "complaint_closed",
                "This complaint is closed, so it cannot be changed.",
            );
        }
        let text = match action {
            ComplaintAction::Acknowledge(t)
            | ComplaintAction::Escalate(t)
            | ComplaintAction::Note(t)
            | ComplaintAction::Close(t) => t.trim(),
        };
        if let Some(p) = required("note", text, "a note") {
            return Err(PrivacyError::Invalid(vec![p]));
        }
        let names = stages(cfg);
        let event = match action {
            ComplaintAction::Acknowledge(_) => {
                if row.acknowledged_at.is_some() {
                    return refuse(
                        "already_acknowledged",
                        "This complaint is already acknowledged.",
                    );
                }
                row.acknowledged_at = Some(now);
                "acknowledged"
            }
            ComplaintAction::Escalate(_) => {
                let next = usize::try_from(row.stage + 1).unwrap_or(usize::MAX);
                let Some(step) = names.get(next) else {
                    return refuse(
                        "last_step",
                        "This complaint is at the last step of the council's procedure.",
                    );
                };
                row.stage += 1;
                let text = format!("Your complaint has gone to {step}, because: {text}");
                self.tell_complainant(&tx, cfg, &row, "Your complaint has moved on", &text)
                    .await?;
                "escalated"
            }
            ComplaintAction::Note(_) => "note",
            ComplaintAction::Close(_) => {
                row.status = "closed".to_owned();
                row.outcome = Some(text.to_owned());
                row.closed_at = Some(now);
                let reply = format!("We have finished looking into your complaint. {text}");
                self.tell_complainant(&tx, cfg, &row, "Our answer to your complaint", &reply)
                    .await?;
                "closed"
            }
        };
        row.updated_at = now;
        store::save(&tx, &row).await?;
        store::add_event(&tx, &row, now, by, event, Some(text)).await?;
        self.audit_complaint(&tx, &row, by, &format!("complaints.{event}"))
            .await?;
        tx.commit().await?;
        Ok(row)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn reference_names_a_complaint() {
        assert_eq!(
            reference("0193a4b2-77c1-7000-8000-00ab12cd34ef"),
            "CP-12CD34EF"
        );
    }

    #[test]
    fn the_acknowledgement_date_counts_working_days_and_is_capped() {
        let tenants = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tenants");
        let mut cfg = tenant_router::load::load_dir(std::path::Path::new(tenants))
            .unwrap()
            .into_iter()
            .find(|t| t.config.slug.as_str() == "harrow")
            .unwrap()
            .config;
        cfg.complaints = Some(tenant_router::config::Complaints {
            acknowledge_within_working_days: Some(5),
            escalation: vec!["The corporate complaints officer".to_owned()],
        });
        // Thursday 24 December 2026: 29, 30, 31 December, 4, 5 January.
        assert_eq!(acknowledge_by(&cfg, d("2026-12-24")), d("2027-01-05"));
        cfg.complaints = Some(tenant_router::config::Complaints {
            acknowledge_within_working_days: Some(40),
            escalation: Vec::new(),
        });
        assert_eq!(acknowledge_by(&cfg, d("2026-12-01")), d("2026-12-31"));
        assert_eq!(stages(&cfg).len(), 1);
    }
}
