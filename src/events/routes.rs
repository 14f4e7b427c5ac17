use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use serde::Deserialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::filter::{EventFilterQuery, EventPageQuery, Viewer, Within};
use super::history::{self, Actor};
use super::model::{EventForm, EventOut, EventRow, HistoryOut, TransitionForm};
use super::present::present_one;
use super::repo;
use super::search::{self, EventPage};
use super::workflow::{self, Transition};
use crate::auth::{Authenticated, Caller, Scope};
use crate::db;
use crate::error::{ApiError, ApiResult, Problem};
use crate::http::conditional::{Conditional, if_match};
use crate::http::json::{OptionalJson, ValidJson};
use crate::http::pagination::{PageParams, page};
use crate::http::query::{Queries, Query};
use crate::state::AppState;

crate::page_schema! {
    /// A page of an event's history, oldest first.
    HistoryPage of HistoryOut
}

/// Any part of an event form, as a JSON merge patch (RFC 7396).
#[derive(Debug, Deserialize)]
pub struct EventPatch(pub Map<String, Value>);

/// Documented as the event form with every field optional: what a merge patch may carry
/// (`null` clears a field), so that typed clients can send any field of it.
impl utoipa::PartialSchema for EventPatch {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::RefOr;
        use utoipa::openapi::schema::Schema;
        let mut schema = <EventForm as utoipa::PartialSchema>::schema();
        if let RefOr::T(Schema::Object(form)) = &mut schema {
            form.required.clear();
            form.description = Some(
                "Any part of an event form, as a JSON merge patch (RFC 7396): absent fields stay, `null` clears \
                 a field, arrays are replaced whole."
                    .into(),
            );
        }
        schema
    }
}

impl ToSchema for EventPatch {
    fn schemas(schemas: &mut Vec<(String, utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>)>) {
        <EventForm as ToSchema>::schemas(schemas);
    }
}

impl validator::Validate for EventPatch {
    fn validate(&self) -> Result<(), validator::ValidationErrors> {
        Ok(()) // the merged form is validated as a whole
    }
}

/// The writer of an event: authenticated, with `events:write` when it uses an API token.
fn writer(caller: &Caller) -> ApiResult<Actor> {
    let principal = caller.authenticated()?;
    principal.require_scope(Scope::EventsWrite)?;
    Ok(principal.clone())
}

async fn load_visible(state: &AppState, caller: &Caller, key: String) -> ApiResult<EventRow> {
    let viewer = Viewer::of(caller);
    db::run(&state.pool, move |conn| repo::find_visible(conn, &key, viewer)).await
}

/// The event as answered after a read or a write: ETag from the version (for `If-Match`) and
/// from the content (names of the organizer, labs and track are part of it).
fn event_response(request: &HttpRequest, event: EventOut, answer: Conditional) -> ApiResult<HttpResponse> {
    Ok(answer.versioned_by_content(event.version).last_modified(Some(event.updated_at)).json(request, &event))
}

const PROBLEM: &str = "application/problem+json";

/// Reference a new event, as a draft.
///
/// Members write for their own organizer (and may omit `organizer`); admins name it.
/// Drafts may still lack their venue or link; submitting checks everything.
#[utoipa::path(
    tag = "events",
    request_body = EventForm,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created as a draft", body = EventOut),
        (status = 400, description = "Malformed body", body = Problem, content_type = PROBLEM),
        (status = 401, description = "No or bad token", body = Problem, content_type = PROBLEM),
        (status = 403, description = "Another organizer's, or a token without `events:write`", body = Problem, content_type = PROBLEM),
        (status = 409, description = "`external_id` already used by this organizer", body = Problem, content_type = PROBLEM),
        (status = 422, description = "A rule is broken (each field named)", body = Problem, content_type = PROBLEM),
    )
)]
#[post("/events")]
pub async fn create_event(
    state: web::Data<AppState>,
    request: HttpRequest,
    caller: Authenticated,
    form: ValidJson<EventForm>,
) -> ApiResult<HttpResponse> {
    let caller = caller.caller();
    let actor = writer(&caller)?;
    let geo = state.geo.clone();
    // The answer is made before the commit: if the database goes away in between, nothing
    // was written and the 503 says so truthfully (a client may retry without a duplicate).
    let event = db::transaction(&state.pool, move |conn| {
        let row = repo::create(conn, &geo, &actor, &form.0)?;
        present_one(conn, &geo, row)
    })
    .await?;
    let location = format!("/api/v1/events/{}", event.id);
    let mut response = event_response(&request, event, Conditional::created())?;
    response.headers_mut().insert(actix_web::http::header::LOCATION, location.parse().map_err(ApiError::internal)?);
    Ok(response)
}

