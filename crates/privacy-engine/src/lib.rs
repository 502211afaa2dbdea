//! The privacy engine: makes the platform do what each tenant's privacy notice says.
//!
//! Owns the [`Privacy`] service and its use cases: notices (working copy, draft edits,
//! publication with its announcement, acknowledgements), the retention sweep with holds and
//! disposal records, the consent ledger, and rights requests on the UK calendar
//! (the privacy officer's desk); with the data-inventory declarations every
//! crate makes of its columns ([`PersonalColumn`]) and tables ([`store::retention::SubjectTable`]).
//!
//! It sits below the domain crates and reaches them only through the traits in
//! [`accounts`] ([`Accounts`], implemented by identity; [`Records`], by bookings), which the
//! server wires at start-up. Never touches: another crate's table by name, an account's
//! status, HTTP.

pub mod accounts;
pub mod api;
pub mod breaches;
pub mod bundle;
pub mod communications;
pub mod complaints;
pub mod domain;
pub mod effects;
pub mod erasure;
mod error;
pub mod kept;
pub mod notices;
pub mod reviews;
pub mod rights;
mod service;
pub mod store;
pub mod sweep;

pub use accounts::{Accounts, Records};
pub use domain::inventory::{Need, PersonalColumn, coverage_problems};
pub use effects::Effect;
pub use error::PrivacyError;
pub use rights::{Action, NewRequest, RequestSummary};
pub use service::{AuditCheck, HoldRequest, PAGE, Privacy};
