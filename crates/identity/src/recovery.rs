//! Getting back into an account and proving a form is ours: password-reset requests (one
//! live link per account, re-sent while live, limited per address and per client), link
//! tokens derived from the master key, whether a link is live, setting a password from a
//! link, and the signed pre-sign-in CSRF token.

use storage::outbox::{self, Email};
use tenant_router::{TenantConfig, TenantId};

use crate::domain::signup;
use crate::service::{RESET_PER_ADDRESS, RESET_PER_CLIENT};
use crate::store::{self, Purpose, status};
use crate::{Identity, IdentityError};

impl Identity {
    /// Emails a password-reset link when the address has an active account; does nothing
    /// visible otherwise, so the answer never reveals whether an account exists. While a
    /// link sent before is still live, the same link is sent again (one live link per
    /// account, however often it is asked for). Requests are limited per address
    /// ([`RESET_PER_ADDRESS`] an hour, whether or not it has an account) and per client
    /// ([`RESET_PER_CLIENT`]).
    ///
    /// # Errors
    /// [`IdentityError::Throttled`] past either limit; when the database fails.
    pub async fn request_reset(
        &self,
        tenant: &TenantConfig,
        email: &str,
        client: &str,
        base_url: &str,
    ) -> Result<(), IdentityError> {
        let hour = std::time::Duration::from_secs(3600);
        let email = email.trim().to_lowercase();
        self.sessions
            .count_request("reset_client", &tenant.slug, client, RESET_PER_CLIENT, hour)
            .await?;
        self.sessions
            .count_request(
                "reset_address",
                &tenant.slug,
                &email,
                RESET_PER_ADDRESS,
                hour,
            )
            .await?;
        let now = self.clock.now();
        let tx = self.db.tenant_tx(&tenant.slug).await?;
        let Some(account) = store::find_by_email(&tx, &email).await? else {
            tx.rollback().await?;
            return Ok(());
        };
        if account.status != status::ACTIVE {
            tx.rollback().await?;
            return Ok(());
        }
        let purpose = Purpose::ResetPassword;
        let live = store::live_token(&tx, &account.id, purpose, now).await?;
        // The live link again, when the current master key derived it. One it did not
        // (made under a master key since replaced, perhaps because it leaked) is ended
        // and a new link made: a replaced key must not keep a way into the account.
        let again = live.as_ref().and_then(|row| {
            let token = self.link_token(&tenant.slug, &row.account_id, purpose, row.created_at);
            crate::domain::token::same(&crate::domain::token::digest(&token), &row.token_hash)
                .then_some(token)
        });
        let token = match again {
            Some(token) => token,
            None => {
                if live.is_some() {
                    store::revoke_tokens(&tx, &account.id, &[purpose], now).await?;
                }
                let token = self.link_token(&tenant.slug, &account.id, purpose, now);
                match store::insert_token(&tx, &account.id, purpose, now, &token).await {
                    Ok(()) => token,
                    // A request in the same millisecond made this very link, and sends it.
                    Err(IdentityError::Store(e)) if e.is_unique_violation() => {
                        tx.rollback().await?;
                        return Ok(());
                    }
                    Err(e) => return Err(e),
                }
            }
        };
        let body = format!(
            "Hello {},\n\nSomeone (we hope you) asked to reset the password of your account \
             on {}. Choose a new password here:\n\n{base_url}/reset-password/{token}\n\n\
             The link works once and expires 1 hour after it was first sent. If you did not \
             ask, ignore this email: your password has not changed.\n",
            account.first_name, tenant.display_name
        );
        outbox::enqueue(
            &tx,
            now,
            Email {
                to: &account.email,
                subject: &format!("Reset your password for {}", tenant.display_name),
                body: &body,
            },
        )
        .await?;
        self.audit_own(&tx, &account.id, "account.reset_requested")
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// A link token derived from the master key and when it was issued, so a live link
    /// can be sent again without keeping the token itself (only its digest is stored).
    fn link_token(
        &self,
        tenant: &TenantId,
        account_id: &str,
        purpose: Purpose,
        issued: chrono::DateTime<chrono::Utc>,
    ) -> String {
        encode(
            self.master
                .mac(&link_message(tenant, account_id, purpose, issued)),
        )
    }

    /// A new pre-sign-in CSRF token: a random value signed (HMAC) for this tenant, so the
    /// server can tell its own tokens from values planted in a browser's cookies.
    ///
    /// # Errors
    /// When the random source fails.
    pub fn new_csrf(&self, tenant: &TenantId) -> Result<String, IdentityError> {
        let random = crate::domain::token::generate().map_err(IdentityError::random)?;
        let mac = self.csrf_mac(tenant, &random);
        Ok(format!("{random}.{mac}"))
    }

    /// Whether a pre-sign-in CSRF token is one this server signed for this tenant.
    #[must_use]
    pub fn csrf_is_ours(&self, tenant: &TenantId, value: &str) -> bool {
        value.split_once('.').is_some_and(|(random, mac)| {
            random.len() >= 32
                && self
                    .master
                    .macs(&csrf_message(tenant, random))
                    .any(|ours| crate::domain::token::same(mac, &encode(ours)))
        })
    }

    fn csrf_mac(&self, tenant: &TenantId, random: &str) -> String {
        encode(self.master.mac(&csrf_message(tenant, random)))
    }

    /// Whether a link token is live (unused, unexpired, of `purpose`) without using it:
    /// a link's page shows its form only for a live token.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn token_is_live(
        &self,
        tenant: &TenantId,
        purpose: Purpose,
        token: &str,
    ) -> Result<bool, IdentityError> {
        let tx = self.db.tenant_tx(tenant).await?;
        let live = store::token_is_live(&tx, token, purpose, self.clock.now()).await?;
        tx.rollback().await?;
        Ok(live)
    }

