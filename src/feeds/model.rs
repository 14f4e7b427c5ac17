//! What a feed adds to the event filter (its order and size), and what every feed is made of.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::error::ApiResult;
use crate::events::filter::{EventFilter, EventFilterQuery, EventListRequest, EventPageQuery, EventSort};
use crate::events::model::EventOut;
use crate::geo::repo::Geography;
use crate::http::pagination::bounded_limit;

/// The most events one feed document holds; more are reached with `cursor` (the feed links to
/// its next page and to the API's list).
pub const MAX_FEED_EVENTS: i64 = 500;

/// What a feed adds to the filters of `GET /events`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FeedQuery {
    /// The order: `-starts_at` (latest-starting first: the default of the calendar),
    /// `-updated_at` (most recently changed first: the default of RSS, Atom and JSON Feed),
    /// `starts_at`, `updated_at`, or `relevance` with `q`.
    #[param(value_type = Option<EventSort>)]
    pub sort: Option<String>,
    /// How many events, 1 to 500 (default 500). The feed says how many matched in all and
    /// links to the next page.
    #[param(minimum = 1, maximum = 500, default = 500)]
    pub limit: Option<i64>,
    /// The next page: the cursor a feed's `next` link carries.
    pub cursor: Option<String>,
}

impl FeedQuery {
    /// The list this feed shows, in `default_sort` unless `sort` names another order.
    pub fn into_request(
        self,
        filter: &EventFilterQuery,
        geo: &Geography,
        default_sort: EventSort,
    ) -> ApiResult<EventListRequest> {
        let limit = bounded_limit(self.limit, MAX_FEED_EVENTS, MAX_FEED_EVENTS)?;
        let page = EventPageQuery {
            sort: Some(self.sort.unwrap_or_else(|| default_sort.as_str().to_string())),
            facets: Vec::new(),
            limit: None,
            cursor: self.cursor,
        };
        let mut request = page.into_request(filter, geo)?;
        request.limit = limit;
        Ok(request)
    }
}

/// One page of a feed: the events, how many matched in all, and where the rest is.
#[derive(Debug)]
pub struct Listing {
    pub events: Vec<EventOut>,
    pub total: i64,
    pub next_cursor: Option<String>,
    /// The newest change to an event the filter covers, including those that left the
    /// programme (withdrawn): so that a withdrawal moves it too.
    pub last_modified: Option<DateTime<Utc>>,
    /// What the filter selects, in French: "Mois de l'innovation publique 2021 · Bretagne".
    pub title: String,
}

/// The feed's name, from the filters people recognise (edition, region, department).
pub fn title(filter: &EventFilter, geo: &Geography) -> String {
    let years: Vec<String> = filter.editions.iter().map(i32::to_string).collect();
    let mut parts = vec![format!("Mois de l'innovation publique {}", years.join(", ")).trim_end().to_string()];
    let regions: Vec<String> =
        filter.regions.iter().map(|code| geo.region(code).map(|p| p.name).unwrap_or_else(|| code.clone())).collect();
    if !regions.is_empty() {
        parts.push(regions.join(", "));
    }
    let departments: Vec<String> = filter
        .departments
        .iter()
        .map(|code| geo.department(code).map(|p| format!("{} ({code})", p.name)).unwrap_or_else(|| code.clone()))
        .collect();
    if !departments.is_empty() {
        parts.push(departments.join(", "));
    }
    parts.join(" · ")
}
