//! Feeds for partner sites: an iCalendar to subscribe to, RSS, Atom and JSON Feed, and one
//! event's calendar entry. Every feed takes the filters of `GET /events` through the one event
//! filter and shows what the public sees.
//!
//! `model` adds the feed's own parameters to the filter; `repo` reads the events through the
//! one list; `calendar` (with `timezones`) and `syndication` write the documents; `wording`
//! says dates and places for people; `links` makes absolute addresses; `validators` lets a
//! client's copy be found current without building the document.

pub mod calendar;
pub mod links;
pub mod model;
pub mod repo;
pub mod routes;
pub mod syndication;
pub mod timezones;
pub mod validators;
pub mod wording;

/// Registered before the events' routes: `/events/{id}.ics` must be tried before `/events/{id}`.
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(routes::calendar_feed)
        .service(routes::rss_feed)
        .service(routes::atom_feed)
        .service(routes::json_feed)
        .service(routes::event_calendar);
}
