//! Identity rules as plain types and pure functions: no axum, no sea-orm.

pub mod induction;
pub mod password_policy;
pub mod rights;
pub mod signup;
pub mod token;
