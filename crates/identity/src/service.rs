//! Identity's use cases: sign up, verify an email, sign in and out, reset a password.
//!
//! Each state change runs in one tenant transaction together with its audit event and any
//! email it sends (through the outbox), so it happens completely or not at all.

use std::collections::HashMap;

use storage::audit::{self, AuditEntry};
use storage::outbox::{self, Email};
use storage::{Clock, Db, TenantTx};
use tenant_router::{TenantConfig, TenantId};

use crate::IdentityError;
use crate::domain::signup;
use crate::passwords::Hasher;
use crate::sessions::{Session, Sessions};
use crate::store::entity::account;
use crate::store::{self, Purpose, status};

/// Client secrets of tenants' OpenID providers: by tenant, then provider id
/// (`crate::oidc` uses them; re-exported there).
pub type OidcSecrets = HashMap<String, HashMap<String, secrecy::SecretString>>;

/// Password-reset requests allowed per address an hour.
pub const RESET_PER_ADDRESS: u64 = 3;
/// Password-reset requests allowed per client address an hour.
pub const RESET_PER_CLIENT: u64 = 20;

/// The identity service, shared by every request.
#[derive(Debug, Clone)]
pub struct Identity {
    pub(crate) db: Db,
    pub(crate) hasher: Hasher,
    pub(crate) sessions: Sessions,
    pub(crate) clock: Clock,
    pub(crate) master: std::sync::Arc<crate::crypto::MasterKeys>,
    pub(crate) keys: std::sync::Arc<crate::keyring::Keyring>,
    pub(crate) oidc_secrets: std::sync::Arc<OidcSecrets>,
    /// Signed-in accounts, kept between writes (see [`crate::present`]).
    pub(crate) present: std::sync::Arc<crate::present::Present>,
}

/// A signed-in person, as the request path sees them.
#[derive(Debug, Clone)]
pub struct SignedIn {
    /// The session (carries the CSRF token).
    pub session: Session,
    /// The account, as read since this process's last write and at most
    /// a second ago (see `present`).
    pub account: account::Model,
    /// Whether the person holds a role or leads an organisation (the header's "Manage").
    pub manages: bool,
}

pub(crate) fn actor(account_id: &str) -> String {
    format!("account:{account_id}")
}

impl Identity {
    /// Audits something a person did to their own account (actor and subject are the same).
    /// Lets a person who proved who they are into their account: an active account as it
    /// is, a dormant one (switched off by retention after inactivity) reopened and the
    /// reopening audited. Any other state is refused.
    pub(crate) async fn admit(
        &self,
        tx: &TenantTx,
        account: &account::Model,
    ) -> Result<(), IdentityError> {
        if account.status == status::DORMANT {
            store::organisations::set_account_status(tx, &account.id, status::ACTIVE).await?;
            self.audit_own(tx, &account.id, "account.reactivated")
                .await?;
        } else if account.status != status::ACTIVE {
            return Err(IdentityError::Deactivated);
        }
        Ok(())
    }

    pub(crate) async fn audit_own(
        &self,
        tx: &TenantTx,
        id: &str,
        action: &str,
    ) -> Result<(), IdentityError> {
        record_detail(
            tx,
            &self.clock,
            &actor(id),
            action,
            id,
            serde_json::json!({}),
        )
        .await
    }
}

/// Appends an audit event with details (ids only, no personal data).
pub(crate) async fn record_detail(
    tx: &TenantTx,
    clock: &Clock,
    actor: &str,
    action: &str,
    subject: &str,
    detail: serde_json::Value,
) -> Result<(), IdentityError> {
    audit::record(
        tx,
        clock.now(),
        AuditEntry {
            actor,
            action,
            subject,
            detail,
        },
    )
    .await?;
    Ok(())
}

