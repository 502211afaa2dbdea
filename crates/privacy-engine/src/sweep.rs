//! The retention sweep ([`Privacy::sweep`]): does, for one tenant and one day, what the tenant's retention rules
//! say (the same rules its privacy notice prints). Accounts are warned, deactivated and
//! deleted; bookings are anonymised and purchases deleted once delivered long enough ago.
//!
//! It works in pages of accounts, each page one transaction holding the changes, their
//! disposal records and their audit events, so a sweep stopped half-way and run again
//! reaches the same end state with every action recorded once. `plan` decides the same
//! things and changes nothing (record rules are run and rolled back, so their counts are
//! exact).

use std::collections::BTreeMap;
use std::ops::ControlFlow;

use chrono::{DateTime, Days, NaiveDate, Utc};
use serde::Serialize;
use storage::TenantTx;
use storage::audit::{self, AuditEntry};
use storage::outbox::{self, Email};
use tenant_router::config::{RetentionAction, RetentionRule, RetentionTrigger};
use tenant_router::{TenantConfig, TenantId};

use crate::accounts::SwitchOff;
use crate::domain::executor::{Executor, RecordKind, ReviewKind, executor};
use crate::domain::notice::{retention_sentence, rule_text};
use crate::domain::retention::{
    self as rules, AccountPlan, Decision, RecordRule, Step, WARN_DAYS, start_of,
};
use crate::store::retention::{self as store, Disposal};
use crate::{Privacy, PrivacyError};

/// Who the audit log names for the sweep's actions.
pub const ACTOR: &str = "system:retention";

/// Whether the sweep acts or only says what it would do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Decide and report; change nothing.
    Plan,
    /// Decide and act.
    Run,
}

/// What happened (or would happen) under one rule.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct RuleOutcome {
    /// Index in the tenant's `retention` list.
    pub rule: usize,
    /// The rule's category.
    pub category: String,
    /// The rule as the notice states it.
    pub text: String,
    /// `deactivate`, `delete`, `anonymise`…
    pub action: String,
    /// What it applies to: `accounts`, `bookings`, `orders`.
    pub unit: &'static str,
    /// How many it applied to.
    pub count: u64,
    /// Accounts due for deletion but held, by hold kind.
    pub held: BTreeMap<&'static str, u64>,
    /// Why the sweep does not act on the rule, when it does not.
    pub not_acted: Option<&'static str>,
}

/// One tenant's sweep.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Report {
    /// Tenant.
    pub tenant: String,
    /// The day the rules were applied for.
    pub today: NaiveDate,
    /// Whether anything was changed.
    pub applied: bool,
    /// The run's id (disposal records carry it).
    pub run_id: String,
    /// Per rule.
    pub rules: Vec<RuleOutcome>,
    /// Accounts warned (or to warn) of a coming deactivation or deletion.
    pub warned: u64,
    /// Accounts looked at.
    pub accounts_checked: u64,
    /// Whether the sweep was stopped before the end (run it again to finish).
    pub stopped: bool,
}

/// Progress after each page.
#[derive(Clone, Copy, Debug)]
pub struct Progress {
    /// Accounts looked at so far.
    pub checked: u64,
    /// Accounts changed so far.
    pub changed: u64,
}

