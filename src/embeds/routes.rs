//! The embed for partner sites: an HTML list of events for an `<iframe>`, and the script that
//! inserts and sizes that iframe. The page loads nothing but its own stylesheet and script,
//! under a strict `Content-Security-Policy` that lets any site frame it (`frame-ancestors *`,
//! on purpose: embedding is what it is for).

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, get, web};
use askama::Template;
use serde::Deserialize;
use utoipa::IntoParams;

use super::page::{EmbedPage, Words, item};
use crate::db;
use crate::error::{ApiError, ApiResult, Problem};
use crate::events::filter::{EventFilterQuery, EventPageQuery, EventSort};
use crate::feeds::links::Links;
use crate::feeds::repo;
use crate::feeds::validators;
use crate::feeds::wording::Language;
use crate::http::conditional::Conditional;
use crate::http::pagination::bounded_limit;
use crate::http::query::Queries;
use crate::state::AppState;

const PROBLEM: &str = "application/problem+json";
const HTML: &str = "text/html; charset=utf-8";
/// Events per page of the embed, by default and at most.
pub const EMBED_PAGE: i64 = 10;
pub const MAX_EMBED_PAGE: i64 = 50;
/// How long a CDN may keep an embed page or its assets, in seconds.
const EMBED_MAX_AGE: u32 = 300;
const ASSET_MAX_AGE: u32 = 3600;

/// Its own stylesheet and script only; no inline script or style; any page may frame it.
const EMBED_POLICY: &str = "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; \
                            base-uri 'none'; form-action 'none'; frame-ancestors *";

/// What the embed adds to the filters of `GET /events`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EmbedQuery {
    /// `starts_at` (the default), `-starts_at`, `updated_at`, `-updated_at`, `relevance` with `q`.
    #[param(value_type = Option<EventSort>)]
    pub sort: Option<String>,
    /// Events per page, 1 to 50 (default 10).
    #[param(minimum = 1, maximum = 50, default = 10)]
    pub limit: Option<i64>,
    /// The next page (the page links carry it).
    pub cursor: Option<String>,
    /// `true`: titles, dates and places only.
    pub compact: Option<bool>,
    /// `light`, `dark`, or `auto` (the reader's setting, the default).
    pub theme: Option<String>,
    /// `fr` (the default) or `en`.
    pub lang: Option<String>,
    /// The framing page's origin (`https://www.example.fr`), which `widget.js` passes so that
    /// the frame tells its height to that origin only.
    pub origin: Option<String>,
}

struct EmbedOptions {
    language: Language,
    theme: Option<&'static str>,
    compact: bool,
}

impl EmbedQuery {
    fn options(&self) -> ApiResult<EmbedOptions> {
        let language = match self.lang.as_deref().map(str::trim) {
            None | Some("fr") => Language::French,
            Some("en") => Language::English,
            Some(_) => return Err(ApiError::bad_param("lang", "must be `fr` or `en`")),
        };
        let theme = match self.theme.as_deref().map(str::trim) {
            None | Some("auto") => None,
            Some("light") => Some("light"),
            Some("dark") => Some("dark"),
            Some(_) => return Err(ApiError::bad_param("theme", "must be `light`, `dark` or `auto`")),
        };
        if let Some(origin) = &self.origin {
            // An origin is exactly what the URL parser serializes as one (no path, query or user).
            let is_origin = url::Url::parse(origin)
                .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.origin().ascii_serialization() == *origin);
            if !is_origin {
                return Err(ApiError::bad_param("origin", "must be an origin such as `https://www.example.fr`"));
            }
        }
        Ok(EmbedOptions { language, theme, compact: self.compact.unwrap_or(false) })
    }
}

fn count(total: i64, language: Language) -> String {
    match (language, total) {
        (Language::French, 0 | 1) => format!("{total} événement"),
        (Language::French, _) => format!("{total} événements"),
        (Language::English, 1) => "1 event".to_string(),
        (Language::English, _) => format!("{total} events"),
    }
}

/// The programme as an HTML list for an `<iframe>`: accessible (headings, a list, links that
/// say they open a new window, AA contrast), light or dark, French or English, a page at a time,
/// with schema.org `Event` data for each event.
///
/// Takes every filter of `GET /events` (published events only). Without `edition`, `from`,
/// `to` or `updated_since`, it shows the latest edition that has matching events.
#[utoipa::path(
    tag = "embeds",
    params(EventFilterQuery, EmbedQuery),
    responses(
        (status = 200, description = "An HTML page", body = String, content_type = "text/html"),
        (status = 304, description = "Not modified since the given ETag"),
        (status = 400, description = "A bad parameter, named", body = Problem, content_type = PROBLEM),
    )
)]
#[get("/embed/events")]
pub async fn embed_events(
    state: web::Data<AppState>,
    request: HttpRequest,
    query: Result<Queries<EventFilterQuery, EmbedQuery>, ApiError>,
) -> HttpResponse {
    let answer = match query {
        Ok(query) => embed_page(&state, &request, query).await,
        Err(error) => Err(error),
    };
    let mut response = answer.unwrap_or_else(|error| actix_web::ResponseError::error_response(&error));
    // A refusal shows in the partner's frame too (which would otherwise say "refused to
    // connect"), so that whoever wrote `data-theme="Dark"` reads why.
    let policy = if response.status().is_success() || response.status().is_redirection() {
        EMBED_POLICY
    } else {
        "default-src 'none'; frame-ancestors *"
    };
    response.headers_mut().insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(policy));
    response
}

