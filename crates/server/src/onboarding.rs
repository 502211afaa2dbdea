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
    /// Only the logo differs: the folder's logo (checked like any) replaces it at once.
    LogoReplaced,
}

/// Where a tenant's privacy notice stands.
#[derive(Debug, PartialEq, Eq)]
pub enum NoticeState {
    /// A version is published.
    Published,
    /// Only a draft: the items it lacks are listed on `/manage/privacy`.
    Draft,
}

/// Why a folder was not applied.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// The folder has problems, each `file: key: message`; nothing was applied.
    #[error("the tenant folder has {} problem(s); nothing was applied:\n{}", .0.len(), .0.join("\n"))]
    Problems(Vec<String>),
    /// It clashes with the platform: another council's hostname, an offboarded slug, an
    /// open notice draft. Nothing was applied.
    #[error("{0}")]
    Conflict(String),
    /// The database or a store failed.
    #[error(transparent)]
    Failed(#[from] anyhow::Error),
}

impl From<storage::StorageError> for ApplyError {
    fn from(e: storage::StorageError) -> Self {
        Self::Failed(e.into())
    }
}

/// Reads and checks a tenant folder on its own: every problem in it, or the tenant.
///
/// # Errors
/// [`ApplyError::Problems`]: every problem found (`file: key: message`).
pub fn read_folder(folder: &Path) -> Result<LoadedTenant, ApplyError> {
    tenant_router::load::load_one(folder).map_err(|problems| {
        ApplyError::Problems(problems.iter().map(ToString::to_string).collect())
    })
}

/// Applies one tenant folder (see the module's documentation).
///
/// # Errors
/// The folder's problems, a clash with another tenant, or the database's failure;
/// nothing is applied in the first two cases.
pub async fn apply(
    state: &AppState,
    folder: &Path,
    now: DateTime<Utc>,
) -> Result<Applied, ApplyError> {
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
            return Err(ApplyError::Conflict(format!(
                "the hostname `{h}` is already {}'s ({}); nothing was applied",
                other.id, other.config.display_name
            )));
        }
    }
    let report =
        storage::tenants::import_new(&state.db, std::slice::from_ref(&loaded), now).await?;
    if let Some((_, why)) = report.refused.iter().find(|(r, _)| *r == id) {
        return Err(ApplyError::Conflict(format!("{why}; nothing was applied")));
    }
    // Every run finishes what a stopped one left: the data key and the first notice are
    // made when missing, whatever the folder's state.
    state
        .identity
        .ensure_tenant_key(&id)
        .await
        .map_err(anyhow::Error::from)?;
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
            Some(Drafted::DraftOpen(sections)) => {
                return Err(ApplyError::Conflict(format!(
                    "{id}'s folder changes {}, but a notice draft is already open: its \
                     administrators publish or discard it, then apply the folder again",
                    sections.join(", ")
                )));
            }
            Some(Drafted::LogoOnly) => {
                storage::tenants::replace_logo(&state.db, &id, loaded.logo.as_deref(), now).await?;
                Applied::LogoReplaced
            }
            None => Applied::Unchanged,
        }
    } else {
        Applied::Unchanged
    };
    crate::notices::reload_everywhere(state).await?;
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
