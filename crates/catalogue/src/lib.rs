//! What a tenant offers: providers, courses and events with their sessions, traded services
//! and SLAs, and downloadable resources.

pub mod api;
pub mod domain;
mod error;
pub mod store;

pub use error::CatalogueError;
