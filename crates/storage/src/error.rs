//! Storage errors. No HTTP here: the server maps these once.

use tenant_router::TenantId;

/// What can go wrong in the storage layer.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The database refused or failed a statement.
    #[error("database error: {0}")]
    Db(#[from] sea_orm::DbErr),
    /// A stored tenant row does not parse as a tenant configuration.
    #[error("stored configuration of tenant `{tenant}` is unreadable: {message}")]
    CorruptTenant {
        /// The tenant.
        tenant: String,
        /// What is wrong.
        message: String,
    },
    /// The stored tenants cannot form a registry (e.g. two claim one host).
    #[error(transparent)]
    Registry(#[from] tenant_router::RegistryError),
    /// The object store failed or refused a key.
    #[error("object storage: {0}")]
    Objects(String),
    /// The schema is not as the code expects (a cycle of foreign keys among tenant tables).
    #[error("database schema: {0}")]
    Schema(String),
    /// The URL names no backend we support.
    #[error("unsupported database URL `{0}`: use sqlite://PATH or postgres://…")]
    UnsupportedUrl(String),
    /// Another tenant already answers to these hostnames (the database holds each for
    /// one tenant); the caller's transaction is to be rolled back.
    #[error("another council already answers to {0}")]
    HostnameTaken(String),
    /// The audit chain of a tenant does not verify.
    #[error("the audit log of tenant `{0}` is broken at event {1}")]
    AuditChainBroken(TenantId, i64),
}

impl StorageError {
    /// Whether the database refused a row because a unique key already holds it.
    #[must_use]
    pub fn is_unique_violation(&self) -> bool {
        matches!(
            self,
            Self::Db(e) if matches!(e.sql_err(), Some(sea_orm::SqlErr::UniqueConstraintViolation(_)))
        )
    }
}

/// An object store's failure (S3 or the local folder), with its message.
pub(crate) fn s3_error(e: impl std::fmt::Display) -> StorageError {
    StorageError::Objects(e.to_string())
}
