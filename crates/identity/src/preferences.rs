//! My Profile preferences: how often management alerts come, and (where the tenant offers a
//! newsletter) newsletter and marketing choices, which are consent and go to the privacy
//! engine's append-only ledger with the notice version in force.

use std::collections::HashMap;

use privacy_engine::store::consent::{self, Decision};
use storage::alerts::{self, Frequency};
use tenant_router::TenantConfig;
use tenant_router::config::Module;

use crate::domain::signup::FieldError;
use crate::service::{actor, record_detail};
use crate::store;
use crate::{Identity, IdentityError, SignedIn};

/// Alert frequencies offered, with their labels.
pub const ALERT_FREQUENCIES: [(Frequency, &str); 4] = Frequency::CHOICES;

/// Consent purposes, with their labels and whether only tenants with a newsletter ask.
pub const CONSENT_PURPOSES: [(&str, &str, bool); 3] = [
    (
        NOTICE_CHANGES,
        "Email me when the privacy notice changes significantly",
        false,
    ),
    (consent::NEWSLETTER, "Send me the newsletter by email", true),
    (
        consent::MARKETING,
        "Send me news about training, events and services",
        true,
    ),
];

/// The purpose of emails announcing a significant change to the privacy notice.
pub const NOTICE_CHANGES: &str = consent::NOTICE_CHANGES;

/// The purposes this tenant asks about, with their labels. A tenant that emails every
/// account holder about significant notice changes does not ask about those emails.
pub fn offered(tenant: &TenantConfig) -> impl Iterator<Item = (&'static str, &'static str)> {
    let newsletter = tenant.has_module(Module::Newsletter);
    let everyone_told = tenant.announces_changes_by_email();
    CONSENT_PURPOSES
        .into_iter()
        .filter(move |(_, _, needs_newsletter)| newsletter || !needs_newsletter)
        .filter(move |(p, _, _)| !(everyone_told && *p == NOTICE_CHANGES))
        .map(|(p, label, _)| (p, label))
}

/// What an unsubscribe link is for.
#[derive(Debug, Clone)]
pub struct UnsubscribeLink {
    /// Whose choice.
    pub account: String,
    /// The purpose.
    pub purpose: &'static str,
    /// The purpose in words.
    pub label: &'static str,
    /// Whether the tenant still asks about it (else these emails are no longer a choice:
    /// sent to everyone, or not sent at all).
    pub still_asked: bool,
}

/// A person's current preferences.
#[derive(Debug, Clone)]
pub struct Preferences {
    /// Management-alert frequency.
    pub alert_frequency: String,
    /// Current consent per purpose offered.
    pub consents: Vec<(&'static str, &'static str, bool)>,
}

