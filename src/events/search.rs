//! `GET /events`: the one event filter (feeds and exports reuse it), its SQL, keyset pages
//! under every sort, and facet counts computed by PostgreSQL in one grouped scan.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::BoxedSqlQuery;
use diesel::sql_types::{Array, BigInt, Double, Float4, Int4, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::model::{Audience, EventFormat, EventMode, EventOut, EventStatus, Publication};
use crate::editions::model::paris_midnight;
use crate::error::{ApiError, ApiResult};
use crate::geo::repo::Geography;
use crate::http::pagination::{DEFAULT_LIMIT, MAX_LIMIT};
use crate::organizers::model::OrganizerKind;

/// Values one filter may list.
pub const MAX_VALUES_PER_FILTER: usize = 50;
/// Longest `q`, in characters.
pub const MAX_QUERY_CHARS: usize = 200;
/// Largest `radius_km`, and the radius used when `near` comes without one.
pub const MAX_RADIUS_KM: f64 = 1000.0;
pub const DEFAULT_RADIUS_KM: f64 = 20.0;

crate::text_enum! {
    /// The order of a list of events. Ties are broken by id, so pages never overlap.
    pub enum EventSort {
        /// Soonest first (the default without `q`).
        StartsAt = "starts_at",
        /// Latest first.
        StartsAtDesc = "-starts_at",
        /// Best match first (the default with `q`; needs `q`).
        Relevance = "relevance",
        /// Most recently changed first.
        UpdatedAtDesc = "-updated_at",
        /// Least recently changed first: what partners who sync with `updated_since` walk.
        UpdatedAt = "updated_at",
    }
}

crate::text_enum! {
    /// A dimension that `facets` counts events along.
    pub enum Facet {
        Region = "region",
        Department = "department",
        Format = "format",
        Track = "track",
        Mode = "mode",
        Audience = "audience",
        OrganizerKind = "organizer_kind",
        Edition = "edition",
        Status = "status",
    }
}

/// The filters of `GET /events`, as documented. Parsing is done by [`SearchRequest::parse`],
/// which also accepts a repeated parameter (`region=53&region=52`) as a list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[expect(dead_code, reason = "documents the parameters; SearchRequest::parse reads them")]
pub struct EventSearchParams {
    /// Words to find, French-aware: accents and case are ignored and words are stemmed
    /// ("atelier" finds "Ateliers", "numerique" finds "numérique"). Quotes, `or` and `-word`
    /// work as in a search engine. At most 200 characters.
    q: Option<String>,
    /// Edition years, comma-separated (OR): `2021,2022`.
    edition: Option<String>,
    /// Track slugs (OR).
    track: Option<String>,
    /// Formats (OR): `webinar,workshop`.
    format: Option<String>,
    /// Modes (OR): `online,hybrid`.
    mode: Option<String>,
    /// Audiences (OR).
    audience: Option<String>,
    /// INSEE region codes of the venue (OR): `53,52`.
    region: Option<String>,
    /// INSEE department codes of the venue (OR): `35,2A`.
    department: Option<String>,
    /// Organizer ids or slugs (OR).
    organizer: Option<String>,
    /// Organizer kinds (OR): `innovation_lab,local_authority`.
    organizer_kind: Option<String>,
    /// Lab slugs (OR).
    lab: Option<String>,
    /// Tags (OR), compared lowercased.
    tag: Option<String>,
    /// Events with a session ending after this instant (RFC 3339) or day (`2021-11-15`, from
    /// midnight in Paris).
    from: Option<String>,
    /// Events with a session starting before this instant, or before the end of this day.
    to: Option<String>,
    /// `lat,lon`: events within `radius_km` of this point (events without coordinates are left out).
    near: Option<String>,
    /// Radius around `near`, in km, up to 1000 (default 20).
    radius_km: Option<f64>,
    /// `west,south,east,north` in degrees: events whose venue is in this box (for maps).
    bbox: Option<String>,
    /// Statuses on the day (OR): `scheduled,full`.
    status: Option<String>,
    /// Publication states (OR). Everyone sees published events; an organizer's members also see
    /// its other events, admins all events: `publication=submitted` is the moderation queue.
    publication: Option<String>,
    /// Events changed at or after this instant (RFC 3339) or day: for partners who sync.
    updated_since: Option<String>,
    /// `starts_at` (default without `q`), `-starts_at`, `relevance` (default with `q`),
    /// `-updated_at`, `updated_at`.
    sort: Option<String>,
    /// Counts to return beside the page, under the same filters: any of `region`,
    /// `department`, `format`, `track`, `mode`, `audience`, `organizer_kind`, `edition`, `status`.
    facets: Option<String>,
    /// Page size, 1 to 100 (default 20).
    limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// The parameters [`SearchRequest::parse`] knows; anything else is a 400.
const KNOWN_PARAMETERS: [&str; 25] = [
    "q",
    "edition",
    "track",
    "format",
    "mode",
    "audience",
    "region",
    "department",
    "organizer",
    "organizer_kind",
    "lab",
    "tag",
    "from",
    "to",
    "near",
    "radius_km",
    "bbox",
    "status",
    "publication",
    "updated_since",
    "sort",
    "facets",
    "limit",
    "cursor",
    // Accepted and ignored: clients add it to defeat caches.
    "_",
];

/// Which events match: every filter must hold; several values of one filter mean OR.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EventFilter {
    pub words: Option<String>,
    pub editions: Vec<i32>,
    pub tracks: Vec<String>,
    pub formats: Vec<EventFormat>,
    pub modes: Vec<EventMode>,
    pub audiences: Vec<Audience>,
    pub regions: Vec<String>,
    pub departments: Vec<String>,
    pub organizers: Vec<String>,
    pub organizer_kinds: Vec<OrganizerKind>,
    pub labs: Vec<String>,
    pub tags: Vec<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// Latitude, longitude, radius in metres.
    pub near: Option<(f64, f64, f64)>,
    /// West, south, east, north.
    pub bbox: Option<[f64; 4]>,
    pub statuses: Vec<EventStatus>,
    pub publications: Vec<Publication>,
    pub updated_since: Option<DateTime<Utc>>,
}

/// A whole `GET /events` request.
#[derive(Debug, Clone)]
pub struct SearchRequest {
    pub filter: EventFilter,
    pub sort: EventSort,
    pub limit: i64,
    pub after: Option<CursorKey>,
    pub facets: Vec<Facet>,
}

/// Where the previous page ended: its last row's sort value and id.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CursorKey {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rank: Option<f32>,
    pub id: Uuid,
}

