//! Tenant-scoped persistence for providers, courses, sessions, services and resources.

use privacy_engine::PersonalColumn;

/// Columns holding personal data (none until the catalogue tables arrive).
pub const PERSONAL_DATA: &[PersonalColumn] = &[];
