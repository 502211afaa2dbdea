//! What people book and buy: basket, bookings, waiting lists, orders, attendance, CPD
//! records and certificates.

pub mod api;
pub mod domain;
mod error;
pub mod store;

pub use error::BookingError;
