//! sea-orm entities for identity's tables.

pub mod account;
pub mod account_role;
pub mod account_secret;
pub mod account_token;
pub mod account_totp;
pub mod account_totp_pending;
pub mod api_token;
pub mod data_key;
pub mod federated_identity;
pub mod induction_record;
pub mod membership;
pub mod organisation;
pub mod recovery_code;
pub mod tenant_key;
