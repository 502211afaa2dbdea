//! Background work: the minute's jobs (waiting-list offers, reminders), the daily retention
//! sweep, sealing the audit log and sending mail. Every replica runs them; each job claims
//! its work, so nothing is done twice.

use std::sync::Arc;
use std::time::Duration;

use crate::http::state::AppState;

/// Starts every background loop.
pub fn spawn(state: AppState) {
    spawn_jobs(state);
}

/// Background work every minute: lapsed waiting-list offers pass to the next person, and
/// course reminders due are queued. Every replica may run it; each offer and each reminder
/// is claimed by a conditional update, so none is handled twice.
fn spawn_jobs(state: AppState) {
    tokio::spawn(daily_retention(state.clone()));
    tokio::spawn(crate::notices::follow_changes(state.clone()));
    tokio::spawn(seal_audit(state.clone()));
    if let Some(mailer) = state.mailer.clone() {
        tokio::spawn(send_mail(state.clone(), mailer));
    }
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        loop {
            tick.tick().await;
            minute_jobs(&state).await;
        }
    });
}

/// The minute's work for every tenant: lapsed waiting-list offers pass on, free places on
/// sessions with people waiting are offered to them, invoices left waiting for their number
/// are numbered, due course reminders are queued. Failures are logged; the next minute
/// tries again.
pub async fn minute_jobs(state: &AppState) {
    let b = &state.bookings;
    for t in state.registry.current().iter() {
        let base = state.base_url(&t.config);
        let id = &t.id;
        logged(
            id,
            "waiting-list offers lapsed and passed on",
            b.expire_offers(id, &base).await,
        );
        // A place a cancellation gave back while a checkout was putting someone on the
        // waiting list goes to the first in line.
        logged(
            id,
            "free places offered to people waiting",
            b.offer_free_places(id, &base).await,
        );
        // Normally numbered at once; this catches one a stopped replica left waiting.
        logged(
            id,
            "invoices left waiting numbered",
            b.number_invoices(&t.config).await,
        );
        logged(
            id,
            "course reminders queued",
            b.send_reminders(&t.config).await,
        );
    }
}

/// Logs what one of the minute's jobs did for `tenant` (`what`: how many things it did,
/// when it did any), or that it failed.
fn logged<N: TryInto<u64>>(
    tenant: &tenant_router::TenantId,
    what: &str,
    done: Result<N, bookings::BookingError>,
) {
    match done.map(|n| n.try_into().unwrap_or(u64::MAX)) {
        Ok(0) => {}
        Ok(n) => tracing::info!(tenant = %tenant, count = n, "{what}"),
        Err(e) => tracing::warn!(tenant = %tenant, error = %e, "failed: {what}"),
    }
}

/// Every second, links each tenant's newly committed audit events into its chain. Every
/// replica may run it: sealing takes the tenant's chain lock for the moment it needs.
async fn seal_audit(state: AppState) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        for t in state.registry.current().iter() {
            let sealed = async {
                // A full batch means more may wait: keep going until the backlog is gone.
                loop {
                    let tx = state.db.tenant_tx(&t.id).await?;
                    let n = storage::audit::seal(&tx).await?;
                    // Sealing changes only the audit chain, which no cache keyed on the
                    // commit count reads: every second, it would empty them all.
                    tx.commit_uncounted().await?;
                    if n < storage::audit::SEAL_BATCH {
                        return Ok::<_, storage::StorageError>(());
                    }
                }
            }
            .await;
            if let Err(e) = sealed {
                tracing::warn!(tenant = %t.id, error = %e, "audit events could not be sealed yet");
            }
        }
    }
}

