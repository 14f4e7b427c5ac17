//! Identity: passwords, JWTs, login sessions, API tokens and the `Caller` extractor every
//! handler uses. Opening accounts is `accounts`' (above organizers).

pub mod api_tokens;
pub mod caller;
pub mod model;
pub mod password;
pub mod repo;
pub mod routes;
pub mod sessions;
pub mod throttle;
pub mod tokens;

pub use caller::{Admin, Authenticated, Caller, Principal, Then};
pub use model::{Role, Scope};

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(routes::login)
        .service(routes::refresh)
        .service(routes::logout)
        .service(routes::list_tokens)
        .service(routes::create_token)
        .service(routes::revoke_token);
}
