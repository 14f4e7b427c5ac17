//! Events: referencing, moderation, the day's status, and history.
//!
//! `filter` is the one event filter every list and module uses; `search` runs lists (pages,
//! totals, facets); `present` shapes rows for the API; `form` normalizes what organizers write;
//! `repo` writes; `workflow` moves events between publication states; `rules` checks a form.

pub mod filter;
pub mod form;
pub mod history;
pub mod model;
pub mod present;
pub mod repo;
pub mod routes;
pub mod rules;
pub mod search;
pub mod sheet;
pub mod workflow;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(routes::list_events)
        .service(routes::create_event)
        .service(routes::get_event)
        .service(routes::update_event)
        .service(routes::delete_event)
        .service(routes::submit_event)
        .service(routes::publish_event)
        .service(routes::reject_event)
        .service(routes::withdraw_event)
        .service(routes::cancel_event)
        .service(routes::event_history)
        .service(routes::organizer_events)
        .service(routes::lab_events);
}
