//! sea-orm entities for the catalogue tables.

pub mod course;
pub mod course_session;
pub mod resource;
pub mod service_price_band;
pub mod traded_service;
