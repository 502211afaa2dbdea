//! The second factor: TOTP (RFC 6238: SHA-1, 6 digits, 30-second steps, one step of
//! clock drift either way) with single-use recovery codes.
//!
//! Required for tenant admins and provider staff: after their password they reach only the
//! set-up page until they have enrolled. Optional for everyone else. Completing the second
//! factor replaces the session token, as signing in does.

use storage::TenantTx;
use tenant_router::TenantId;
use totp_rs::{Algorithm, TOTP};

use crate::domain::rights::Role;
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
        let enrolled = sf::enrolment(tx, &self.master, &account.id, now)
            .await?
            .is_some_and(|(row, _)| row.confirmed_at.is_some());
        if enrolled {
            return Ok(Stage::NeedsCode);
        }
        for role in [Role::TenantAdmin, Role::ProviderStaff] {
            if orgs::has_role(tx, &account.id, role).await? {
                return Ok(Stage::NeedsEnrolment);
            }
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

    /// Starts (or restarts) enrolment for an account: a new secret, unconfirmed until a code
    /// from it is entered.
    ///
    /// # Errors
    /// When the database or randomness fails.
    pub async fn begin_enrolment(
        &self,
        tenant: &tenant_router::TenantConfig,
        account: &account::Model,
    ) -> Result<Enrolment, IdentityError> {
        let mut secret = [0u8; 20];
        getrandom::fill(&mut secret).map_err(IdentityError::random)?;
        let tx = self.db.tenant_tx(&tenant.slug).await?;
        sf::begin(&tx, &self.master, &account.id, &secret, self.clock.now()).await?;
        tx.commit().await?;
        let secret_base32 = totp(&secret).get_secret_base32();
        let issuer = percent_encode(&tenant.display_name);
        let uri = format!(
            "otpauth://totp/{issuer}:{}?secret={secret_base32}&issuer={issuer}&algorithm=SHA1&digits=6&period=30",
            percent_encode(&account.email)
        );
        Ok(Enrolment { secret_base32, uri })
    }

    /// Confirms enrolment with a code from the app; returns a fresh session token (fully
    /// signed in) and the recovery codes, shown once.
    ///
    /// # Errors
    /// [`IdentityError::BadSecondFactor`] for a wrong code (nothing changes).
    pub async fn confirm_enrolment(
        &self,
        tenant: &TenantId,
        session_token: &str,
        session: &Session,
        code: &str,
    ) -> Result<(String, Vec<String>), IdentityError> {
        let now = self.clock.now();
        let tx = self.db.tenant_tx(tenant).await?;
        let (_, secret) = sf::enrolment(&tx, &self.master, &session.account_id, now)
            .await?
            .ok_or(IdentityError::BadSecondFactor)?;
        let step =
            matching_step(&secret, code, now.timestamp()).ok_or(IdentityError::BadSecondFactor)?;
        sf::accept_step(&tx, &session.account_id, step, now).await?;
        let codes = sf::new_recovery_codes(&tx, &session.account_id, RECOVERY_CODES).await?;
        let id = &session.account_id;
        self.audit_own(&tx, id, "account.second_factor_enrolled")
            .await?;
        tx.commit().await?;
        let token = self.upgrade(tenant, session_token, id).await?;
        Ok((token, codes))
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
            .check_throttle_of("second_factor", tenant, email, client)
            .await?;
        let now = self.clock.now();
        let tx = self.db.tenant_tx(tenant).await?;
        let id = &session.account_id;
        let (_, secret) = sf::enrolment(&tx, &self.master, id, now)
            .await?
            .ok_or(IdentityError::BadSecondFactor)?;
        let outcome = match matching_step(&secret, code, now.timestamp()) {
            Some(step) => sf::accept_step(&tx, id, step, now).await.map(|()| "totp"),
            None => sf::use_recovery_code(&tx, id, code, now)
                .await
                .map(|()| "recovery_code"),
        };
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
