//! INSEE regions and departments: the reference every module checks places against.

pub mod model;
pub mod repo;
pub mod routes;

pub use model::Place;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(routes::list_regions);
}
