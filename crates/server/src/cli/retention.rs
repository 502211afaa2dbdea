//! `portal retention …`: plan, run, holds and disposal records, for operators and DPOs.

use std::ops::ControlFlow;

use anyhow::Context as _;
use privacy_engine::domain::retention::HoldKind;
use privacy_engine::{HoldRequest, PrivacyError};

use crate::app::Application;
use clap::Subcommand;
use privacy_engine::sweep::{Mode, Progress, Report};

/// `retention` subcommands.
#[derive(Debug, Subcommand)]
pub enum RetentionCommand {
    /// Print, per tenant and rule, what would be deactivated, deleted and anonymised.
    /// Changes nothing.
    Plan {
        /// Only this tenant.
        #[arg(long)]
        tenant: Option<String>,
        /// Plan for another day (YYYY-MM-DD), e.g. to see what next month brings.
        #[arg(long)]
        today: Option<chrono::NaiveDate>,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Do what `plan` prints, for today. Safe to stop and run again: it carries on from
    /// where it got to and records each action once.
    Run {
        /// Only this tenant.
        #[arg(long)]
        tenant: Option<String>,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Place a hold that stops an account being deleted while it lasts.
    Hold {
        /// The tenant's slug.
        #[arg(long)]
        tenant: String,
        /// The account's email address.
        #[arg(long)]
        email: String,
        /// `subject_request`, `unpaid_invoice`, `legal_claim` or `user_extension`.
        #[arg(long)]
        kind: String,
        /// Why, for the administrators.
        #[arg(long)]
        reason: String,
        /// The day the hold ends by itself (YYYY-MM-DD); without it, it lasts until released.
        #[arg(long)]
        until: Option<chrono::NaiveDate>,
    },
    /// Release a hold.
    Release {
        /// The tenant's slug.
        #[arg(long)]
        tenant: String,
        /// The hold's id (from `retention holds`).
        #[arg(long)]
        hold: String,
    },
    /// List the holds in force.
    Holds {
        /// The tenant's slug.
        #[arg(long)]
        tenant: String,
    },
    /// List disposal records: what retention did, under which rule, and what remains.
    Disposals {
        /// The tenant's slug.
        #[arg(long)]
        tenant: String,
        /// Only those about this account id.
        #[arg(long)]
        account: Option<String>,
        /// At most this many, newest first.
        #[arg(long, default_value_t = 50)]
        limit: u64,
    },
}

/// Runs one `retention` subcommand.
///
/// # Errors
/// A clear message for an unknown tenant, account, hold kind or hold, or a database
/// failure.
pub async fn run(app: &Application, cmd: RetentionCommand) -> anyhow::Result<()> {
    let state = app.state();
    match cmd {
        RetentionCommand::Plan {
            tenant,
            today,
            json,
        } => sweep(app, tenant.as_deref(), today, Mode::Plan, json).await,
        RetentionCommand::Run { tenant, json } => {
            sweep(app, tenant.as_deref(), None, Mode::Run, json).await
        }
        RetentionCommand::Hold {
            tenant,
            email,
            kind,
            reason,
            until,
        } => {
            let t = find_tenant(app, &tenant)?;
            let kind = HoldKind::parse(&kind).ok_or_else(|| {
                anyhow::anyhow!(
                    "unknown hold kind `{kind}`: use one of {}",
                    HoldKind::ALL.map(HoldKind::as_str).join(", ")
                )
            })?;
            anyhow::ensure!(!reason.trim().is_empty(), "give a --reason for the hold");
            let now = state.clock.now();
            let until = until
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|t| t.and_utc());
            if let Some(u) = until {
                anyhow::ensure!(u > now, "--until must be a day after today");
            }
            let id = state
                .privacy
                .place_hold(
                    &t.id,
                    &HoldRequest {
                        email: &email,
                        kind,
                        reason: reason.trim(),
                        by: "operator:cli",
                        until,
                    },
                )
                .await
                .map_err(|e| match e {
                    PrivacyError::NoSuchAccount => {
                        anyhow::anyhow!("no account with email `{email}` in tenant `{tenant}`")
                    }
                    other => other.into(),
                })?;
            println!("hold {id} placed on {email}: {}", kind.describe());
            Ok(())
        }
        RetentionCommand::Release { tenant, hold } => {
            let t = find_tenant(app, &tenant)?;
            anyhow::ensure!(
                state
                    .privacy
                    .release_hold(&t.id, &hold, "operator:cli")
                    .await?,
                "no hold `{hold}` in force in tenant `{tenant}`: `portal retention holds --tenant {tenant}` lists them"
            );
            println!("hold {hold} released");
            Ok(())
        }
        RetentionCommand::Holds { tenant } => {
            let t = find_tenant(app, &tenant)?;
            let holds = state.privacy.holds(&t.id).await?;
            if holds.is_empty() {
                println!("no holds in force in {tenant}");
            }
            for h in holds {
                let until = h.until.map_or_else(
                    || "until released".to_owned(),
                    |u| format!("until {}", u.date_naive()),
                );
                println!(
                    "{}\t{}\t{}\t{until}\t{}",
                    h.id, h.account_id, h.kind, h.reason
                );
            }
            Ok(())
        }
        RetentionCommand::Disposals {
            tenant,
            account,
            limit,
        } => {
            let t = find_tenant(app, &tenant)?;
            let rows = state
                .privacy
                .disposals(&t.id, account.as_deref(), limit)
                .await?;
            if rows.is_empty() {
                println!("no disposal records in {tenant}");
            }
            for r in rows {
                println!(
                    "{}\t{}\t{} {}{}\t{}\n\trule {}: {}\n\tremaining: {}",
                    r.occurred_at.format("%Y-%m-%d %H:%M"),
                    r.run_id,
                    r.action,
                    r.record_kind,
                    r.account_ref.map(|a| format!(" {a}")).unwrap_or_default(),
                    r.records,
                    r.rule_index,
                    r.rule,
                    r.remaining,
                );
            }
            Ok(())
        }
    }
}

/// The tenant called `slug` in the running registry, or an error that says where to look.
pub(super) fn find_tenant(
    app: &Application,
    slug: &str,
) -> anyhow::Result<std::sync::Arc<tenant_router::TenantContext>> {
    app.state()
        .registry
        .current()
        .iter()
        .find(|t| t.id.as_str() == slug)
        .cloned()
        .ok_or_else(|| anyhow::anyhow!("no tenant `{slug}`: `portal tenants list` shows them"))
}

async fn sweep(
    app: &Application,
    only: Option<&str>,
    today: Option<chrono::NaiveDate>,
    mode: Mode,
    json: bool,
) -> anyhow::Result<()> {
    let state = app.state();
    if let Some(slug) = only {
        find_tenant(app, slug)?;
    }
    let sweep = &state.privacy;
    let today = today.unwrap_or_else(|| sweep.today());
    let mut reports = Vec::new();
    for t in state.registry.current().iter() {
        if only.is_some_and(|slug| slug != t.id.as_str()) {
            continue;
        }
        let slug = t.id.to_string();
        let mut progress = |p: Progress| {
            if !json {
                eprintln!(
                    "{slug}: {} accounts checked, {} changed",
                    p.checked, p.changed
                );
            }
            ControlFlow::Continue(())
        };
        let report = sweep
            .sweep(
                &t.id,
                &t.config,
                today,
                mode,
                &app.base_url(&t.config),
                &mut progress,
            )
            .await
            .with_context(|| format!("retention for `{}` stopped", t.id))?;
        if !json {
            print_report(&report);
        }
        reports.push(report);
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&reports)?);
    }
    Ok(())
}

fn print_report(r: &Report) {
    let verb = if r.applied { "done" } else { "would be done" };
    println!("{} on {} ({verb}; run {})", r.tenant, r.today, r.run_id);
    for rule in &r.rules {
        match rule.not_acted {
            Some(why) => println!(
                "  rule {} [{}] not acted on: {why}",
                rule.rule, rule.category
            ),
            None => {
                let held: Vec<String> = rule
                    .held
                    .iter()
                    .map(|(k, n)| format!("{n} held ({k})"))
                    .collect();
                println!(
                    "  rule {} [{}] {}: {} {}{}",
                    rule.rule,
                    rule.category,
                    rule.action,
                    rule.count,
                    rule.unit,
                    if held.is_empty() {
                        String::new()
                    } else {
                        format!("; {}", held.join(", "))
                    }
                );
            }
        }
    }
    println!("  warnings: {} accounts", r.warned);
    if r.stopped {
        println!("  stopped before the end: run it again to finish");
    }
}
