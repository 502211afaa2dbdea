//! Booking rules as plain types and pure functions: no axum, no sea-orm.
