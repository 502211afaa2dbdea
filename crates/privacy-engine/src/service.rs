//! The privacy engine's service ([`Privacy`]): the retention sweep and its holds and
//! disposal records, today; notices and rights requests build on it. It reaches other
//! crates only through the traits in [`crate::accounts`], which the server wires at
//! start-up, and writes no other crate's table.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use storage::audit::{self, AuditEntry};
use storage::{Clock, Db, Objects, TenantTx};
use tenant_router::TenantId;

use crate::accounts::{Accounts, Records};
use crate::domain::retention::{AccountFacts, HoldKind};
use crate::store::retention::{
    self as store, Candidate, DisposalRow, HoldDetail, NewHold, SubjectTable,
};
use crate::{PersonalColumn, PrivacyError};

/// Accounts per page of the sweep (one transaction each). A page costs some 45 statements
/// whatever its size (one per declared table), so larger pages cost fewer round trips per
/// account: at 500 they were half the sweep's time at a million accounts. The accounts a
/// page holds are dormant, so its locks stand in no one's way.
pub const PAGE: u64 = 2000;

/// The privacy engine's use cases, shared by requests, jobs and the CLI.
#[derive(Clone)]
pub struct Privacy {
    pub(crate) db: Db,
    pub(crate) clock: Clock,
    /// Where files about people (certificates) are kept: a deleted person's go with them.
    pub(crate) objects: Objects,
    /// Every crate's tables about a person, for erasure.
    pub(crate) tables: Arc<[SubjectTable]>,
    pub(crate) accounts: Arc<dyn Accounts>,
    pub(crate) records: Arc<dyn Records>,
    pub(crate) page: u64,
    /// Every crate's personal-data columns, for copies of a person's data.
    pub(crate) personal: Arc<[PersonalColumn]>,
    /// Every declared column, `(table, column)`, personal or not.
    pub(crate) columns: Arc<[(&'static str, &'static str)]>,
}

/// What walking a tenant's audit chain found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuditCheck {
    /// Every event links to the one before; how many there are.
    Intact(usize),
    /// The first event (by sequence number) whose hash or link does not match.
    BrokenAt(i64),
}

/// A hold to place, from an operator or a privacy officer.
#[derive(Clone, Copy, Debug)]
pub struct HoldRequest<'a> {
    /// The account's email address.
    pub email: &'a str,
    /// Why deletion must wait.
    pub kind: HoldKind,
    /// In words, for the record.
    pub reason: &'a str,
    /// Who places it (`operator:cli`, or `account:…`).
    pub by: &'a str,
    /// When it lapses by itself, if ever.
    pub until: Option<DateTime<Utc>>,
}

impl Privacy {
    /// The engine over `db`, erasing from `tables` (every crate's declarations) and the
    /// files in `objects`, reaching accounts and kept records through their owners.
    #[must_use]
    pub fn new(
        db: Db,
        clock: Clock,
        objects: Objects,
        tables: Vec<SubjectTable>,
        accounts: Arc<dyn Accounts>,
        records: Arc<dyn Records>,
    ) -> Self {
        Self {
            db,
            clock,
            objects,
            tables: tables.into(),
            accounts,
            records,
            page: PAGE,
            personal: Arc::new([]),
            columns: Arc::new([]),
        }
    }

    /// The same engine knowing every crate's column declarations: `personal` (with their
    /// categories) and `other` (`table.column`), so a copy of a person's data holds every
    /// declared column of every table about them.
    #[must_use]
    pub fn with_declarations(
        mut self,
        personal: impl IntoIterator<Item = PersonalColumn>,
        other: impl IntoIterator<Item = &'static str>,
    ) -> Self {
        self.personal = personal.into_iter().collect();
        self.columns = self
            .personal
            .iter()
            .map(|p| (p.table, p.column))
            .chain(other.into_iter().filter_map(|c| c.split_once('.')))
            .collect();
        self
    }

    /// The same engine with `n` accounts per sweep page.
    #[must_use]
    pub fn with_page(mut self, n: u64) -> Self {
        self.page = n.max(1);
        self
    }

    /// The tenant's record of processing activities, from its configuration and every
    /// crate's column declarations.
    #[must_use]
    pub fn record_of_processing(
        &self,
        cfg: &tenant_router::TenantConfig,
    ) -> crate::domain::record::ProcessingRecord {
        crate::domain::record::record_of(cfg, &self.personal)
    }