/// Issues a single-use link token for `account` and queues the email carrying it, in `tx`.
pub(crate) async fn email_link(
    tx: &TenantTx,
    now: chrono::DateTime<chrono::Utc>,
    account: &account::Model,
    purpose: Purpose,
    subject: &str,
    compose: impl FnOnce(&str) -> String,
) -> Result<(), IdentityError> {
    let token = store::issue_token(tx, &account.id, purpose, now).await?;
    let body = compose(&token);
    outbox::enqueue(
        tx,
        now,
        Email {
            to: &account.email,
            subject,
            body: &body,
        },
    )
    .await?;
    Ok(())
}

impl Identity {
    /// The service over `db`, hashing on `hasher`, keeping sessions in `sessions`, with
    /// special-category data encrypted under tenant keys wrapped by `master` and kept in
    /// `key_store` (apart from the data: see [`crate::keyring`]).
    #[must_use]
    pub fn new(
        db: Db,
        hasher: Hasher,
        sessions: Sessions,
        clock: Clock,
        master: impl Into<crate::crypto::MasterKeys>,
        key_store: storage::Objects,
    ) -> Self {
        let master = std::sync::Arc::new(master.into());
        Self {
            db,
            hasher,
            sessions,
            clock,
            keys: std::sync::Arc::new(crate::keyring::Keyring::new(
                std::sync::Arc::clone(&master),
                key_store,
            )),
            master,
            oidc_secrets: std::sync::Arc::default(),
            present: std::sync::Arc::default(),
        }
    }

    /// The session store, for the platform's own throttles (the operator's API).
    #[must_use]
    pub fn sessions(&self) -> &Sessions {
        &self.sessions
    }

    /// The same service with OpenID client secrets (by tenant, then provider id).
    #[must_use]
    pub fn with_oidc_secrets(mut self, secrets: OidcSecrets) -> Self {
        self.oidc_secrets = std::sync::Arc::new(secrets);
        self
    }

    fn collects_special_requirements(tenant: &TenantConfig) -> Result<(), IdentityError> {
        if tenant.account_fields.special_requirements.is_some() {
            Ok(())
        } else {
            Err(IdentityError::NotCollected)
        }
    }

    /// The signed-in person's special requirements (decrypted for them alone).
    ///
    /// # Errors
    /// [`IdentityError::NotCollected`] when the tenant does not ask for them.
    pub async fn special_requirements(
        &self,
        tenant: &TenantConfig,
        who: &SignedIn,
    ) -> Result<Option<String>, IdentityError> {
        Self::collects_special_requirements(tenant)?;
        let tx = self.db.tenant_tx(&tenant.slug).await?;
        let now = self.clock.now();
        let value =
            store::secrets::special_requirements(&tx, &self.keys, &who.account.id, now).await?;
        // Commit: the first read may have created the tenant key.
        tx.commit().await?;
        Ok(value)
    }

