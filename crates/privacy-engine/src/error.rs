//! Privacy-engine errors. No HTTP here: the server maps these once.

/// What can go wrong in the privacy engine.
#[derive(Debug, thiserror::Error)]
pub enum PrivacyError {
    /// The storage layer failed.
    #[error(transparent)]
    Store(#[from] storage::StorageError),
    /// A column holding personal data names a category the tenant's inventory lacks.
    #[error(
        "tenant `{tenant}`: {table}.{column} is declared as `{category}`, which its inventory lacks"
    )]
    UndeclaredCategory {
        /// The tenant.
        tenant: String,
        /// The table.
        table: &'static str,
        /// The column.
        column: &'static str,
        /// The category the column is declared under.
        category: &'static str,
    },
    /// The crate that owns accounts or kept records failed.
    #[error("account owner: {0}")]
    Accounts(String),
    /// The tenant has no account with that address (or id).
    #[error("no such account")]
    NoSuchAccount,
    /// The tenant has no such rights request.
    #[error("no such request")]
    NoSuchRequest,
    /// The request's fields have problems: `(field, message)` each; nothing was stored.
    #[error("invalid request: {0:?}")]
    Invalid(Vec<(&'static str, String)>),
    /// The change is refused as things stand (a stable code and a message for people).
    #[error("{message}")]
    Refused {
        /// Stable code.
        code: &'static str,
        /// In words.
        message: &'static str,
    },
    /// The change must wait, for the reasons given (a stable code and the reasons in words).
    #[error("{reason}")]
    Deferred {
        /// Stable code.
        code: &'static str,
        /// Why, in words.
        reason: String,
    },
    /// A stored value no longer decodes.
    #[error("stored privacy data does not decode: {0}")]
    Corrupt(String),
}