    /// Now, by the engine's clock.
    #[must_use]
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }

    /// Today by the engine's clock (UTC).
    #[must_use]
    pub fn today(&self) -> NaiveDate {
        self.clock.now().date_naive()
    }

    /// One page of accounts retention may act on, with their holds in force.
    pub(crate) async fn candidates(
        &self,
        tx: &TenantTx,
        inactive_before: Option<DateTime<Utc>>,
        after: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<Candidate>, PrivacyError> {
        let page = self
            .accounts
            .candidates(tx, inactive_before, after, self.page)
            .await?;
        let ids: Vec<String> = page.iter().map(|c| c.id.clone()).collect();
        let mut holds = store::holds_in_force(tx, &ids, now).await?;
        Ok(page
            .into_iter()
            .map(|c| Candidate {
                facts: AccountFacts {
                    holds: holds.remove(&c.id).unwrap_or_default(),
                    id: c.id,
                    active: c.active,
                    last_activity: c.last_activity,
                    left_on: c.left_on,
                },
                email: c.email,
            })
            .collect())
    }

    /// Places a hold on the account with `hold.email`: retention deletes nothing of theirs
    /// while it is in force. Audited. Returns the hold's id.
    ///
    /// # Errors
    /// [`PrivacyError::NoSuchAccount`] when the tenant has no such account.
    pub async fn place_hold(
        &self,
        tenant: &TenantId,
        hold: &HoldRequest<'_>,
    ) -> Result<String, PrivacyError> {
        let now = self.clock.now();
        let tx = self.db.system_tx(tenant).await?;
        let Some(account) = self.accounts.find_by_email(&tx, hold.email).await? else {
            return Err(PrivacyError::NoSuchAccount);
        };
        let id = store::place_hold(
            &tx,
            now,
            &NewHold {
                account_id: &account,
                kind: hold.kind,
                reason: hold.reason.trim(),
                placed_by: hold.by,
                until: hold.until,
            },
        )
        .await?;
        audit::record(
            &tx,
            now,
            AuditEntry {
                actor: hold.by,
                action: "retention.hold_placed",
                subject: &account,
                detail: serde_json::json!({ "hold": id, "kind": hold.kind.as_str() }),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Releases a hold in force. Audited. Returns `false` when there is no such hold in
    /// force (nothing changes).
    ///
    /// # Errors
    /// When the database fails.
    pub async fn release_hold(
        &self,
        tenant: &TenantId,
        hold: &str,
        by: &str,
    ) -> Result<bool, PrivacyError> {
        let now = self.clock.now();
        let tx = self.db.system_tx(tenant).await?;
        if !store::release_hold(&tx, hold, now).await? {
            return Ok(false);
        }
        audit::record(
            &tx,
            now,
            AuditEntry {
                actor: by,
                action: "retention.hold_released",
                subject: hold,
                detail: serde_json::json!({}),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Holds in force now.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn holds(&self, tenant: &TenantId) -> Result<Vec<HoldDetail>, PrivacyError> {
        let tx = self.db.system_tx(tenant).await?;
        let holds = store::holds(&tx, None, self.clock.now()).await?;
        tx.rollback().await?;
        Ok(holds)
    }

    /// Walks the tenant's audit chain (sealing events waiting first).
    ///
    /// # Errors
    /// When the database fails.
    pub async fn verify_audit(&self, tenant: &TenantId) -> Result<AuditCheck, PrivacyError> {
        let tx = self.db.system_tx(tenant).await?;
        let checked = match audit::verify(&tx).await {
            Ok(n) => AuditCheck::Intact(n),
            Err(storage::StorageError::AuditChainBroken(_, at)) => AuditCheck::BrokenAt(at),
            Err(e) => return Err(e.into()),
        };
        tx.commit().await?;
        Ok(checked)
    }

    /// What retention did, newest first, for one account or all.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn disposals(
        &self,
        tenant: &TenantId,
        account: Option<&str>,
        limit: u64,
    ) -> Result<Vec<DisposalRow>, PrivacyError> {
        let tx = self.db.system_tx(tenant).await?;
        let rows = store::disposals(&tx, account, limit).await?;
        tx.rollback().await?;
        Ok(rows)
    }
}
