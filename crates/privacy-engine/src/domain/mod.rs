//! Privacy rules as plain data and pure functions: no axum, no sea-orm.

pub mod article9;
pub mod breach;
pub mod calendar;
pub mod executor;
pub mod inventory;
pub mod lawful;
pub mod notice;
mod notice_words;
pub mod record;
pub mod reference;
pub mod retention;
pub mod rights;
