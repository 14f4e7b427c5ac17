//! The one event filter. Every list of events (the programme, an organizer's, a lab's) and
//! every module built on events (reports, feeds, the change feed, exports) takes the same
//! query parameters, parses them here, and turns them plus the viewer into the same SQL
//! conditions, under the one visibility rule ([`Viewer`]).
//!
//! [`EventFilterQuery`] is both what the OpenAPI document lists and what the query string is
//! parsed into; [`EventFilterQuery::filter`] checks each value and names the parameter it
//! refuses. Lists add [`EventPageQuery`] (order, pages, facets); reports, feeds and exports add
//! their own parameters the same way (`http::query::Queries`).

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::IntoParams;
use uuid::Uuid;

use super::model::{Audience, EventFormat, EventMode, EventStatus, Publication};
use crate::auth::Caller;
use crate::db::sql::{Bind, Sql};
use crate::editions::model::paris_midnight;
use crate::error::{ApiError, ApiResult};
use crate::geo::repo::Geography;
use crate::http::fields::{MAX_YEAR, MIN_YEAR};
use crate::http::pagination::PageParams;
use crate::organizers::model::OrganizerKind;

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

/// The filter parameters shared by every list of events, report, feed and export, as
/// documented and as parsed. A list parameter takes comma-separated values, or the parameter
/// repeated (`region=53&region=52`); several values of one filter mean OR, and every filter
/// given must hold. Each consumer adds its own parameters beside these (see `http::query::Queries`).
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EventFilterQuery {
    /// Words to find, French-aware: accents and case are ignored and words are stemmed
    /// ("atelier" finds "Ateliers", "numerique" finds "numérique"). Quotes, `or` and `-word`
    /// work as in a search engine. At most 200 characters.
    #[param(max_length = 200)]
    pub q: Option<String>,
    /// Edition years: `2021,2022`.
    #[serde(default)]
    #[param(value_type = Option<Vec<i32>>, style = Form, explode = false)]
    pub edition: Vec<String>,
    /// Track slugs.
    #[serde(default)]
    #[param(value_type = Option<Vec<String>>, style = Form, explode = false)]
    pub track: Vec<String>,
    /// Formats: `webinar,workshop`.
    #[serde(default)]
    #[param(value_type = Option<Vec<EventFormat>>, style = Form, explode = false)]
    pub format: Vec<String>,
    /// Modes: `online,hybrid`.
    #[serde(default)]
    #[param(value_type = Option<Vec<EventMode>>, style = Form, explode = false)]
    pub mode: Vec<String>,
    /// Audiences.
    #[serde(default)]
    #[param(value_type = Option<Vec<Audience>>, style = Form, explode = false)]
    pub audience: Vec<String>,
    /// INSEE region codes of the venue: `53,52`.
    #[serde(default)]
    #[param(value_type = Option<Vec<String>>, style = Form, explode = false)]
    pub region: Vec<String>,
    /// INSEE department codes of the venue: `35,2A`.
    #[serde(default)]
    #[param(value_type = Option<Vec<String>>, style = Form, explode = false)]
    pub department: Vec<String>,
    /// Organizer ids or slugs.
    #[serde(default)]
    #[param(value_type = Option<Vec<String>>, style = Form, explode = false)]
    pub organizer: Vec<String>,
    /// Organizer kinds: `innovation_lab,local_authority`.
    #[serde(default)]
    #[param(value_type = Option<Vec<OrganizerKind>>, style = Form, explode = false)]
    pub organizer_kind: Vec<String>,
    /// Lab slugs.
    #[serde(default)]
    #[param(value_type = Option<Vec<String>>, style = Form, explode = false)]
    pub lab: Vec<String>,
    /// Tags, compared lowercased.
    #[serde(default)]
    #[param(value_type = Option<Vec<String>>, style = Form, explode = false)]
    pub tag: Vec<String>,
    /// Events with a session ending after this instant (RFC 3339) or day (`2021-11-15`, from
    /// midnight in Paris).
    #[param(example = "2021-11-15")]
    pub from: Option<String>,
    /// Events with a session starting before this instant, or before the end of this day.
    #[param(example = "2021-11-30")]
    pub to: Option<String>,
    /// `lat,lon`: events within `radius_km` of this point (events without coordinates are left out).
    #[param(example = "48.11,-1.68")]
    pub near: Option<String>,
    /// Radius around `near`, in km, up to 1000 (default 20).
    #[param(exclusive_minimum = 0, maximum = 1000)]
    pub radius_km: Option<f64>,
    /// `west,south,east,north` in degrees: events whose venue is in this box (for maps).
    #[param(example = "-5.2,47.2,-1.0,48.9")]
    pub bbox: Option<String>,
    /// Statuses on the day: `scheduled,full`.
    #[serde(default)]
    #[param(value_type = Option<Vec<EventStatus>>, style = Form, explode = false)]
    pub status: Vec<String>,
    /// Publication states. Everyone sees published events; an organizer's members also see
    /// its other events, admins all events: `publication=submitted` is the moderation queue.
    #[serde(default)]
    #[param(value_type = Option<Vec<Publication>>, style = Form, explode = false)]
    pub publication: Vec<String>,
    /// Events changed at or after this instant (RFC 3339) or day: for partners who sync.
    pub updated_since: Option<String>,
}

