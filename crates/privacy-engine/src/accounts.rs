//! What the engine needs from the crate that owns accounts (identity), as a trait that
//! crate implements and the server wires at start-up. The engine never reads or writes
//! the account or membership tables itself: it asks through [`Accounts`], and identity
//! alone decides what an account's status is and how it is stored.

use chrono::{DateTime, NaiveDate, Utc};
use storage::TenantTx;
use tenant_router::TenantId;

use crate::PrivacyError;

/// An account retention may act on, as the account owner sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountCandidate {
    /// Account id.
    pub id: String,
    /// Where warnings go.
    pub email: String,
    /// Whether the account can sign in now.
    pub active: bool,
    /// Day of the last counted activity.
    pub last_activity: NaiveDate,
    /// Day the person left their last organisation; `None` while any membership is current
    /// or they never had one.
    pub left_on: Option<NaiveDate>,
}

/// Why retention switches an account off.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SwitchOff {
    /// Inactive for the rule's period: signing in again reopens it.
    Dormant,
    /// Left their organisation: it stays off.
    Left,
}

/// Someone who asked to be told of significant changes to the privacy notice.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recipient {
    /// Account id.
    pub id: String,
    /// First name, for the greeting.
    pub first_name: String,
    /// Address.
    pub email: String,
}

/// A correction of a person's details (rectification): each field as it should be.
#[derive(Clone, Copy, Debug)]
pub struct Correction<'a> {
    /// First name.
    pub first_name: &'a str,
    /// Last name.
    pub last_name: &'a str,
    /// Job title (may be empty).
    pub job_title: &'a str,
    /// Email address: a new one takes effect once the person confirms it there.
    pub email: &'a str,
}

/// The account owner's side of retention, holds and notice announcements.
#[async_trait::async_trait]
pub trait Accounts: Send + Sync {
    /// One page (ordered by id, after `after`, at most `limit`) of accounts retention may
    /// touch: last active before `inactive_before`, or still active after leaving their
    /// last organisation.
    async fn candidates(
        &self,
        tx: &TenantTx,
        inactive_before: Option<DateTime<Utc>>,
        after: &str,
        limit: u64,
    ) -> Result<Vec<AccountCandidate>, PrivacyError>;

    /// Switches off those of `ids` still active; returns how many changed.
    async fn switch_off(
        &self,
        tx: &TenantTx,
        ids: &[String],
        why: SwitchOff,
    ) -> Result<u64, PrivacyError>;

    /// The records of `kind` (other than accounts) made before `before`, with when, for
    /// review rules. Induction records are named by their account's id.
    async fn records_made_before(
        &self,
        tx: &TenantTx,
        kind: crate::domain::executor::ReviewKind,
        before: DateTime<Utc>,
    ) -> Result<Vec<(String, DateTime<Utc>)>, PrivacyError>;

    /// Deletes record `id` of `kind` (other than accounts) after a review decided so;
    /// whether it was there.
    async fn delete_record(
        &self,
        tx: &TenantTx,
        kind: crate::domain::executor::ReviewKind,
        id: &str,
    ) -> Result<bool, PrivacyError>;

    /// Deletes the account rows of `ids` (after every declared table was erased).
    async fn delete(&self, tx: &TenantTx, ids: &[String]) -> Result<(), PrivacyError>;

    /// The active lead administrators of the organisations `id` currently belongs to, the
    /// person excluded, as recipients of management alerts.
    async fn lead_admins_of(
        &self,
        tx: &TenantTx,
        id: &str,
    ) -> Result<Vec<storage::alerts::Recipient>, PrivacyError>;

    /// The day account `id` was last active, if it exists.
    async fn last_active(
        &self,
        tx: &TenantTx,
        id: &str,
    ) -> Result<Option<chrono::NaiveDate>, PrivacyError>;

    /// The email address of account `id`, if it exists.
    async fn email_of(&self, tx: &TenantTx, id: &str) -> Result<Option<String>, PrivacyError>;

    /// The id of the account with this email address, if any.
    async fn find_by_email(
        &self,
        tx: &TenantTx,
        email: &str,
    ) -> Result<Option<String>, PrivacyError>;

    /// Columns (`table.column`) a copy of a person's data names but never shows: sign-in
    /// credentials and sealed values, whose readable form comes from [`Accounts::unsealed`].
    fn withheld_columns(&self) -> &'static [&'static str] {
        &[]
    }

    /// The readable form of the person's sealed values, as `(table.column, value)`.
    async fn unsealed(
        &self,
        tx: &TenantTx,
        id: &str,
    ) -> Result<Vec<(&'static str, String)>, PrivacyError>;

    /// Corrects account `id`'s details to `c` for `by` (audited), telling the person (a
    /// new email address takes effect once confirmed through a link sent there, `base_url`
    /// its start); returns the fields changed.
    ///
    /// # Errors
    /// [`PrivacyError::Invalid`] with every problem (nothing changed, a field wrong, an
    /// address another account uses); nothing is saved.
    async fn correct(
        &self,
        tx: &TenantTx,
        tenant: &tenant_router::TenantConfig,
        id: &str,
        c: &Correction<'_>,
        by: &str,
        base_url: &str,
    ) -> Result<Vec<&'static str>, PrivacyError>;

    /// The details a correction starts from: first name, last name, job title, email.
    async fn details_of(
        &self,
        tx: &TenantTx,
        id: &str,
    ) -> Result<Option<[String; 4]>, PrivacyError>;

    /// The tenant's active privacy officers, who answer rights requests.
    async fn privacy_officers(&self, tx: &TenantTx) -> Result<Vec<Recipient>, PrivacyError>;

    /// Every active account with a confirmed email address, for a message the tenant
    /// sends everyone (a significant
    /// change to the notice, where it says so).
    async fn active_holders(&self, tx: &TenantTx) -> Result<Vec<Recipient>, PrivacyError>;

    /// The active accounts whose latest choice for `purpose` (the notice-change emails,
    /// the newsletter, marketing) is "given".
    async fn consenting_to(
        &self,
        tx: &TenantTx,
        purpose: &str,
    ) -> Result<Vec<Recipient>, PrivacyError>;

    /// A token for a link that stops the emails of `purpose` to `id` without signing in.
    ///
    /// # Errors
    /// When no token can be made.
    fn unsubscribe_token(
        &self,
        tenant: &TenantId,
        id: &str,
        purpose: &str,
    ) -> Result<String, PrivacyError>;
}

/// The kept-record side of retention (bookings, orders, certificates): what a
/// service-delivered rule does to records of a group, and the files a person leaves.
#[async_trait::async_trait]
pub trait Records: Send + Sync {
    /// Applies the rule's action to the records of `kind` whose trigger (delivery, contract
    /// end, recording) came before `before`; `None` when nothing here keeps such records.
    /// Returns how many were changed.
    async fn apply(
        &self,
        tx: &TenantTx,
        kind: crate::domain::executor::RecordKind,
        before: DateTime<Utc>,
    ) -> Result<Option<u64>, PrivacyError>;

    /// What stands in the way of erasing the account now, in words (for example places
    /// booked on sessions still to come); empty when nothing does.
    async fn open_commitments(
        &self,
        tx: &TenantTx,
        account: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<String>, PrivacyError>;

    /// Object-store keys of files about these accounts (certificates), deleted with them.
    async fn files_of(
        &self,
        tx: &TenantTx,
        accounts: &[String],
    ) -> Result<Vec<String>, PrivacyError>;
}