/// Drains every tenant's outbox to the SMTP server, every `smtp.poll_secs`. Every replica
/// may run it: messages are claimed before they are sent.
async fn send_mail(state: AppState, mailer: Arc<crate::mail::Mailer>) {
    let mut tick = tokio::time::interval(mailer.poll);
    loop {
        tick.tick().await;
        for t in state.registry.current().iter() {
            match mailer
                .drain(&state.db, &state.clock, &t.id, &t.config.display_name)
                .await
            {
                Ok(d) if d.sent + d.failed > 0 => {
                    tracing::info!(tenant = %t.id, sent = d.sent, failed = d.failed, "outbox drained");
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(tenant = %t.id, error = %e, "outbox could not be drained"),
            }
        }
    }
}

/// The retention sweep, once a day on one replica: every replica tries each hour to take
/// the day's lease, and the one that gets it sweeps every tenant. A sweep cut short (the
/// replica stopped) is finished by the next day's, and every action is recorded once.
async fn daily_retention(state: AppState) {
    let holder = uuid::Uuid::new_v4().to_string();
    // Not at once: a starting server has its own writes to make (imports, demo data).
    let first = tokio::time::Instant::now() + Duration::from_secs(60);
    let mut tick = tokio::time::interval_at(first, Duration::from_secs(3600));
    loop {
        tick.tick().await;
        daily_jobs(&state, &holder).await;
    }
}

/// The day's work, when `holder` can take the day's lease: rows written for an offboarded
/// council after its offboarding deleted (`offboarding::sweep_stragglers`), the retention
/// sweep of every tenant, clearing fetched or lapsed copies of people's data, and the privacy officers'
/// list of rights requests falling due. Returns whether the lease was taken. Failures are
/// logged.
pub async fn daily_jobs(state: &AppState, holder: &str) -> bool {
    let now = state.clock.now();
    match storage::lease::try_acquire(
        &state.db,
        "retention-sweep",
        holder,
        now,
        chrono::Duration::hours(23),
    )
    .await
    {
        Ok(true) => {}
        Ok(false) => return false,
        Err(e) => {
            tracing::warn!(error = %e, "retention lease could not be checked");
            return false;
        }
    }
    // Rows and files a request or job still running wrote for a council after its
    // offboarding.
    match crate::offboarding::sweep_stragglers(state, now).await {
        Ok(swept) => {
            for (tenant, s) in swept {
                tracing::warn!(%tenant, rows = s.rows, files = s.files, "data written after offboarding deleted");
            }
        }
        Err(e) => tracing::warn!(error = %e, "offboarded councils could not be swept"),
    }
    for t in state.registry.current().iter() {
        let base = state.base_url(&t.config);
        let outcome = state
            .privacy
            .sweep(
                &t.id,
                &t.config,
                state.privacy.today(),
                privacy_engine::sweep::Mode::Run,
                &base,
                &mut |_| std::ops::ControlFlow::Continue(()),
            )
            .await;
        match outcome {
            Ok(r) => tracing::info!(
                tenant = %t.id,
                run = %r.run_id,
                checked = r.accounts_checked,
                warned = r.warned,
                acted = r.rules.iter().map(|x| x.count).sum::<u64>(),
                "retention sweep done"
            ),
            Err(e) => tracing::warn!(tenant = %t.id, error = %e, "retention sweep failed"),
        }
        // Copies of people's data that were fetched or have lapsed.
        if let Err(e) = state.privacy.clear_spent_bundles(&t.id).await {
            tracing::warn!(tenant = %t.id, error = %e, "spent data copies could not be cleared");
        }
        // The privacy officers' list of rights requests falling due this week.
        match state.privacy.send_due_list(&t.config, &base).await {
            Ok(n) => tracing::info!(tenant = %t.id, emails = n, "rights requests due list sent"),
            Err(e) => tracing::warn!(tenant = %t.id, error = %e, "rights requests due list failed"),
        }
        // Records of requests and complaints past the time the notice keeps them.
        match state.privacy.dispose_closed_records(&t.config).await {
            Ok(n) => {
                tracing::info!(tenant = %t.id, records = n, "closed request records disposed of")
            }
            Err(e) => {
                tracing::warn!(tenant = %t.id, error = %e, "closed request records not disposed of")
            }
        }
        // Copies of sent emails past the period every notice states.
        match state.privacy.dispose_sent_mail(&t.id).await {
            Ok(n) => tracing::info!(tenant = %t.id, emails = n, "sent email copies disposed of"),
            Err(e) => {
                tracing::warn!(tenant = %t.id, error = %e, "sent email copies not disposed of")
            }
        }
        // Management alerts held for people's daily (and, on Mondays, weekly) summaries.
        match send_alert_summaries(state, &t.id, &t.config.display_name, &base).await {
            Ok(n) => {
                tracing::info!(tenant = %t.id, emails = n, "management alert summaries queued")
            }
            Err(e) => {
                tracing::warn!(tenant = %t.id, error = %e, "management alert summaries not queued")
            }
        }
        // Breaches whose report to the ICO is still to be decided.
        match state.privacy.send_breach_reminders(&t.config, &base).await {
            Ok(n) => tracing::info!(tenant = %t.id, emails = n, "breach reminders sent"),
            Err(e) => tracing::warn!(tenant = %t.id, error = %e, "breach reminders failed"),
        }
    }
    true
}

/// Folds each person's held management alerts into one summary email: the daily ones every
/// day, the weekly ones on Mondays (see [`storage::alerts::fold`]). Returns how many
/// summaries were queued.
async fn send_alert_summaries(
    state: &AppState,
    tenant: &tenant_router::TenantId,
    service: &str,
    base: &str,
) -> Result<u64, storage::StorageError> {
    let now = state.clock.now();
    let tx = state.db.system_tx(tenant).await?;
    let n = storage::alerts::fold(
        &tx,
        now,
        storage::alerts::Summary {
            service,
            preferences_url: &format!("{base}/account/preferences"),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(n)
}
