//! Privacy-notice versions: the one draft a tenant is preparing, the immutable published
//! versions, and acknowledgements of significant changes.
//!
//! A draft carries the whole tenant configuration it would put in force, so a retention
//! rule or a contact changes in the draft, and takes effect only when the notice that
//! states it is published. The published notice and the enforced rules are one value.

use chrono::{DateTime, Utc};
use sea_orm::entity::prelude::*;
use sea_orm::sea_query::OnConflict;
use sea_orm::{QueryOrder, QuerySelect, Set};
use serde::Serialize;
use storage::TenantTx;
use tenant_router::TenantConfig;

use crate::PrivacyError;
use crate::domain::notice::{self, CheckItem, Prose, Rendered};

/// The draft table.
pub mod draft {
    use sea_orm::entity::prelude::*;

    /// The draft a tenant is preparing (one at most).
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "notice_draft")]
    pub struct Model {
        /// The tenant.
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: String,
        /// The tenant configuration the draft would put in force (JSON).
        pub config: String,
        /// The tenant's prose (JSON).
        pub prose: String,
        /// The published version it started from.
        pub based_on: Option<i32>,
        /// What was changed, one line per change (JSON array).
        pub changes: String,
        /// Who changed it last.
        pub updated_by: String,
        /// When.
        pub updated_at: ChronoDateTimeUtc,
    }

    /// No relations are navigated from here.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The published-version table.
pub mod version {
    use sea_orm::entity::prelude::*;

    /// A published notice. Never updated or deleted (a trigger refuses both).
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "notice_version")]
    pub struct Model {
        /// The tenant.
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: String,
        /// 1, 2, 3… per tenant.
        #[sea_orm(primary_key, auto_increment = false)]
        pub version: i32,
        /// The configuration it put in force (JSON).
        pub config: String,
        /// The tenant's prose (JSON).
        pub prose: String,
        /// The notice as readers got it ([`super::Rendered`], JSON).
        pub notice: String,
        /// Announced to people as a significant change.
        pub significant: bool,
        /// What changed, in the publisher's words.
        pub summary: String,
        /// The changes made in the draft (JSON array).
        pub changes: String,
        /// Who published it.
        pub published_by: String,
        /// When.
        pub published_at: ChronoDateTimeUtc,
    }

    /// No relations are navigated from here.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The acknowledgement table.
pub mod ack {
    use sea_orm::entity::prelude::*;

    /// A person acknowledged a significant change.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "notice_ack")]
    pub struct Model {
        /// The tenant.
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: String,
        /// Who.
        #[sea_orm(primary_key, auto_increment = false)]
        pub account_id: String,
        /// Which version.
        #[sea_orm(primary_key, auto_increment = false)]
        pub version: i32,
        /// When.
        pub acknowledged_at: ChronoDateTimeUtc,
    }

