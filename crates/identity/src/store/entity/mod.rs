//! sea-orm entities for identity's tables.

pub mod account;
pub mod account_token;
