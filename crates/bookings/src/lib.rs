//! What people book and buy: checkout into orders and bookings, places that are never
//! overbooked, waiting lists, cancellation and the transaction log, attendance, CPD records,
//! certificates and communications; and the privacy engine's [`privacy_engine::Records`]
//! view of kept records (`retention`).
//!
//! Never touches: HTTP; account status (identity's) or notices (the privacy engine's).

pub mod after_course;
pub mod approvals;
pub mod basket;
pub mod cancellation;
pub mod certificate;
mod checkout;
mod common;
mod confirmation;
pub mod delegates;
pub mod domain;
mod error;
pub mod invoices;
mod offers;
mod order;
pub mod organisation;
pub mod pdf_font;
mod pdf_tags;
pub mod purchasers;
pub mod purchases;
mod reminders;
pub mod retention;
mod service;
pub mod store;
mod take;

pub use common::{Bookings, number_taken};
pub use error::BookingError;
pub use offers::{Accepted, OFFER_HOURS};
pub use service::MyBooking;
