//! End-to-end tests: the real server on a random port, on SQLite or (with `DATABASE_URL`)
//! PostgreSQL. One binary, modules by concern.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod accessibility;
mod after_course;
mod alerts;
mod api_tokens;
mod basket;
mod bookings;
mod breaches;
mod catalogue;
mod communications;
mod complaints;
mod config_errors;
mod console;
mod corrections;
mod crossing;
mod delegates;
mod desk_api;
mod identity;
mod invoices;
mod isolation;
mod journeys;
mod mail;
mod notices;
mod objection;
mod offboarding;
mod oidc;
mod onboarding;
mod openapi;
mod operator;
mod organisations;
mod privacy;
mod processing;
mod purchasers;
mod purchases;
mod replicas;
mod resources;
mod retention;
mod reviews;
mod rights;
mod routing;
mod search_parity;
mod second_factor;
mod security;
mod tenants;