/// What a list of events adds to the filter: its order, its pages, its facets.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EventPageQuery {
    /// `starts_at` (default without `q`), `-starts_at`, `relevance` (default with `q`),
    /// `-updated_at`, `updated_at`.
    #[param(value_type = Option<EventSort>)]
    pub sort: Option<String>,
    /// Counts to return beside the page, under the same filters.
    #[serde(default)]
    #[param(value_type = Option<Vec<Facet>>, style = Form, explode = false)]
    pub facets: Vec<String>,
    /// Page size, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100, default = 20)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

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
    /// Ids or slugs.
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
    /// The list's own scope, from its path (`/organizers/{id}/events`, `/labs/{slug}/events`).
    pub within: Option<Within>,
}

/// The events of one organizer or one lab.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Within {
    Organizer(Uuid),
    Lab(Uuid),
}

/// A whole list request: the filter, its order, one page, and the facets asked for.
#[derive(Debug, Clone)]
pub struct EventListRequest {
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

/// A cursor belongs to one sort order: one from another order is refused, not misread.
pub fn cursor_scope(sort: EventSort) -> String {
    format!("events:{}", sort.as_str())
}

/// Who is looking. This is the one visibility rule of events: published events are everyone's;
/// the others exist only for their organizer's members and for admins (anyone else is told
/// 404, never 403). Single reads apply it with [`Viewer::sees`], lists with the same rule in SQL.
#[derive(Debug, Clone, Copy, Default)]
pub struct Viewer {
    pub organizer: Option<Uuid>,
    pub admin: bool,
}

impl Viewer {
    pub fn anonymous() -> Self {
        Viewer::default()
    }

    pub fn of(caller: &Caller) -> Self {
        Viewer { organizer: caller.principal().and_then(|p| p.organizer_id), admin: caller.is_admin() }
    }

    pub fn sees(&self, publication: Publication, organizer: Uuid) -> bool {
        self.admin || publication == Publication::Published || self.organizer == Some(organizer)
    }

    /// The same rule, as a condition on `events`.
    fn restrict(&self, sql: &mut Sql) {
        if self.admin {
            return;
        }
        match self.organizer {
            Some(own) => {
                let own = sql.bind(Bind::Uuid(own));
                sql.and(format!("(events.publication = 'published' OR events.organizer_id = {own})"));
            }
            None => sql.and("events.publication = 'published'".into()),
        }
    }
}

fn one_of<T: std::fmt::Display + Copy>(all: &[T]) -> String {
    format!("one of {}", all.iter().map(|v| format!("`{v}`")).collect::<Vec<_>>().join(", "))
}

/// A single-valued parameter, trimmed; blank is a 400 (it is never a silent "no filter").
fn single<'a>(name: &str, value: &'a Option<String>) -> ApiResult<Option<&'a str>> {
    match value.as_deref().map(str::trim) {
        Some("") => Err(ApiError::bad_param(name, "is empty")),
        other => Ok(other),
    }
}

use crate::http::query::list_parameter as list;

fn parsed_list<T>(name: &str, values: &[String], parse: impl Fn(&str) -> Option<T>, what: &str) -> ApiResult<Vec<T>> {
    list(name, values)?
        .iter()
        .map(|value| parse(value).ok_or_else(|| ApiError::bad_param(name, format!("`{value}` is not {what}"))))
        .collect()
}

