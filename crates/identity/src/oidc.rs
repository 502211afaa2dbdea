//! Staff sign-in through a tenant's OpenID Connect providers: authorization code flow with
//! PKCE, `state` and `nonce`, and the ID token verified (signature from the provider's
//! keys, issuer, audience, expiry, nonce) by the `openidconnect` crate.
//!
//! Invariants: the flow's state lives under the tenant's keys and is single-use, and the
//! browser that started the flow must finish it (a cookie carries the state too), so a
//! callback from another tenant, another browser or a replay finds nothing. Federated
//! identities are keyed by (issuer, subject). A first sign-in links to an existing account
//! only through a verified email of the same tenant; otherwise the person completes the
//! tenant's sign-up fields before an account is made.

use std::collections::HashMap;

use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce,
    OAuth2TokenResponse as _, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope,
    TokenResponse as _,
};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use storage::TenantTx;
use tenant_router::TenantConfig;
use tenant_router::config::OidcProvider;

use crate::domain::signup::{self, NewAccount};
use crate::domain::token;
use crate::service::{actor, record_detail};
use crate::sessions::{Session, Stage};
use crate::store;
use crate::store::entity::{account, federated_identity};
use crate::{Identity, IdentityError};

/// How long a started sign-in may take.
const FLOW_SECS: u64 = 600;

pub use crate::service::OidcSecrets;

/// What the browser needs to start: where to go, and the state to remember in a cookie.
#[derive(Debug, Clone)]
pub struct OidcStart {
    /// The provider's authorization URL.
    pub url: String,
    /// The flow's state (also in the URL); the browser keeps it in a cookie.
    pub state: String,
}

/// How a completed provider sign-in ends.
#[derive(Debug)]
pub enum OidcOutcome {
    /// Signed in: the new session token and session.
    SignedIn(String, Session),
    /// No account yet: the person completes the sign-up fields; the key (kept in a cookie)
    /// finds what the provider told us.
    NeedsDetails(String),
}

/// A flow in progress.
#[derive(Serialize, Deserialize)]
struct Flow {
    provider: String,
    nonce: String,
    pkce_verifier: String,
}

/// What the provider vouched for, kept while the person completes sign-up.
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct Vouched {
    /// Provider id in the tenant's configuration.
    pub provider: String,
    /// Issuer URL.
    pub issuer: String,
    /// Subject at the issuer.
    pub subject: String,
    /// Verified email.
    pub email: String,
    /// Given name, when the provider shares it.
    pub given_name: Option<String>,
    /// Family name, when the provider shares it.
    pub family_name: Option<String>,
}

fn oidc_err(e: impl std::fmt::Display) -> IdentityError {
    IdentityError::Oidc(e.to_string())
}

fn provider<'a>(tenant: &'a TenantConfig, id: &str) -> Result<&'a OidcProvider, IdentityError> {
    tenant
        .oidc
        .iter()
        .find(|p| p.id == id)
        .ok_or(IdentityError::UnknownProvider)
}

fn redirect_url(base_url: &str, provider: &str) -> String {
    format!("{base_url}/sign-in/oidc/{provider}/callback")
}