    /// No relations are navigated from here.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A draft, decoded.
#[derive(Debug, Clone)]
pub struct Draft {
    /// The configuration it would put in force.
    pub config: TenantConfig,
    /// The prose.
    pub prose: Prose,
    /// The published version it started from.
    pub based_on: Option<i32>,
    /// The changes made so far.
    pub changes: Vec<String>,
    /// Who changed it last.
    pub updated_by: String,
    /// When.
    pub updated_at: DateTime<Utc>,
}

/// A published version, decoded.
#[derive(Debug, Clone, Serialize)]
pub struct Published {
    /// Its number.
    pub version: i32,
    /// The notice.
    pub rendered: Rendered,
    /// Whether it was announced as significant.
    pub significant: bool,
    /// What changed.
    pub summary: String,
    /// The changes made in its draft.
    pub changes: Vec<String>,
    /// When it was published.
    pub published_at: DateTime<Utc>,
    /// The configuration it put in force (not shown to readers).
    #[serde(skip)]
    pub config: TenantConfig,
}

/// One line of the version list.
#[derive(Debug, Clone, Serialize)]
pub struct Listed {
    /// Its number.
    pub version: i32,
    /// When it was published.
    pub published_at: DateTime<Utc>,
    /// Whether it was announced as significant.
    pub significant: bool,
    /// What changed.
    pub summary: String,
}

/// Why a draft was not published.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// There is no draft.
    #[error("there is no draft to publish")]
    NoDraft,
    /// The notice lacks items the ICO's checklist requires.
    #[error("the notice lacks what the ICO's checklist requires")]
    Incomplete(Vec<CheckItem>),
    /// Another version was published after the draft was started.
    #[error("version {0} was published after this draft was started")]
    Stale(i32),
    /// The draft names hostnames another council has claimed since (these).
    #[error("another council already answers to {0}")]
    HostnameTaken(String),
    /// The draft's configuration fails a check the platform makes of every configuration
    /// (each as "key: problem"): one made before the check existed, say.
    #[error("the draft's configuration fails the platform's checks: {}", .0.join("; "))]
    Invalid(Vec<String>),
    /// The storage layer failed.
    #[error(transparent)]
    Privacy(#[from] PrivacyError),
}

fn db(e: DbErr) -> PrivacyError {
    PrivacyError::Store(storage::StorageError::from(e))
}

fn decode<T: serde::de::DeserializeOwned>(what: &str, text: &str) -> Result<T, PrivacyError> {
    serde_json::from_str(text).map_err(|e| PrivacyError::Corrupt(format!("{what}: {e}")))
}

fn encode<T: Serialize>(value: &T) -> Result<String, PrivacyError> {
    serde_json::to_string(value).map_err(|e| PrivacyError::Corrupt(e.to_string()))
}

/// The tenant's draft, if it has one.
///
/// # Errors
/// When the query fails or the stored draft no longer decodes.
pub async fn draft(tx: &TenantTx) -> Result<Option<Draft>, PrivacyError> {
    let Some(row) = draft::Entity::find_by_id(tx.tenant().to_string())
        .one(&**tx)
        .await
        .map_err(db)?
    else {
        return Ok(None);
    };
    Ok(Some(Draft {
        config: decode("draft config", &row.config)?,
        prose: decode("draft prose", &row.prose)?,
        based_on: row.based_on,
        changes: decode("draft changes", &row.changes)?,
        updated_by: row.updated_by,
        updated_at: row.updated_at,
    }))
}

/// Saves the draft: its configuration and prose, with one more line in its list of
/// changes. The first change starts the draft from the latest published version.
///
/// # Errors
/// When the database fails.
pub async fn save_draft(
    tx: &TenantTx,
    now: DateTime<Utc>,
    by: &str,
    config: &TenantConfig,
    prose: &Prose,
    change: &str,
) -> Result<(), PrivacyError> {
    let (based_on, mut changes) = match draft(tx).await? {
        Some(d) => (d.based_on, d.changes),
        None => (latest_number(tx).await?, Vec::new()),
    };
    changes.push(change.to_owned());
    let row = draft::ActiveModel {
        tenant_id: Set(tx.tenant().to_string()),
        config: Set(encode(config)?),
        prose: Set(encode(prose)?),
        based_on: Set(based_on),
        changes: Set(encode(&changes)?),
        updated_by: Set(by.to_owned()),
        updated_at: Set(now),
    };
    draft::Entity::insert(row)
        .on_conflict(
            OnConflict::column(draft::Column::TenantId)
                .update_columns([
                    draft::Column::Config,
                    draft::Column::Prose,
                    draft::Column::BasedOn,
                    draft::Column::Changes,
                    draft::Column::UpdatedBy,
                    draft::Column::UpdatedAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(&**tx)
        .await
        .map_err(db)?;
    Ok(())
}

/// Throws the draft away. Returns whether there was one.
///
/// # Errors
/// When the database fails.
pub async fn discard_draft(tx: &TenantTx) -> Result<bool, PrivacyError> {
    let r = draft::Entity::delete_by_id(tx.tenant().to_string())
        .exec(&**tx)
        .await
        .map_err(db)?;
    Ok(r.rows_affected > 0)
}

async fn latest_number(tx: &TenantTx) -> Result<Option<i32>, PrivacyError> {
    version::Entity::find()
        .filter(version::Column::TenantId.eq(tx.tenant().as_str()))
        .select_only()
        .column_as(version::Column::Version.max(), "v")
        .into_tuple::<Option<i32>>()
        .one(&**tx)
        .await
        .map(Option::flatten)
        .map_err(db)
}

fn published(row: version::Model) -> Result<Published, PrivacyError> {
    Ok(Published {
        version: row.version,
        rendered: decode("notice", &row.notice)?,
        significant: row.significant,
        summary: row.summary,
        changes: decode("changes", &row.changes)?,
        published_at: row.published_at,
        config: decode("config", &row.config)?,
    })
}

/// The current notice: the latest published version.
///
/// # Errors
/// When the query fails.
pub async fn current(tx: &TenantTx) -> Result<Option<Published>, PrivacyError> {
    version::Entity::find()
        .filter(version::Column::TenantId.eq(tx.tenant().as_str()))
        .order_by_desc(version::Column::Version)
        .one(&**tx)
        .await
        .map_err(db)?
        .map(published)
        .transpose()
}

/// One published version.
///
/// # Errors
/// When the query fails.
pub async fn get(tx: &TenantTx, number: i32) -> Result<Option<Published>, PrivacyError> {
    version::Entity::find_by_id((tx.tenant().to_string(), number))
        .one(&**tx)
        .await
        .map_err(db)?
        .map(published)
        .transpose()
}

/// Every published version, newest first.
///
/// # Errors
/// When the query fails.
pub async fn list(tx: &TenantTx) -> Result<Vec<Listed>, PrivacyError> {
    Ok(version::Entity::find()
        .filter(version::Column::TenantId.eq(tx.tenant().as_str()))
        .order_by_desc(version::Column::Version)
        .all(&**tx)
        .await
        .map_err(db)?
        .into_iter()
        .map(|r| Listed {
            version: r.version,
            published_at: r.published_at,
            significant: r.significant,
            summary: r.summary,
        })
        .collect())
}

/// How a version is published.
#[derive(Debug, Clone, Copy)]
pub struct Publication<'a> {
    /// Who publishes.
    pub by: &'a str,
    /// Announce it to people as a significant change.
    pub significant: bool,
    /// What changed, in the publisher's words.
    pub summary: &'a str,
}

/// Publishes the draft as the next version and removes the draft. Refused, changing
/// nothing, when its configuration fails the platform's checks, the notice fails the ICO
/// checklist or another version was published since the draft started. Returns the new version; the caller puts its configuration in force
/// in the same transaction.
///
/// # Errors
/// [`PublishError`].
pub async fn publish(
    tx: &TenantTx,
    now: DateTime<Utc>,
    p: Publication<'_>,
) -> Result<Published, PublishError> {
    let d = draft(tx).await?.ok_or(PublishError::NoDraft)?;
    let latest = latest_number(tx).await?;
    if let Some(l) = latest
        && d.based_on != Some(l)
    {
        return Err(PublishError::Stale(l));
    }
    let problems = d.config.validate();
    if !problems.is_empty() {
        return Err(PublishError::Invalid(
            problems
                .into_iter()
                .map(|p| format!("{}: {}", p.key, p.message))
                .collect(),
        ));
    }
    let rendered = notice::render(&d.config, &d.prose);
    let unmet: Vec<CheckItem> = notice::checklist(&rendered.notice)
        .into_iter()
        .filter(|c| !c.met)
        .collect();
    if !unmet.is_empty() {
        return Err(PublishError::Incomplete(unmet));
    }
    let number = latest.unwrap_or(0) + 1;
    let summary = if p.summary.trim().is_empty() {
        d.changes.join("; ")
    } else {
        p.summary.trim().to_owned()
    };
    version::ActiveModel {
        tenant_id: Set(tx.tenant().to_string()),
        version: Set(number),
        config: Set(encode(&d.config)?),
        prose: Set(encode(&d.prose)?),
        notice: Set(encode(&rendered)?),
        significant: Set(p.significant),
        summary: Set(summary.clone()),
        changes: Set(encode(&d.changes)?),
        published_by: Set(p.by.to_owned()),
        published_at: Set(now),
    }
    .insert(&**tx)
    .await
    .map_err(db)?;
    discard_draft(tx).await?;
    Ok(Published {
        version: number,
        rendered,
        significant: p.significant,
        summary,
        changes: d.changes,
        published_at: now,
        config: d.config,
    })
}

/// Records that a person has read a version (again is harmless).
///
/// # Errors
/// When the database fails.
pub async fn acknowledge(
    tx: &TenantTx,
    now: DateTime<Utc>,
    account_id: &str,
    number: i32,
) -> Result<(), PrivacyError> {
    ack::Entity::insert(ack::ActiveModel {
        tenant_id: Set(tx.tenant().to_string()),
        account_id: Set(account_id.to_owned()),
        version: Set(number),
        acknowledged_at: Set(now),
    })
    .on_conflict_do_nothing()
    .exec_without_returning(&**tx)
    .await
    .map_err(db)?;
    Ok(())
}

/// The significant change a person has yet to acknowledge: the latest significant version
/// published after their account was made, unless they have acknowledged it.
///
/// # Errors
/// When the query fails.
pub async fn unacknowledged(
    tx: &TenantTx,
    account_id: &str,
    account_created: DateTime<Utc>,
) -> Result<Option<Listed>, PrivacyError> {
    let Some(v) = version::Entity::find()
        .filter(version::Column::TenantId.eq(tx.tenant().as_str()))
        .filter(version::Column::Significant.eq(true))
        .filter(version::Column::PublishedAt.gt(account_created))
        .order_by_desc(version::Column::Version)
        .one(&**tx)
        .await
        .map_err(db)?
    else {
        return Ok(None);
    };
    let seen = ack::Entity::find_by_id((tx.tenant().to_string(), account_id.to_owned(), v.version))
        .one(&**tx)
        .await
        .map_err(db)?
        .is_some();
    Ok((!seen).then_some(Listed {
        version: v.version,
        published_at: v.published_at,
        significant: v.significant,
        summary: v.summary,
    }))
}