/// The raw parameters, each with all its values (repeated parameters and comma lists merged).
struct RawParams(BTreeMap<String, Vec<String>>);

impl RawParams {
    fn parse(query: &str) -> ApiResult<RawParams> {
        let mut params: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (key, value) in form_urlencoded::parse(query.as_bytes()) {
            if !KNOWN_PARAMETERS.contains(&key.as_ref()) {
                return Err(ApiError::bad_param(&key, "is not a parameter of this list"));
            }
            params.entry(key.into_owned()).or_default().push(value.into_owned());
        }
        Ok(RawParams(params))
    }

    /// The one value of a parameter that takes one.
    fn single(&self, name: &str) -> ApiResult<Option<&str>> {
        match self.0.get(name).map(Vec::as_slice) {
            None => Ok(None),
            Some([one]) if one.trim().is_empty() => Err(ApiError::bad_param(name, "is empty")),
            Some([one]) => Ok(Some(one.trim())),
            Some(_) => Err(ApiError::bad_param(name, "is given more than once")),
        }
    }

    /// Every value of a list parameter, comma-separated or repeated.
    fn list(&self, name: &str) -> ApiResult<Vec<String>> {
        let values: Vec<String> = self
            .0
            .get(name)
            .into_iter()
            .flatten()
            .flat_map(|v| v.split(','))
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .collect();
        if values.len() > MAX_VALUES_PER_FILTER {
            return Err(ApiError::bad_param(name, format!("lists at most {MAX_VALUES_PER_FILTER} values")));
        }
        Ok(values)
    }

    fn parsed_list<T>(&self, name: &str, parse: impl Fn(&str) -> Option<T>, what: &str) -> ApiResult<Vec<T>> {
        self.list(name)?
            .iter()
            .map(|value| parse(value).ok_or_else(|| ApiError::bad_param(name, format!("`{value}` is not {what}"))))
            .collect()
    }
}

fn one_of<T: std::fmt::Display + Copy>(all: &[T]) -> String {
    format!("one of {}", all.iter().map(|v| format!("`{v}`")).collect::<Vec<_>>().join(", "))
}

