//! The second factor: TOTP (RFC 6238: SHA-1, 6 digits, 30-second steps, one step of
//! clock drift either way) with single-use recovery codes.
//!
//! Required for tenant admins and provider staff: after their password they reach only the
//! set-up page until they have enrolled. Optional for everyone else. Completing the second
//! factor replaces the session token, as signing in does.
//!
//! A factor in force is never changed by starting a set-up: a new secret waits apart until
//! a code from it is entered, and replacing or removing a factor in force needs the
//! password and a current code (or a recovery code). Every change is audited and emailed
//! to the account holder.

use storage::TenantTx;
use storage::outbox::{self, Email};
use tenant_router::TenantId;
use totp_rs::{Algorithm, TOTP};

use crate::domain::rights::Role;
use crate::domain::signup::FieldError;
use crate::domain::token;
use crate::service::{actor, record_detail};
use crate::sessions::{Session, Stage};
use crate::store::entity::account;
use crate::store::{self, organisations as orgs, second_factor as sf};
use crate::{Identity, IdentityError};

/// Seconds per TOTP step.
pub const STEP_SECS: i64 = 30;
/// Recovery codes issued at enrolment.
pub const RECOVERY_CODES: usize = 10;

/// Proof that the person at the keyboard holds the account: for changing or removing a
/// second factor in force.
#[derive(Debug, Clone, Copy)]
pub struct Proof<'a> {
    /// Their current password (ignored for an account signed in only through its
    /// organisation's OpenID provider, which has none).
    pub password: &'a str,
    /// A current code from their app, or one of their recovery codes.
    pub code: &'a str,
    /// The client's address, for throttling.
    pub client: &'a str,
}

/// Where an account's second factor stands.
#[derive(Debug, Clone)]
pub struct SecondFactorStatus {
    /// A factor is in force: sign-in needs a code.
    pub enrolled: bool,
    /// The account's role needs one (it cannot be turned off).
    pub required: bool,
    /// A set-up in progress, not yet confirmed with a code.
    pub setting_up: Option<Enrolment>,
}

/// What someone needs to set up their authenticator app.
#[derive(Debug, Clone)]
pub struct Enrolment {
    /// The secret in base32, to type in.
    pub secret_base32: String,
    /// The `otpauth://` URI (what a QR code would carry).
    pub uri: String,
}

fn totp(secret: &[u8]) -> TOTP {
    TOTP::new_unchecked(Algorithm::SHA1, 6, 1, 30, secret.to_vec())
}

/// The step `code` is valid for at `now` (allowing one step of drift), if any.
fn matching_step(secret: &[u8], code: &str, now: i64) -> Option<i64> {
    let code: String = code.chars().filter(char::is_ascii_digit).collect();
    let t = totp(secret);
    let current = now.div_euclid(STEP_SECS);
    (current - 1..=current + 1).find(|step| {
        u64::try_from(step * STEP_SECS).is_ok_and(|secs| token::same(&t.generate(secs), &code))
    })
}

fn enrolment_for(
    tenant: &tenant_router::TenantConfig,
    account: &account::Model,
    secret: &[u8],
) -> Enrolment {
    let secret_base32 = totp(secret).get_secret_base32();
    let issuer = percent_encode(&tenant.display_name);
    let uri = format!(
        "otpauth://totp/{issuer}:{}?secret={secret_base32}&issuer={issuer}&algorithm=SHA1&digits=6&period=30",
        percent_encode(&account.email)
    );
    Enrolment { secret_base32, uri }
}

/// Whether the account holds a role that needs a second factor.
async fn needs_second_factor(tx: &TenantTx, account_id: &str) -> Result<bool, IdentityError> {
    for role in [Role::TenantAdmin, Role::ProviderStaff, Role::PrivacyOfficer] {
        if orgs::has_role(tx, account_id, role).await? {
            return Ok(true);
        }
    }
    Ok(false)
}

fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'@') {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

impl Identity {
    /// Where a password-accepted sign-in stands for this account.
    pub(crate) async fn stage_after_password(
        &self,
        tx: &TenantTx,
        account: &account::Model,
    ) -> Result<Stage, IdentityError> {
        let now = self.clock.now();
        let enrolled = sf::enrolment(tx, &self.keys, &account.id, now)
            .await?
            .is_some_and(|(row, _)| row.confirmed_at.is_some());
        if enrolled {
            return Ok(Stage::NeedsCode);
        }
        if needs_second_factor(tx, &account.id).await? {
            return Ok(Stage::NeedsEnrolment);
        }
        Ok(Stage::Full)
    }

    /// A session part-way through sign-in (code or enrolment owed), with its account.
    ///
    /// # Errors
    /// When the session store or database fails.
    pub async fn pending(
        &self,
        tenant: &TenantId,
        session_token: &str,
    ) -> Result<Option<(Session, account::Model)>, IdentityError> {
        let Some(session) = self.sessions.get(tenant, session_token).await? else {
            return Ok(None);
        };
        if session.stage == Stage::Full {
            return Ok(None);
        }
        let tx = self.db.tenant_tx(tenant).await?;
        let account = store::find_by_id(&tx, &session.account_id).await?;
        tx.rollback().await?;
        Ok(account
            .filter(|a| a.status == store::status::ACTIVE)
            .map(|a| (session, a)))
    }

    /// Where the account's second factor stands, for its page: whether one is in force,
    /// whether the account's role needs one, and a set-up in progress. Reads only.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn second_factor_status(
        &self,
        tenant: &tenant_router::TenantConfig,
        account: &account::Model,
    ) -> Result<SecondFactorStatus, IdentityError> {
        let now = self.clock.now();
        let tx = self.db.tenant_tx(&tenant.slug).await?;
        let enrolled = sf::enrolment(&tx, &self.keys, &account.id, now)
            .await?
            .is_some();
        let required = needs_second_factor(&tx, &account.id).await?;
        let setting_up = sf::pending(&tx, &self.keys, &account.id, now)
            .await?
            .map(|secret| enrolment_for(tenant, account, &secret));
        tx.rollback().await?;
        Ok(SecondFactorStatus {
            enrolled,
            required,
            setting_up,
        })
    }

    /// Starts setting up an authenticator app: a new secret, not in force until a code
    /// from it is entered ([`Identity::confirm_enrolment`]). Someone who already has a
    /// second factor must prove it is them first ([`Proof`]: their password and a current
    /// code or a recovery code); the factor in force stays in force meanwhile.
    ///
    /// # Errors
    /// [`IdentityError::Invalid`] naming `password` or `code` when the proof fails
    /// (counted with sign-in failures), [`IdentityError::Throttled`] after too many;
    /// nothing changes either way.
    pub async fn begin_enrolment(
        &self,
        tenant: &tenant_router::TenantConfig,
        account: &account::Model,
        proof: &Proof<'_>,
    ) -> Result<Enrolment, IdentityError> {
        let now = self.clock.now();
        let mut secret = [0u8; 20];
        getrandom::fill(&mut secret).map_err(IdentityError::random)?;
        let tx = self.db.tenant_tx(&tenant.slug).await?;
        if sf::enrolment(&tx, &self.keys, &account.id, now)
            .await?
            .is_some()
        {
            self.check_proof(&tx, &tenant.slug, account, proof).await?;
        }
        sf::begin(&tx, &self.keys, &account.id, &secret, now).await?;
        tx.commit().await?;
        Ok(enrolment_for(tenant, account, &secret))
    }

    /// Checks a [`Proof`] against the account's password (when it has one) and its
    /// factor in force, spending the code; failures count with sign-in failures.
    async fn check_proof(
        &self,
        tx: &TenantTx,
        tenant: &TenantId,
        account: &account::Model,
        proof: &Proof<'_>,
    ) -> Result<(), IdentityError> {
        self.sessions
            .check_account_throttle(tenant, "account", &account.email, proof.client)
            .await?;
        let password_ok = match account.password_hash.as_deref() {
            Some(hash) => self.hasher.verify(proof.password, Some(hash)).await?,
            None => true,
        };
        let code_ok = password_ok && self.spend_code(tx, &account.id, proof.code).await.is_ok();
        if code_ok {
            return Ok(());
        }
        self.sessions
            .record_failure(tenant, &account.email, proof.client)
            .await?;
        // One answer for both, so the form does not tell whether the password was right.
        let message = "Your password or security code is not right";
        Err(IdentityError::Invalid(
            ["password", "code"]
                .into_iter()
                .map(|field| FieldError {
                    field,
                    message: message.to_owned(),
                })
                .collect(),
        ))
    }

    /// Spends a code of the factor in force: a TOTP code (its step, once) or a recovery
    /// code (once).
    async fn spend_code(
        &self,
        tx: &TenantTx,
        account_id: &str,
        code: &str,
    ) -> Result<&'static str, IdentityError> {
        let now = self.clock.now();
        let (_, secret) = sf::enrolment(tx, &self.keys, account_id, now)
            .await?
            .ok_or(IdentityError::BadSecondFactor)?;
        match matching_step(&secret, code, now.timestamp()) {
            Some(step) => sf::accept_step(tx, account_id, step).await.map(|()| "totp"),
            None => sf::use_recovery_code(tx, account_id, code, now)
                .await
                .map(|()| "recovery_code"),
        }
    }

    /// Confirms a set-up with a code from the new app: the new secret replaces any factor
    /// in force, new recovery codes are issued (shown once), the change is audited and the
    /// person emailed. Returns a fresh session token (fully signed in) and the codes.
    ///
    /// # Errors
    /// [`IdentityError::BadSecondFactor`] for a wrong code or no set-up in progress
    /// (nothing changes).
    pub async fn confirm_enrolment(
        &self,
        tenant: &tenant_router::TenantConfig,
        session_token: &str,
        session: &Session,
        code: &str,
    ) -> Result<(String, Vec<String>), IdentityError> {
        let now = self.clock.now();
        let id = &session.account_id;
        let tx = self.db.tenant_tx(&tenant.slug).await?;
        let secret = sf::pending(&tx, &self.keys, id, now)
            .await?
            .ok_or(IdentityError::BadSecondFactor)?;
        let step =
            matching_step(&secret, code, now.timestamp()).ok_or(IdentityError::BadSecondFactor)?;
        let replaced = sf::enrolment(&tx, &self.keys, id, now).await?.is_some();
        sf::promote(&tx, &self.keys, id, &secret, step, now).await?;
        let codes = sf::new_recovery_codes(&tx, id, RECOVERY_CODES).await?;
        let (action, what) = if replaced {
            (
                "account.second_factor_replaced",
                "A new authenticator app now gives the security codes for your account; codes \
                 from the one before no longer work, nor do your old recovery codes.",
            )
        } else {
            (
                "account.second_factor_enrolled",
                "Security codes from an authenticator app are now needed, with your password, \
                 to sign in to your account.",
            )
        };
        self.audit_own(&tx, id, action).await?;
        self.tell_of_change(&tx, tenant, id, what).await?;
        tx.commit().await?;
        // Every other session of the account ends: they signed in under the factor before.
        self.sessions.end_all(&tenant.slug, id).await?;
        let token = self.upgrade(&tenant.slug, session_token, id).await?;
        Ok((token, codes))
    }

    /// Turns the signed-in person's second factor off, after their password and a current
    /// code or recovery code; audited, and the person emailed. Every session of the account
    /// ends; returns a fresh one for this browser.
    ///
    /// # Errors
    /// [`IdentityError::SecondFactorRequired`] when their role needs one;
    /// [`IdentityError::BadSecondFactor`] when they have none; [`IdentityError::Invalid`]
    /// or [`IdentityError::Throttled`] as for [`Identity::begin_enrolment`]. Nothing
    /// changes on any error.
    pub async fn remove_second_factor(
        &self,
        tenant: &tenant_router::TenantConfig,
        account: &account::Model,
        proof: &Proof<'_>,
    ) -> Result<String, IdentityError> {
        let now = self.clock.now();
        let tx = self.db.tenant_tx(&tenant.slug).await?;
        if needs_second_factor(&tx, &account.id).await? {
            return Err(IdentityError::SecondFactorRequired);
        }
        if sf::enrolment(&tx, &self.keys, &account.id, now)
            .await?
            .is_none()
        {
            return Err(IdentityError::BadSecondFactor);
        }
        self.check_proof(&tx, &tenant.slug, account, proof).await?;
        sf::remove(&tx, &account.id).await?;
        self.audit_own(&tx, &account.id, "account.second_factor_removed")
            .await?;
        self.tell_of_change(
            &tx,
            tenant,
            &account.id,
            "Security codes are no longer needed to sign in to your account: your password \
             alone is enough.",
        )
        .await?;
        tx.commit().await?;
        self.sessions.end_all(&tenant.slug, &account.id).await?;
        let (token, _) = self
            .sessions
            .start(&tenant.slug, &account.id, Stage::Full)
            .await?;
        Ok(token)
    }

    /// Emails the account holder that their second factor changed, in `tx`.
    async fn tell_of_change(
        &self,
        tx: &TenantTx,
        tenant: &tenant_router::TenantConfig,
        account_id: &str,
        what: &str,
    ) -> Result<(), IdentityError> {
        let Some(account) = store::find_by_id(tx, account_id).await? else {
            return Ok(());
        };
        let when = self.clock.now().format("%-d %B %Y at %H:%M UTC");
        let body = format!(
            "Hello {},\n\nThe second factor of your account on {} changed on {when}.\n\n\
             {what}\n\nIf you did not make this change, reset your password at once and tell \
             the service team.\n",
            account.first_name, tenant.display_name
        );
        outbox::enqueue(
            tx,
            self.clock.now(),
            Email {
                to: &account.email,
                subject: &format!(
                    "Your sign-in security codes changed on {}",
                    tenant.display_name
                ),
                body: &body,
            },
        )
        .await?;
        Ok(())
    }

    /// Completes sign-in with a code from the app or a recovery code; returns a fresh
    /// session token.
    ///
    /// # Errors
    /// [`IdentityError::BadSecondFactor`] for a wrong, replayed or used code;
    /// [`IdentityError::Throttled`] after too many.
    pub async fn verify_second_factor(
        &self,
        tenant: &TenantId,
        session_token: &str,
        session: &Session,
        email: &str,
        client: &str,
        code: &str,
    ) -> Result<String, IdentityError> {
        if session.stage != Stage::NeedsCode {
            return Err(IdentityError::BadSecondFactor);
        }
        self.sessions
            .check_account_throttle(tenant, "second_factor", email, client)
            .await?;
        let tx = self.db.tenant_tx(tenant).await?;
        let id = &session.account_id;
        let outcome = self.spend_code(&tx, id, code).await;
        match outcome {
            Ok(method) => {
                record_detail(
                    &tx,
                    &self.clock,
                    &actor(id),
                    "account.second_factor_passed",
                    id,
                    serde_json::json!({ "method": method }),
                )
                .await?;
                tx.commit().await?;
                self.upgrade(tenant, session_token, id).await
            }
            Err(e) => {
                tx.rollback().await?;
                self.sessions
                    .record_failure_of("second_factor", tenant, email, client)
                    .await?;
                Err(e)
            }
        }
    }

    /// Ends the part-way session and starts a full one (a new token).
    async fn upgrade(
        &self,
        tenant: &TenantId,
        old_token: &str,
        account_id: &str,
    ) -> Result<String, IdentityError> {
        self.sessions.end(tenant, old_token).await?;
        let (token, _) = self.sessions.start(tenant, account_id, Stage::Full).await?;
        Ok(token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_match_their_step_and_one_step_of_drift_only() {
        let secret = b"12345678901234567890";
        let t = totp(secret);
        let now = 1_700_000_000_i64;
        let code = t.generate(u64::try_from(now).unwrap());
        assert_eq!(matching_step(secret, &code, now), Some(now / 30));
        assert_eq!(matching_step(secret, &code, now + 30), Some(now / 30));
        assert_eq!(matching_step(secret, &code, now + 95), None);
        // RFC 6238 test vector (SHA-1, T = 59 s): 94287082 → last 6 digits.
        assert_eq!(t.generate(59), "287082");
    }
}

/// A demonstration administrator, made by the CLI on the embedded default.
#[derive(Debug, Clone)]
pub struct DemoAdmin {
    /// Their email address.
    pub email: String,
    /// Their password (random, shown once).
    pub password: String,
    /// Their authenticator app's setup key.
    pub setup_key: String,
    /// Single-use recovery codes, each good for one sign-in without the app.
    pub recovery_codes: Vec<String>,
}

impl Identity {
    /// Makes a ready-to-use tenant administrator for trying the portal out: a confirmed
    /// account with a random password, the tenant-admin role and a second factor already
    /// set up (its recovery codes let someone sign in without an authenticator app).
    /// Audited as the operator's.
    ///
    /// # Errors
    /// [`IdentityError::EmailTaken`] when the address has an account;
    /// [`IdentityError::Invalid`] when the tenant's sign-up policy refuses the demo details.
    pub async fn create_demo_admin(
        &self,
        tenant: &tenant_router::TenantConfig,
        email: &str,
    ) -> Result<DemoAdmin, IdentityError> {
        let password = format!(
            "try-{}",
            crate::domain::token::generate()
                .map_err(IdentityError::random)?
                .chars()
                .filter(char::is_ascii_alphanumeric)
                .take(16)
                .collect::<String>()
        );
        let mut form: std::collections::HashMap<String, String> = [
            ("first_name", "Portal"),
            ("last_name", "Administrator"),
            ("email", email),
            ("job_title", "Service manager"),
            ("organisation_name", "The council"),
            ("organisation_telephone", "01632 960000"),
            ("is_childminder", "no"),
            ("password", password.as_str()),
            ("password_confirm", password.as_str()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        if let Some(category) = tenant.job_categories.first() {
            form.insert("job_category".to_owned(), category.clone());
        }
        let new =
            crate::domain::signup::validate(&tenant.account_fields, &tenant.job_categories, &form)
                .map_err(IdentityError::Invalid)?;
        let hash = self.hasher.hash(&password).await?;
        let mut secret = [0u8; 20];
        getrandom::fill(&mut secret).map_err(IdentityError::random)?;
        let now = self.clock.now();
        let tx = self.db.system_tx(&tenant.slug).await?;
        let account = store::insert_account(&tx, &new, Some(hash), now, None).await?;
        store::mark_verified(&tx, &account.id, now).await?;
        // The demo administrator also answers rights requests, so the desk can be tried.
        for role in [Role::TenantAdmin, Role::PrivacyOfficer] {
            crate::store::organisations::grant_role(&tx, &account.id, role, None, now).await?;
        }
        let step = now.timestamp().div_euclid(STEP_SECS) - 2;
        sf::promote(&tx, &self.keys, &account.id, &secret, step, now).await?;
        let recovery_codes = sf::new_recovery_codes(&tx, &account.id, RECOVERY_CODES).await?;
        record_detail(
            &tx,
            &self.clock,
            "operator:cli",
            "account.demo_admin_created",
            &account.id,
            serde_json::json!({
                "roles": [Role::TenantAdmin.as_str(), Role::PrivacyOfficer.as_str()]
            }),
        )
        .await?;
        tx.commit().await?;
        Ok(DemoAdmin {
            email: account.email,
            password,
            setup_key: totp(&secret).get_secret_base32(),
            recovery_codes,
        })
    }
}
