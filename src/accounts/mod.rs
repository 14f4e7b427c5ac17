//! Accounts, above organizers: registration (an account and its organizer), invitations
//! accepted, and the caller's own account. Identity itself (tokens, sessions) is `auth`'s.

pub mod model;
pub mod routes;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(routes::register).service(routes::accept_invitation).service(routes::me);
}
