//! Identity errors. No HTTP here: the server maps these once.

use crate::domain::signup::FieldError;

/// What can go wrong in identity.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    /// The storage layer failed.
    #[error(transparent)]
    Store(#[from] storage::StorageError),
    /// The privacy engine (consent ledger) failed.
    #[error(transparent)]
    Privacy(#[from] privacy_engine::PrivacyError),
    /// The session or throttle store (Redis) failed.
    #[error("session store: {0}")]
    SessionStore(String),
    /// Something that should not fail did (random source, hashing pool).
    #[error("internal: {0}")]
    Internal(String),
    /// No such account in this tenant (also the answer for another tenant's id).
    #[error("no such account")]
    AccountNotFound,
    /// The submitted form has errors; nothing was saved.
    #[error("the form has {} error(s)", .0.len())]
    Invalid(Vec<FieldError>),
    /// The email already has an account in this tenant.
    #[error("an account with this email address already exists")]
    EmailTaken,
    /// Email or password wrong (never says which).
    #[error("the email address or password is not right")]
    BadCredentials,
    /// Too many failed sign-ins; try later.
    #[error("too many attempts; try again in {minutes} minutes")]
    Throttled {
        /// How long to wait.
        minutes: u32,
    },
    /// The account exists but its email is not yet confirmed.
    #[error("confirm your email address first")]
    EmailNotVerified,
    /// The account has been deactivated.
    #[error("this account has been deactivated")]
    Deactivated,
    /// An organisation of that name already exists in the tenant.
    #[error("an organisation with this name already exists")]
    OrganisationExists,
    /// No such organisation, or the actor may not manage it (the same answer, so ids of
    /// organisations one cannot manage do not leak).
    #[error("no such organisation")]
    OrganisationNotFound,
    /// The actor lacks the tenant role the action needs.
    #[error("only tenant administrators may do this")]
    NotTenantAdmin,
    /// Encrypted data does not open: wrong key, tampered data, or a value moved to another
    /// row; also the state after its subject key was destroyed.
    #[error("encrypted data cannot be opened")]
    Undecryptable,
    /// A second-factor code is wrong, already used, or a recovery code is unknown.
    #[error("the code is not right")]
    BadSecondFactor,
    /// The OpenID provider failed, is unreachable, or its answer did not verify.
    #[error("sign-in provider: {0}")]
    Oidc(String),
    /// The tenant has no OpenID provider with that id.
    #[error("no such sign-in provider")]
    UnknownProvider,
    /// An OpenID callback whose state is unknown, used, expired or not this browser's.
    #[error("this sign-in attempt is not valid")]
    BadOidcState,
    /// The tenant does not collect this kind of data.
    #[error("this portal does not collect that information")]
    NotCollected,
    /// The person's role needs a second factor, so it cannot be turned off.
    #[error("your role needs a second factor")]
    SecondFactorRequired,
    /// A lead administrator tried to mark themself as having left.
    #[error("you cannot mark yourself as a leaver")]
    OwnLeaving,
    /// A link token is unknown, used or expired.
    #[error("this link has expired or has already been used")]
    BadToken,
}

impl IdentityError {
    pub(crate) fn random(e: getrandom::Error) -> Self {
        Self::Internal(format!("random source: {e}"))
    }
}

impl From<sea_orm::DbErr> for IdentityError {
    fn from(e: sea_orm::DbErr) -> Self {
        Self::Store(e.into())
    }
}