impl Privacy {
    /// Applies (or plans) `cfg`'s rules for `today`. `progress` is told after each page and
    /// may stop the sweep there; what was done stays done.
    ///
    /// # Errors
    /// When the database fails; the page in hand is rolled back.
    pub async fn sweep(
        &self,
        tenant: &TenantId,
        cfg: &TenantConfig,
        today: NaiveDate,
        mode: Mode,
        base_url: &str,
        progress: &mut (dyn FnMut(Progress) -> ControlFlow<()> + Send),
    ) -> Result<Report, PrivacyError> {
        let run_id = uuid::Uuid::now_v7().to_string();
        let mut report = Report {
            tenant: tenant.to_string(),
            today,
            applied: mode == Mode::Run,
            run_id: run_id.clone(),
            rules: outcomes(&cfg.retention),
            warned: 0,
            accounts_checked: 0,
            stopped: false,
        };
        let ctx = Ctx {
            tenant,
            cfg,
            run_id: &run_id,
            mode,
            base_url,
            now: self.clock.now(),
        };
        for rule in rules::record_rules(&cfg.retention, today) {
            let n = self.records(&ctx, &rule).await?;
            report.rules[rule.rule].count += n;
        }
        for (rule, n) in self
            .review_records((tenant, cfg), today, (&run_id, mode == Mode::Run))
            .await?
        {
            report.rules[rule].count += n;
        }
        let inactive_before = inactivity_bound(&cfg.retention, today);
        let mut after = String::new();
        let mut changed = 0;
        let review_rules = crate::domain::executor::account_review_rules(&cfg.retention);
        loop {
            let tx = self.db.system_tx(tenant).await?;
            let page = self
                .candidates(&tx, inactive_before, &after, ctx.now)
                .await?;
            let Some(last) = page.last() else {
                tx.rollback().await?;
                break;
            };
            after.clone_from(&last.facts.id);
            report.accounts_checked += page.len() as u64;
            let plans: Vec<(store::Candidate, AccountPlan)> = page
                .into_iter()
                .map(|c| {
                    let plan = rules::plan_account(&cfg.retention, &c.facts, today);
                    (c, plan)
                })
                .collect();
            changed += self.accounts(&ctx, &tx, &plans, &mut report).await?;
            let last_active = plans
                .iter()
                .map(|(c, _)| (c.facts.id.as_str(), c.facts.last_activity));
            for (rule, due) in
                crate::domain::executor::accounts_due(&review_rules, last_active, today)
            {
                let text = rule_text(cfg, rule);
                let n = self
                    .open_reviews(
                        &tx,
                        (rule, &text),
                        ReviewKind::Accounts,
                        &due,
                        (&run_id, ctx.now),
                    )
                    .await?;
                report.rules[rule].count += n;
            }
            match mode {
                Mode::Run => tx.commit().await?,
                Mode::Plan => tx.rollback().await?,
            }
            if progress(Progress {
                checked: report.accounts_checked,
                changed,
            })
            .is_break()
            {
                report.stopped = true;
                break;
            }
        }
        // One email to the officers for the whole sweep, however many pages opened reviews;
        // it also names reviews an earlier sweep opened but stopped before announcing.
        if mode == Mode::Run {
            self.announce_reviews(cfg, base_url).await?;
        }
        Ok(report)
    }

    /// One page of accounts: warnings, deactivations and deletions, with their disposal
    /// records and audit events. Returns the accounts changed.
    async fn accounts(
        &self,
        ctx: &Ctx<'_>,
        tx: &TenantTx,
        plans: &[(store::Candidate, AccountPlan)],
        report: &mut Report,
    ) -> Result<u64, PrivacyError> {
        let mut deactivate: BTreeMap<(usize, SwitchOffKey), Vec<String>> = BTreeMap::new();
        let mut delete: BTreeMap<usize, Vec<(String, String)>> = BTreeMap::new();
        for (c, plan) in plans {
            if let Some((d, holds)) = &plan.held {
                for h in holds {
                    *report.rules[d.rule].held.entry(h.as_str()).or_default() += 1;
                }
            }
            if let Some(d) = &plan.due {
                report.rules[d.rule].count += 1;
                match d.step {
                    Step::Delete => delete
                        .entry(d.rule)
                        .or_default()
                        .push((c.facts.id.clone(), c.email.clone())),
                    Step::Deactivate => {
                        // A leaver stays switched off; after inactivity, signing in reopens.
                        let why = match ctx.cfg.retention[d.rule].trigger {
                            RetentionTrigger::LeftOrganisation => SwitchOffKey::Left,
                            _ => SwitchOffKey::Dormant,
                        };
                        deactivate
                            .entry((d.rule, why))
                            .or_default()
                            .push(c.facts.id.clone());
                    }
                }
            }
            if let Some(w) = &plan.warn
                && self.warn(ctx, tx, c, w).await?
            {
                report.warned += 1;
            }
        }
        let mut changed = 0;
        for ((rule, why), ids) in &deactivate {
            let n = self.accounts.switch_off(tx, ids, why.switch_off()).await?;
            changed += n;
            let text = rule_text(ctx.cfg, *rule);
            let deletion = next_deletion(ctx.cfg);
            let records: Vec<Disposal<'_>> = ids
                .iter()
                .map(|id| Disposal {
                    run_id: ctx.run_id,
                    rule_index: *rule,
                    rule: &text,
                    action: "deactivate",
                    record_kind: "account",
                    account_ref: Some(id),
                    records: 1,
                    remaining: serde_json::json!([{
                        "what": "the whole account, switched off",
                        "why": deletion,
                    }]),
                })
                .collect();
            self.record(ctx, tx, "retention.deactivated", *rule, ids, &records)
                .await?;
        }
        for (rule, people) in &delete {
            let kept = self.erase_people(tx, people, ctx.mode == Mode::Run).await?;
            changed += people.len() as u64;
            let text = rule_text(ctx.cfg, *rule);
            let ids: Vec<String> = people.iter().map(|(id, _)| id.clone()).collect();
            let records: Vec<Disposal<'_>> = ids
                .iter()
                .map(|id| Disposal {
                    run_id: ctx.run_id,
                    rule_index: *rule,
                    rule: &text,
                    action: "delete",
                    record_kind: "account",
                    account_ref: Some(id),
                    records: 1,
                    remaining: remaining(ctx.cfg, kept.get(id).map_or(&[][..], Vec::as_slice)),
                })
                .collect();
            self.record(ctx, tx, "retention.deleted", *rule, &ids, &records)
                .await?;
        }
        Ok(changed)
    }