/// One event, by id or slug.
#[utoipa::path(
    tag = "events",
    params(("id" = String, Path, description = "The event's id or slug")),
    responses(
        (status = 200, description = "The event", body = EventOut),
        (status = 304, description = "Not modified"),
        (status = 404, description = "No such event, or not published and not yours", body = Problem, content_type = PROBLEM),
    )
)]
#[get("/events/{id}")]
pub async fn get_event(
    state: web::Data<AppState>,
    request: HttpRequest,
    caller: Caller,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let key = id.into_inner();
    let geo = state.geo.clone();
    // One trip to the pool: the row, who may see it, and what it refers to.
    let viewer = Viewer::of(&caller);
    let event = db::run(&state.pool, move |conn| {
        let row = repo::find_visible(conn, &key, viewer)?;
        present_one(conn, &geo, row)
    })
    .await?;
    event_response(&request, event, Conditional::ok())
}

/// Change an event (its organizer's members and admins), at any time, with `If-Match`.
///
/// The body is a JSON merge patch of the event form: absent fields stay, `null` clears,
/// arrays (`sessions`, `tags`…) are replaced whole. The merged event is checked as a whole.
/// A change to a published event is recorded in its history and, when the edition says so,
/// sends it back to moderation.
#[utoipa::path(
    tag = "events",
    params(("id" = String, Path, description = "The event's id or slug")),
    request_body(content = EventPatch, description = "Any part of an `EventForm`", content_type = "application/merge-patch+json"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Updated (unchanged when the patch changes nothing)", body = EventOut),
        (status = 400, description = "Malformed body", body = Problem, content_type = PROBLEM),
        (status = 401, description = "No or bad token", body = Problem, content_type = PROBLEM),
        (status = 403, description = "Not yours, or a token without `events:write`", body = Problem, content_type = PROBLEM),
        (status = 404, description = "No such event", body = Problem, content_type = PROBLEM),
        (status = 409, description = "A cancelled event's status, or `external_id` taken", body = Problem, content_type = PROBLEM),
        (status = 412, description = "Stale `If-Match`: reload and apply the change again", body = Problem, content_type = PROBLEM),
        (status = 422, description = "A rule is broken (each field named)", body = Problem, content_type = PROBLEM),
    )
)]
#[patch("/events/{id}")]
pub async fn update_event(
    state: web::Data<AppState>,
    request: HttpRequest,
    caller: Authenticated,
    id: web::Path<String>,
    patch: ValidJson<EventPatch>,
) -> ApiResult<HttpResponse> {
    let caller = caller.caller();
    let actor = writer(&caller)?;
    let row = load_visible(&state, &caller, id.into_inner()).await?;
    if !actor.acts_for(row.organizer_id) {
        return Err(ApiError::Forbidden("only the organizer's members and admins change its events".into()));
    }
    let if_match = if_match(&request)?;
    let geo = state.geo.clone();
    // The answer is made before the commit: if the database goes away in between, nothing
    // was written and the 503 says so truthfully (a client may retry without a duplicate).
    let event = db::transaction(&state.pool, move |conn| {
        let updated = repo::update(conn, &geo, &actor, row.id, &if_match, &patch.0.0)?;
        present_one(conn, &geo, updated)
    })
    .await?;
    event_response(&request, event, Conditional::ok())
}

