//! Reports: the month in figures, as JSON, CSV and SVG charts.
//!
//! `figures` has PostgreSQL count the events the shared event filter matches (one statement
//! per report); `assemble` labels and compares the counts; `repo` builds each report; `table`
//! writes CSV and `chart` SVG; `routes` serves them.

pub mod assemble;
pub mod chart;
pub mod figures;
pub mod model;
pub mod repo;
pub mod routes;
pub mod table;

/// Suffixed addresses (`.csv`, `.svg`) come before the plain ones, which would otherwise take
/// `2021.csv` for a year.
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(routes::edition_series_csv)
        .service(routes::edition_series_svg)
        .service(routes::edition_series)
        .service(routes::edition_report_csv)
        .service(routes::breakdown_report_csv)
        .service(routes::breakdown_report_svg)
        .service(routes::breakdown_report)
        .service(routes::edition_report)
        .service(routes::labs_report_csv)
        .service(routes::labs_report_svg)
        .service(routes::labs_report)
        .service(routes::region_report_csv)
        .service(routes::region_report);
}
