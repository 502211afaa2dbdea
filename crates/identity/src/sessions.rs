//! Sessions and sign-in throttling, kept in Redis when configured and in process otherwise.
//!
//! Invariants: every key carries the tenant (`{prefix}:{tenant}:…`), so a session token from
//! one tenant finds nothing under another; only a token's SHA-256 is used as a key, so a
//! Redis dump holds no usable session. When Redis is configured but unreachable, every call
//! fails (the caller answers 503): signed-in routes fail closed, never open.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use tenant_router::TenantId;

pub use crate::kv::Kv;
use crate::kv::kv_err;

use crate::IdentityError;
use crate::domain::token;

/// How long a session lives without use.
pub const IDLE: Duration = Duration::from_secs(2 * 60 * 60);
/// How long a session lives at most, however busy.
pub const MAX_AGE: Duration = Duration::from_secs(12 * 60 * 60);
/// How often a busy session's idle timer is restarted: not on every request (with Redis
/// that was a third round trip on each), so a session left alone ends between
/// `IDLE - RESTART` and [`IDLE`] after its last use, never later.
pub const RESTART: Duration = Duration::from_secs(60);

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}
/// Failed sign-ins allowed per account in [`THROTTLE_WINDOW`].
pub const ACCOUNT_LIMIT: u64 = 5;
/// Failed sign-ins allowed per client address in [`THROTTLE_WINDOW`].
pub const CLIENT_LIMIT: u64 = 30;
/// Failed attempts per client address in [`THROTTLE_WINDOW`] past which even a correct
/// password is refused: far beyond a busy school, plainly an attack.
pub const CLIENT_HARD_LIMIT: u64 = 10 * CLIENT_LIMIT;
/// The throttling window.
pub const THROTTLE_WINDOW: Duration = Duration::from_secs(15 * 60);

/// How far a sign-in has got.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Fully signed in.
    #[default]
    Full,
    /// Password accepted; the second-factor code is still owed.
    NeedsCode,
    /// Password accepted; the account's role requires a second factor it has not set up.
    NeedsEnrolment,
}

/// What a session remembers.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Session {
    /// The signed-in account.
    pub account_id: String,
    /// The token every form posted in this session must carry.
    pub csrf: String,
    /// Whether sign-in is complete.
    #[serde(default)]
    pub stage: Stage,
    /// When it began (Unix milliseconds): bounds its age, and sessions begun before their
    /// account's last "sign out everywhere" are void.
    #[serde(default)]
    pub created_ms: u64,
    /// When its idle timer was last restarted (Unix milliseconds; 0 for none since it
    /// began).
    #[serde(default)]
    pub restarted_ms: u64,
}

impl Session {
    /// Whether the idle timer is due a restart at `now_ms` ([`RESTART`] since the last).
    fn restart_due(&self, now_ms: u64) -> bool {
        let last = self.restarted_ms.max(self.created_ms);
        now_ms.saturating_sub(last) >= u64::try_from(RESTART.as_millis()).unwrap_or(u64::MAX)
    }
}

/// Sessions for all tenants, each under its tenant's keys.
#[derive(Debug, Clone)]
pub struct Sessions {
    kv: Kv,
    prefix: String,
}

impl Sessions {
    /// Sessions kept in `kv`, under keys starting `{prefix}:{tenant}:` (the prefix lets
    /// several deployments, or test runs, share one Redis).
    #[must_use]
    pub fn new(kv: Kv, prefix: &str) -> Self {
        Self {
            kv,
            prefix: prefix.to_owned(),
        }
    }

    /// The store, for other short-lived state (sign-in flows).
    pub(crate) fn kv(&self) -> &Kv {
        &self.kv
    }

    /// Forgets everything kept for `tenant`: sessions, sign-in counters, sign-in flows
    /// (a council offboarded). Returns how many keys went.
    ///
    /// # Errors
    /// [`IdentityError::SessionStore`] when Redis fails.
    pub async fn forget_tenant(&self, tenant: &TenantId) -> Result<usize, IdentityError> {
        self.kv
            .del_prefix(&format!("{}:{tenant}:", self.prefix))
            .await
    }

    /// A key under this store's prefix and the tenant.
    pub(crate) fn key(&self, tenant: &str, kind: &str, suffix: &str) -> String {
        format!("{}:{tenant}:{kind}:{suffix}", self.prefix)
    }

