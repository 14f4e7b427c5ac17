//! The feed endpoints: a calendar to subscribe to, news feeds, and one event's calendar entry.
//! Each takes every filter of `GET /events` through the one event filter (published events
//! only, the same 400s), answers with validators (`ETag`, `Last-Modified`, 304) and may be
//! kept by shared caches for a few minutes.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, get, web};

use super::calendar::{CalendarHead, calendar};
use super::links::Links;
use super::model::{FeedQuery, Listing};
use super::repo;
use super::syndication::{self, FeedLinks};
use crate::auth::Caller;
use crate::db;
use crate::error::{ApiError, ApiResult, Problem};
use crate::events::filter::{EventFilterQuery, EventSort, Viewer};
use crate::events::present::present_one;
use crate::http::conditional::Conditional;
use crate::http::query::Queries;
use crate::state::AppState;

/// How long a CDN may serve a feed before asking again, in seconds.
pub const FEED_MAX_AGE: u32 = 300;

const PROBLEM: &str = "application/problem+json";
pub const ICS: &str = "text/calendar; charset=utf-8";
const RSS: &str = "application/rss+xml; charset=utf-8";
const ATOM: &str = "application/atom+xml; charset=utf-8";
const JSON_FEED: &str = "application/feed+json; charset=utf-8";

/// Loads a feed's page and the links around it.
async fn listing(
    state: &AppState,
    request: &HttpRequest,
    Queries(filter, feed): Queries<EventFilterQuery, FeedQuery>,
    default_sort: EventSort,
) -> ApiResult<(Listing, Links, FeedLinks)> {
    let geo = state.geo.clone();
    let list = feed.into_request(&filter, &geo, default_sort)?;
    let sort = list.sort;
    let listing = db::run(&state.pool, move |conn| repo::load(conn, &geo, &list)).await?;
    let links = Links::of(request, &state.settings);
    let next = listing.next_cursor.as_deref();
    let mut api_pairs = vec![("sort", sort.as_str()), ("limit", "100")];
    if let Some(cursor) = next {
        api_pairs.push(("cursor", cursor));
    }
    let feed_links = FeedLinks {
        this: links.this(),
        next: next.map(|cursor| links.this_with(&[("cursor", Some(cursor))])),
        api: links.filtered("/api/v1/events", &api_pairs),
    };
    Ok((listing, links, feed_links))
}

/// The answer: validators, caching for CDNs, and the `Link` and `X-Total-Count` headers that
/// say where the rest of the list is.
fn respond(
    request: &HttpRequest,
    listing: &Listing,
    feed: &FeedLinks,
    body: Vec<u8>,
    content_type: &str,
) -> ApiResult<HttpResponse> {
    let mut response = Conditional::ok().last_modified(listing.last_modified).shared_for(FEED_MAX_AGE).send(
        request,
        body,
        content_type,
    );
    let mut link = format!("<{}>; rel=\"self\", <{}>; rel=\"related\"; type=\"application/json\"", feed.this, feed.api);
    if let Some(next) = &feed.next {
        link.push_str(&format!(", <{next}>; rel=\"next\""));
    }
    let headers = response.headers_mut();
    headers.insert(header::LINK, HeaderValue::from_str(&link).map_err(ApiError::internal)?);
    headers.insert(
        header::HeaderName::from_static("x-total-count"),
        HeaderValue::from_str(&listing.total.to_string()).map_err(ApiError::internal)?,
    );
    Ok(response)
}

/// A calendar to subscribe to (RFC 5545): one `VEVENT` per session of each matching event.
///
/// Takes every filter of `GET /events` (published events only). Cancelled events stay, with
/// `STATUS:CANCELLED`, so that subscribers see the cancellation; withdrawn ones leave. Holds at
/// most `limit` events (500), latest-starting first unless `sort` says otherwise;
/// `X-MIP-TOTAL`, `X-Total-Count` and the `next` link say how many matched and where the rest is.
#[utoipa::path(
    tag = "feeds",
    params(EventFilterQuery, FeedQuery),
    responses(
        (status = 200, description = "An iCalendar document", body = String, content_type = "text/calendar"),
        (status = 304, description = "Not modified since the given ETag"),
        (status = 400, description = "A bad parameter, named", body = Problem, content_type = PROBLEM),
    )
)]
#[get("/feeds/events.ics")]
pub async fn calendar_feed(
    state: web::Data<AppState>,
    request: HttpRequest,
    query: Queries<EventFilterQuery, FeedQuery>,
) -> ApiResult<HttpResponse> {
    let (listing, links, feed) = listing(&state, &request, query, EventSort::StartsAtDesc).await?;
    let head = CalendarHead {
        name: listing.title.clone(),
        description: syndication::counted(&listing),
        source: feed.this.clone(),
        total: Some(listing.total),
        next: feed.next.clone(),
    };
    let body = calendar(&listing.events, &head, &links)?;
    respond(&request, &listing, &feed, body.into_bytes(), ICS)
}

