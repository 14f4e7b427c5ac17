//! Exports: every event the caller may see under the filters of `GET /events`, as a CSV file,
//! NDJSON (one event form per line, what the import reads back) or an XLSX workbook.
//!
//! `model` adds the export's own parameters to the one event filter; `walk` reads the events a
//! chunk at a time by keyset (never OFFSET, never the whole list in memory, one short query per
//! chunk); `writers` turns each chunk into the file's bytes with the spreadsheet form of an event
//! (`events::sheet`); `routes` streams them.

pub mod model;
pub mod routes;
pub mod walk;
pub mod writers;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(routes::events_csv).service(routes::events_ndjson).service(routes::events_xlsx);
}
