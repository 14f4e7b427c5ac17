//! Reading a feed's events: the one event list (`events::search`) as the public sees it.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Nullable, Timestamptz};

use super::model::{Listing, title};
use super::wording::cleaned;
use crate::error::ApiResult;
use crate::events::filter::{EventFilter, EventListRequest, Viewer, conditions};
use crate::events::model::Publication;
use crate::events::search;
use crate::geo::repo::Geography;

#[derive(QueryableByName)]
struct Newest {
    #[diesel(sql_type = Nullable<Timestamptz>)]
    at: Option<DateTime<Utc>>,
}

/// The newest change among the events the filter covers that are or were public: an event
/// withdrawn since is counted, so that the feed it left is newer too.
fn last_change(conn: &mut PgConnection, request: &EventListRequest) -> ApiResult<Option<DateTime<Utc>>> {
    let mut filter = request.filter.clone();
    filter.publications = vec![Publication::Published, Publication::Withdrawn];
    let sql = conditions(&filter, Viewer { organizer: None, admin: true });
    let text = format!("SELECT max(events.updated_at) AS at FROM events WHERE {}", sql.where_clause());
    Ok(sql.query(text).get_result::<Newest>(conn)?.at)
}

/// A feed's page: published events only, whoever asks (feeds are public documents that
/// caches share).
pub fn load(conn: &mut PgConnection, geo: &Geography, request: &EventListRequest) -> ApiResult<Listing> {
    let page = search::list(conn, request, Viewer::anonymous(), geo)?;
    let last_modified = last_change(conn, request)?;
    Ok(Listing {
        events: page.data.into_iter().map(cleaned).collect(),
        total: page.total,
        next_cursor: page.next_cursor,
        last_modified,
        title: title(&request.filter, geo),
    })
}

#[derive(QueryableByName)]
struct Year {
    #[diesel(sql_type = Nullable<diesel::sql_types::Integer>)]
    year: Option<i32>,
}

/// The latest edition with a published event under the filter (for lists that show one
/// edition unless told otherwise, such as the embed).
pub fn latest_edition(conn: &mut PgConnection, filter: &EventFilter) -> ApiResult<Option<i32>> {
    let sql = conditions(filter, Viewer::anonymous());
    let text = format!("SELECT max(events.edition_year) AS year FROM events WHERE {}", sql.where_clause());
    Ok(sql.query(text).get_result::<Year>(conn)?.year)
}
