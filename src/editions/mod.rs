//! Editions (one per year) and their tracks (parcours).

pub mod model;
pub mod repo;
pub mod routes;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(routes::list_editions)
        .service(routes::create_edition)
        .service(routes::get_edition)
        .service(routes::update_edition)
        .service(routes::delete_edition)
        .service(routes::list_tracks)
        .service(routes::create_track)
        .service(routes::get_track)
        .service(routes::update_track)
        .service(routes::delete_track);
}
