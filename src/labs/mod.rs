//! Territorial innovation labs and their yearly figures.

pub mod model;
pub mod repo;
pub mod routes;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(routes::list_labs)
        .service(routes::create_lab)
        .service(routes::get_lab)
        .service(routes::update_lab)
        .service(routes::delete_lab)
        .service(routes::put_figures)
        .service(routes::delete_figures);
}
