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
use super::validators;
use super::wording::cleaned;
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

/// Builds one feed document from a page of events and the links around it.
type Render = fn(&Listing, &Links, &FeedLinks) -> ApiResult<Vec<u8>>;

/// What every feed does: check the query, answer 304 at once when nothing changed since the
/// client's copy (`validators`), else read the page, write the document and send it with its
/// validators, caching for CDNs, and `Link` and `X-Total-Count` headers that say where the rest
/// of the list is.
async fn feed(
    state: &AppState,
    request: &HttpRequest,
    Queries(filter, feed): Queries<EventFilterQuery, FeedQuery>,
    default_sort: EventSort,
    content_type: &str,
    render: Render,
) -> ApiResult<HttpResponse> {
    let geo = state.geo.clone();
    let list = feed.into_request(&filter, &geo, default_sort)?;
    let links = Links::of(request, &state.settings);
    let validators = validators::read(state, &links).await?;
    if let Some(unchanged) = validators.unchanged_answer(request, FEED_MAX_AGE, content_type) {
        return Ok(unchanged);
    }
    let sort = list.sort;
    let listing = db::run(&state.pool, move |conn| repo::load(conn, &geo, &list)).await?;
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
    let body = render(&listing, &links, &feed_links)?;
    let mut response = validators.answer(request, body, listing.last_modified, FEED_MAX_AGE, content_type);
    let mut link = format!(
        "<{}>; rel=\"self\", <{}>; rel=\"related\"; type=\"application/json\"",
        feed_links.this, feed_links.api
    );
    if let Some(next) = &feed_links.next {
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

fn render_calendar(listing: &Listing, links: &Links, feed: &FeedLinks) -> ApiResult<Vec<u8>> {
    let head = CalendarHead {
        name: listing.title.clone(),
        description: syndication::counted(listing),
        source: feed.this.clone(),
        total: Some(listing.total),
        next: feed.next.clone(),
    };
    Ok(calendar(&listing.events, &head, links)?.into_bytes())
}

fn render_rss(listing: &Listing, links: &Links, feed: &FeedLinks) -> ApiResult<Vec<u8>> {
    Ok(syndication::rss(listing, links, feed)?.into_bytes())
}

fn render_atom(listing: &Listing, links: &Links, feed: &FeedLinks) -> ApiResult<Vec<u8>> {
    Ok(syndication::atom(listing, links, feed)?.into_bytes())
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
        (status = 200, description = "An iCalendar document", body = String, content_type = "text/calendar", headers(("x-total-count" = i64, description = "How many events matched, over all pages"), ("link" = String, description = "`self`, `next` (when more matched) and `related` (the same list in the API)"))),
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
    feed(&state, &request, query, EventSort::StartsAtDesc, ICS, render_calendar).await
}

/// An RSS 2.0 feed of the matching events, most recently changed first.
///
/// Takes every filter of `GET /events` (published events only); at most `limit` items (500),
/// with `atom:link` elements to itself, the next page and the API's list.
#[utoipa::path(
    tag = "feeds",
    params(EventFilterQuery, FeedQuery),
    responses(
        (status = 200, description = "An RSS 2.0 document", body = String, content_type = "application/rss+xml", headers(("x-total-count" = i64, description = "How many events matched, over all pages"), ("link" = String, description = "`self`, `next` (when more matched) and `related` (the same list in the API)"))),
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
    feed(&state, &request, query, EventSort::UpdatedAtDesc, RSS, render_rss).await
}

/// An Atom feed (RFC 4287) of the matching events, most recently changed first, with RFC 5005
/// `next` links.
#[utoipa::path(
    tag = "feeds",
    params(EventFilterQuery, FeedQuery),
    responses(
        (status = 200, description = "An Atom document", body = String, content_type = "application/atom+xml", headers(("x-total-count" = i64, description = "How many events matched, over all pages"), ("link" = String, description = "`self`, `next` (when more matched) and `related` (the same list in the API)"))),
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
    feed(&state, &request, query, EventSort::UpdatedAtDesc, ATOM, render_atom).await
}

/// A JSON Feed 1.1 of the matching events, most recently changed first, with `next_url`; each
/// item's `_mip` object carries its sessions, state and place.
#[utoipa::path(
    tag = "feeds",
    params(EventFilterQuery, FeedQuery),
    responses(
        (status = 200, description = "A JSON Feed 1.1 document", body = Object, content_type = "application/feed+json", headers(("x-total-count" = i64, description = "How many events matched, over all pages"), ("link" = String, description = "`self`, `next` (when more matched) and `related` (the same list in the API)"))),
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
    feed(&state, &request, query, EventSort::UpdatedAtDesc, JSON_FEED, syndication::json_feed).await
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
    let event = db::run(&state.pool, move |conn| {
        let row = crate::events::repo::find_visible(conn, &key, viewer)?;
        present_one(conn, &geo, row).map(cleaned)
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
