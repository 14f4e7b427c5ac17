//! Imports for scripts and spreadsheets: rows of events in JSON, NDJSON, CSV or XLSX, each
//! written through the one event write path, with a report per row and a record of every
//! import. `body` reads the upload, `rows` turns it into rows, `apply` upserts them, `repo`
//! keeps the reports, `template` is the CSV to start from.

pub mod apply;
pub mod body;
pub mod model;
pub mod repo;
pub mod routes;
pub mod rows;
pub mod template;
pub mod wording;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(routes::import_template)
        .service(routes::import_events)
        .service(routes::list_imports)
        .service(routes::get_import);
}