    /// Writes disposal records and one audit event for a group of accounts.
    async fn record(
        &self,
        ctx: &Ctx<'_>,
        tx: &TenantTx,
        action: &str,
        rule: usize,
        ids: &[String],
        records: &[Disposal<'_>],
    ) -> Result<(), PrivacyError> {
        if ids.is_empty() {
            return Ok(());
        }
        crate::store::erase::record_disposals(tx, ctx.now, records).await?;
        audit::record(
            tx,
            ctx.now,
            AuditEntry {
                actor: ACTOR,
                action,
                subject: ctx.run_id,
                detail: serde_json::json!({ "rule": rule, "accounts": ids }),
            },
        )
        .await?;
        Ok(())
    }

    /// Warns the person (and their lead administrators) once of a step coming within
    /// [`WARN_DAYS`]. Returns whether a warning was sent now.
    async fn warn(
        &self,
        ctx: &Ctx<'_>,
        tx: &TenantTx,
        who: &store::Candidate,
        decision: &Decision,
    ) -> Result<bool, PrivacyError> {
        if !store::note_warning(
            tx,
            &who.facts.id,
            decision.step.as_str(),
            decision.due_on,
            ctx.now,
        )
        .await?
        {
            return Ok(false);
        }
        let service = &ctx.cfg.display_name;
        let date = decision.due_on.format("%-d %B %Y").to_string();
        let (what, subject) = match decision.step {
            Step::Deactivate => (
                "switched off",
                format!("Your {service} account will be switched off on {date}"),
            ),
            Step::Delete => (
                "deleted",
                format!("Your {service} account will be deleted on {date}"),
            ),
        };
        let body = format!(
            "Your account on {service} ({email}) has not been used for a long time. Under our \
             retention rules it will be {what} on {date}.\n\n\
             To keep it, sign in before then: {base}/sign-in\n\n\
             Our privacy notice explains how long we keep personal data: {base}/privacy\n",
            email = who.email,
            base = ctx.base_url,
        );
        outbox::enqueue(
            tx,
            ctx.now,
            Email {
                to: &who.email,
                subject: &subject,
                body: &body,
            },
        )
        .await?;
        let admin_subject = format!("An account in your organisation will be {what} on {date}");
        let admin_body = format!(
            "The {service} account of {email} has not been used for a long time. Under our \
             retention rules it will be {what} on {date}, unless its owner signs in before \
             then.\n\nIf they have left your organisation, you can mark them as a leaver: \
             {base}/organisations\n",
            email = who.email,
            base = ctx.base_url,
        );
        for admin in self.accounts.lead_admins_of(tx, &who.facts.id).await? {
            storage::alerts::enqueue(
                tx,
                ctx.now,
                &admin,
                &who.facts.id,
                &admin_subject,
                &admin_body,
            )
            .await?;
        }
        audit::record(
            tx,
            ctx.now,
            AuditEntry {
                actor: ACTOR,
                action: "retention.warned",
                subject: &who.facts.id,
                detail: serde_json::json!({
                    "rule": decision.rule,
                    "step": decision.step.as_str(),
                    "due_on": decision.due_on,
                }),
            },
        )
        .await?;
        Ok(true)
    }

    /// Applies one record rule (bookings or purchases) in a transaction of its own; in plan
    /// mode the transaction is rolled back, so the count is exact and nothing changes.
    async fn records(&self, ctx: &Ctx<'_>, rule: &RecordRule) -> Result<u64, PrivacyError> {
        let tx = self.db.system_tx(ctx.tenant).await?;
        let before = start_of(rule.delivered_by.checked_add_days(Days::new(1)));
        let applied = match rule.kind {
            RecordKind::PageViews => {
                Some(storage::analytics::delete_before(&tx, before.date_naive()).await?)
            }
            kind => self.records.apply(&tx, kind, before).await?,
        };
        let Some(n) = applied else {
            tx.rollback().await?;
            return Ok(0);
        };
        let unit = rule.kind.unit();
        if n > 0 && ctx.mode == Mode::Run {
            let text = rule_text(ctx.cfg, rule.rule);
            let action = match rule.action {
                RetentionAction::Anonymise => "anonymise",
                _ => "delete",
            };
            crate::store::erase::record_disposals(
                &tx,
                ctx.now,
                &[Disposal {
                    run_id: ctx.run_id,
                    rule_index: rule.rule,
                    rule: &text,
                    action,
                    record_kind: rule.kind.as_str(),
                    account_ref: None,
                    records: i64::try_from(n).unwrap_or(i64::MAX),
                    remaining: serde_json::json!([]),
                }],
            )
            .await?;
            audit::record(
                &tx,
                ctx.now,
                AuditEntry {
                    actor: ACTOR,
                    action: &format!("retention.{action}d"),
                    subject: ctx.run_id,
                    detail: serde_json::json!({ "rule": rule.rule, unit: n }),
                },
            )
            .await?;
            tx.commit().await?;
        } else {
            tx.rollback().await?;
        }
        Ok(n)
    }
}

/// Why a group of accounts is switched off (an ordered key for the batch).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum SwitchOffKey {
    Dormant,
    Left,
}