/// An instant, or a day read in Paris (its start, or with `end_of_day` its end).
fn parse_instant(name: &str, value: &str, end_of_day: bool) -> ApiResult<DateTime<Utc>> {
    if let Ok(at) = DateTime::parse_from_rfc3339(value) {
        return Ok(at.with_timezone(&Utc));
    }
    match NaiveDate::parse_from_str(value, "%Y-%m-%d") {
        Ok(day) if end_of_day => Ok(paris_midnight(day + chrono::Days::new(1))),
        Ok(day) => Ok(paris_midnight(day)),
        Err(_) => Err(ApiError::bad_param(name, "must be a date (2021-11-15) or an RFC 3339 date-time")),
    }
}

fn parse_numbers<const N: usize>(name: &str, value: &str, shape: &str) -> ApiResult<[f64; N]> {
    let numbers: Vec<f64> = value
        .split(',')
        .map(|n| n.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .map_err(|_| ApiError::bad_param(name, format!("must be {shape}")))?;
    let numbers: [f64; N] = numbers.try_into().map_err(|_| ApiError::bad_param(name, format!("must be {shape}")))?;
    if numbers.iter().any(|n| !n.is_finite()) {
        return Err(ApiError::bad_param(name, format!("must be {shape}")));
    }
    Ok(numbers)
}

fn check_coordinates(name: &str, latitude: f64, longitude: f64) -> ApiResult<()> {
    if !(-90.0..=90.0).contains(&latitude) || !(-180.0..=180.0).contains(&longitude) {
        return Err(ApiError::bad_param(name, "has a latitude outside -90..90 or a longitude outside -180..180"));
    }
    Ok(())
}

impl SearchRequest {
    /// Parses and checks every parameter; a bad one is a 400 naming it, never a silent default.
    pub fn parse(query: &str, geo: &Geography) -> ApiResult<SearchRequest> {
        let raw = RawParams::parse(query)?;
        let words = raw.single("q")?.map(String::from);
        if words.as_ref().is_some_and(|q| q.chars().count() > MAX_QUERY_CHARS) {
            return Err(ApiError::bad_param("q", format!("has more than {MAX_QUERY_CHARS} characters")));
        }
        let regions = raw.list("region")?;
        if let Some(bad) = regions.iter().find(|code| geo.region(code).is_none()) {
            return Err(ApiError::bad_param("region", format!("`{bad}` is not an INSEE region code")));
        }
        let departments = raw.list("department")?;
        if let Some(bad) = departments.iter().find(|code| geo.department(code).is_none()) {
            return Err(ApiError::bad_param("department", format!("`{bad}` is not an INSEE department code")));
        }
        let near = match raw.single("near")? {
            None => None,
            Some(value) => {
                let [latitude, longitude] = parse_numbers::<2>("near", value, "`latitude,longitude`")?;
                check_coordinates("near", latitude, longitude)?;
                Some((latitude, longitude))
            }
        };
        let radius_km = match raw.single("radius_km")? {
            None => DEFAULT_RADIUS_KM,
            Some(_) if near.is_none() => return Err(ApiError::bad_param("radius_km", "goes with `near`")),
            Some(value) => match value.parse::<f64>() {
                Ok(km) if km > 0.0 && km <= MAX_RADIUS_KM => km,
                _ => {
                    return Err(ApiError::bad_param(
                        "radius_km",
                        format!("must be a number of km in 0..{MAX_RADIUS_KM}"),
                    ));
                }
            },
        };
        let bbox = match raw.single("bbox")? {
            None => None,
            Some(value) => {
                let [west, south, east, north] = parse_numbers::<4>("bbox", value, "`west,south,east,north`")?;
                check_coordinates("bbox", south, west)?;
                check_coordinates("bbox", north, east)?;
                if south > north || west > east {
                    return Err(ApiError::bad_param(
                        "bbox",
                        "must be `west,south,east,north` with west ≤ east and south ≤ north",
                    ));
                }
                Some([west, south, east, north])
            }
        };
        let from = raw.single("from")?.map(|v| parse_instant("from", v, false)).transpose()?;
        let to = raw.single("to")?.map(|v| parse_instant("to", v, true)).transpose()?;
        if let (Some(from), Some(to)) = (from, to)
            && to <= from
        {
            return Err(ApiError::bad_param("to", "must be after `from`"));
        }
        let filter = EventFilter {
            words,
            editions: raw.parsed_list("edition", |v| v.parse().ok().filter(|y| (2014..=2100).contains(y)), "a year")?,
            tracks: raw.list("track")?,
            formats: raw.parsed_list("format", EventFormat::parse, &one_of(EventFormat::ALL))?,
            modes: raw.parsed_list("mode", EventMode::parse, &one_of(EventMode::ALL))?,
            audiences: raw.parsed_list("audience", Audience::parse, &one_of(Audience::ALL))?,
            regions,
            departments,
            organizers: raw.list("organizer")?,
            organizer_kinds: raw.parsed_list("organizer_kind", OrganizerKind::parse, &one_of(OrganizerKind::ALL))?,
            labs: raw.list("lab")?,
            tags: raw.list("tag")?.into_iter().map(|t| t.to_lowercase()).collect(),
            from,
            to,
            near: near.map(|(lat, lon)| (lat, lon, radius_km * 1000.0)),
            bbox,
            statuses: raw.parsed_list("status", EventStatus::parse, &one_of(EventStatus::ALL))?,
            publications: raw.parsed_list("publication", Publication::parse, &one_of(Publication::ALL))?,
            updated_since: raw
                .single("updated_since")?
                .map(|v| parse_instant("updated_since", v, false))
                .transpose()?,
        };
        let sort = match raw.single("sort")? {
            None if filter.words.is_some() => EventSort::Relevance,
            None => EventSort::StartsAt,
            Some(value) => EventSort::parse(value)
                .ok_or_else(|| ApiError::bad_param("sort", format!("must be {}", one_of(EventSort::ALL))))?,
        };
        if sort == EventSort::Relevance && filter.words.is_none() {
            return Err(ApiError::bad_param("sort", "`relevance` needs words to rank by, in `q`"));
        }
        let limit = match raw.single("limit")? {
            None => DEFAULT_LIMIT,
            Some(value) => match value.parse::<i64>() {
                Ok(limit) if (1..=MAX_LIMIT).contains(&limit) => limit,
                _ => return Err(ApiError::bad_param("limit", format!("must be between 1 and {MAX_LIMIT}"))),
            },
        };
        let cursor =
            crate::http::pagination::PageParams { limit: Some(limit), cursor: raw.single("cursor")?.map(String::from) };
        let after = cursor.cursor::<CursorKey>(&cursor_scope(sort))?;
        let facets = raw.parsed_list("facets", Facet::parse, &one_of(Facet::ALL))?;
        Ok(SearchRequest { filter, sort, limit, after, facets })
    }
}

/// A cursor belongs to one sort order: one from another order is refused, not misread.
pub fn cursor_scope(sort: EventSort) -> String {
    format!("events:{}", sort.as_str())
}

/// Who is looking: everyone sees published events; an organizer's members also its others.
#[derive(Debug, Clone, Copy, Default)]
pub struct Viewer {
    pub organizer: Option<Uuid>,
    pub admin: bool,
}

/// A bind parameter of the generated SQL.
#[derive(Debug, Clone)]
enum Bind {
    Text(String),
    Texts(Vec<String>),
    Int(i32),
    Ints(Vec<i32>),
    Uuid(Uuid),
    At(Option<DateTime<Utc>>),
    Number(f64),
    Rank(f32),
}

/// SQL text with numbered placeholders and the values that go with them.
#[derive(Debug, Default)]
struct Sql {
    clauses: Vec<String>,
    binds: Vec<Bind>,
}

impl Sql {
    fn bind(&mut self, value: Bind) -> String {
        self.binds.push(value);
        format!("${}", self.binds.len())
    }

    fn and(&mut self, clause: String) {
        self.clauses.push(clause);
    }

    /// `column = $n` for one value (the planner can then walk an index in order), or
    /// `column = ANY($n)` for several.
    fn one_of_texts(&mut self, column: &str, values: Vec<String>) {
        let clause = match values.as_slice() {
            [one] => format!("{column} = {}", self.bind(Bind::Text(one.clone()))),
            _ => format!("{column} = ANY({})", self.bind(Bind::Texts(values))),
        };
        self.and(clause);
    }

    fn one_of_ints(&mut self, column: &str, values: Vec<i32>) {
        let clause = match values.as_slice() {
            [one] => format!("{column} = {}", self.bind(Bind::Int(*one))),
            _ => format!("{column} = ANY({})", self.bind(Bind::Ints(values))),
        };
        self.and(clause);
    }

    fn where_clause(&self) -> String {
        if self.clauses.is_empty() { "TRUE".into() } else { self.clauses.join("\n  AND ") }
    }
}

fn with_binds<'a>(sql: String, binds: &[Bind]) -> BoxedSqlQuery<'a, Pg, diesel::query_builder::SqlQuery> {
    let mut query = diesel::sql_query(sql).into_boxed::<Pg>();
    for bind in binds.iter().cloned() {
        query = match bind {
            Bind::Text(value) => query.bind::<Text, _>(value),
            Bind::Texts(values) => query.bind::<Array<Text>, _>(values),
            Bind::Int(value) => query.bind::<Int4, _>(value),
            Bind::Ints(values) => query.bind::<Array<Int4>, _>(values),
            Bind::Uuid(value) => query.bind::<SqlUuid, _>(value),
            Bind::At(value) => query.bind::<Nullable<Timestamptz>, _>(value),
            Bind::Number(value) => query.bind::<Double, _>(value),
            Bind::Rank(value) => query.bind::<Float4, _>(value),
        };
    }
    query
}

/// The conditions of a filter, for `events` (which every condition names in full).
fn conditions(filter: &EventFilter, viewer: Viewer) -> Sql {
    let mut sql = Sql::default();
    if !viewer.admin {
        match viewer.organizer {
            Some(own) => {
                let own = sql.bind(Bind::Uuid(own));
                sql.and(format!("(events.publication = 'published' OR events.organizer_id = {own})"));
            }
            None => sql.and("events.publication = 'published'".into()),
        }
    }
    let texts = |values: &[&str]| values.iter().map(|v| v.to_string()).collect::<Vec<_>>();
    if !filter.publications.is_empty() {
        sql.one_of_texts(
            "events.publication",
            texts(&filter.publications.iter().map(|p| p.as_str()).collect::<Vec<_>>()),
        );
    }
    if let Some(words) = &filter.words {
        let q = sql.bind(Bind::Text(words.clone()));
        sql.and(format!("events.search_vector @@ websearch_to_tsquery('french_unaccent', {q})"));
    }
    if !filter.editions.is_empty() {
        sql.one_of_ints("events.edition_year", filter.editions.clone());
    }
    if !filter.tracks.is_empty() {
        let t = sql.bind(Bind::Texts(filter.tracks.clone()));
        sql.and(format!("events.track_id IN (SELECT id FROM tracks WHERE slug = ANY({t}))"));
    }
    for (column, values) in [
        ("format", filter.formats.iter().map(|v| v.as_str()).collect::<Vec<_>>()),
        ("mode", filter.modes.iter().map(|v| v.as_str()).collect()),
        ("audience", filter.audiences.iter().map(|v| v.as_str()).collect()),
        ("status", filter.statuses.iter().map(|v| v.as_str()).collect()),
    ] {
        if !values.is_empty() {
            sql.one_of_texts(&format!("events.{column}"), texts(&values));
        }
    }
    if !filter.regions.is_empty() {
        sql.one_of_texts("events.region_code", filter.regions.clone());
    }
    if !filter.departments.is_empty() {
        sql.one_of_texts("events.department_code", filter.departments.clone());
    }
    if !filter.organizers.is_empty() {
        let o = sql.bind(Bind::Texts(filter.organizers.clone()));
        sql.and(format!(
            "events.organizer_id IN (SELECT id FROM organizers WHERE id::text = ANY({o}) OR slug = ANY({o}))"
        ));
    }
    if !filter.organizer_kinds.is_empty() {
        let k = sql.bind(Bind::Texts(texts(&filter.organizer_kinds.iter().map(|k| k.as_str()).collect::<Vec<_>>())));
        sql.and(format!("events.organizer_id IN (SELECT id FROM organizers WHERE kind = ANY({k}))"));
    }
    if !filter.labs.is_empty() {
        let l = sql.bind(Bind::Texts(filter.labs.clone()));
        sql.and(format!(
            "events.id IN (SELECT event_labs.event_id FROM event_labs JOIN labs ON labs.id = event_labs.lab_id \
             WHERE labs.slug = ANY({l}))"
        ));
    }
    if !filter.tags.is_empty() {
        let t = sql.bind(Bind::Texts(filter.tags.clone()));
        sql.and(format!("events.tags && {t}"));
    }
    if filter.from.is_some() || filter.to.is_some() {
        // The event's span narrows first (an index range); then one of its sessions must overlap.
        let from = sql.bind(Bind::At(filter.from));
        let to = sql.bind(Bind::At(filter.to));
        if filter.from.is_some() {
            sql.and(format!("events.ends_at > {from}"));
        }
        if filter.to.is_some() {
            sql.and(format!("events.starts_at < {to}"));
        }
        sql.and(format!(
            "EXISTS (SELECT 1 FROM event_sessions WHERE event_sessions.event_id = events.id \
             AND tstzrange(event_sessions.starts_at, event_sessions.ends_at) && tstzrange({from}, {to}))"
        ));
    }
    if let Some((latitude, longitude, metres)) = filter.near {
        let (lat, lon, m) =
            (sql.bind(Bind::Number(latitude)), sql.bind(Bind::Number(longitude)), sql.bind(Bind::Number(metres)));
        sql.and(format!(
            "events.latitude IS NOT NULL \
             AND earth_box(ll_to_earth({lat}, {lon}), {m}) @> ll_to_earth(events.latitude, events.longitude) \
             AND earth_distance(ll_to_earth({lat}, {lon}), ll_to_earth(events.latitude, events.longitude)) <= {m}"
        ));
    }
    if let Some([west, south, east, north]) = filter.bbox {
        let (w, s, e, n) = (
            sql.bind(Bind::Number(west)),
            sql.bind(Bind::Number(south)),
            sql.bind(Bind::Number(east)),
            sql.bind(Bind::Number(north)),
        );
        sql.and(format!(
            "events.latitude IS NOT NULL AND point(events.longitude, events.latitude) <@ box(point({w}, {s}), point({e}, {n}))"
        ));
    }
    if let Some(since) = filter.updated_since {
        let s = sql.bind(Bind::At(Some(since)));
        sql.and(format!("events.updated_at >= {s}"));
    }
    sql
}

#[derive(QueryableByName)]
struct PageRow {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Float4>)]
    rank: Option<f32>,
}

