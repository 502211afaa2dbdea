//! Catalogue errors. No HTTP here: the server maps these once.

/// What can go wrong in the catalogue.
#[derive(Debug, thiserror::Error)]
pub enum CatalogueError {
    /// The storage layer failed.
    #[error(transparent)]
    Store(#[from] storage::StorageError),
    /// No such course, session, service or resource in this tenant.
    #[error("no such item in this catalogue")]
    NotFound,
}
