//! Tenant-scoped persistence for providers, courses, sessions, services and resources.

use privacy_engine::PersonalColumn;

/// Columns holding personal data (none until the catalogue tables arrive).
pub const PERSONAL_DATA: &[PersonalColumn] = &[];

/// Columns holding no personal data (none until the tables arrive).
pub const OTHER_COLUMNS: &[&str] = &[];
