//! What a tenant offers: providers, courses and events with their sessions, traded services
//! and SLAs. Providers come from the tenant's configuration (with the data they receive);
//! everything else lives in tenant-scoped tables.
//!
//! Never touches: accounts beyond their ids, bookings, HTTP.

pub mod demo;
pub mod domain;
mod error;
pub mod published;
mod resources;
mod service;
mod services;
mod sessions;
pub mod store;

pub use error::CatalogueError;
pub use service::{Catalogue, Managed, SessionsCancelled};
pub use store::rows::{CourseDetail, ServiceDetail};
