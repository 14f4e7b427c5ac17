//! Embeds for partner sites: an HTML list of events made for an `<iframe>`, and `widget.js`, the
//! one-line snippet that inserts and sizes it. Built on the feeds' reading of the one event list.

pub mod page;
pub mod routes;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(routes::embed_events).service(routes::widget_js).service(routes::frame_js).service(routes::embed_css);
}
