//! Lists of events: a page under any sort (keyset cursors), its total, and facet counts, all
//! computed by PostgreSQL under the one filter (`filter.rs`).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Float4, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::filter::{CursorKey, EventFilter, EventListRequest, EventSort, Facet, Viewer, conditions, cursor_scope};
use super::model::{Audience, EventFormat, EventMode, EventOut, EventRow, EventStatus};
use crate::db::sql::Bind;
use crate::error::{ApiError, ApiResult};
use crate::geo::repo::Geography;
use crate::organizers::model::OrganizerKind;

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
fn page_ids(conn: &mut PgConnection, request: &EventListRequest, viewer: Viewer) -> ApiResult<Vec<(Uuid, CursorKey)>> {
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
    let rows: Vec<PageRow> = sql.query(text).load(conn)?;
    Ok(rows.into_iter().map(|row| (row.id, CursorKey { at: row.at, rank: row.rank, id: row.id })).collect())
}

fn count(conn: &mut PgConnection, filter: &EventFilter, viewer: Viewer) -> ApiResult<i64> {
    let sql = conditions(filter, viewer);
    let text = format!("SELECT count(*) AS n FROM events WHERE {}", sql.where_clause());
    Ok(sql.query(text).get_result::<CountRow>(conn)?.n)
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
    let rows: Vec<FacetRow> = sql.query(text).load(conn)?;
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

/// A page of events, its total, and the facets when asked.
pub fn list(
    conn: &mut PgConnection,
    request: &EventListRequest,
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
        events::table.filter(events::id.eq_any(&wanted)).select(EventRow::as_select()).load::<EventRow>(conn)?
    };
    let mut events = super::present::present(conn, geo, rows)?;
    events.sort_by_key(|event| wanted.iter().position(|id| *id == event.id));
    Ok(EventPage { data: events, next_cursor, total, facets })
}

/// One chunk of a walk through every matching event (exports): up to `request.limit` rows in
/// the request's order, after `request.after`, and the key to continue after (`None` once the
/// walk is over). The same keyset query as a page of the list, without its total, facets or
/// presentation: a walk never counts, and never skips or repeats an event whose key is stable.
pub fn chunk(
    conn: &mut PgConnection,
    request: &EventListRequest,
    viewer: Viewer,
) -> ApiResult<(Vec<EventRow>, Option<CursorKey>)> {
    let mut ids = page_ids(conn, request, viewer)?;
    let has_more = ids.len() as i64 > request.limit;
    ids.truncate(usize::try_from(request.limit).unwrap_or(0));
    let next = if has_more { ids.last().map(|(_, key)| key.clone()) } else { None };
    let wanted: Vec<Uuid> = ids.iter().map(|(id, _)| *id).collect();
    let position: std::collections::HashMap<Uuid, usize> =
        wanted.iter().enumerate().map(|(index, id)| (*id, index)).collect();
    let mut rows = {
        use crate::schema::events;
        events::table.filter(events::id.eq_any(&wanted)).select(EventRow::as_select()).load::<EventRow>(conn)?
    };
    rows.sort_by_key(|row| position.get(&row.id).copied().unwrap_or(usize::MAX));
    Ok((rows, next))
}