    /// Records, replaces or (with an empty value) removes the person's special requirements.
    ///
    /// # Errors
    /// [`IdentityError::NotCollected`], or [`IdentityError::Invalid`] when over 1,000
    /// characters.
    pub async fn set_special_requirements(
        &self,
        tenant: &TenantConfig,
        who: &SignedIn,
        value: &str,
    ) -> Result<(), IdentityError> {
        Self::collects_special_requirements(tenant)?;
        let value = value.trim();
        if value.chars().count() > 1000 {
            return Err(IdentityError::Invalid(vec![signup::FieldError {
                field: "special_requirements",
                message: "Describe your requirements in 1,000 characters or fewer".to_owned(),
            }]));
        }
        let tx = self.db.tenant_tx(&tenant.slug).await?;
        let now = self.clock.now();
        let id = &who.account.id;
        let stored = Some(value).filter(|v| !v.is_empty());
        store::secrets::set_special_requirements(&tx, &self.keys, id, stored, now).await?;
        let action = if stored.is_some() {
            "account.special_requirements_recorded"
        } else {
            "account.special_requirements_removed"
        };
        self.audit_own(&tx, id, action).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Creates an account from a sign-up form and emails a verification link
    /// (`{base_url}/verify-email/{token}`). When the address already has an account, no
    /// account is made and the existing holder is emailed instead (at most once an hour),
    /// so the answer is the same either way and never reveals who has an account.
    /// Returns the new account, or `None` when the address was taken.
    ///
    /// # Errors
    /// [`IdentityError::Invalid`] with every field error; nothing is saved.
    pub async fn sign_up(
        &self,
        tenant: &TenantConfig,
        form: &HashMap<String, String>,
        base_url: &str,
    ) -> Result<Option<account::Model>, IdentityError> {
        let fields = signup::validate(&tenant.account_fields, &tenant.job_categories, form);
        let (new, claimed, rights) = crate::claim::read(tenant, form, fields)?;
        let hash = self.hasher.hash(&new.password).await?;
        let now = self.clock.now();
        let tx = self.db.tenant_tx(&tenant.slug).await?;
        // Checked before anything else, so an unknown organisation is refused alike for a
        // new address and for one that has an account.
        if let Some(org) = claimed
            && store::organisations::find(&tx, org).await?.is_none()
        {
            return Err(IdentityError::Invalid(vec![
                crate::domain::signup::FieldError {
                    field: "organisation_id",
                    message: "Select your organisation from the list".to_owned(),
                },
            ]));
        }
        let account = match store::insert_account(&tx, &new, Some(hash), now, None).await {
            Ok(account) => account,
            Err(IdentityError::EmailTaken) => {
                tx.rollback().await?;
                self.tell_holder_of_sign_up(tenant, &new.email, base_url)
                    .await?;
                return Ok(None);
            }
            Err(e) => return Err(e),
        };
        if let Some(org) = claimed {
            Self::claim(&tx, org, &account.id, &rights, now).await?;
        }
        let subject = format!("Confirm your email address for {}", tenant.display_name);
        email_link(
            &tx,
            now,
            &account,
            Purpose::VerifyEmail,
            &subject,
            |token| {
                format!(
                    "Hello {},\n\nConfirm your email address to finish creating your account on \
                 {}:\n\n{base_url}/verify-email/{token}\n\nThe link works once and expires in \
                 48 hours. If you did not ask for an account, ignore this email and nothing more \
                 will happen.\n",
                    account.first_name, tenant.display_name
                )
            },
        )
        .await?;
        self.audit_own(&tx, &account.id, "account.signed_up")
            .await?;
        tx.commit().await?;
        Ok(Some(account))
    }

    /// Someone tried to sign up with an address that has an account: its holder is told
    /// (at most once an hour per address) how to sign in or reset their password.
    async fn tell_holder_of_sign_up(
        &self,
        tenant: &TenantConfig,
        email: &str,
        base_url: &str,
    ) -> Result<(), IdentityError> {
        let key = self.sessions.key(
            tenant.slug.as_str(),
            "signup_taken",
            &crate::domain::token::digest(email),
        );
        if self
            .sessions
            .kv()
            .incr(&key, std::time::Duration::from_secs(3600))
            .await?
            > 1
        {
            return Ok(());
        }
        let now = self.clock.now();
        let tx = self.db.tenant_tx(&tenant.slug).await?;
        let Some(account) = store::find_by_email(&tx, email).await? else {
            tx.rollback().await?;
            return Ok(());
        };
        let body = format!(
            "Hello {},\n\nSomeone (we hope you) tried to create an account on {} with this \
             email address, which already has one. Nothing has changed.\n\nSign in here: \
             {base_url}/sign-in\n\nIf you have forgotten your password, choose a new one \
             here: {base_url}/reset-password\n\nIf it was not you, you can ignore this email.\n",
            account.first_name, tenant.display_name
        );
        outbox::enqueue(
            &tx,
            now,
            Email {
                to: &account.email,
                subject: &format!("You already have an account on {}", tenant.display_name),
                body: &body,
            },
        )
        .await?;
        self.audit_own(&tx, &account.id, "account.sign_up_with_taken_email")
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Confirms an email address with the token from the link.
    ///
    /// # Errors
    /// [`IdentityError::BadToken`] when the link is unknown, used or expired.
    pub async fn verify_email(&self, tenant: &TenantId, token: &str) -> Result<(), IdentityError> {
        let now = self.clock.now();
        let tx = self.db.tenant_tx(tenant).await?;
        let id = store::consume_token(&tx, token, Purpose::VerifyEmail, now).await?;
        store::mark_verified(&tx, &id, now).await?;
        self.audit_own(&tx, &id, "account.email_verified").await?;
        tx.commit().await?;
        Ok(())
    }

    /// Signs in with email and password; returns the new session's token. `client` is the
    /// client's address, for throttling.
    ///
    /// # Errors
    /// [`IdentityError::Throttled`] after too many failures; [`IdentityError::BadCredentials`]
    /// for an unknown email or wrong password alike; [`IdentityError::EmailNotVerified`] and
    /// [`IdentityError::Deactivated`] only after a correct password.
    pub async fn sign_in(
        &self,
        tenant: &TenantId,
        email: &str,
        password: &str,
        client: &str,
    ) -> Result<(String, Session), IdentityError> {
        let email = email.trim().to_lowercase();
        // Only the account's own failures (or a client far past any school's) refuse up
        // front: a client address over its limit still lets a correct password in.
        self.sessions
            .check_account_throttle(tenant, "account", &email, client)
            .await?;
        // The hash is checked outside any transaction, so a slow check holds no turn.
        let tx = self.db.tenant_tx(tenant).await?;
        let found = store::find_by_email(&tx, &email).await?;
        tx.rollback().await?;
        let stored = found.as_ref().and_then(|a| a.password_hash.as_deref());
        if !self.hasher.verify(password, stored).await? {
            let client_over = self.sessions.client_throttled(tenant, client).await?;
            self.sessions.record_failure(tenant, &email, client).await?;
            if let Some(a) = &found {
                let tx = self.db.tenant_tx(tenant).await?;
                self.audit_own(&tx, &a.id, "account.sign_in_failed").await?;
                tx.commit().await?;
            }
            return Err(if client_over {
                crate::sessions::Sessions::throttled()
            } else {
                IdentityError::BadCredentials
            });
        }
        let Some(checked) = found else {
            return Err(IdentityError::BadCredentials);
        };
        // Read again under the transaction that signs in: an account switched off,
        // deleted or given a new password while its hash was being checked is not let in
        // on the strength of the copy read before.
        let tx = self.db.tenant_tx(tenant).await?;
        let account = store::find_by_id(&tx, &checked.id)
            .await?
            .filter(|a| a.password_hash == checked.password_hash)
            .ok_or(IdentityError::BadCredentials)?;
        if account.status != checked.status {
            return Err(IdentityError::BadCredentials);
        }
        self.admit(&tx, &account).await?;
        if account.email_verified_at.is_none() {
            return Err(IdentityError::EmailNotVerified);
        }
        let stage = self.stage_after_password(&tx, &account).await?;
        store::touch(&tx, &account.id, self.clock.now()).await?;
        self.audit_own(&tx, &account.id, "account.signed_in")
            .await?;
        tx.commit().await?;
        self.sessions.clear_failures(tenant, &email).await?;
        self.sessions.start(tenant, &account.id, stage).await
    }

    /// Ends a session.
    ///
    /// # Errors
    /// When the session store fails.
    pub async fn sign_out(&self, tenant: &TenantId, token: &str) -> Result<(), IdentityError> {
        self.sessions.end(tenant, token).await
    }

    /// The person signed in with `token` in `tenant`, if the session is live and the account
    /// still active.
    ///
    /// # Errors
    /// When the session store or database fails.
    pub async fn current(
        &self,
        tenant: &TenantId,
        token: &str,
    ) -> Result<Option<SignedIn>, IdentityError> {
        let Some(session) = self.sessions.get(tenant, token).await? else {
            return Ok(None);
        };
        if session.stage != crate::sessions::Stage::Full {
            return Ok(None);
        }
        let commits = self.db.commits(tenant);
        if let Some((account, manages)) = self.present.get(tenant, &session.account_id, commits) {
            return Ok(Some(SignedIn {
                session,
                account,
                manages,
            }));
        }
        let tx = self.db.tenant_read(tenant).await?;
        let account = store::find_by_id(&tx, &session.account_id).await?;
        let manages = match &account {
            Some(a) if a.status == status::ACTIVE => {
                let manages = crate::duties::manages_anything(&tx, &a.id).await?;
                self.present.put(tenant, a, manages, commits);
                manages
            }
            _ => false,
        };
        tx.rollback().await?;
        match account {
            Some(account) if account.status == status::ACTIVE => Ok(Some(SignedIn {
                session,
                account,
                manages,
            })),
            _ => {
                self.sessions.end(tenant, token).await?;
                Ok(None)
            }
        }
    }

    /// Saves the signed-in person's own edit of their details (per the tenant's field
    /// policy). The change counts as activity.
    ///
    /// # Errors
    /// [`IdentityError::Invalid`] with every field error; nothing is saved.
    pub async fn update_details(
        &self,
        tenant: &TenantConfig,
        who: &SignedIn,
        form: &HashMap<String, String>,
    ) -> Result<(), IdentityError> {
        let new = signup::validate_profile(
            &tenant.account_fields,
            &tenant.job_categories,
            form,
            &who.account.email,
        )
        .map_err(IdentityError::Invalid)?;
        let tx = self.db.tenant_tx(&tenant.slug).await?;
        store::update_details(&tx, &who.account.id, &new, self.clock.now()).await?;
        let id = &who.account.id;
        self.audit_own(&tx, id, "account.details_changed").await?;
        tx.commit().await?;
        Ok(())
    }

    /// Changes the signed-in person's password after checking the current one. A wrong
    /// current password counts with failed sign-ins (`client` is the client's address).
    ///
    /// # Errors
    /// [`IdentityError::Invalid`] naming `current_password` when it is wrong, or the new
    /// password's problem; [`IdentityError::Throttled`] after too many wrong ones; nothing
    /// changes.
    pub async fn change_password(
        &self,
        tenant: &TenantId,
        who: &SignedIn,
        current: &str,
        password: &str,
        confirm: &str,
        client: &str,
    ) -> Result<String, IdentityError> {
        let a = &who.account;
        self.sessions
            .check_account_throttle(tenant, "account", &a.email, client)
            .await?;
        if !self
            .hasher
            .verify(current, a.password_hash.as_deref())
            .await?
        {
            self.sessions
                .record_failure(tenant, &a.email, client)
                .await?;
            return Err(IdentityError::Invalid(vec![signup::FieldError {
                field: "current_password",
                message: "Your current password is not right".to_owned(),
            }]));
        }
        let personal = [
            a.email.as_str(),
            a.first_name.as_str(),
            a.last_name.as_str(),
        ];
        if let Some(problem) = signup::check_new_password(password, confirm, &personal) {
            return Err(IdentityError::Invalid(vec![problem]));
        }
        let hash = self.hasher.hash(password).await?;
        let tx = self.db.tenant_tx(tenant).await?;
        store::set_password(&tx, &a.id, hash, self.clock.now()).await?;
        self.audit_own(&tx, &a.id, "account.password_changed")
            .await?;
        tx.commit().await?;
        // Sign out everywhere else; this browser carries on with a new session.
        self.sessions.end_all(tenant, &a.id).await?;
        let (token, _) = self
            .sessions
            .start(tenant, &a.id, who.session.stage)
            .await?;
        Ok(token)
    }
}
