//! The database handle shared by every domain crate.
//!
//! SQLite file by default, PostgreSQL when the URL says so; one set of migrations for both.
//! Request-path code reaches tenant data only through [`Db::tenant_tx`], which on PostgreSQL
//! switches to the restricted role and sets the transaction-local tenant, so row-level
//! security confines every statement to one tenant even when a query forgets its filter.
//!
//! Owns: connections and transactions, the tenant rows, the audit log, the outbox, leases
//! and object storage. Never touches: a domain crate's tables or rules.

pub mod alerts;
pub mod analytics;
pub mod audit;
mod clock;
mod db;
pub mod entity;
mod error;
pub mod lease;
pub mod markdown;
pub mod objects;
pub mod outbox;
pub mod spreadsheet;
pub mod sql;
pub mod tenant_data;
pub mod tenants;
mod upload;
pub mod writes;

pub use clock::Clock;
pub use db::{Backend, Db, DbOptions, LOCK_WAIT, PlatformTx, TenantStatements, TenantTx};
pub use error::StorageError;
pub use migration::{APP_ROLE, TENANT_SETTING};
pub use objects::{Objects, S3Settings};
pub use upload::PART_BYTES;
pub use writes::Writes;
