//! Identity errors. No HTTP here: the server maps these once.

/// What can go wrong in identity.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    /// The storage layer failed.
    #[error(transparent)]
    Store(#[from] storage::StorageError),
    /// No such account in this tenant (also the answer for another tenant's id).
    #[error("no such account")]
    AccountNotFound,
}