/// Delete a draft (its organizer's members and admins). Other events are withdrawn or cancelled.
#[utoipa::path(
    tag = "events",
    params(("id" = String, Path, description = "The event's id or slug")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "No or bad token", body = Problem, content_type = PROBLEM),
        (status = 403, description = "Not yours", body = Problem, content_type = PROBLEM),
        (status = 404, description = "No such event", body = Problem, content_type = PROBLEM),
        (status = 409, description = "Not a draft (the problem names its state)", body = Problem, content_type = PROBLEM),
        (status = 412, description = "Stale `If-Match`", body = Problem, content_type = PROBLEM),
    )
)]
#[delete("/events/{id}")]
pub async fn delete_event(
    state: web::Data<AppState>,
    request: HttpRequest,
    caller: Caller,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let actor = writer(&caller)?;
    let row = load_visible(&state, &caller, id.into_inner()).await?;
    if !actor.acts_for(row.organizer_id) {
        return Err(ApiError::Forbidden("only the organizer's members and admins delete its drafts".into()));
    }
    let if_match = if_match(&request)?;
    db::transaction(&state.pool, move |conn| repo::delete_draft(conn, row.id, &if_match)).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn transition(
    state: &AppState,
    request: &HttpRequest,
    caller: &Caller,
    key: String,
    transition: Transition,
) -> ApiResult<HttpResponse> {
    let actor = writer(caller)?;
    let row = load_visible(state, caller, key).await?;
    let if_match = if_match(request)?.or_any();
    let (geo, now) = (state.geo.clone(), state.clock.now());
    // The answer is made before the commit: if the database goes away in between, nothing
    // was written and the 503 says so truthfully (a client may retry without a duplicate).
    let event = db::transaction(&state.pool, move |conn| {
        let updated = workflow::apply(conn, &geo, &actor, row.id, &if_match, transition, now)?;
        present_one(conn, &geo, updated)
    })
    .await?;
    event_response(request, event, Conditional::ok())
}

/// Submit an event to moderation (from `draft`, `rejected` or `withdrawn`).
///
/// The event must be complete, and the edition's referencing window open; admins in a login
/// session may send `{"override_referencing_window": true}`, which the history records (anyone
/// else sending it gets a 403).
#[utoipa::path(
    tag = "events",
    params(("id" = String, Path, description = "The event's id or slug")),
    request_body(content = TransitionForm, description = "Optional: no body, `null` or a form"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Submitted", body = EventOut),
        (status = 401, description = "No or bad token", body = Problem, content_type = PROBLEM),
        (status = 403, description = "Not yours, or an override without an admin's login session", body = Problem, content_type = PROBLEM),
        (status = 404, description = "No such event", body = Problem, content_type = PROBLEM),
        (status = 409, description = "Wrong state (named), or referencing closed", body = Problem, content_type = PROBLEM),
        (status = 412, description = "Stale `If-Match`", body = Problem, content_type = PROBLEM),
        (status = 422, description = "The event is incomplete (each field named)", body = Problem, content_type = PROBLEM),
    )
)]
#[post("/events/{id}/submit")]
pub async fn submit_event(
    state: web::Data<AppState>,
    request: HttpRequest,
    caller: Authenticated,
    id: web::Path<String>,
    form: OptionalJson<TransitionForm>,
) -> ApiResult<HttpResponse> {
    let caller = caller.caller();
    let step = Transition::Submit { override_referencing_window: form.0.override_referencing_window };
    transition(&state, &request, &caller, id.into_inner(), step).await
}

/// Publish a submitted event (admins).
#[utoipa::path(
    tag = "events",
    params(("id" = String, Path, description = "The event's id or slug")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Published", body = EventOut),
        (status = 401, description = "No or bad token", body = Problem, content_type = PROBLEM),
        (status = 403, description = "Not an admin in a login session (API tokens do not moderate)", body = Problem, content_type = PROBLEM),
        (status = 404, description = "No such event", body = Problem, content_type = PROBLEM),
        (status = 409, description = "Not `submitted` (the problem names its state)", body = Problem, content_type = PROBLEM),
        (status = 412, description = "Stale `If-Match`", body = Problem, content_type = PROBLEM),
    )
)]
#[post("/events/{id}/publish")]
pub async fn publish_event(
    state: web::Data<AppState>,
    request: HttpRequest,
    caller: Caller,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    transition(&state, &request, &caller, id.into_inner(), Transition::Publish).await
}

/// Reject a submitted event, with a reason the organizer reads (admins).
#[utoipa::path(
    tag = "events",
    params(("id" = String, Path, description = "The event's id or slug")),
    request_body = TransitionForm,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Rejected", body = EventOut),
        (status = 401, description = "No or bad token", body = Problem, content_type = PROBLEM),
        (status = 403, description = "Not an admin in a login session (API tokens do not moderate)", body = Problem, content_type = PROBLEM),
        (status = 404, description = "No such event", body = Problem, content_type = PROBLEM),
        (status = 409, description = "Not `submitted` (the problem names its state)", body = Problem, content_type = PROBLEM),
        (status = 422, description = "No reason given", body = Problem, content_type = PROBLEM),
    )
)]
#[post("/events/{id}/reject")]
pub async fn reject_event(
    state: web::Data<AppState>,
    request: HttpRequest,
    caller: Authenticated,
    id: web::Path<String>,
    form: OptionalJson<TransitionForm>,
) -> ApiResult<HttpResponse> {
    let caller = caller.caller();
    transition(&state, &request, &caller, id.into_inner(), Transition::Reject { reason: form.0.reason }).await
}

