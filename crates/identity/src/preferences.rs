//! My Profile preferences: how often management alerts come, and (where the tenant offers a
//! newsletter) newsletter and marketing choices, which are consent and go to the privacy
//! engine's append-only ledger with the notice version in force.

use std::collections::HashMap;

use privacy_engine::store::consent::{self, Decision};
use tenant_router::TenantConfig;
use tenant_router::config::Module;

use crate::domain::signup::FieldError;
use crate::service::{actor, record_detail};
use crate::store;
use crate::{Identity, IdentityError, SignedIn};

/// Alert frequencies offered, with their labels.
pub const ALERT_FREQUENCIES: [(&str, &str); 4] = [
    ("immediately", "As soon as something needs my attention"),
    ("daily", "In one email a day"),
    ("weekly", "In one email a week"),
    ("never", "Never"),
];

/// Consent purposes offered where the tenant has a newsletter, with their labels.
pub const CONSENT_PURPOSES: [(&str, &str); 2] = [
    ("newsletter", "Send me the newsletter by email"),
    (
        "marketing",
        "Send me news about training, events and services",
    ),
];

/// A person's current preferences.
#[derive(Debug, Clone)]
pub struct Preferences {
    /// Management-alert frequency.
    pub alert_frequency: String,
    /// Current consent per purpose (empty where the tenant has no newsletter).
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
        let consents = if tenant.has_module(Module::Newsletter) {
            CONSENT_PURPOSES
                .iter()
                .map(|(p, label)| (*p, *label, current.get(*p).copied().unwrap_or(false)))
                .collect()
        } else {
            Vec::new()
        };
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
        let frequency = form.get("alert_frequency").map_or("", String::as_str);
        if !ALERT_FREQUENCIES.iter().any(|(f, _)| *f == frequency) {
            return Err(IdentityError::Invalid(vec![FieldError {
                field: "alert_frequency",
                message: "Choose how often to get management alerts".to_owned(),
            }]));
        }
        let now = self.clock.now();
        let id = &who.account.id;
        let tx = self.db.tenant_tx(&tenant.slug).await?;
        store::set_alert_frequency(&tx, id, frequency).await?;
        if tenant.has_module(Module::Newsletter) {
            let current = consent::current(&tx, id).await?;
            for (purpose, _) in CONSENT_PURPOSES {
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
            serde_json::json!({ "alert_frequency": frequency }),
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
