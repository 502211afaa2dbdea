//! The consent ledger: every giving or withdrawing of consent is a new event (what, given
//! or withdrawn, when, how, under which notice version); nothing is updated or deleted by
//! the request path, so the history is evidence. The current choice is the latest event.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sea_orm::entity::prelude::*;
use sea_orm::{ActiveModelTrait, QueryOrder, Set};
use storage::TenantTx;

use crate::PrivacyError;

/// The consent purpose of emails announcing a significant change to the privacy notice.
pub const NOTICE_CHANGES: &str = "notice_changes";
/// The newsletter's consent purpose.
pub const NEWSLETTER: &str = "newsletter";
/// The consent purpose of news about training, events and services.
pub const MARKETING: &str = "marketing";
/// The purposes that are direct marketing: an objection to it withdraws them all at once.
pub const DIRECT_MARKETING: [&str; 2] = [NEWSLETTER, MARKETING];

/// A consent event.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "consent_event")]
pub struct Model {
    /// Owning tenant; leads the key.
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: String,
    /// Event id (UUID v7: sorts by time).
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// Whose consent.
    pub account_id: String,
    /// What for, e.g. `newsletter`, `marketing`.
    pub purpose: String,
    /// Given (`true`) or withdrawn.
    pub given: bool,
    /// How, e.g. `profile_page`, `unsubscribe_link`.
    pub method: String,
    /// The privacy notice version in force.
    pub notice_version: String,
    /// When.
    pub occurred_at: ChronoDateTimeUtc,
}

/// No relations are navigated from here.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// One consent decision to record.
#[derive(Debug, Clone, Copy)]
pub struct Decision<'a> {
    /// Whose.
    pub account_id: &'a str,
    /// What for.
    pub purpose: &'a str,
    /// Given or withdrawn.
    pub given: bool,
    /// How.
    pub method: &'a str,
    /// Notice version in force.
    pub notice_version: &'a str,
}

/// Appends a decision.
///
/// # Errors
/// When the insert fails.
pub async fn record(
    tx: &TenantTx,
    now: DateTime<Utc>,
    d: Decision<'_>,
) -> Result<(), PrivacyError> {
    ActiveModel {
        tenant_id: Set(tx.tenant().to_string()),
        id: Set(uuid::Uuid::now_v7().to_string()),
        account_id: Set(d.account_id.to_owned()),
        purpose: Set(d.purpose.to_owned()),
        given: Set(d.given),
        method: Set(d.method.to_owned()),
        notice_version: Set(d.notice_version.to_owned()),
        occurred_at: Set(now),
    }
    .insert(&**tx)
    .await
    .map_err(storage::StorageError::from)?;
    Ok(())
}

/// A person's consent history, oldest first.
///
/// # Errors
/// When the query fails.
pub async fn history(tx: &TenantTx, account_id: &str) -> Result<Vec<Model>, PrivacyError> {
    Ok(Entity::find()
        .filter(Column::TenantId.eq(tx.tenant().as_str()))
        .filter(Column::AccountId.eq(account_id))
        .order_by_asc(Column::Id)
        .all(&**tx)
        .await
        .map_err(storage::StorageError::from)?)
}

/// The current choice per purpose (latest event wins; no event means not given).
///
/// # Errors
/// When the query fails.
pub async fn current(
    tx: &TenantTx,
    account_id: &str,
) -> Result<BTreeMap<String, bool>, PrivacyError> {
    Ok(history(tx, account_id)
        .await?
        .into_iter()
        .map(|e| (e.purpose, e.given))
        .collect())
}

/// The accounts whose latest decision for `purpose` is "given".
///
/// # Errors
/// When the query fails.
pub async fn given_for(tx: &TenantTx, purpose: &str) -> Result<Vec<String>, PrivacyError> {
    let events = Entity::find()
        .filter(Column::TenantId.eq(tx.tenant().as_str()))
        .filter(Column::Purpose.eq(purpose))
        .order_by_asc(Column::Id)
        .all(&**tx)
        .await
        .map_err(storage::StorageError::from)?;
    let latest: BTreeMap<String, bool> = events
        .into_iter()
        .map(|e| (e.account_id, e.given))
        .collect();
    Ok(latest
        .into_iter()
        .filter(|(_, given)| *given)
        .map(|(id, _)| id)
        .collect())
}
