//! The portal server: composes the domain crates into one HTTP service, background jobs and
//! a CLI, and wires the privacy engine's traits to the crates that implement them.
//!
//! `main.rs` is a shim; everything is here so tests build the same application on a
//! listener they bound themselves. Handlers and CLI commands call the services; the use
//! cases, rules and storage live in the domain crates.

pub mod after_course_web;
pub mod app;
pub mod approvals_web;
pub mod auth;
pub mod basket_web;
pub mod bookings_web;
pub mod catalogue_web;
pub mod cli;
pub mod cookies;
pub mod delegates_web;
pub mod health;
pub mod induction;
pub mod mail;
pub mod notice_admin;
pub mod notices;
pub mod oidc;
pub mod orgs;
pub mod privacy_web;
pub mod profile;
pub mod purchases_web;
pub mod retention_cli;
pub mod second_factor;
pub mod settings;
pub mod telemetry;
pub mod visitor;
pub mod web;

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