/// Withdraw a submitted or published event from the programme (its members and admins).
#[utoipa::path(
    tag = "events",
    params(("id" = String, Path, description = "The event's id or slug")),
    request_body(content = TransitionForm, description = "Optional: a reason"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Withdrawn", body = EventOut),
        (status = 401, description = "No or bad token", body = Problem, content_type = PROBLEM),
        (status = 403, description = "Not yours", body = Problem, content_type = PROBLEM),
        (status = 404, description = "No such event", body = Problem, content_type = PROBLEM),
        (status = 409, description = "Wrong state (named)", body = Problem, content_type = PROBLEM),
    )
)]
#[post("/events/{id}/withdraw")]
pub async fn withdraw_event(
    state: web::Data<AppState>,
    request: HttpRequest,
    caller: Authenticated,
    id: web::Path<String>,
    form: OptionalJson<TransitionForm>,
) -> ApiResult<HttpResponse> {
    let caller = caller.caller();
    transition(&state, &request, &caller, id.into_inner(), Transition::Withdraw { reason: form.0.reason }).await
}

/// Cancel a submitted or published event (its members and admins). It stays in the programme
/// with `status: cancelled`, so calendars that show it learn of the cancellation.
#[utoipa::path(
    tag = "events",
    params(("id" = String, Path, description = "The event's id or slug")),
    request_body(content = TransitionForm, description = "Optional: a reason, shown as `status_note`"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Cancelled", body = EventOut),
        (status = 401, description = "No or bad token", body = Problem, content_type = PROBLEM),
        (status = 403, description = "Not yours", body = Problem, content_type = PROBLEM),
        (status = 404, description = "No such event", body = Problem, content_type = PROBLEM),
        (status = 409, description = "Wrong state (named), or already cancelled", body = Problem, content_type = PROBLEM),
    )
)]
#[post("/events/{id}/cancel")]
pub async fn cancel_event(
    state: web::Data<AppState>,
    request: HttpRequest,
    caller: Authenticated,
    id: web::Path<String>,
    form: OptionalJson<TransitionForm>,
) -> ApiResult<HttpResponse> {
    let caller = caller.caller();
    transition(&state, &request, &caller, id.into_inner(), Transition::Cancel { reason: form.0.reason }).await
}

/// Who changed what and when (the organizer's members and admins), oldest first.
#[utoipa::path(
    tag = "events",
    params(("id" = String, Path, description = "The event's id or slug"), PageParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of history entries", body = HistoryPage),
        (status = 400, description = "Bad `limit` or `cursor`", body = Problem, content_type = PROBLEM),
        (status = 401, description = "No or bad token", body = Problem, content_type = PROBLEM),
        (status = 403, description = "Not yours", body = Problem, content_type = PROBLEM),
        (status = 404, description = "No such event", body = Problem, content_type = PROBLEM),
    )
)]
#[get("/events/{id}/history")]
pub async fn event_history(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    params: Query<PageParams>,
) -> ApiResult<HttpResponse> {
    let principal = caller.authenticated()?;
    let limit = params.limit()?;
    let after = params.cursor::<i64>("history")?;
    let row = load_visible(&state, &caller, id.into_inner()).await?;
    if !principal.acts_for(row.organizer_id) {
        return Err(ApiError::Forbidden("only the organizer's members and admins read its history".into()));
    }
    let viewer_is_admin = principal.is_admin();
    let (entries, total) =
        db::run(&state.pool, move |conn| history::list(conn, row.id, after, limit, viewer_is_admin)).await?;
    let body = page(entries, limit, total, "history", |(id, _)| *id).map(|(_, entry)| entry);
    Ok(HttpResponse::Ok().insert_header(("cache-control", "private, no-cache")).json(body))
}