fn http() -> Result<openidconnect::reqwest::Client, IdentityError> {
    // No redirects: discovery and token responses must come from the issuer itself.
    openidconnect::reqwest::ClientBuilder::new()
        .redirect(openidconnect::reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .map_err(oidc_err)
}

impl Identity {
    fn flow_key(&self, tenant: &str, kind: &str, state: &str) -> String {
        self.sessions.key(tenant, kind, &token::digest(state))
    }

    async fn client(
        &self,
        tenant: &TenantConfig,
        p: &OidcProvider,
        base_url: &str,
        http: &openidconnect::reqwest::Client,
    ) -> Result<
        CoreClient<
            openidconnect::EndpointSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointMaybeSet,
            openidconnect::EndpointMaybeSet,
        >,
        IdentityError,
    > {
        let secret = self
            .oidc_secrets
            .get(tenant.slug.as_str())
            .and_then(|m| m.get(&p.id))
            .ok_or_else(|| {
                IdentityError::Oidc(format!(
                    "no client secret configured for oidc_secrets.{}.{}",
                    tenant.slug, p.id
                ))
            })?;
        let issuer = IssuerUrl::new(p.issuer.clone()).map_err(oidc_err)?;
        let metadata = CoreProviderMetadata::discover_async(issuer, http)
            .await
            .map_err(oidc_err)?;
        Ok(CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(p.client_id.clone()),
            Some(ClientSecret::new(secret.expose_secret().to_owned())),
        )
        .set_redirect_uri(RedirectUrl::new(redirect_url(base_url, &p.id)).map_err(oidc_err)?))
    }

    /// Starts a sign-in with one of the tenant's providers.
    ///
    /// # Errors
    /// [`IdentityError::UnknownProvider`]; [`IdentityError::Oidc`] when the provider cannot
    /// be reached or is not configured.
    pub async fn oidc_start(
        &self,
        tenant: &TenantConfig,
        provider_id: &str,
        base_url: &str,
    ) -> Result<OidcStart, IdentityError> {
        let p = provider(tenant, provider_id)?;
        let http = http()?;
        let client = self.client(tenant, p, base_url, &http).await?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state, nonce) = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .add_scope(Scope::new("email".to_owned()))
            .add_scope(Scope::new("profile".to_owned()))
            .set_pkce_challenge(challenge)
            .url();
        let flow = Flow {
            provider: p.id.clone(),
            nonce: nonce.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
        };
        let json = serde_json::to_string(&flow).map_err(oidc_err)?;
        let key = self.flow_key(tenant.slug.as_str(), "oidc", state.secret());
        self.sessions
            .kv()
            .set(&key, &json, std::time::Duration::from_secs(FLOW_SECS))
            .await?;
        Ok(OidcStart {
            url: url.to_string(),
            state: state.secret().clone(),
        })
    }

    /// Finishes a sign-in from the provider's callback.
    ///
    /// # Errors
    /// [`IdentityError::BadOidcState`] when the state is unknown, used, expired, of another
    /// provider or not this browser's; [`IdentityError::Oidc`] when the code exchange or
    /// the ID token's verification fails; [`IdentityError::EmailTaken`] when the verified
    /// email belongs to an account that cannot be linked.
    pub async fn oidc_finish(
        &self,
        tenant: &TenantConfig,
        provider_id: &str,
        state: &str,
        browser_state: Option<&str>,
        code: &str,
        base_url: &str,
    ) -> Result<OidcOutcome, IdentityError> {
        let p = provider(tenant, provider_id)?;
        if !browser_state.is_some_and(|b| token::same(b, state)) {
            return Err(IdentityError::BadOidcState);
        }
        let key = self.flow_key(tenant.slug.as_str(), "oidc", state);
        let json = self
            .sessions
            .kv()
            .get(&key)
            .await?
            .ok_or(IdentityError::BadOidcState)?;
        // Single use, whatever happens next.
        self.sessions.kv().del(&key).await?;
        let flow: Flow = serde_json::from_str(&json).map_err(|_| IdentityError::BadOidcState)?;
        if flow.provider != provider_id {
            return Err(IdentityError::BadOidcState);
        }
        let http = http()?;
        let client = self.client(tenant, p, base_url, &http).await?;
        let response = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(oidc_err)?
            .set_pkce_verifier(PkceCodeVerifier::new(flow.pkce_verifier))
            .request_async(&http)
            .await
            .map_err(oidc_err)?;
        let id_token = response
            .id_token()
            .ok_or_else(|| IdentityError::Oidc("the provider sent no ID token".to_owned()))?;
        let claims = id_token
            .claims(&client.id_token_verifier(), &Nonce::new(flow.nonce))
            .map_err(oidc_err)?;
        let mut vouched = Vouched {
            provider: p.id.clone(),
            issuer: claims.issuer().to_string(),
            subject: claims.subject().to_string(),
            email: claims
                .email()
                .filter(|_| claims.email_verified() == Some(true))
                .map(|e| e.to_string().to_lowercase())
                .unwrap_or_default(),
            given_name: claims
                .given_name()
                .and_then(|n| n.get(None))
                .map(|n| n.to_string()),
            family_name: claims
                .family_name()
                .and_then(|n| n.get(None))
                .map(|n| n.to_string()),
        };
        if vouched.email.is_empty() {
            // Many providers put profile claims only in UserInfo for the code flow. The
            // subject there must match the verified ID token's.
            let info: openidconnect::core::CoreUserInfoClaims = client
                .user_info(
                    response.access_token().clone(),
                    Some(claims.subject().clone()),
                )
                .map_err(oidc_err)?
                .request_async(&http)
                .await
                .map_err(oidc_err)?;
            vouched.email = info
                .email()
                .filter(|_| info.email_verified() == Some(true))
                .map(|e| e.to_string().to_lowercase())
                .unwrap_or_default();
            vouched.given_name = vouched.given_name.or_else(|| {
                info.given_name()
                    .and_then(|n| n.get(None))
                    .map(|n| n.to_string())
            });
            vouched.family_name = vouched.family_name.or_else(|| {
                info.family_name()
                    .and_then(|n| n.get(None))
                    .map(|n| n.to_string())
            });
        }
        self.sign_in_vouched(tenant, vouched).await
    }

    async fn sign_in_vouched(
        &self,
        tenant: &TenantConfig,
        vouched: Vouched,
    ) -> Result<OidcOutcome, IdentityError> {
        let now = self.clock.now();
        let tx = self.db.tenant_tx(&tenant.slug).await?;
        let linked = linked_account(&tx, &vouched.issuer, &vouched.subject).await?;
        let account = match linked {
            Some(a) => Some(a),
            None if !vouched.email.is_empty() => {
                match store::find_by_email(&tx, &vouched.email).await? {
                    // Link only to an account whose own email is verified too.
                    Some(a) if a.email_verified_at.is_some() => {
                        link(&tx, &vouched, &a.id, now).await?;
                        Some(a)
                    }
                    Some(_) => return Err(IdentityError::EmailTaken),
                    None => None,
                }
            }
            None => None,
        };
        let Some(account) = account else {
            tx.rollback().await?;
            if vouched.email.is_empty() {
                return Err(IdentityError::Oidc(
                    "the provider did not vouch for an email address".to_owned(),
                ));
            }
            let key = token::generate().map_err(IdentityError::random)?;
            let json = serde_json::to_string(&vouched).map_err(oidc_err)?;
            let kv_key = self.flow_key(tenant.slug.as_str(), "oidc-signup", &key);
            self.sessions
                .kv()
                .set(
                    &kv_key,
                    &json,
                    std::time::Duration::from_secs(FLOW_SECS * 3),
                )
                .await?;
            return Ok(OidcOutcome::NeedsDetails(key));
        };
        self.admit(&tx, &account).await?;
        let stage = self.stage_after_password(&tx, &account).await?;
        store::touch(&tx, &account.id, now).await?;
        record_detail(
            &tx,
            &self.clock,
            &actor(&account.id),
            "account.signed_in",
            &account.id,
            serde_json::json!({ "method": "oidc", "provider": vouched.provider }),
        )
        .await?;
        tx.commit().await?;
        let (token, session) = self
            .sessions
            .start(&tenant.slug, &account.id, stage)
            .await?;
        Ok(OidcOutcome::SignedIn(token, session))
    }

    /// What the provider vouched for, while the person completes sign-up.
    ///
    /// # Errors
    /// [`IdentityError::BadOidcState`] when the key is unknown or expired.
    pub async fn oidc_pending(
        &self,
        tenant: &TenantConfig,
        key: &str,
    ) -> Result<Vouched, IdentityError> {
        let kv_key = self.flow_key(tenant.slug.as_str(), "oidc-signup", key);
        let json = self
            .sessions
            .kv()
            .get(&kv_key)
            .await?
            .ok_or(IdentityError::BadOidcState)?;
        serde_json::from_str(&json).map_err(|_| IdentityError::BadOidcState)
    }

    /// Creates the account for a provider-vouched person once they have given the tenant's
    /// sign-up fields (with the organisation they claim and, where the tenant asks, the access
    /// they need there); their email counts as verified (the provider vouched for it).
    ///
    /// # Errors
    /// [`IdentityError::Invalid`] with every field error; [`IdentityError::BadOidcState`];
    /// [`IdentityError::EmailTaken`].
    pub async fn oidc_complete(
        &self,
        tenant: &TenantConfig,
        key: &str,
        form: &HashMap<String, String>,
    ) -> Result<(String, Session), IdentityError> {
        let vouched = self.oidc_pending(tenant, key).await?;
        let fields: Result<NewAccount, _> = signup::validate_profile(
            &tenant.account_fields,
            &tenant.job_categories,
            form,
            &vouched.email,
        );
        let (new, claimed, rights) = crate::claim::read(tenant, form, fields)?;
        let now = self.clock.now();
        let tx = self.db.tenant_tx(&tenant.slug).await?;
        let account = store::insert_account(&tx, &new, None, now, None).await?;
        store::mark_verified(&tx, &account.id, now).await?;
        // The organisation named, to confirm membership and any access asked for.
        if let Some(org) = claimed {
            Self::claim(&tx, org, &account.id, &rights, now).await?;
        }
        link(&tx, &vouched, &account.id, now).await?;
        record_detail(
            &tx,
            &self.clock,
            &actor(&account.id),
            "account.signed_up",
            &account.id,
            serde_json::json!({ "method": "oidc", "provider": vouched.provider }),
        )
        .await?;
        tx.commit().await?;
        let kv_key = self.flow_key(tenant.slug.as_str(), "oidc-signup", key);
        self.sessions.kv().del(&kv_key).await?;
        self.sessions
            .start(&tenant.slug, &account.id, Stage::Full)
            .await
    }
}

async fn linked_account(
    tx: &TenantTx,
    issuer: &str,
    subject: &str,
) -> Result<Option<account::Model>, IdentityError> {
    let Some(row) = federated_identity::Entity::find()
        .filter(federated_identity::Column::TenantId.eq(tx.tenant().as_str()))
        .filter(federated_identity::Column::Issuer.eq(issuer))
        .filter(federated_identity::Column::Subject.eq(subject))
        .one(&**tx)
        .await?
    else {
        return Ok(None);
    };
    store::find_by_id(tx, &row.account_id).await
}

async fn link(
    tx: &TenantTx,
    vouched: &Vouched,
    account_id: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), IdentityError> {
    federated_identity::ActiveModel {
        tenant_id: Set(tx.tenant().to_string()),
        issuer: Set(vouched.issuer.clone()),
        subject: Set(vouched.subject.clone()),
        account_id: Set(account_id.to_owned()),
        created_at: Set(now),
    }
    .insert(&**tx)
    .await?;
    Ok(())
}
