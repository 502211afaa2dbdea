//! Keeping every replica's view of each tenant's privacy notice current.
//!
//! Publishing a notice puts its configuration in force (the tenant row changes). Each
//! replica checks every few seconds whether any tenant row changed and, if so, rebuilds its
//! tenant registry, so new retention rules and contacts apply everywhere without a restart.
//! It also keeps, per tenant, the latest significant version, so a signed-in page asks the
//! database about acknowledgements only when there is something to acknowledge.

use chrono::{DateTime, Utc};
use tenant_router::load::LoadedTenant;
use tenant_router::{LiveRegistry, TenantConfig, TenantId};

use crate::http::state::{Announced, AppState};

/// Rebuilds the registry from the tenant rows, and the announcements with it.
///
/// # Errors
/// When the database fails or a stored configuration does not read (the running
/// registry is then kept). A configuration that fails a check added since it was stored
/// is served (see [`storage::tenants::load_registry`]).
pub async fn reload(
    db: &storage::Db,
    registry: &LiveRegistry,
    announced: &Announced,
) -> anyhow::Result<()> {
    let fresh = storage::tenants::load_registry(db).await?;
    for t in fresh.iter() {
        announced.refresh(db, &t.id).await?;
    }
    registry.replace(fresh);
    Ok(())
}

/// Reloads the registry here, forgets cached pages, and tells the other replicas
/// ([`announce`]): after a tenant is onboarded or offboarded or a notice published.
///
/// # Errors
/// When the reload fails (the running registry is kept).
pub async fn reload_everywhere(state: &AppState) -> anyhow::Result<()> {
    reload(&state.db, &state.registry, &state.announced).await?;
    state.public_cache.clear();
    announce(state).await;
    Ok(())
}

/// Tells every replica, through Redis pub/sub, that the tenant rows changed, so they
/// reload at once rather than at their next check. Without Redis, or when it fails (a
/// warning is logged), they still notice within `tenants.poll_secs`.
pub async fn announce(state: &AppState) {
    let Some(client) = &state.redis else {
        return;
    };
    let send = async {
        let mut c = client.get_multiplexed_async_connection().await?;
        redis::cmd("PUBLISH")
            .arg(&state.tenants_channel)
            .arg("changed")
            .query_async::<i64>(&mut c)
            .await
    };
    match tokio::time::timeout(std::time::Duration::from_secs(2), send).await {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => tracing::warn!(error = %e, "tenant change not announced"),
        Err(_) => tracing::warn!("tenant change not announced: Redis timed out"),
    }
}

/// Listens on the tenant channel and wakes [`follow_changes`] at each announcement;
/// reconnects after a failure.
async fn listen(client: redis::Client, channel: String, wake: tokio::sync::mpsc::Sender<()>) {
    use futures_util::StreamExt as _;
    loop {
        match client.get_async_pubsub().await {
            Ok(mut pubsub) => match pubsub.subscribe(&channel).await {
                Ok(()) => {
                    // Whatever was announced while not listening is caught by a check now.
                    let _ = wake.try_send(());
                    let mut messages = pubsub.on_message();
                    while messages.next().await.is_some() {
                        // A check already waiting covers this one too.
                        let _ = wake.try_send(());
                    }
                    tracing::warn!("tenant change channel closed; reconnecting");
                }
                Err(e) => tracing::warn!(error = %e, "cannot listen for tenant changes"),
            },
            Err(e) => tracing::warn!(error = %e, "cannot listen for tenant changes"),
        }
        if wake.is_closed() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_secs(5)).await;
    }
}

/// Reloads the registry when any tenant row has changed since it was last read (another
/// replica onboarded or offboarded a council or published a notice): at once when told
/// through Redis, and every `tenants.poll_secs` in any case.
pub async fn follow_changes(state: AppState) {
    let (wake, mut woken) = tokio::sync::mpsc::channel::<()>(1);
    if let Some(client) = state.redis.clone() {
        tokio::spawn(listen(client, state.tenants_channel.clone(), wake));
    } else {
        drop(wake);
    }
    // Nothing seen yet, so the first check (the interval's first tick is at once) reloads:
    // a council onboarded or offboarded between this replica's start-up load and now is
    // caught there, not missed until the next change.
    let mut seen = None;
    let mut tick = tokio::time::interval(state.tenants_poll);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            Some(()) = woken.recv() => {}
        }
        match storage::tenants::standing(&state.db).await {
            Ok(now) if Some(now) != seen => {
                match reload(&state.db, &state.registry, &state.announced).await {
                    Ok(()) => {
                        tracing::info!("tenant configuration changed; registry reloaded");
                        state.public_cache.clear();
                        seen = Some(now);
                    }
                    Err(e) => tracing::warn!(error = %e, "tenant registry could not be reloaded"),
                }
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "tenant changes could not be checked"),
        }
    }
}

