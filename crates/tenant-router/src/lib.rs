//! Tenant resolution for the platform.
//!
//! Owns the tenant identifier ([`TenantId`]), the per-tenant configuration model
//! ([`config::TenantConfig`]) with its strict loader ([`load`]), the running registry
//! ([`TenantRegistry`]) and the tower layer that turns a request's host into a tenant
//! ([`TenantLayer`], [`Tenant`]). Every other crate learns "which council is this?" from here.
//!
//! Never touches: the database, or any other crate of the platform (it is the bottom).

pub mod config;
mod host;
mod id;
mod layer;
pub mod load;
pub mod logo;
mod registry;

pub use config::TenantConfig;
pub use host::{HostError, MAX_HOST_LEN, normalise_host};
pub use id::{InvalidTenantId, TenantId};
pub use layer::{
    Resolution, Tenant, TenantLayer, TenantNotResolved, TenantService, X_FORWARDED_HOST, resolve,
    unknown_host,
};
pub use registry::{LiveRegistry, RegistryError, TenantContext, TenantRegistry, logo_content_type};