#[derive(QueryableByName)]
struct CountRow {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct FacetRow {
    #[diesel(sql_type = Text)]
    facet: String,
    #[diesel(sql_type = Nullable<Text>)]
    value: Option<String>,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// The ids of one page, in order, with the key of each (for the next cursor).
fn page_ids(conn: &mut PgConnection, request: &SearchRequest, viewer: Viewer) -> ApiResult<Vec<(Uuid, CursorKey)>> {
    let mut sql = conditions(&request.filter, viewer);
    let (key, order, forward) = match request.sort {
        EventSort::StartsAt => ("events.starts_at", "events.starts_at, events.id", true),
        EventSort::StartsAtDesc => ("events.starts_at", "events.starts_at DESC, events.id DESC", false),
        EventSort::UpdatedAt => ("events.updated_at", "events.updated_at, events.id", true),
        EventSort::UpdatedAtDesc => ("events.updated_at", "events.updated_at DESC, events.id DESC", false),
        EventSort::Relevance => ("", "rank DESC, events.id", true),
    };
    let rank_expression = match &request.filter.words {
        Some(words) if request.sort == EventSort::Relevance => {
            let q = sql.bind(Bind::Text(words.clone()));
            format!("ts_rank_cd(events.search_vector, websearch_to_tsquery('french_unaccent', {q}))")
        }
        _ => "NULL::real".into(),
    };
    if let Some(after) = &request.after {
        let id = sql.bind(Bind::Uuid(after.id));
        match (request.sort, after.at, after.rank) {
            (EventSort::Relevance, _, Some(rank)) => {
                let r = sql.bind(Bind::Rank(rank));
                sql.and(format!("({rank_expression} < {r} OR ({rank_expression} = {r} AND events.id > {id}))"));
            }
            (EventSort::Relevance, _, None) | (_, None, _) => {
                return Err(ApiError::bad_param("cursor", "is not a cursor this list issued"));
            }
            (_, Some(at), _) => {
                let at = sql.bind(Bind::At(Some(at)));
                let comparison = if forward { ">" } else { "<" };
                sql.and(format!("({key}, events.id) {comparison} ({at}, {id})"));
            }
        }
    }
    let at_column = if key.is_empty() { "NULL::timestamptz" } else { key };
    let text = format!(
        "SELECT events.id, {at_column} AS at, {rank_expression} AS rank FROM events\nWHERE {}\nORDER BY {order}\nLIMIT {}",
        sql.where_clause(),
        request.limit + 1
    );
    tracing::debug!(sql = %text, "event page query");
    let rows: Vec<PageRow> = with_binds(text, &sql.binds).load(conn)?;
    Ok(rows.into_iter().map(|row| (row.id, CursorKey { at: row.at, rank: row.rank, id: row.id })).collect())
}

fn count(conn: &mut PgConnection, filter: &EventFilter, viewer: Viewer) -> ApiResult<i64> {
    let sql = conditions(filter, viewer);
    let text = format!("SELECT count(*) AS n FROM events WHERE {}", sql.where_clause());
    Ok(with_binds(text, &sql.binds).get_result::<CountRow>(conn)?.n)
}

/// One value of a facet, labelled for people.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct FacetCount {
    /// What to pass to the filter of the same name (`null`: events without a value, such as
    /// online events without a region).
    pub value: Option<String>,
    /// The value's name: a region's, a track's, a format in French.
    pub label: Option<String>,
    pub count: i64,
}

/// Per facet, its values (`None`: events without one) with their counts.
type RawFacets = BTreeMap<String, Vec<(Option<String>, i64)>>;

/// The facet counts and the total, in one grouped scan (`GROUPING SETS`).
fn facet_counts(
    conn: &mut PgConnection,
    filter: &EventFilter,
    viewer: Viewer,
    facets: &[Facet],
) -> ApiResult<(RawFacets, i64)> {
    let sql = conditions(filter, viewer);
    let expression = |facet: Facet| match facet {
        Facet::Region => "events.region_code",
        Facet::Department => "events.department_code",
        Facet::Format => "events.format",
        Facet::Track => "facet_track.slug",
        Facet::Mode => "events.mode",
        Facet::Audience => "events.audience",
        Facet::OrganizerKind => "facet_organizer.kind",
        Facet::Edition => "events.edition_year::text",
        Facet::Status => "events.status",
    };
    let mut joins = String::new();
    if facets.contains(&Facet::Track) {
        joins.push_str(" LEFT JOIN tracks AS facet_track ON facet_track.id = events.track_id");
    }
    if facets.contains(&Facet::OrganizerKind) {
        joins.push_str(" JOIN organizers AS facet_organizer ON facet_organizer.id = events.organizer_id");
    }
    let sets: Vec<String> = facets.iter().map(|f| format!("({})", expression(*f))).collect();
    let which: Vec<String> =
        facets.iter().map(|f| format!("WHEN GROUPING({}) = 0 THEN '{}'", expression(*f), f.as_str())).collect();
    let value: Vec<String> =
        facets.iter().map(|f| format!("WHEN GROUPING({}) = 0 THEN {}", expression(*f), expression(*f))).collect();
    let text = format!(
        "SELECT CASE {} ELSE '' END AS facet, CASE {} END AS value, count(*) AS n\n\
         FROM events{joins}\nWHERE {}\nGROUP BY GROUPING SETS ({}, ())",
        which.join(" "),
        value.join(" "),
        sql.where_clause(),
        sets.join(", ")
    );
    tracing::debug!(sql = %text, "event facet query");
    let rows: Vec<FacetRow> = with_binds(text, &sql.binds).load(conn)?;
    let mut counts: RawFacets = facets.iter().map(|f| (f.as_str().to_string(), Vec::new())).collect();
    let mut total = 0;
    for row in rows {
        if row.facet.is_empty() {
            total = row.n;
        } else {
            counts.entry(row.facet).or_default().push((row.value, row.n));
        }
    }
    for values in counts.values_mut() {
        values.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    }
    Ok((counts, total))
}

/// Names of the values of the facets asked for, for people: read in one query per facet that
/// needs the database (tracks, editions), the others from the code and the INSEE tables.
struct FacetLabels<'a> {
    geo: &'a Geography,
    tracks: BTreeMap<String, String>,
    editions: BTreeMap<String, String>,
}