/// An instant, or a day read in Paris (its start, or with `end_of_day` its end). Years are
/// bounded, so that no date arithmetic here or in PostgreSQL can overflow.
pub fn parse_instant(name: &str, value: &str, end_of_day: bool) -> ApiResult<DateTime<Utc>> {
    let out_of_range =
        || ApiError::bad_param(name, format!("must be a date between the years {MIN_YEAR} and {MAX_YEAR}"));
    let in_range = |year: i32| (MIN_YEAR..=MAX_YEAR).contains(&year);
    if let Ok(at) = DateTime::parse_from_rfc3339(value) {
        return if in_range(at.year()) { Ok(at.with_timezone(&Utc)) } else { Err(out_of_range()) };
    }
    match NaiveDate::parse_from_str(value, "%Y-%m-%d") {
        Ok(day) if !in_range(day.year()) => Err(out_of_range()),
        Ok(day) if end_of_day => {
            day.checked_add_days(chrono::Days::new(1)).map(paris_midnight).ok_or_else(out_of_range)
        }
        Ok(day) => Ok(paris_midnight(day)),
        Err(_) => Err(ApiError::bad_param(name, "must be a date (2021-11-15) or an RFC 3339 date-time")),
    }
}

fn parse_numbers<const N: usize>(name: &str, value: &str, shape: &str) -> ApiResult<[f64; N]> {
    let bad = || ApiError::bad_param(name, format!("must be {shape}"));
    let numbers: Vec<f64> =
        value.split(',').map(|n| n.trim().parse::<f64>()).collect::<Result<_, _>>().map_err(|_| bad())?;
    let numbers: [f64; N] = numbers.try_into().map_err(|_| bad())?;
    if numbers.iter().any(|n| !n.is_finite()) {
        return Err(bad());
    }
    Ok(numbers)
}

fn check_coordinates(name: &str, latitude: f64, longitude: f64) -> ApiResult<()> {
    if !(-90.0..=90.0).contains(&latitude) || !(-180.0..=180.0).contains(&longitude) {
        return Err(ApiError::bad_param(name, "has a latitude outside -90..90 or a longitude outside -180..180"));
    }
    Ok(())
}

impl EventPageQuery {
    /// Checks every parameter of a list; a bad one is a 400 naming it, never a silent default.
    pub fn into_request(self, filter: &EventFilterQuery, geo: &Geography) -> ApiResult<EventListRequest> {
        let filter = filter.filter(geo)?;
        let sort = match single("sort", &self.sort)? {
            None if filter.words.is_some() => EventSort::Relevance,
            None => EventSort::StartsAt,
            Some(value) => EventSort::parse(value)
                .ok_or_else(|| ApiError::bad_param("sort", format!("must be {}", one_of(EventSort::ALL))))?,
        };
        if sort == EventSort::Relevance && filter.words.is_none() {
            return Err(ApiError::bad_param("sort", "`relevance` needs words to rank by, in `q`"));
        }
        let page = PageParams { limit: self.limit, cursor: single("cursor", &self.cursor)?.map(String::from) };
        let limit = page.limit()?;
        let after = page.cursor::<CursorKey>(&cursor_scope(sort))?;
        if let Some(after) = &after {
            check_cursor(sort, after)?;
        }
        let facets = parsed_list("facets", &self.facets, Facet::parse, &one_of(Facet::ALL))?;
        Ok(EventListRequest { filter, sort, limit, after, facets })
    }
}

