//! Tenant-scoped persistence for accounts, organisations and memberships.
//!
//! [`PERSONAL_DATA`] lists every column here that holds personal data; the privacy engine
//! checks each tenant's inventory covers it.

use privacy_engine::PersonalColumn;

/// Columns holding personal data (none until the account tables arrive).
pub const PERSONAL_DATA: &[PersonalColumn] = &[];
