//! The privacy engine: makes the platform do what each tenant's privacy notice says.
//!
//! It sits below the domain crates and sees them only through narrow declarations: each crate
//! lists the columns that hold personal data and the inventory category each belongs to
//! ([`PersonalColumn`]); the server hands every crate's list to the engine. From the tenant's
//! inventory and those declarations the engine will render notices, run retention, answer
//! subject-access requests and erase (later issues fill those in).

pub mod api;
pub mod domain;
mod error;
pub mod store;

pub use domain::inventory::{Need, PersonalColumn, coverage_problems};
pub use error::PrivacyError;