/// Runs an event list under the caller's view: the page, its total and facets.
async fn list(
    state: &AppState,
    request: &HttpRequest,
    caller: &Caller,
    Queries(filter, page): Queries<EventFilterQuery, EventPageQuery>,
    within: Option<Within>,
) -> ApiResult<HttpResponse> {
    let geo = state.geo.clone();
    let mut list = page.into_request(&filter, &geo)?;
    list.filter.within = within;
    let viewer = Viewer::of(caller);
    let page = db::run(&state.pool, move |conn| search::list(conn, &list, viewer, &geo)).await?;
    let last_modified = page.data.iter().map(|event| event.updated_at).max();
    Ok(Conditional::ok().last_modified(last_modified).json(request, &page))
}

/// The programme: events matching every filter given (several values of one filter mean OR),
/// a page at a time, with facet counts when asked.
///
/// Anonymous callers see published events; an organizer's members also see its other events,
/// and admins every event (narrow with `publication`). Pages never skip or repeat an event while
/// others are added or changed; `total` counts every page. A bad parameter is a 400 naming it.
#[utoipa::path(
    tag = "events",
    params(EventFilterQuery, EventPageQuery),
    responses(
        (status = 200, description = "A page of events", body = EventPage),
        (status = 304, description = "Not modified since the given ETag"),
        (status = 400, description = "A bad parameter, named", body = Problem, content_type = PROBLEM),
        (status = 401, description = "A bearer token that is not valid", body = Problem, content_type = PROBLEM),
    )
)]
#[get("/events")]
pub async fn list_events(
    state: web::Data<AppState>,
    request: HttpRequest,
    caller: Caller,
    query: Queries<EventFilterQuery, EventPageQuery>,
) -> ApiResult<HttpResponse> {
    list(&state, &request, &caller, query, None).await
}

/// An organizer's events, with every filter of `GET /events`: published ones for everyone;
/// its members (and admins) also see its drafts and events in moderation.
#[utoipa::path(
    tag = "events",
    params(("id" = String, Path, description = "The organizer's id or slug"), EventFilterQuery, EventPageQuery),
    responses(
        (status = 200, description = "A page of events", body = EventPage),
        (status = 304, description = "Not modified since the given ETag"),
        (status = 400, description = "A bad parameter, named", body = Problem, content_type = PROBLEM),
        (status = 401, description = "A bearer token that is not valid", body = Problem, content_type = PROBLEM),
        (status = 404, description = "No such organizer", body = Problem, content_type = PROBLEM),
    )
)]
#[get("/organizers/{id}/events")]
pub async fn organizer_events(
    state: web::Data<AppState>,
    request: HttpRequest,
    caller: Caller,
    id: web::Path<String>,
    query: Queries<EventFilterQuery, EventPageQuery>,
) -> ApiResult<HttpResponse> {
    let key = id.into_inner();
    let organizer = db::run(&state.pool, move |conn| crate::organizers::repo::find_row(conn, &key)).await?;
    let member = caller.principal().is_some_and(|p| p.acts_for(organizer.id));
    if !organizer.verified && !member {
        return Err(ApiError::NotFound(format!("organizer `{}`", organizer.slug)));
    }
    list(&state, &request, &caller, query, Some(Within::Organizer(organizer.id))).await
}

/// The events a lab runs, with every filter of `GET /events`.
#[utoipa::path(
    tag = "labs",
    params(("slug" = String, Path, description = "The lab's slug"), EventFilterQuery, EventPageQuery),
    responses(
        (status = 200, description = "A page of events", body = EventPage),
        (status = 304, description = "Not modified since the given ETag"),
        (status = 400, description = "A bad parameter, named", body = Problem, content_type = PROBLEM),
        (status = 401, description = "A bearer token that is not valid", body = Problem, content_type = PROBLEM),
        (status = 404, description = "No such lab", body = Problem, content_type = PROBLEM),
    )
)]
#[get("/labs/{slug}/events")]
pub async fn lab_events(
    state: web::Data<AppState>,
    request: HttpRequest,
    caller: Caller,
    slug: web::Path<String>,
    query: Queries<EventFilterQuery, EventPageQuery>,
) -> ApiResult<HttpResponse> {
    let slug = slug.into_inner();
    let lab = db::run(&state.pool, move |conn| crate::labs::repo::find_id(conn, &slug)).await?;
    list(&state, &request, &caller, query, Some(Within::Lab(lab))).await
}