impl<'a> FacetLabels<'a> {
    fn load(conn: &mut PgConnection, geo: &'a Geography, facets: &[Facet]) -> ApiResult<Self> {
        use crate::schema::{editions, tracks};
        let mut tracks = BTreeMap::new();
        if facets.contains(&Facet::Track) {
            // A slug may recur across editions: the latest edition's name wins.
            let rows: Vec<(String, String)> =
                tracks::table.order(tracks::edition_year).select((tracks::slug, tracks::name)).load(conn)?;
            tracks.extend(rows);
        }
        let mut editions = BTreeMap::new();
        if facets.contains(&Facet::Edition) {
            let rows: Vec<(i32, String)> = editions::table.select((editions::year, editions::title)).load(conn)?;
            editions.extend(rows.into_iter().map(|(year, title)| (year.to_string(), title)));
        }
        Ok(FacetLabels { geo, tracks, editions })
    }

    fn label(&self, facet: &str, value: &str) -> Option<String> {
        match Facet::parse(facet)? {
            Facet::Region => self.geo.region(value).map(|p| p.name),
            Facet::Department => self.geo.department(value).map(|p| p.name),
            Facet::Format => EventFormat::parse(value).map(|v| v.label().to_string()),
            Facet::Mode => EventMode::parse(value).map(|v| v.label().to_string()),
            Facet::Audience => Audience::parse(value).map(|v| v.label().to_string()),
            Facet::OrganizerKind => OrganizerKind::parse(value).map(|v| v.label().to_string()),
            Facet::Status => EventStatus::parse(value).map(|v| v.label().to_string()),
            Facet::Edition => self.editions.get(value).cloned(),
            Facet::Track => self.tracks.get(value).cloned(),
        }
    }
}

