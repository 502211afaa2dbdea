//! Tenant-scoped persistence for bookings, orders, attendance and CPD records.

use privacy_engine::PersonalColumn;

/// Columns holding personal data (none until the booking tables arrive).
pub const PERSONAL_DATA: &[PersonalColumn] = &[];

/// Columns holding no personal data (none until the tables arrive).
pub const OTHER_COLUMNS: &[&str] = &[];