async fn embed_page(
    state: &AppState,
    request: &HttpRequest,
    Queries(filter_query, embed): Queries<EventFilterQuery, EmbedQuery>,
) -> ApiResult<HttpResponse> {
    let options = embed.options()?;
    let limit = bounded_limit(embed.limit, EMBED_PAGE, MAX_EMBED_PAGE)?;
    let page = EventPageQuery {
        sort: Some(embed.sort.clone().unwrap_or_else(|| EventSort::StartsAt.as_str().to_string())),
        facets: Vec::new(),
        limit: None,
        cursor: embed.cursor.clone(),
    };
    let geo = state.geo.clone();
    let mut list = page.into_request(&filter_query, &geo)?;
    list.limit = limit;
    let links = Links::of(request, &state.settings);
    let validators = validators::read(state, &links).await?;
    if let Some(unchanged) = validators.unchanged_answer(request, EMBED_MAX_AGE, HTML) {
        return Ok(unchanged);
    }
    let unbounded = list.filter.editions.is_empty()
        && list.filter.from.is_none()
        && list.filter.to.is_none()
        && list.filter.updated_since.is_none();
    let listing = db::run(&state.pool, move |conn| {
        if unbounded && let Some(year) = repo::latest_edition(conn, &list.filter)? {
            list.filter.editions = vec![year];
        }
        repo::load(conn, &geo, &list)
    })
    .await?;
    let relative = |pairs: Vec<(String, String)>| {
        format!("/embed/events?{}", form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish())
    };
    let first = embed.cursor.as_ref().map(|_| relative(links.filter_pairs(&["cursor"])));
    let next = listing.next_cursor.as_ref().map(|cursor| {
        let mut pairs = links.filter_pairs(&["cursor"]);
        pairs.push(("cursor".into(), cursor.clone()));
        relative(pairs)
    });
    let page = EmbedPage {
        words: Words::of(options.language),
        theme: options.theme,
        compact: options.compact,
        heading: listing.title.clone(),
        count: count(listing.total, options.language),
        events: listing.events.iter().map(|event| item(event, &links, options.language)).collect(),
        first,
        next,
    };
    let html = page.render().map_err(ApiError::internal)?.into_bytes();
    Ok(validators.answer(request, html, listing.last_modified, EMBED_MAX_AGE, HTML))
}

/// A static file of the embed, cached for an hour and revalidated by its ETag.
fn asset(request: &HttpRequest, body: &'static str, content_type: &str) -> HttpResponse {
    let mut response =
        Conditional::ok().shared_for(ASSET_MAX_AGE).send(request, body.as_bytes().to_vec(), content_type);
    // Scripts and styles are read by pages of any origin (`<script src>` needs no CORS).
    response.headers_mut().insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("default-src 'none'"));
    response
}

/// The one-line embed: `<script src=".../embed/widget.js" data-region="53" async></script>`.
///
/// Inserts an iframe showing `/embed/events` with the script's `data-*` attributes as its
/// parameters (`data-organizer-kind` → `organizer_kind`; `data-title` names the frame), and
/// sizes it to its content from the height the frame posts (messages from other origins are
/// ignored). Loads nothing from any other host.
#[utoipa::path(
    tag = "embeds",
    responses((status = 200, description = "The script", body = String, content_type = "text/javascript"))
)]
#[get("/embed/widget.js")]
pub async fn widget_js(request: HttpRequest) -> HttpResponse {
    asset(&request, include_str!("assets/widget.js"), "text/javascript; charset=utf-8")
}

/// The script of the embed page: posts the content's height to the framing page.
#[utoipa::path(
    tag = "embeds",
    responses((status = 200, description = "The script", body = String, content_type = "text/javascript"))
)]
#[get("/embed/frame.js")]
pub async fn frame_js(request: HttpRequest) -> HttpResponse {
    asset(&request, include_str!("assets/frame.js"), "text/javascript; charset=utf-8")
}

/// The stylesheet of the embed page (DSFR colours, system fonts, light and dark).
#[utoipa::path(
    tag = "embeds",
    responses((status = 200, description = "The stylesheet", body = String, content_type = "text/css"))
)]
#[get("/embed/embed.css")]
pub async fn embed_css(request: HttpRequest) -> HttpResponse {
    asset(&request, include_str!("assets/embed.css"), "text/css; charset=utf-8")
}