impl EventFilterQuery {
    /// The filter alone, for consumers that page or group in their own way (reports, feeds).
    pub fn filter(&self, geo: &Geography) -> ApiResult<EventFilter> {
        let words = single("q", &self.q)?.map(String::from);
        if words.as_ref().is_some_and(|q| q.chars().count() > MAX_QUERY_CHARS) {
            return Err(ApiError::bad_param("q", format!("has more than {MAX_QUERY_CHARS} characters")));
        }
        let regions = list("region", &self.region)?;
        if let Some(bad) = regions.iter().find(|code| geo.region(code).is_none()) {
            return Err(ApiError::bad_param("region", format!("`{bad}` is not an INSEE region code")));
        }
        let departments = list("department", &self.department)?;
        if let Some(bad) = departments.iter().find(|code| geo.department(code).is_none()) {
            return Err(ApiError::bad_param("department", format!("`{bad}` is not an INSEE department code")));
        }
        let near = match single("near", &self.near)? {
            None => None,
            Some(value) => {
                let [latitude, longitude] = parse_numbers::<2>("near", value, "`latitude,longitude`")?;
                check_coordinates("near", latitude, longitude)?;
                Some((latitude, longitude))
            }
        };
        let radius_km = match self.radius_km {
            None => DEFAULT_RADIUS_KM,
            Some(_) if near.is_none() => return Err(ApiError::bad_param("radius_km", "goes with `near`")),
            Some(km) if km > 0.0 && km <= MAX_RADIUS_KM => km,
            Some(_) => {
                return Err(ApiError::bad_param("radius_km", format!("must be a number of km in 0..{MAX_RADIUS_KM}")));
            }
        };
        let bbox = match single("bbox", &self.bbox)? {
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
        let from = single("from", &self.from)?.map(|v| parse_instant("from", v, false)).transpose()?;
        let to = single("to", &self.to)?.map(|v| parse_instant("to", v, true)).transpose()?;
        if let (Some(from), Some(to)) = (from, to)
            && to <= from
        {
            return Err(ApiError::bad_param("to", "must be after `from`"));
        }
        let is_edition = |v: &str| v.parse().ok().filter(|year| (2014..=MAX_YEAR).contains(year));
        Ok(EventFilter {
            words,
            editions: parsed_list("edition", &self.edition, is_edition, "an edition's year")?,
            tracks: list("track", &self.track)?,
            formats: parsed_list("format", &self.format, EventFormat::parse, &one_of(EventFormat::ALL))?,
            modes: parsed_list("mode", &self.mode, EventMode::parse, &one_of(EventMode::ALL))?,
            audiences: parsed_list("audience", &self.audience, Audience::parse, &one_of(Audience::ALL))?,
            regions,
            departments,
            organizers: list("organizer", &self.organizer)?,
            organizer_kinds: parsed_list(
                "organizer_kind",
                &self.organizer_kind,
                OrganizerKind::parse,
                &one_of(OrganizerKind::ALL),
            )?,
            labs: list("lab", &self.lab)?,
            tags: list("tag", &self.tag)?.into_iter().map(|t| t.to_lowercase()).collect(),
            from,
            to,
            near: near.map(|(lat, lon)| (lat, lon, radius_km * 1000.0)),
            bbox,
            statuses: parsed_list("status", &self.status, EventStatus::parse, &one_of(EventStatus::ALL))?,
            publications: parsed_list("publication", &self.publication, Publication::parse, &one_of(Publication::ALL))?,
            updated_since: single("updated_since", &self.updated_since)?
                .map(|v| parse_instant("updated_since", v, false))
                .transpose()?,
            within: None,
        })
    }
}

/// A decoded cursor is still the client's input: its instant must be one PostgreSQL can hold,
/// and it must carry the key its sort needs.
fn check_cursor(sort: EventSort, key: &CursorKey) -> ApiResult<()> {
    let forged = || ApiError::bad_param("cursor", "is not a cursor this list issued");
    match (sort, key.at, key.rank) {
        (EventSort::Relevance, _, Some(rank)) if rank.is_finite() => Ok(()),
        (EventSort::Relevance, _, _) => Err(forged()),
        (_, Some(at), _) if (MIN_YEAR..=MAX_YEAR).contains(&at.year()) => Ok(()),
        _ => Err(forged()),
    }
}

/// The conditions of a filter as seen by a viewer, on `events` (which every condition names
/// in full, so that callers may join other tables).
pub fn conditions(filter: &EventFilter, viewer: Viewer) -> Sql {
    let mut sql = Sql::default();
    viewer.restrict(&mut sql);
    let texts = |values: &[&str]| values.iter().map(|v| v.to_string()).collect::<Vec<_>>();
    match filter.within {
        Some(Within::Organizer(id)) => {
            let id = sql.bind(Bind::Uuid(id));
            sql.and(format!("events.organizer_id = {id}"));
        }
        Some(Within::Lab(id)) => {
            let id = sql.bind(Bind::Uuid(id));
            sql.and(format!("events.id IN (SELECT event_id FROM event_labs WHERE lab_id = {id})"));
        }
        None => {}
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::query::parse_queries;

    fn geography() -> Geography {
        Geography::from_rows(
            vec![("53".into(), "Bretagne".into())],
            vec![("35".into(), "Ille-et-Vilaine".into(), "53".into(), vec!["35".into()])],
        )
    }

    fn request(query: &str) -> ApiResult<EventListRequest> {
        let (filter, page) = parse_queries::<EventFilterQuery, EventPageQuery>(query)?;
        page.into_request(&filter, &geography())
    }

    fn refused(query: &str) -> String {
        match request(query) {
            Err(ApiError::BadRequest { errors, .. }) => errors[0].field.clone(),
            other => panic!("{query}: not a 400: {other:?}"),
        }
    }

    #[test]
    fn every_documented_parameter_is_parsed_and_no_other() {
        let documented: Vec<String> = EventFilterQuery::into_params(|| None)
            .into_iter()
            .chain(EventPageQuery::into_params(|| None))
            .map(|p| p.name)
            .collect();
        for name in &documented {
            let value = match name.as_str() {
                "limit" => "5",
                "radius_km" => "3",
                _ => "x",
            };
            // Known names pass the parser (and may then be refused for their value, never as unknown).
            match parse_queries::<EventFilterQuery, EventPageQuery>(&format!("{name}={value}")) {
                Ok(_) => {}
                Err(error) => panic!("{name} is documented but not parsed: {error}"),
            }
        }
        assert_eq!(refused("regoin=53"), "regoin");
    }

    #[test]
    fn lists_take_commas_and_repetitions_and_mean_or() {
        let request = request("region=53&format=webinar,workshop&format=conference").unwrap();
        assert_eq!(request.filter.regions, vec!["53"]);
        assert_eq!(request.filter.formats, vec![EventFormat::Webinar, EventFormat::Workshop, EventFormat::Conference]);
    }

    #[test]
    fn each_bad_value_is_a_400_naming_its_parameter() {
        for (query, field) in [
            ("region=,,,", "region"),
            ("region=53,,35", "region"),
            ("region=99", "region"),
            ("department=999", "department"),
            ("format=Webinar", "format"),
            ("q=", "q"),
            ("q=a&q=b", "q"),
            ("limit=0", "limit"),
            ("limit=101", "limit"),
            ("to=%2B262142-12-31", "to"),
            ("from=-4714-11-24", "from"),
            ("updated_since=0001-01-01T00:00:00Z", "updated_since"),
            ("from=2021-11-15&to=2021-11-01", "to"),
            ("near=91,0", "near"),
            ("radius_km=5", "radius_km"),
            ("near=48,-1&radius_km=0", "radius_km"),
            ("bbox=1,2,3", "bbox"),
            ("sort=relevance", "sort"),
            ("facets=colour", "facets"),
            ("cursor=not-a-cursor", "cursor"),
            ("edition=1999", "edition"),
        ] {
            assert_eq!(refused(query), field, "{query}");
        }
    }

    #[test]
    fn a_forged_cursor_with_an_impossible_instant_is_a_400() {
        let forged = crate::http::pagination::encode_cursor(
            &cursor_scope(EventSort::StartsAt),
            CursorKey { at: DateTime::from_timestamp(-210_000_000_000, 0), rank: None, id: Uuid::nil() },
        );
        assert_eq!(refused(&format!("cursor={forged}")), "cursor");
    }

    #[test]
    fn the_end_of_the_last_day_that_can_be_named_does_not_overflow() {
        let to = parse_instant("to", &format!("{MAX_YEAR}-12-31"), true).unwrap();
        assert_eq!(to, paris_midnight(NaiveDate::from_ymd_opt(MAX_YEAR + 1, 1, 1).unwrap()));
    }

    #[test]
    fn a_viewer_sees_published_events_its_organizers_and_admins_see_all() {
        let (mine, theirs) = (Uuid::now_v7(), Uuid::now_v7());
        let member = Viewer { organizer: Some(mine), admin: false };
        assert!(Viewer::anonymous().sees(Publication::Published, theirs));
        assert!(!Viewer::anonymous().sees(Publication::Draft, theirs));
        assert!(member.sees(Publication::Draft, mine));
        assert!(!member.sees(Publication::Submitted, theirs));
        assert!(Viewer { organizer: None, admin: true }.sees(Publication::Rejected, theirs));
    }
}