/// An RSS 2.0 feed of the matching events, most recently changed first.
///
/// Takes every filter of `GET /events` (published events only); at most `limit` items (500),
/// with `atom:link` elements to itself, the next page and the API's list.
#[utoipa::path(
    tag = "feeds",
    params(EventFilterQuery, FeedQuery),
    responses(
        (status = 200, description = "An RSS 2.0 document", body = String, content_type = "application/rss+xml"),
        (status = 304, description = "Not modified since the given ETag"),
        (status = 400, description = "A bad parameter, named", body = Problem, content_type = PROBLEM),
    )
)]
#[get("/feeds/events.rss")]
pub async fn rss_feed(
    state: web::Data<AppState>,
    request: HttpRequest,
    query: Queries<EventFilterQuery, FeedQuery>,
) -> ApiResult<HttpResponse> {
    let (listing, links, feed) = listing(&state, &request, query, EventSort::UpdatedAtDesc).await?;
    let body = syndication::rss(&listing, &links, &feed)?;
    respond(&request, &listing, &feed, body.into_bytes(), RSS)
}

/// An Atom feed (RFC 4287) of the matching events, most recently changed first, with RFC 5005
/// `next` links.
#[utoipa::path(
    tag = "feeds",
    params(EventFilterQuery, FeedQuery),
    responses(
        (status = 200, description = "An Atom document", body = String, content_type = "application/atom+xml"),
        (status = 304, description = "Not modified since the given ETag"),
        (status = 400, description = "A bad parameter, named", body = Problem, content_type = PROBLEM),
    )
)]
#[get("/feeds/events.atom")]
pub async fn atom_feed(
    state: web::Data<AppState>,
    request: HttpRequest,
    query: Queries<EventFilterQuery, FeedQuery>,
) -> ApiResult<HttpResponse> {
    let (listing, links, feed) = listing(&state, &request, query, EventSort::UpdatedAtDesc).await?;
    let body = syndication::atom(&listing, &links, &feed)?;
    respond(&request, &listing, &feed, body.into_bytes(), ATOM)
}

/// A JSON Feed 1.1 of the matching events, most recently changed first, with `next_url`; each
/// item's `_mip` object carries its sessions, state and place.
#[utoipa::path(
    tag = "feeds",
    params(EventFilterQuery, FeedQuery),
    responses(
        (status = 200, description = "A JSON Feed 1.1 document", body = Object, content_type = "application/feed+json"),
        (status = 304, description = "Not modified since the given ETag"),
        (status = 400, description = "A bad parameter, named", body = Problem, content_type = PROBLEM),
    )
)]
#[get("/feeds/events.json")]
pub async fn json_feed(
    state: web::Data<AppState>,
    request: HttpRequest,
    query: Queries<EventFilterQuery, FeedQuery>,
) -> ApiResult<HttpResponse> {
    let (listing, links, feed) = listing(&state, &request, query, EventSort::UpdatedAtDesc).await?;
    let body = syndication::json_feed(&listing, &links, &feed)?;
    respond(&request, &listing, &feed, body, JSON_FEED)
}

/// One event as a calendar entry, for "add to my calendar": one `VEVENT` per session.
///
/// The same visibility as `GET /events/{id}`: published events for everyone, the others for
/// their organizer's members and admins.
#[utoipa::path(
    tag = "feeds",
    params(("id" = String, Path, description = "The event's id or slug")),
    responses(
        (status = 200, description = "An iCalendar document", body = String, content_type = "text/calendar"),
        (status = 304, description = "Not modified"),
        (status = 404, description = "No such event, or not published and not yours", body = Problem, content_type = PROBLEM),
    )
)]
#[get("/events/{id}.ics")]
pub async fn event_calendar(
    state: web::Data<AppState>,
    request: HttpRequest,
    caller: Caller,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let key = id.into_inner();
    let viewer = Viewer::of(&caller);
    let geo = state.geo.clone();
    let shown = key.clone();
    let event = db::run(&state.pool, move |conn| {
        let row = crate::events::repo::find_row(conn, &key)?;
        if !viewer.sees(row.publication(), row.organizer_id) {
            return Err(ApiError::NotFound(format!("event `{shown}`")));
        }
        present_one(conn, &geo, row)
    })
    .await?;
    let links = Links::of(&request, &state.settings);
    let head = CalendarHead {
        name: event.title.clone(),
        description: format!("Mois de l'innovation publique {}", event.edition),
        source: links.this(),
        total: None,
        next: None,
    };
    let body = calendar(std::slice::from_ref(&event), &head, &links)?;
    let mut response = Conditional::ok()
        .versioned_by_content(event.version)
        .last_modified(Some(event.updated_at))
        .shared_for(FEED_MAX_AGE)
        .send(&request, body.into_bytes(), ICS);
    let disposition = format!("attachment; filename=\"{}.ics\"", event.slug);
    response.headers_mut().insert(header::CONTENT_DISPOSITION, disposition.parse().map_err(ApiError::internal)?);
    Ok(response)
}
