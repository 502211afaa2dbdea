//! Catalogue errors. No HTTP here: the server maps these once.

use identity::domain::signup::FieldError;

/// What can go wrong in the catalogue.
#[derive(Debug, thiserror::Error)]
pub enum CatalogueError {
    /// The storage layer failed.
    #[error(transparent)]
    Store(#[from] storage::StorageError),
    /// Identity (roles) failed.
    #[error(transparent)]
    Identity(#[from] identity::IdentityError),
    /// No such course, session, service or resource in this tenant, or not one this
    /// person may see (the same answer, so ids reveal nothing).
    #[error("no such item in this catalogue")]
    NotFound,
    /// The submission has errors; nothing was saved.
    #[error("the submission has {} error(s)", .0.len())]
    Invalid(Vec<FieldError>),
    /// The resource is for signed-in people only.
    #[error("sign in to download this")]
    SignInRequired,
    /// The person manages no part of the catalogue.
    #[error("only tenant admins and provider staff can manage the catalogue")]
    NotManager,
    /// The item is in a state that does not allow this (e.g. editing a cancelled course).
    #[error("{message}")]
    Conflict {
        /// Stable code.
        code: &'static str,
        /// What to tell the person.
        message: &'static str,
    },
}

impl From<sea_orm::DbErr> for CatalogueError {
    fn from(e: sea_orm::DbErr) -> Self {
        Self::Store(e.into())
    }
}
