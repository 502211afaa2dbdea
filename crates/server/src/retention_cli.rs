//! `portal retention …`: plan, run, holds and disposal records, for operators and DPOs.

use std::ops::ControlFlow;

use anyhow::Context as _;
use privacy_engine::domain::retention::HoldKind;
use privacy_engine::store::retention::{self as store, NewHold};
use storage::audit::{self, AuditEntry};

use crate::app::Application;
use crate::cli::RetentionCommand;
use crate::retention::{Mode, Report, Sweep};

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
            let tx = state.db.system_tx(&t.id).await?;
            let account = identity::store::find_by_email(&tx, &email.trim().to_lowercase())
                .await?
                .ok_or_else(|| {
                    anyhow::anyhow!("no account with email `{email}` in tenant `{tenant}`")
                })?;
            let id = store::place_hold(
                &tx,
                now,
                &NewHold {
                    account_id: &account.id,
                    kind,
                    reason: reason.trim(),
                    placed_by: "operator",
                    until,
                },
            )
            .await?;
            audit::record(
                &tx,
                now,
                AuditEntry {
                    actor: "operator:cli",
                    action: "retention.hold_placed",
                    subject: &account.id,
                    detail: serde_json::json!({ "hold": id, "kind": kind.as_str() }),
                },
            )
            .await?;
            tx.commit().await?;
            println!("hold {id} placed on {email}: {}", kind.describe());
            Ok(())
        }
        RetentionCommand::Release { tenant, hold } => {
            let t = find_tenant(app, &tenant)?;
            let now = state.clock.now();
            let tx = state.db.system_tx(&t.id).await?;
            anyhow::ensure!(
                store::release_hold(&tx, &hold, now).await?,
                "no hold `{hold}` in force in tenant `{tenant}`: `portal retention holds --tenant {tenant}` lists them"
            );
            audit::record(
                &tx,
                now,
                AuditEntry {
                    actor: "operator:cli",
                    action: "retention.hold_released",
                    subject: &hold,
                    detail: serde_json::json!({}),
                },
            )
            .await?;
            tx.commit().await?;
            println!("hold {hold} released");
            Ok(())
        }
        RetentionCommand::Holds { tenant } => {
            let t = find_tenant(app, &tenant)?;
            let tx = state.db.system_tx(&t.id).await?;
            let holds = store::holds(&tx, None, state.clock.now()).await?;
            tx.rollback().await?;
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
            let tx = state.db.system_tx(&t.id).await?;
            let rows = store::disposals(&tx, account.as_deref(), limit).await?;
            tx.rollback().await?;
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

fn find_tenant(
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
    let sweep = Sweep::new(
        state.db.clone(),
        state.clock.clone(),
        state.catalogue.objects().clone(),
    );
    let today = today.unwrap_or_else(|| sweep.today());
    let mut reports = Vec::new();
    for t in state.registry.current().iter() {
        if only.is_some_and(|slug| slug != t.id.as_str()) {
            continue;
        }
        let slug = t.id.to_string();
        let mut progress = |p: crate::retention::Progress| {
            if !json {
                eprintln!(
                    "{slug}: {} accounts checked, {} changed",
                    p.checked, p.changed
                );
            }
            ControlFlow::Continue(())
        };
        let report = sweep
            .tenant(
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
