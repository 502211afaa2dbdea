//! What an objection or a restriction does, besides being answered.
//!
//! - An objection to direct marketing is absolute: every marketing consent the person has
//!   given is withdrawn at once, each as an event in the consent ledger (method
//!   `objection_request`), so the history shows when and why.
//! - A restriction (UK GDPR Article 18) is a retention hold of kind
//!   [`HoldKind::Restriction`] on the person's account: while it stands their data is kept
//!   (the sweep and erasure leave it), training providers see a restricted marker instead of
//!   their details on delegate lists ([`restricted`]), and nothing non-essential (feedback
//!   requests) is sent to them. Lifting it releases the hold, and the person is told.
//!
//! Each is a step in the request's history and in the audit log; the consent events and the
//! hold are in the person's copy of their data.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use storage::TenantTx;
use tenant_router::TenantConfig;

use crate::PrivacyError;
use crate::accounts::Correction;
use crate::domain::retention::HoldKind;
use crate::domain::rights::{ClockRefusal, Kind, reference};
use crate::rights::{refused, required};
use crate::service::Privacy;
use crate::store::consent::{self, DIRECT_MARKETING, Decision};
use crate::store::retention::{self as holds, NewHold};
use crate::store::rights::{self as store, RequestRow};

/// An effect a privacy officer applies for a request.
#[derive(Clone, Copy, Debug)]
pub enum Effect<'a> {
    /// For an objection: withdraws every direct-marketing consent.
    StopMarketing,
    /// For a restriction: restricts the use of the person's data, for this reason.
    Restrict(&'a str),
    /// For a restriction: lifts it, for this reason (the person is told).
    Lift(&'a str),
}

/// The accounts among `accounts` whose data is restricted at `now`.
///
/// # Errors
/// When the query fails.
pub async fn restricted(
    tx: &TenantTx,
    accounts: &[String],
    now: DateTime<Utc>,
) -> Result<HashSet<String>, PrivacyError> {
    Ok(holds::holds_in_force(tx, accounts, now)
        .await?
        .into_iter()
        .filter(|(_, kinds)| kinds.contains(&HoldKind::Restriction))
        .map(|(account, _)| account)
        .collect())
}

fn refuse(code: &'static str, message: &'static str) -> PrivacyError {
    PrivacyError::Refused { code, message }
}

/// The label of the notice version in force, which consent events are recorded under: the
/// published version's number, or `provisional:` and the configuration's fingerprint.
///
/// # Errors
/// When the database fails.
pub async fn notice_version(tx: &TenantTx, cfg: &TenantConfig) -> Result<String, PrivacyError> {
    match crate::store::notice::current(tx).await? {
        Some(p) => Ok(p.version.to_string()),
        None => provisional_version(cfg),
    }
}

/// The version label of a notice never published: `provisional:` and the first twelve
/// characters of the configuration's fingerprint.
///
/// # Errors
/// When the configuration does not serialise.
pub fn provisional_version(cfg: &TenantConfig) -> Result<String, PrivacyError> {
    let f = storage::tenants::fingerprint(cfg, None)?;
    Ok(format!("provisional:{}", &f[..12]))
}

/// Request `id` with its account, when it is of kind `wanted` (else refused with
/// `refusal`), open (unless `closed_too`) and linked to an account.
async fn target(
    tx: &TenantTx,
    id: &str,
    wanted: Kind,
    refusal: (&'static str, &'static str),
    closed_too: bool,
) -> Result<(RequestRow, String), PrivacyError> {
    let row = store::find(tx, id)
        .await?
        .ok_or(PrivacyError::NoSuchRequest)?;
    if Kind::parse(&row.kind) != Some(wanted) {
        return Err(refuse(refusal.0, refusal.1));
    }
    if row.closed_at.is_some() && !closed_too {
        return Err(refused(ClockRefusal::Closed));
    }
    // Nothing is done for a requester until the clock runs: their identity confirmed and
    // no clarification awaited (a request logged by telephone may be anyone's).
    if row.closed_at.is_none() && row.stage != "open" && !closed_too {
        return Err(refuse(
            "request_not_open",
            "Act on the request once the requester's identity is confirmed and no clarification is awaited.",
        ));
    }
    let account = row.account_id.clone().ok_or_else(|| {
        refuse(
            "no_account",
            "The requester has no account here, so there is nothing on the portal to change.",
        )
    })?;
    Ok((row, account))
}

impl Privacy {
    /// Corrects the requester's details for rectification request `id`, by `by` (the
    /// person is told by the account owner, a new address once they confirm it). Returns the
    /// request as it now is.
    ///
    /// # Errors
    /// [`PrivacyError::NoSuchRequest`]; [`PrivacyError::Refused`] when the request is of
    /// another kind, closed or has no account; [`PrivacyError::Invalid`] with every problem
    /// of the correction. Nothing changes in any of these cases.
    pub async fn rectify(
        &self,
        cfg: &TenantConfig,
        id: &str,
        c: &Correction<'_>,
        by: &str,
        base_url: &str,
    ) -> Result<RequestRow, PrivacyError> {
        let tx = self.db.tenant_tx(&cfg.slug).await?;
        let (row, account) = target(
            &tx,
            id,
            Kind::Rectification,
            (
                "not_a_rectification",
                "Only a rectification request can correct a person's details.",
            ),
            false,
        )
        .await?;
        let changed = self
            .accounts
            .correct(&tx, cfg, &account, c, by, base_url)
            .await?;
        let note = format!("Corrected: {}.", changed.join(", "));
        self.record_step(tx, cfg, row, by, "rectified", Some(&note), None)
            .await
    }

    /// The details a correction of `account` starts from: first name, last name, job
    /// title, email.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn details_of(
        &self,
        tenant: &tenant_router::TenantId,
        account: &str,
    ) -> Result<Option<[String; 4]>, PrivacyError> {
        let tx = self.db.tenant_tx(tenant).await?;
        let found = self.accounts.details_of(&tx, account).await?;
        tx.rollback().await?;
        Ok(found)
    }

    /// Whether the use of `account`'s data is restricted now.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn is_restricted(
        &self,
        tenant: &tenant_router::TenantId,
        account: &str,
    ) -> Result<bool, PrivacyError> {
        let tx = self.db.tenant_tx(tenant).await?;
        let found = restricted(&tx, &[account.to_owned()], self.clock.now()).await?;
        tx.rollback().await?;
        Ok(!found.is_empty())
    }

    /// Applies `effect` for request `id`, by `by`. Returns the request as it now is.
    ///
    /// # Errors
    /// [`PrivacyError::NoSuchRequest`]; [`PrivacyError::Refused`] when the request is of
    /// another kind, has no account, is closed (restricting), or the restriction is not in
    /// the state the effect needs; [`PrivacyError::Invalid`] without a reason. Nothing
    /// changes in any of these cases.
    pub async fn apply_effect(
        &self,
        cfg: &TenantConfig,
        id: &str,
        effect: Effect<'_>,
        by: &str,
    ) -> Result<RequestRow, PrivacyError> {
        let now = self.clock.now();
        if let Effect::Restrict(reason) | Effect::Lift(reason) = effect
            && let Some(p) = required("reason", reason, "the reason")
        {
            return Err(PrivacyError::Invalid(vec![p]));
        }
        let tx = self.db.tenant_tx(&cfg.slug).await?;
        let (row, account) = match effect {
            Effect::StopMarketing => {
                target(
                    &tx,
                    id,
                    Kind::Objection,
                    (
                        "not_an_objection",
                        "Only an objection request can stop marketing.",
                    ),
                    false,
                )
                .await
            }
            Effect::Restrict(_) | Effect::Lift(_) => {
                target(
                    &tx,
                    id,
                    Kind::Restriction,
                    (
                        "not_a_restriction",
                        "Only a restriction request can restrict or lift a restriction.",
                    ),
                    // Lifting can come after the request is answered.
                    matches!(effect, Effect::Lift(_)),
                )
                .await
            }
        }?;
        let reference = reference(&row.id);
        let (event, note, told) = match effect {
            Effect::StopMarketing => {
                let current = consent::current(&tx, &account).await?;
                let version = notice_version(&tx, cfg).await?;
                let mut withdrawn = Vec::new();
                for purpose in DIRECT_MARKETING {
                    if current.get(purpose) == Some(&true) {
                        consent::record(
                            &tx,
                            now,
                            Decision {
                                account_id: &account,
                                purpose,
                                given: false,
                                method: "objection_request",
                                notice_version: &version,
                            },
                        )
                        .await?;
                        withdrawn.push(purpose);
                    }
                }
                let note = if withdrawn.is_empty() {
                    "No marketing consent was in force; none is used.".to_owned()
                } else {
                    format!("Marketing consent withdrawn: {}.", withdrawn.join(", "))
                };
                let text = "We have stopped using your details for direct marketing: you will \
                            not receive the newsletter or news about training, events and \
                            services from us unless you choose to again in your account's \
                            preferences."
                    .to_owned();
                (
                    "marketing_stopped",
                    note,
                    (
                        format!("We have stopped marketing to you ({reference})"),
                        text,
                    ),
                )
            }
            Effect::Restrict(reason) => {
                if !restricted(&tx, std::slice::from_ref(&account), now)
                    .await?
                    .is_empty()
                {
                    return Err(refuse(
                        "already_restricted",
                        "The use of this person's data is already restricted.",
                    ));
                }
                holds::place_hold(
                    &tx,
                    now,
                    &NewHold {
                        account_id: &account,
                        kind: HoldKind::Restriction,
                        reason: &format!("Restriction on request {reference}: {}", reason.trim()),
                        placed_by: by,
                        until: None,
                    },
                )
                .await?;
                let text = "From today we keep your data but use it for nothing else while the \
                            restriction stands: training providers will not receive your \
                            details, and we will not ask you for feedback. We will tell you \
                            before the restriction is lifted."
                    .to_owned();
                (
                    "restricted",
                    reason.trim().to_owned(),
                    (
                        format!("We have restricted the use of your data ({reference})"),
                        text,
                    ),
                )
            }
            Effect::Lift(reason) => {
                let mut lifted = 0;
                for hold in holds::holds(&tx, Some(&account), now).await? {
                    if hold.kind == HoldKind::Restriction.as_str() {
                        holds::release_hold(&tx, &hold.id, now).await?;
                        lifted += 1;
                    }
                }
                if lifted == 0 {
                    return Err(refuse(
                        "not_restricted",
                        "The use of this person's data is not restricted.",
                    ));
                }
                let text = format!(
                    "We are lifting the restriction on the use of your data, because: {}\n\n\
                     From now on we use your data again as our privacy notice describes.",
                    reason.trim()
                );
                (
                    "restriction_lifted",
                    reason.trim().to_owned(),
                    (
                        format!("The restriction on your data is lifted ({reference})"),
                        text,
                    ),
                )
            }
        };
        self.record_step(tx, cfg, row, by, event, Some(&note), Some(told))
            .await
    }
}