impl SwitchOffKey {
    fn switch_off(self) -> SwitchOff {
        match self {
            Self::Dormant => SwitchOff::Dormant,
            Self::Left => SwitchOff::Left,
        }
    }
}

struct Ctx<'a> {
    tenant: &'a TenantId,
    cfg: &'a TenantConfig,
    run_id: &'a str,
    mode: Mode,
    base_url: &'a str,
    now: DateTime<Utc>,
}

/// Accounts last active before this instant may be due today or within the warning
/// period under some inactivity rule; `None` when the tenant has no such rule.
fn inactivity_bound(rules: &[RetentionRule], today: NaiveDate) -> Option<DateTime<Utc>> {
    let horizon = today.checked_add_days(Days::new(WARN_DAYS))?;
    let reviewed = crate::domain::executor::account_review_rules(rules)
        .into_iter()
        .filter_map(|(_, p)| rules::cutoff(p, today));
    rules::account_rules(rules)
        .filter(|(_, r)| r.trigger == RetentionTrigger::Inactivity)
        .filter_map(|(_, r)| rules::cutoff(r.after?, horizon))
        .chain(reviewed)
        .max()
        .map(|d| start_of(d.checked_add_days(Days::new(1))))
}

/// What will finally delete a switched-off account, in words.
fn next_deletion(cfg: &TenantConfig) -> String {
    rules::account_rules(&cfg.retention)
        .find(|(_, r)| r.action == RetentionAction::Delete)
        .map_or_else(
            || "no rule deletes accounts; an administrator decides".to_owned(),
            |(_, r)| format!("kept until deleted: {}", retention_sentence(r)),
        )
}

/// What erasure kept of a person, and the rule that keeps it.
pub(crate) fn remaining(cfg: &TenantConfig, kept: &[store::Kept]) -> serde_json::Value {
    serde_json::Value::Array(
        kept.iter()
            .map(|k| {
                let group = k.category.split('.').next().unwrap_or(k.category);
                let why = cfg
                    .retention
                    .iter()
                    .find(|r| r.category == k.category || r.category == group)
                    .map_or_else(
                        || "kept as the record of a transaction".to_owned(),
                        |r| {
                            format!(
                                "kept, with the person pseudonymised: {}",
                                retention_sentence(r)
                            )
                        },
                    );
                serde_json::json!({
                    "table": k.table,
                    "category": k.category,
                    "rows": k.rows,
                    "why": why,
                })
            })
            .collect(),
    )
}

/// One outcome per rule, saying which the sweep does not act on and why.
fn outcomes(rules_list: &[RetentionRule]) -> Vec<RuleOutcome> {
    (0..rules_list.len())
        .map(|i| {
            let r = &rules_list[i];
            let (unit, not_acted) = match executor(rules_list, i) {
                Ok(Executor::Accounts) => ("accounts", None),
                Ok(Executor::Sweep(kind)) => (kind.unit(), None),
                Ok(Executor::WithAccount) => (
                    "records",
                    Some("deleted with the account, under the account rule of the same period"),
                ),
                Ok(Executor::Review(kind)) => (kind.unit(), None),
                Err(why) => ("records", Some(why)),
            };
            RuleOutcome {
                rule: i,
                category: r.category.clone(),
                text: retention_sentence(r),
                action: format!("{:?}", r.action).to_lowercase(),
                unit,
                count: 0,
                held: BTreeMap::new(),
                not_acted,
            }
        })
        .collect()
}