/// At start-up, gives every tenant that has no notice yet its first version, compiled from
/// the configuration it runs on. A tenant whose notice lacks an item the ICO's checklist
/// requires gets a draft instead, which its administrators complete and publish.
///
/// # Errors
/// When the database fails.
pub async fn publish_first_versions(
    db: &storage::Db,
    registry: &LiveRegistry,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    use privacy_engine::store::notice::{self, Publication, PublishError};
    for t in registry.current().iter() {
        let tx = db.tenant_tx(&t.id).await?;
        if notice::current(&tx).await?.is_some() || notice::draft(&tx).await?.is_some() {
            tx.rollback().await?;
            continue;
        }
        notice::save_draft(
            &tx,
            now,
            "system",
            &t.config,
            &privacy_engine::domain::notice::Prose::default(),
            "First version, compiled from the tenant's configuration",
        )
        .await?;
        let first = Publication {
            by: "system",
            significant: false,
            summary: "First version on this portal.",
        };
        match notice::publish(&tx, now, first).await {
            Ok(_) => tracing::info!(tenant = %t.id, "privacy notice version 1 published"),
            Err(PublishError::Incomplete(missing)) => {
                let codes: Vec<&str> = missing.iter().map(|m| m.code).collect();
                tracing::warn!(
                    tenant = %t.id,
                    missing = %codes.join(", "),
                    "privacy notice not published: its draft awaits the missing items"
                );
            }
            Err(PublishError::Invalid(problems)) => tracing::warn!(
                tenant = %t.id,
                problems = %problems.join("; "),
                "privacy notice not published: its configuration fails a check"
            ),
            Err(e) => return Err(e.into()),
        }
        if let Err(e) = tx.commit().await {
            // Another replica starting at the same moment did it first.
            tracing::info!(tenant = %t.id, error = %e, "first notice version not recorded here");
        }
    }
    Ok(())
}

/// At start-up, turns each tenant folder that now differs from the configuration in force
/// into a draft of that tenant's notice (unless a draft is already open), with the changed
/// sections listed. An operator's change to a folder — a new recipient, a new retention
/// rule — therefore reaches the running portal only through a notice version the tenant's
/// administrators review and publish, so the published notice never states a period or a
/// recipient the platform does not apply.
///
/// Returns what became of each changed tenant's folder.
///
/// # Errors
/// When the database fails.
pub async fn draft_changed_folders(
    db: &storage::Db,
    registry: &LiveRegistry,
    loaded: &[LoadedTenant],
    changed: &[TenantId],
    now: DateTime<Utc>,
) -> anyhow::Result<Vec<(TenantId, Drafted)>> {
    use privacy_engine::store::notice;
    let running = registry.current();
    let mut out = Vec::new();
    for id in changed {
        let (Some(file), Some(in_force)) = (
            loaded.iter().find(|t| &t.config.slug == id),
            running.get(id),
        ) else {
            continue;
        };
        let sections = changed_sections(&in_force.config, &file.config)?;
        if sections.is_empty() {
            tracing::warn!(
                tenant = %id,
                "tenant folder's logo differs from the database; the database's logo stays"
            );
            out.push((id.clone(), Drafted::LogoOnly));
            continue;
        }
        let tx = db.tenant_tx(id).await?;
        if notice::draft(&tx).await?.is_some() {
            tx.rollback().await?;
            tracing::warn!(
                tenant = %id,
                sections = %sections.join(", "),
                "tenant folder differs from the configuration in force, but a notice draft is \
                 open: publish or discard it, then restart to draft the folder's changes"
            );
            out.push((id.clone(), Drafted::DraftOpen(sections)));
            continue;
        }
        let prose = notice::current(&tx)
            .await?
            .map(|p| p.rendered.prose)
            .unwrap_or_default();
        let change = format!("Changed in the tenant folder: {}", sections.join(", "));
        notice::save_draft(&tx, now, FOLDER_ACTOR, &file.config, &prose, &change).await?;
        storage::audit::record(
            &tx,
            now,
            storage::audit::AuditEntry {
                actor: FOLDER_ACTOR,
                action: "notice.draft_changed",
                subject: "privacy_notice",
                detail: serde_json::json!({ "change": change, "sections": sections }),
            },
        )
        .await?;
        tx.commit().await?;
        tracing::warn!(
            tenant = %id,
            sections = %sections.join(", "),
            "tenant folder differs from the configuration in force: its changes are now a \
             notice draft, applied when the tenant's administrators publish it"
        );
        out.push((id.clone(), Drafted::Sections(sections)));
    }
    Ok(out)
}

/// What became of a tenant folder that differs from the configuration in force.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Drafted {
    /// These sections are now a notice draft.
    Sections(Vec<String>),
    /// A draft was already open: nothing drafted (these sections wait).
    DraftOpen(Vec<String>),
    /// Only the logo differs: the database's logo stays.
    LogoOnly,
}

/// Who drafts a change read from a tenant folder.
pub const FOLDER_ACTOR: &str = "operator:tenant-folder";

/// The top-level sections of a tenant configuration that differ between two versions.
fn changed_sections(old: &TenantConfig, new: &TenantConfig) -> anyhow::Result<Vec<String>> {
    let (serde_json::Value::Object(old), serde_json::Value::Object(new)) =
        (serde_json::to_value(old)?, serde_json::to_value(new)?)
    else {
        anyhow::bail!("a tenant configuration is not an object");
    };
    let mut keys: Vec<String> = old
        .keys()
        .chain(new.keys())
        .filter(|k| old.get(*k) != new.get(*k))
        .cloned()
        .collect();
    keys.sort();
    keys.dedup();
    Ok(keys)
}