    fn session_key(&self, tenant: &TenantId, token: &str) -> String {
        format!("{}:{tenant}:session:{}", self.prefix, token::digest(token))
    }

    fn throttle_key(&self, tenant: &TenantId, kind: &str, who: &str) -> String {
        format!(
            "{}:{tenant}:throttle:{kind}:{}",
            self.prefix,
            token::digest(who)
        )
    }

    /// Starts a session for `account_id` and returns its (secret) token. A new token is made
    /// at every sign-in, so a token planted before sign-in is worthless after it.
    ///
    /// # Errors
    /// When the store fails or no randomness is available.
    pub async fn start(
        &self,
        tenant: &TenantId,
        account_id: &str,
        stage: Stage,
    ) -> Result<(String, Session), IdentityError> {
        let token = token::generate().map_err(IdentityError::random)?;
        let session = Session {
            account_id: account_id.to_owned(),
            csrf: token::generate().map_err(IdentityError::random)?,
            stage,
            created_ms: now_ms(),
            restarted_ms: 0,
        };
        let json = serde_json::to_string(&session).map_err(kv_err)?;
        self.kv
            .set(&self.session_key(tenant, &token), &json, IDLE)
            .await?;
        Ok((token, session))
    }

    /// The live session for `token` in `tenant`, its idle timer restarted (at most once in
    /// [`RESTART`]).
    ///
    /// # Errors
    /// When the store fails.
    pub async fn get(
        &self,
        tenant: &TenantId,
        token: &str,
    ) -> Result<Option<Session>, IdentityError> {
        let key = self.session_key(tenant, token);
        let Some(json) = self.kv.get(&key).await? else {
            return Ok(None);
        };
        let session = serde_json::from_str::<Session>(&json).ok();
        let max_age_ms = u64::try_from(MAX_AGE.as_millis()).unwrap_or(u64::MAX);
        let revoked_ms = match &session {
            Some(s) => self
                .kv
                .get(&self.key(tenant.as_str(), "revoked", &s.account_id))
                .await?
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0),
            None => 0,
        };
        let now = now_ms();
        let Some(mut session) = session.filter(|s| {
            s.created_ms >= revoked_ms && now.saturating_sub(s.created_ms) < max_age_ms
        }) else {
            self.kv.del(&key).await?;
            return Ok(None);
        };
        if session.restart_due(now) {
            session.restarted_ms = now;
            let json = serde_json::to_string(&session).map_err(kv_err)?;
            self.kv.set(&key, &json, IDLE).await?;
        }
        Ok(Some(session))
    }

    /// Voids every session of the account begun before now (after a password change or
    /// reset, so a stolen session stops working).
    ///
    /// # Errors
    /// When the store fails.
    pub async fn end_all(&self, tenant: &TenantId, account_id: &str) -> Result<(), IdentityError> {
        // Kept as long as any session can live, so no voided session outlives the record.
        self.kv
            .set(
                &self.key(tenant.as_str(), "revoked", account_id),
                &now_ms().to_string(),
                MAX_AGE + Duration::from_secs(60),
            )
            .await
    }

    /// Ends the session for `token`.
    ///
    /// # Errors
    /// When the store fails.
    pub async fn end(&self, tenant: &TenantId, token: &str) -> Result<(), IdentityError> {
        self.kv.del(&self.session_key(tenant, token)).await
    }

    /// Refuses when the account or client has failed too often recently. Passwords and
    /// second-factor codes count separately (`kind` names the account counter's kind).
    ///
    /// # Errors
    /// [`IdentityError::Throttled`], or a store failure.
    pub async fn check_throttle(
        &self,
        tenant: &TenantId,
        email: &str,
        client: &str,
    ) -> Result<(), IdentityError> {
        self.check_throttle_of("account", tenant, email, client)
            .await
    }

    /// [`Sessions::check_throttle`] for a named counter.
    ///
    /// # Errors
    /// [`IdentityError::Throttled`], or a store failure.
    pub async fn check_throttle_of(
        &self,
        kind: &'static str,
        tenant: &TenantId,
        email: &str,
        client: &str,
    ) -> Result<(), IdentityError> {
        if self
            .count(&self.throttle_key(tenant, kind, &email.to_lowercase()))
            .await?
            >= ACCOUNT_LIMIT
            || self.client_throttled(tenant, client).await?
        {
            return Err(Self::throttled());
        }
        Ok(())
    }

    /// Refuses when the account itself has had too many failures (the per-account limit),
    /// or the client so many that it is plainly an attack ([`CLIENT_HARD_LIMIT`]): a school's
    /// shared address merely busy ([`CLIENT_LIMIT`]) never locks out a correct password.
    ///
    /// # Errors
    /// [`IdentityError::Throttled`]; [`IdentityError::SessionStore`] when Redis fails.
    pub async fn check_account_throttle(
        &self,
        tenant: &TenantId,
        kind: &'static str,
        email: &str,
        client: &str,
    ) -> Result<(), IdentityError> {
        let n = self
            .count(&self.throttle_key(tenant, kind, &email.to_lowercase()))
            .await?;
        let by_client = self
            .count(&self.throttle_key(tenant, "client", client))
            .await?;
        if n >= ACCOUNT_LIMIT || by_client >= CLIENT_HARD_LIMIT {
            return Err(Self::throttled());
        }
        Ok(())
    }

    /// Whether the client address has had too many failures (any account).
    ///
    /// # Errors
    /// [`IdentityError::SessionStore`] when Redis fails.
    pub async fn client_throttled(
        &self,
        tenant: &TenantId,
        client: &str,
    ) -> Result<bool, IdentityError> {
        let n = self
            .count(&self.throttle_key(tenant, "client", client))
            .await?;
        Ok(n >= CLIENT_LIMIT)
    }

    /// Counts a failed attempt of `client` at a platform-wide door (`kind`, such as the
    /// operator's API) and returns how many it has made in [`THROTTLE_WINDOW`]. Kept under
    /// the platform's own keys, not any tenant's.
    ///
    /// # Errors
    /// [`IdentityError::SessionStore`] when Redis fails.
    pub async fn record_platform_failure(
        &self,
        kind: &'static str,
        client: &str,
    ) -> Result<u64, IdentityError> {
        self.kv
            .incr(&self.platform_throttle_key(kind, client), THROTTLE_WINDOW)
            .await
    }

    fn platform_throttle_key(&self, kind: &str, client: &str) -> String {
        // Tenant slugs start with a letter, so `_platform` is no tenant's.
        format!(
            "{}:_platform:throttle:{kind}:{}",
            self.prefix,
            token::digest(client)
        )
    }

    /// The counter at `key` (0 when unset or expired).
    async fn count(&self, key: &str) -> Result<u64, IdentityError> {
        Ok(self
            .kv
            .get(key)
            .await?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0))
    }

    /// The error for a refused attempt: wait the throttling window.
    #[must_use]
    pub fn throttled() -> IdentityError {
        IdentityError::Throttled {
            minutes: u32::try_from(THROTTLE_WINDOW.as_secs() / 60).unwrap_or(15),
        }
    }

    /// Counts a failed sign-in against the account and the client.
    ///
    /// # Errors
    /// When the store fails.
    pub async fn record_failure(
        &self,
        tenant: &TenantId,
        email: &str,
        client: &str,
    ) -> Result<(), IdentityError> {
        self.record_failure_of("account", tenant, email, client)
            .await
    }

    /// [`Sessions::record_failure`] for a named counter.
    ///
    /// # Errors
    /// When the store fails.
    pub async fn record_failure_of(
        &self,
        kind: &'static str,
        tenant: &TenantId,
        email: &str,
        client: &str,
    ) -> Result<(), IdentityError> {
        self.kv
            .incr(
                &self.throttle_key(tenant, kind, &email.to_lowercase()),
                THROTTLE_WINDOW,
            )
            .await?;
        self.kv
            .incr(
                &self.throttle_key(tenant, "client", client),
                THROTTLE_WINDOW,
            )
            .await?;
        Ok(())
    }

    /// Clears the account's failure count after a successful sign-in.
    ///
    /// # Errors
    /// When the store fails.
    /// Counts one more request of `kind` by `who` and refuses it once more than `limit`
    /// were made in `window` (the window starts at the first).
    ///
    /// # Errors
    /// [`IdentityError::Throttled`] past the limit; [`IdentityError::SessionStore`] when
    /// Redis fails.
    pub async fn count_request(
        &self,
        kind: &'static str,
        tenant: &TenantId,
        who: &str,
        limit: u64,
        window: Duration,
    ) -> Result<(), IdentityError> {
        let n = self
            .kv
            .incr(&self.throttle_key(tenant, kind, who), window)
            .await?;
        if n > limit {
            return Err(IdentityError::Throttled {
                minutes: u32::try_from(window.as_secs().div_ceil(60)).unwrap_or(60),
            });
        }
        Ok(())
    }

    /// Clears the account's failure count after a successful sign-in.
    ///
    /// # Errors
    /// When the store fails.
    pub async fn clear_failures(
        &self,
        tenant: &TenantId,
        email: &str,
    ) -> Result<(), IdentityError> {
        self.kv
            .del(&self.throttle_key(tenant, "account", &email.to_lowercase()))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_busy_sessions_idle_timer_restarts_at_most_once_in_restart() {
        let s = Session {
            account_id: "acct-1".into(),
            csrf: "c".into(),
            stage: Stage::Full,
            created_ms: 1_000_000,
            restarted_ms: 0,
        };
        assert!(!s.restart_due(1_059_999));
        assert!(s.restart_due(1_060_000));
        let restarted = Session {
            restarted_ms: 2_000_000,
            ..s
        };
        assert!(!restarted.restart_due(2_000_001));
        assert!(restarted.restart_due(2_060_000));
    }

    #[tokio::test]
    async fn a_session_last_restarted_a_while_ago_is_restarted_when_read() {
        let s = Sessions::new(Kv::memory(), "portal");
        let t: TenantId = "harrow".parse().unwrap();
        let (token, mut session) = s.start(&t, "acct-1", Stage::Full).await.unwrap();
        // As if begun five minutes ago and not restarted since.
        session.created_ms -= 5 * 60 * 1000;
        let key = s.session_key(&t, &token);
        s.kv.set(&key, &serde_json::to_string(&session).unwrap(), IDLE)
            .await
            .unwrap();
        let read = s.get(&t, &token).await.unwrap().unwrap();
        assert!(read.restarted_ms > session.created_ms);
        let kept: Session = serde_json::from_str(&s.kv.get(&key).await.unwrap().unwrap()).unwrap();
        assert_eq!(
            kept.restarted_ms, read.restarted_ms,
            "the restart is stored"
        );
        // Read again at once: nothing due.
        assert_eq!(s.get(&t, &token).await.unwrap(), Some(read));
    }

    #[tokio::test]
    async fn sessions_are_bound_to_their_tenant() {
        let s = Sessions::new(Kv::memory(), "portal");
        let a: TenantId = "harrow".parse().unwrap();
        let b: TenantId = "somerset".parse().unwrap();
        let (token, session) = s.start(&a, "acct-1", Stage::Full).await.unwrap();
        assert_eq!(s.get(&a, &token).await.unwrap(), Some(session));
        assert_eq!(s.get(&b, &token).await.unwrap(), None);
        s.end(&a, &token).await.unwrap();
        assert_eq!(s.get(&a, &token).await.unwrap(), None);
    }

    #[tokio::test]
    async fn ending_all_voids_older_sessions_only() {
        let s = Sessions::new(Kv::memory(), "portal");
        let t: TenantId = "harrow".parse().unwrap();
        let (old, _) = s.start(&t, "acct-1", Stage::Full).await.unwrap();
        let (other, _) = s.start(&t, "acct-2", Stage::Full).await.unwrap();
        std::thread::sleep(Duration::from_millis(2));
        s.end_all(&t, "acct-1").await.unwrap();
        std::thread::sleep(Duration::from_millis(2));
        let (new, _) = s.start(&t, "acct-1", Stage::Full).await.unwrap();
        assert_eq!(s.get(&t, &old).await.unwrap(), None);
        assert!(s.get(&t, &new).await.unwrap().is_some());
        assert!(s.get(&t, &other).await.unwrap().is_some());
    }

    #[tokio::test]
    async fn throttling_counts_per_account_and_clears_on_success() {
        let s = Sessions::new(Kv::memory(), "portal");
        let t: TenantId = "harrow".parse().unwrap();
        for _ in 0..ACCOUNT_LIMIT {
            s.check_throttle(&t, "A@x.uk", "1.2.3.4").await.unwrap();
            s.record_failure(&t, "a@x.uk", "1.2.3.4").await.unwrap();
        }
        assert!(matches!(
            s.check_throttle(&t, "a@x.uk", "5.6.7.8").await,
            Err(IdentityError::Throttled { .. })
        ));
        // Another account from the same client is not yet blocked.
        s.check_throttle(&t, "b@x.uk", "1.2.3.4").await.unwrap();
        s.clear_failures(&t, "a@x.uk").await.unwrap();
        s.check_throttle(&t, "a@x.uk", "1.2.3.4").await.unwrap();
    }
}
