//! Organizers: who references events. Accounts of role `organizer` are members of one.

pub mod members;
pub mod model;
pub mod repo;
pub mod routes;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(routes::list_organizers)
        .service(routes::get_organizer)
        .service(routes::update_organizer)
        .service(routes::verify_organizer)
        .service(routes::list_members)
        .service(routes::invite_member)
        .service(routes::remove_member);
}
