//! Onboarding a council without a deploy: an operator applies one tenant folder
//! (`portal tenants add DIR`). The folder is validated whole, and checked against every
//! other tenant (no hostname two tenants claim); nothing is written unless all of it is
//! right. A new tenant is stored with its own data key and its first privacy notice, and
//! serves at once in this process and within seconds on every other replica (each polls
//! the tenant rows, [`crate::notices::follow_changes`]). A folder of a tenant already on
//! the platform changes nothing in force: its differences become a notice draft that the
//! council's administrators review and publish, as at start-up.

use std::path::Path;

use chrono::{DateTime, Utc};
use tenant_router::LiveRegistry;
use tenant_router::load::LoadedTenant;

use crate::http::state::AppState;
use crate::notices::Drafted;

/// What applying a folder did.
#[derive(Debug, PartialEq, Eq)]
pub enum Applied {
    /// A new tenant, serving now; `notice` says whether its first privacy notice is
    /// published (or a draft awaits what the checklist needs).
    Imported { notice: NoticeState },
    /// The folder matches the configuration in force.
    Unchanged,
    /// The folder differs: a notice draft lists these sections (nothing else changed).
    Drafted(Vec<String>),
}

/// Where a tenant's privacy notice stands.
#[derive(Debug, PartialEq, Eq)]
pub enum NoticeState {
    /// A version is published.
    Published,
    /// Only a draft: the items it lacks are listed on `/manage/privacy`.
    Draft,
}

/// Reads and checks a tenant folder on its own: every problem in it, or the tenant.
///
/// # Errors
/// Every problem found, one per line (`file: key: message`).
pub fn read_folder(folder: &Path) -> anyhow::Result<LoadedTenant> {
    tenant_router::load::load_one(folder).map_err(|problems| {
        anyhow::anyhow!(
            "the tenant folder has {} problem(s); nothing was applied:\n{}",
            problems.len(),
            problems
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n")
        )
    })
}

/// Applies one tenant folder (see the module's documentation).
///
/// # Errors
/// The folder's problems, a hostname another tenant uses, or the database's failure;
/// nothing is applied in the first two cases.
pub async fn apply(state: &AppState, folder: &Path, now: DateTime<Utc>) -> anyhow::Result<Applied> {
    let loaded = read_folder(folder)?;
    let id = loaded.config.slug.clone();
    let stored = storage::tenants::load_registry(&state.db).await?;
    for other in stored.iter().filter(|t| t.id != id) {
        if let Some(h) = loaded
            .config
            .hostnames
            .iter()
            .find(|h| other.config.hostnames.contains(h))
        {
            anyhow::bail!(
                "the hostname `{h}` is already {}'s ({}); nothing was applied",
                other.id,
                other.config.display_name
            );
        }
    }
    let report =
        storage::tenants::import_new(&state.db, std::slice::from_ref(&loaded), now).await?;
    if let Some((_, why)) = report.refused.iter().find(|(r, _)| *r == id) {
        anyhow::bail!("{why}; nothing was applied");
    }
    // Every run finishes what a stopped one left: the data key and the first notice are
    // made when missing, whatever the folder's state.
    state.identity.ensure_tenant_key(&id).await?;
    let fresh = LiveRegistry::new(storage::tenants::load_registry(&state.db).await?);
    crate::notices::publish_first_versions(&state.db, &fresh, now).await?;
    let applied = if report.imported.contains(&id) {
        Applied::Imported {
            notice: notice_state(state, &id).await?,
        }
    } else if report.changed.contains(&id) {
        let drafted = crate::notices::draft_changed_folders(
            &state.db,
            &fresh,
            std::slice::from_ref(&loaded),
            std::slice::from_ref(&id),
            now,
        )
        .await?;
        match drafted.into_iter().next().map(|(_, d)| d) {
            Some(Drafted::Sections(sections)) => Applied::Drafted(sections),
            Some(Drafted::DraftOpen(sections)) => anyhow::bail!(
                "{id}'s folder changes {}, but a notice draft is already open: its \
                 administrators publish or discard it, then apply the folder again",
                sections.join(", ")
            ),
            Some(Drafted::LogoOnly) | None => Applied::Unchanged,
        }
    } else {
        Applied::Unchanged
    };
    crate::notices::reload(&state.db, &state.registry, &state.announced).await?;
    Ok(applied)
}

async fn notice_state(
    state: &AppState,
    id: &tenant_router::TenantId,
) -> anyhow::Result<NoticeState> {
    let tx = state.db.tenant_read(id).await?;
    let published = privacy_engine::store::notice::current(&tx).await?.is_some();
    tx.rollback().await?;
    Ok(if published {
        NoticeState::Published
    } else {
        NoticeState::Draft
    })
}
