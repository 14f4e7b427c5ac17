#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "a test fails loudly on what it does not expect"
)]

//! The integration tests: one binary (it links once), a module per domain, one harness.
//! Every test gets its own database and talks to the real `App`.

mod common;

mod accounts;
mod auth;
mod demo;
mod discovery;
mod editions;
mod embeds;
mod events;
mod exports;
mod faults;
mod feeds;
mod foundation;
mod imports;
mod instances;
mod labs;
mod log_hygiene;
mod metrics;
mod organizers;
mod replica;
mod reports;