impl Identity {
    /// The signed-in person's preferences.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn preferences(
        &self,
        tenant: &TenantConfig,
        who: &SignedIn,
    ) -> Result<Preferences, IdentityError> {
        let tx = self.db.tenant_tx(&tenant.slug).await?;
        let current = consent::current(&tx, &who.account.id).await?;
        tx.rollback().await?;
        let consents = offered(tenant)
            .map(|(p, label)| (p, label, current.get(p).copied().unwrap_or(false)))
            .collect();
        Ok(Preferences {
            alert_frequency: who.account.alert_frequency.clone(),
            consents,
        })
    }

    /// Saves preferences from the form: the alert frequency, and a consent event for each
    /// purpose whose choice changed (withdrawing is one untick, as easy as giving).
    ///
    /// # Errors
    /// [`IdentityError::Invalid`] for an unknown frequency; nothing is saved.
    pub async fn set_preferences(
        &self,
        tenant: &TenantConfig,
        notice_version: &str,
        who: &SignedIn,
        form: &HashMap<String, String>,
    ) -> Result<(), IdentityError> {
        let chosen = form.get("alert_frequency").map_or("", String::as_str);
        let Some(frequency) = Frequency::parse(chosen) else {
            return Err(IdentityError::Invalid(vec![FieldError {
                field: "alert_frequency",
                message: "Choose how often to get management alerts".to_owned(),
            }]));
        };
        let now = self.clock.now();
        let id = &who.account.id;
        let tx = self.db.tenant_tx(&tenant.slug).await?;
        store::set_alert_frequency(&tx, id, frequency.as_str()).await?;
        // Alerts waiting for a summary follow the new choice at once.
        alerts::refile(&tx, &who.account.email, frequency).await?;
        {
            let current = consent::current(&tx, id).await?;
            for (purpose, _) in offered(tenant) {
                let given = form.get(purpose).is_some_and(|v| v == "yes");
                if current.get(purpose).copied().unwrap_or(false) != given {
                    consent::record(
                        &tx,
                        now,
                        Decision {
                            account_id: id,
                            purpose,
                            given,
                            method: "profile_page",
                            notice_version,
                        },
                    )
                    .await?;
                }
            }
        }
        record_detail(
            &tx,
            &self.clock,
            &actor(id),
            "account.preferences_changed",
            id,
            serde_json::json!({ "alert_frequency": frequency.as_str() }),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

impl Identity {
    /// The signed-in person's induction record (induction module only).
    ///
    /// # Errors
    /// [`IdentityError::NotCollected`] when the tenant has no induction module.
    pub async fn induction(
        &self,
        tenant: &TenantConfig,
        who: &SignedIn,
    ) -> Result<Option<crate::store::entity::induction_record::Model>, IdentityError> {
        if !tenant.has_module(Module::Induction) {
            return Err(IdentityError::NotCollected);
        }
        let tx = self.db.tenant_tx(&tenant.slug).await?;
        let record = store::induction::find(&tx, &who.account.id).await?;
        tx.rollback().await?;
        Ok(record)
    }

    /// Saves the signed-in person's induction record from the form.
    ///
    /// # Errors
    /// [`IdentityError::NotCollected`]; [`IdentityError::Invalid`] with every field error
    /// (an invalid TRN among them); nothing is saved.
    pub async fn save_induction(
        &self,
        tenant: &TenantConfig,
        who: &SignedIn,
        form: &HashMap<String, String>,
    ) -> Result<(), IdentityError> {
        if !tenant.has_module(Module::Induction) {
            return Err(IdentityError::NotCollected);
        }
        let now = self.clock.now();
        let record = crate::domain::induction::validate(form, now.date_naive())
            .map_err(IdentityError::Invalid)?;
        let id = &who.account.id;
        let tx = self.db.tenant_tx(&tenant.slug).await?;
        store::induction::save(&tx, id, &record, now).await?;
        store::touch(&tx, id, now).await?;
        self.audit_own(&tx, id, "induction.record_saved").await?;
        tx.commit().await?;
        Ok(())
    }
}

/// Binds an unsubscribe token to its tenant.
fn unsubscribe_aad(tenant: &str) -> String {
    format!("unsubscribe:{tenant}")
}

impl Identity {
    /// A token for a link that withdraws `purpose` for `account_id` without signing in. It
    /// is sealed with the master key and bound to the tenant, so it cannot be forged,
    /// altered, or used on another tenant's portal.
    ///
    /// # Errors
    /// When encryption fails.
    pub fn unsubscribe_token(
        &self,
        tenant: &tenant_router::TenantId,
        account_id: &str,
        purpose: &str,
    ) -> Result<String, IdentityError> {
        use base64::Engine as _;
        let sealed = self.master.seal(
            format!("{account_id}\n{purpose}").as_bytes(),
            &unsubscribe_aad(tenant.as_str()),
        )?;
        Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sealed))
    }

    /// What an unsubscribe token is for: any purpose the portal has ever asked about,
    /// asked about by this tenant now or not (`still_asked`).
    ///
    /// # Errors
    /// [`IdentityError::BadToken`] for a token that is not one of ours for this tenant.
    pub fn read_unsubscribe_token(
        &self,
        tenant: &TenantConfig,
        token: &str,
    ) -> Result<UnsubscribeLink, IdentityError> {
        use base64::Engine as _;
        let sealed = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(token)
            .map_err(|_| IdentityError::BadToken)?;
        let plain = self
            .master
            .open(&sealed, &unsubscribe_aad(tenant.slug.as_str()))
            .map_err(|_| IdentityError::BadToken)?;
        let text = String::from_utf8(plain).map_err(|_| IdentityError::BadToken)?;
        let (account, purpose) = text.split_once('\n').ok_or(IdentityError::BadToken)?;
        let &(purpose, label, _) = CONSENT_PURPOSES
            .iter()
            .find(|(p, _, _)| *p == purpose)
            .ok_or(IdentityError::BadToken)?;
        Ok(UnsubscribeLink {
            account: account.to_owned(),
            purpose,
            label,
            still_asked: offered(tenant).any(|(p, _)| p == purpose),
        })
    }

    /// Withdraws consent through an unsubscribe link: one withdrawal event (method
    /// `unsubscribe_link`), unless the choice is already withdrawn or the account is gone.
    /// A choice the tenant no longer asks about is withdrawn too, so an earlier "yes" does
    /// not come back into force if it asks again. Returns what the link was for.
    ///
    /// # Errors
    /// [`IdentityError::BadToken`] for a bad token; the database's errors.
    pub async fn unsubscribe(
        &self,
        tenant: &TenantConfig,
        notice_version: &str,
        token: &str,
    ) -> Result<UnsubscribeLink, IdentityError> {
        let link = self.read_unsubscribe_token(tenant, token)?;
        let (account, purpose) = (link.account.as_str(), link.purpose);
        let tx = self.db.tenant_tx(&tenant.slug).await?;
        let given = consent::current(&tx, account)
            .await?
            .get(purpose)
            .copied()
            .unwrap_or(false);
        if given && store::find_by_id(&tx, account).await?.is_some() {
            consent::record(
                &tx,
                self.clock.now(),
                Decision {
                    account_id: account,
                    purpose,
                    given: false,
                    method: "unsubscribe_link",
                    notice_version,
                },
            )
            .await?;
            record_detail(
                &tx,
                &self.clock,
                &actor(account),
                "consent.withdrawn",
                account,
                serde_json::json!({ "purpose": purpose, "method": "unsubscribe_link" }),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(link)
    }

    /// The active accounts whose current choice for `purpose` is "yes".
    ///
    /// # Errors
    /// When the database fails.
    pub async fn consenting(
        &self,
        tx: &storage::TenantTx,
        purpose: &str,
    ) -> Result<Vec<crate::store::entity::account::Model>, IdentityError> {
        let ids = consent::given_for(tx, purpose).await?;
        let mut people = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(a) = store::find_by_id(tx, &id).await?
                && a.status == store::status::ACTIVE
            {
                people.push(a);
            }
        }
        Ok(people)
    }
}