/// A page of events, with facets when asked.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventPage {
    pub data: Vec<EventOut>,
    /// Pass as `cursor` to get the next page; null on the last page.
    pub next_cursor: Option<String>,
    /// How many events match, over all pages.
    pub total: i64,
    /// Asked for with `facets`: for each, the values and their counts under the same filters,
    /// most frequent first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub facets: Option<BTreeMap<String, Vec<FacetCount>>>,
}

/// Runs a search: the page, the total, and the facets when asked.
pub fn search(
    conn: &mut PgConnection,
    request: &SearchRequest,
    viewer: Viewer,
    geo: &Geography,
) -> ApiResult<EventPage> {
    let mut ids = page_ids(conn, request, viewer)?;
    let has_more = ids.len() as i64 > request.limit;
    ids.truncate(request.limit as usize);
    let next_cursor = match (has_more, ids.last()) {
        (true, Some((_, key))) => Some(crate::http::pagination::encode_cursor(&cursor_scope(request.sort), key)),
        _ => None,
    };
    let (facets, total) = if request.facets.is_empty() {
        (None, count(conn, &request.filter, viewer)?)
    } else {
        let (counts, total) = facet_counts(conn, &request.filter, viewer, &request.facets)?;
        let labels = FacetLabels::load(conn, geo, &request.facets)?;
        let labelled = counts
            .into_iter()
            .map(|(facet, values)| {
                let values = values
                    .into_iter()
                    .map(|(value, count)| FacetCount {
                        label: value.as_deref().and_then(|v| labels.label(&facet, v)),
                        value,
                        count,
                    })
                    .collect();
                (facet, values)
            })
            .collect();
        (Some(labelled), total)
    };
    let wanted: Vec<Uuid> = ids.iter().map(|(id, _)| *id).collect();
    let rows = {
        use crate::schema::events;
        events::table
            .filter(events::id.eq_any(&wanted))
            .select(super::model::EventRow::as_select())
            .load::<super::model::EventRow>(conn)?
    };
    let mut events = super::repo::present(conn, rows)?;
    events.sort_by_key(|event| wanted.iter().position(|id| *id == event.id));
    Ok(EventPage { data: events, next_cursor, total, facets })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_parameter_is_parsed_and_no_other() {
        use utoipa::IntoParams;
        let documented: Vec<String> = EventSearchParams::into_params(|| None).into_iter().map(|p| p.name).collect();
        let known: Vec<String> = KNOWN_PARAMETERS.iter().filter(|p| **p != "_").map(|p| p.to_string()).collect();
        assert_eq!(documented, known);
    }
}
