//! The portal server: composes the domain crates into one HTTP service and CLI.
//!
//! `main.rs` is a shim; everything is here so tests build the same application on a
//! listener they bound themselves.

pub mod app;
pub mod cli;
pub mod health;
pub mod settings;
pub mod telemetry;
pub mod web;

pub use app::{AppState, Application};
pub use settings::Settings;
