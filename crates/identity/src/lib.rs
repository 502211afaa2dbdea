//! Who a person is, which organisations they belong to and what they may do there.
//!
//! Every account belongs to exactly one tenant: the same email at two councils is two
//! unrelated accounts. Sessions, cookies and tokens are bound to the tenant that issued them.
//!
//! Owns: accounts and their status, passwords, sessions and throttles, second factors,
//! organisations and rights, envelope encryption, OpenID Connect; and the privacy engine's
//! [`privacy_engine::Accounts`] view of them ([`privacy`]). Never touches: catalogue or
//! bookings tables, HTTP.

pub mod api;
mod claim;
mod corrections;
pub mod crypto;
mod departures;
pub mod domain;
pub mod duties;
mod error;
mod keyring;
mod kv;
mod members;
pub mod oidc;
pub mod organisations;
pub mod passwords;
pub mod preferences;
mod present;
pub mod privacy;
mod recovery;
pub mod second_factor;
mod service;
pub mod sessions;
pub mod store;
pub mod tokens;

pub use error::IdentityError;
pub use keyring::Rewrap;
pub use service::{Identity, SignedIn};