    /// Sets a new password with the token from a reset link (or, for `Purpose::Invitation`,
    /// the first password of an account someone else created).
    ///
    /// # Errors
    /// [`IdentityError::Invalid`] for an unacceptable password; [`IdentityError::BadToken`]
    /// for an unknown, used or expired link. Nothing changes in either case.
    pub async fn reset_password(
        &self,
        tenant: &TenantId,
        purpose: Purpose,
        token: &str,
        password: &str,
        confirm: &str,
    ) -> Result<(), IdentityError> {
        let now = self.clock.now();
        let tx = self.db.tenant_tx(tenant).await?;
        let id = store::consume_token(&tx, token, purpose, now).await?;
        let account = store::find_by_id(&tx, &id)
            .await?
            .ok_or(IdentityError::BadToken)?;
        let personal = [
            account.email.as_str(),
            account.first_name.as_str(),
            account.last_name.as_str(),
        ];
        let problem = signup::check_new_password(password, confirm, &personal);
        if let Some(problem) = problem {
            // Rolling back leaves the token unused, so the person can try again.
            tx.rollback().await?;
            return Err(IdentityError::Invalid(vec![problem]));
        }
        let hash = self.hasher.hash(password).await?;
        store::set_password(&tx, &id, hash, now).await?;
        // Following the emailed link proves the address too.
        store::mark_verified(&tx, &id, now).await?;
        self.audit_own(&tx, &id, "account.password_reset").await?;
        tx.commit().await?;
        self.sessions.end_all(tenant, &id).await?;
        Ok(())
    }
}

/// A MAC as it appears in a link or a form.
fn encode(mac: [u8; 32]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac)
}

/// What a link token signs: the tenant, the account, the purpose and when it was issued.
fn link_message(
    tenant: &TenantId,
    account_id: &str,
    purpose: Purpose,
    issued: chrono::DateTime<chrono::Utc>,
) -> String {
    format!(
        "link-token|{tenant}|{account_id}|{}|{}",
        purpose.as_str(),
        issued.timestamp_millis()
    )
}

/// What a pre-sign-in CSRF token signs.
fn csrf_message(tenant: &TenantId, random: &str) -> String {
    format!("csrf|{tenant}|{random}")
}
