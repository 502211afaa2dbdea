//! The portal server: composes the domain crates into one HTTP service, background jobs and
//! a CLI, and wires the privacy engine's traits to the crates that implement them.
//!
//! `main.rs` is a shim; everything is here so tests build the same application on a
//! listener they bound themselves. Handlers and CLI commands call the services; the use
//! cases, rules and storage live in the domain crates.

pub mod accessibility;
pub mod app;
pub mod cli;
pub mod http;
pub mod jobs;
pub mod mail;
pub mod notices;
pub mod offboarding;
pub mod onboarding;
pub mod settings;
pub mod telemetry;

pub use app::{AppState, Application};
pub use settings::Settings;

/// Every column holding personal data, from every domain crate, for the privacy engine.
pub fn personal_data() -> impl Iterator<Item = &'static privacy_engine::PersonalColumn> {
    privacy_engine::store::PERSONAL_DATA
        .iter()
        .chain(identity::store::PERSONAL_DATA)
        .chain(catalogue::store::PERSONAL_DATA)
        .chain(bookings::store::PERSONAL_DATA)
}

/// Every column known to hold no personal data, from every crate (`table.column`).
pub fn other_columns() -> impl Iterator<Item = &'static str> {
    privacy_engine::store::OTHER_COLUMNS
        .iter()
        .chain(identity::store::OTHER_COLUMNS)
        .chain(catalogue::store::OTHER_COLUMNS)
        .chain(bookings::store::OTHER_COLUMNS)
        .copied()
}

/// Every table holding rows about one person, from every crate, for erasure (the
/// `account` row itself goes last).
pub fn subject_tables()
-> impl Iterator<Item = &'static privacy_engine::store::retention::SubjectTable> {
    privacy_engine::store::retention::SUBJECT_TABLES
        .iter()
        .chain(identity::store::SUBJECT_TABLES)
        .chain(bookings::store::SUBJECT_TABLES)
}
