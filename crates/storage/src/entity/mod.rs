//! sea-orm entities for the platform tables. Bare `Entity::find()` belongs here and in
//! scoped finders only; other code goes through [`crate::Db::tenant_tx`].

pub mod audit_event;
pub mod audit_pending;
pub mod offboarded_tenant;
pub mod outbox_email;
pub mod tenant;
