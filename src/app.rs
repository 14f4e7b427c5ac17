//! Builds the actix `App`: middleware, the documented routes, the OpenAPI document, fallbacks.
//! `main.rs` and the tests use the same function, so what is tested is what runs.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::{Method, header};
use actix_web::middleware::{Compress, Condition, Next, from_fn};
use actix_web::{App, web};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::{AppExt, UtoipaApp, scope};
use utoipa_swagger_ui::SwaggerUi;

use crate::error::{FieldError, Problem};
use crate::events::filter::{EventSort, Facet};
use crate::http::json::BodyTimeout;
use crate::http::openapi::declare_conventions;
use crate::http::protocol::{self, RouteMethods, SecurityHeaders};
use crate::http::{fallback, request_id};
use crate::reports::model::Delimiter;
use crate::reports::model::Include;
use crate::state::AppState;
use crate::{
    accounts, auth, editions, embeds, events, exports, feeds, geo, health, imports, labs, organizers, reports,
};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "mip",
        description = "The API of the Mois de l'innovation publique: editions, organizers, events, labs and reports. \
                       Errors are RFC 9457 problem+json; lists are cursor-paginated; writes honour If-Match.",
        license(name = "MIT")
    ),
    // Schemas that only query parameters name, which utoipa does not collect by itself.
    components(schemas(Problem, FieldError, EventSort, Facet, Include, Delimiter)),
    modifiers(&BearerAuth),
    tags(
        (name = "events", description = "Referencing, moderation, status on the day and history of events"),
        (name = "editions", description = "Yearly editions and their tracks"),
        (name = "labs", description = "Territorial innovation labs"),
        (name = "reports", description = "The month in figures: tables, CSV and SVG charts, under the filters of the events list"),
        (name = "feeds", description = "Calendars (iCalendar) and news feeds (RSS, Atom, JSON Feed) for partner sites, under the filters of the events list"),
        (name = "exports", description = "Every event you may see under the filters of the events list, as CSV, NDJSON or XLSX, streamed"),
        (name = "embeds", description = "An accessible HTML list of events for partner sites' iframes, and the one-line script that inserts it"),
        (name = "imports", description = "Events in bulk from spreadsheets and other agendas (CSV, JSON, NDJSON, XLSX), with a report per row"),
        (name = "auth", description = "Registration, login, sessions, the caller's account and API tokens"),
        (name = "organizers", description = "Who references events: profiles, verification, members"),
        (name = "geography", description = "INSEE regions and departments"),
        (name = "operations", description = "Health checks and metrics"),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::builder().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").build()),
        );
    }
}

/// The routes under `/api/v1`, each registered once: this is also what the spec is made of.
fn api_v1(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.configure(auth::configure)
        .configure(accounts::configure)
        .configure(organizers::configure)
        .configure(feeds::configure)
        .configure(events::configure)
        .configure(imports::configure)
        .configure(editions::configure)
        .configure(labs::configure)
        .configure(reports::configure)
        .configure(exports::configure)
        .configure(geo::configure);
}

fn documented<T>(app: UtoipaApp<T>) -> UtoipaApp<T>
where
    T: ServiceFactory<ServiceRequest, Config = (), Error = actix_web::Error, InitError = ()>,
{
    app.openapi(ApiDoc::openapi())
        .service(scope("/api/v1").configure(api_v1))
        .configure(embeds::configure)
        .service(health::live)
        .service(health::ready)
        .service(health::metrics)
}

/// The OpenAPI document, generated from the registered handlers (no database needed).
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut spec = documented(App::new().into_utoipa_app()).split_for_parts().1;
    complete(&mut spec);
    spec
}

/// What the handlers' annotations cannot say alone: the shared conventions, and the report
/// parameters their paths give.
fn complete(spec: &mut utoipa::openapi::OpenApi) {
    declare_conventions(spec);
    reports::routes::document(spec);
}

/// Public reads go to the replica when there is one: GET and HEAD requests without an
/// `Authorization` header (see `db::public_reads`).
async fn public_reads_on_replica(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody + 'static>, actix_web::Error> {
    let public_read = matches!(*request.method(), Method::GET | Method::HEAD)
        && !request.headers().contains_key(header::AUTHORIZATION);
    let replica = request.app_data::<web::Data<AppState>>().and_then(|state| state.replica.clone());
    match replica {
        Some(replica) if public_read => crate::db::public_reads(replica, next.call(request)).await,
        _ => next.call(request).await,
    }
}

pub fn build_app(
    state: web::Data<AppState>,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let cors = actix_cors::Cors::default()
        .allow_any_origin()
        .allow_any_method()
        .allow_any_header()
        .expose_headers(["etag", "last-modified", "link", "location", "retry-after", "x-request-id", "x-total-count"])
        .max_age(3600);
    let state_metrics = state.settings.metrics;
    let app = App::new()
        .app_data(web::Data::new(SecurityHeaders::new(state.settings.hsts_max_age_secs)))
        .app_data(web::Data::new(BodyTimeout(std::time::Duration::from_millis(state.settings.body_timeout_ms))))
        .app_data(state)
        .app_data(web::PathConfig::default().error_handler(fallback::path_error))
        .wrap(Compress::default())
        .wrap(cors)
        .wrap(from_fn(protocol::head_as_get))
        .wrap(from_fn(protocol::request_head_limits))
        .wrap(from_fn(protocol::security_headers))
        .wrap(from_fn(public_reads_on_replica))
        .wrap(from_fn(request_id::middleware))
        .wrap(Condition::new(state_metrics, from_fn(crate::metrics::middleware)))
        .into_utoipa_app();
    let (app, mut spec) = documented(app).split_for_parts();
    complete(&mut spec);
    app.app_data(web::Data::new(RouteMethods::from_spec(&spec)))
        .service(SwaggerUi::new("/docs/{_:.*}").url("/openapi.json", spec))
        .service(web::redirect("/docs", "/docs/"))
        .default_service(web::to(fallback::not_found_or_wrong_method))
}
