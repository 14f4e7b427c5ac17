//! The figures of a set of events, computed by PostgreSQL in one statement: the events the
//! shared filter matches are read once (a materialized CTE), then counted along every dimension
//! asked for with `GROUPING SETS` and a few grouped branches (labs, tags, days, first-time
//! organizers). Nothing is counted in Rust; rows come back already grouped.

use chrono::{DateTime, Utc};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Double, Int4, Nullable, Text, Timestamptz};

use super::model::{Dimension, Include};
use crate::db::sql::{Bind, Sql};
use crate::error::ApiResult;
use crate::events::filter::{EventFilter, Viewer, conditions};

/// The most used tags a report lists.
pub const TOP_TAGS: i64 = 20;

/// How the matched events are split before counting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grouping {
    /// All together (key 0).
    Together,
    /// One group per edition (key: the year), for comparisons and series.
    ByEdition,
}

/// One grouped count. `dimension` is a [`Dimension`] (events and sessions per value), `total`
/// (events, sessions and the newest change), or `organizers` (distinct organizers in `events`,
/// first-time organizers among them in `organizers`).
#[derive(Debug, Clone, QueryableByName)]
pub struct FigureRow {
    #[diesel(sql_type = Int4)]
    pub key: i32,
    #[diesel(sql_type = Text)]
    pub dimension: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub code: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub label: Option<String>,
    #[diesel(sql_type = BigInt)]
    pub events: i64,
    #[diesel(sql_type = BigInt)]
    pub sessions: i64,
    #[diesel(sql_type = BigInt)]
    pub organizers: i64,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub updated_at: Option<DateTime<Utc>>,
}

/// Runs a report's statements in one read-only snapshot, so that all its figures count the same
/// events. Without JIT: PostgreSQL would compile these one-off grouped statements to machine
/// code each time (2.3 s of a 2.9 s edition report on the 100k benchmark set, against a few
/// milliseconds saved); with enough sort memory for the grouping sets to sort in memory.
pub fn in_snapshot<T>(conn: &mut PgConnection, work: impl FnOnce(&mut PgConnection) -> ApiResult<T>) -> ApiResult<T> {
    conn.build_transaction().read_only().repeatable_read().run(|conn| {
        conn.batch_execute("SET LOCAL jit = off; SET LOCAL work_mem = '32MB'")?;
        work(conn)
    })
}

/// Who a report counts for: published events, or every event (`include=all_states`).
pub fn viewer(include: Include) -> Viewer {
    match include {
        Include::Published => Viewer::anonymous(),
        Include::AllStates => Viewer { organizer: None, admin: true },
    }
}

/// A column of `matched` (alias `m`) or a joined table, per grouped dimension.
fn grouped_expression(dimension: Dimension) -> Option<&'static str> {
    Some(match dimension {
        Dimension::Track => "t.slug",
        Dimension::Format => "m.format",
        Dimension::Mode => "m.mode",
        Dimension::Audience => "m.audience",
        Dimension::Region => "m.region_code",
        Dimension::Department => "m.department_code",
        Dimension::OrganizerKind => "o.kind",
        Dimension::Status => "m.status",
        Dimension::Publication => "m.publication",
        Dimension::Lab | Dimension::Tag | Dimension::Day => return None,
    })
}

/// The counts of the events `filter` matches for `include`, split by `grouping`, along
/// `dimensions` (plus the totals and the organizers, always). `top_tags_of` is the
/// group whose most used tags are listed (the other groups give those tags' counts).
pub fn figures(
    conn: &mut PgConnection,
    filter: &EventFilter,
    include: Include,
    grouping: Grouping,
    dimensions: &[Dimension],
    top_tags_of: i32,
) -> ApiResult<Vec<FigureRow>> {
    let mut sql = conditions(filter, viewer(include));
    let key = match grouping {
        Grouping::Together => "0",
        Grouping::ByEdition => "events.edition_year",
    };
    let mut branches = vec![grouped_branch(dimensions), organizers_branch(include)];
    if dimensions.contains(&Dimension::Lab) {
        branches.push(
            "SELECT m.key, 'lab', labs.slug, labs.name, count(*), sum(m.sessions)::bigint, 0::bigint, \
             NULL::timestamptz \
             FROM matched m JOIN event_labs ON event_labs.event_id = m.id JOIN labs ON labs.id = event_labs.lab_id \
             GROUP BY m.key, labs.slug, labs.name"
                .to_string(),
        );
    }
    let mut with = matched(&sql, key);
    if dimensions.contains(&Dimension::Tag) {
        let top = sql.bind(Bind::Int(top_tags_of));
        with.push_str(
            ",\ntag_counts AS (SELECT m.key, tag, count(*) AS events, sum(m.sessions)::bigint AS sessions \
             FROM matched m CROSS JOIN LATERAL unnest(m.tags) AS tag WHERE tag IS NOT NULL GROUP BY m.key, tag)",
        );
        branches.push(format!(
            "SELECT key, 'tag', tag, NULL::text, events, sessions, 0::bigint, NULL::timestamptz FROM tag_counts \
             WHERE tag IN (SELECT tag FROM tag_counts WHERE key = {top} ORDER BY events DESC, tag LIMIT {TOP_TAGS})"
        ));
    }
    if dimensions.contains(&Dimension::Day) {
        let overlap = match (filter.from, filter.to) {
            (None, None) => String::new(),
            (from, to) => {
                let (from, to) = (sql.bind(Bind::At(from)), sql.bind(Bind::At(to)));
                format!(" AND tstzrange(s.starts_at, s.ends_at) && tstzrange({from}, {to})")
            }
        };
        with.push_str(&session_days(&overlap));
        branches.push(DAY_BRANCH.to_string());
    }
    let text = format!("{with}\n{}", branches.join("\nUNION ALL\n"));
    tracing::debug!(sql = %text, "report figures query");
    Ok(sql.query(text).load(conn)?)
}

/// Each session of the matched events with its first and last local day (in the event's own
/// timezone; a session ending at midnight does not touch the next day) and its edition's month.
/// An event with one session is its own session: only series are read from `event_sessions`,
/// and of a series only the sessions within `from`/`to` when the filter has them (the filter
/// keeps an event with one session there; its other days are not the window's).
fn session_days(overlap: &str) -> String {
    format!(
        ",\n\
session_days AS (\n\
  SELECT s.key, s.id, s.organizer_id, ed.starts_on, ed.ends_on, \
         (s.starts_at AT TIME ZONE s.timezone)::date AS first_day, \
         ((s.ends_at - interval '1 microsecond') AT TIME ZONE s.timezone)::date AS last_day \
  FROM (SELECT m.key, m.id, m.organizer_id, m.edition_year, m.timezone, m.starts_at, m.ends_at \
        FROM matched m WHERE m.sessions = 1 \
        UNION ALL \
        SELECT m.key, m.id, m.organizer_id, m.edition_year, m.timezone, s.starts_at, s.ends_at \
        FROM matched m JOIN event_sessions s ON s.event_id = m.id WHERE m.sessions <> 1{overlap}) s \
  JOIN editions ed ON ed.year = s.edition_year\n\
)"
    )
}

/// Per day of the month, the events taking place and their sessions: a session within one day
/// counts on it (the common case, without a set-returning function per row); one over several
/// days counts on each day of the month it touches.
const DAY_BRANCH: &str = "SELECT key, 'day', to_char(day, 'YYYY-MM-DD'), NULL::text, count(DISTINCT id), count(*), \
     0::bigint, NULL::timestamptz \
     FROM (SELECT key, id, organizer_id, first_day AS day FROM session_days \
           WHERE first_day = last_day AND first_day BETWEEN starts_on AND ends_on \
           UNION ALL \
           SELECT key, id, organizer_id, day::date FROM session_days \
           CROSS JOIN LATERAL generate_series(greatest(first_day, starts_on), least(last_day, ends_on), interval '1 day') AS day \
           WHERE first_day <> last_day) days \
     GROUP BY key, day";

/// The events a report counts, read once: `matched`, with the grouping key.
fn matched(sql: &Sql, key: &str) -> String {
    format!(
        "WITH matched AS MATERIALIZED (\n\
           SELECT {key} AS key, events.id, events.edition_year, events.organizer_id, events.format, events.mode, \
                  events.audience, events.region_code, events.department_code, events.status, events.publication, \
                  events.track_id, events.tags, events.timezone, events.updated_at, events.submitted_at, \
                  events.starts_at, events.ends_at, events.session_count AS sessions\n\
           FROM events\n\
           WHERE {}\n\
         )",
        sql.where_clause()
    )
}

/// Totals and every dimension that is a column, in one `GROUPING SETS` scan. No distinct count
/// here: it would make PostgreSQL sort the events once per set instead of hashing them all in
/// one pass (a third of an edition report's time on the 100k benchmark set).
fn grouped_branch(dimensions: &[Dimension]) -> String {
    let grouped: Vec<(Dimension, &str)> =
        dimensions.iter().filter_map(|d| grouped_expression(*d).map(|expression| (*d, expression))).collect();
    let which: String = grouped
        .iter()
        .map(|(d, expression)| format!(" WHEN GROUPING({expression}) = 0 THEN '{}'", d.as_str()))
        .collect();
    let code: String =
        grouped.iter().map(|(_, expression)| format!(" WHEN GROUPING({expression}) = 0 THEN {expression}")).collect();
    let sets: String = grouped.iter().map(|(_, expression)| format!(", (m.key, {expression})")).collect();
    let with_tracks = dimensions.contains(&Dimension::Track);
    let label = if with_tracks { "CASE WHEN GROUPING(t.slug) = 0 THEN max(t.name) END" } else { "NULL::text" };
    let tracks = if with_tracks { " LEFT JOIN tracks t ON t.id = m.track_id" } else { "" };
    let organizers =
        if dimensions.contains(&Dimension::OrganizerKind) { " JOIN organizers o ON o.id = m.organizer_id" } else { "" };
    let code = if code.is_empty() { "NULL::text".to_string() } else { format!("CASE{code} END") };
    let which =
        if which.is_empty() { "'total'::text".to_string() } else { format!("CASE{which} ELSE 'total' END::text") };
    format!(
        "SELECT m.key AS key, {which} AS dimension, {code} AS code, {label} AS label, \
         count(*) AS events, coalesce(sum(m.sessions), 0)::bigint AS sessions, \
         0::bigint AS organizers, max(m.updated_at) AS updated_at \
         FROM matched m{tracks}{organizers} \
         GROUP BY GROUPING SETS ((m.key){sets})"
    )
}

/// The distinct organizers of each group, and how many are there for the first time: their
/// first event in the group is in their first edition ever, with no event (under the same
/// publication scope) in any edition before (an index probe per organizer).
fn organizers_branch(include: Include) -> String {
    let visible = match include {
        Include::Published => " AND earlier.publication = 'published'",
        Include::AllStates => "",
    };
    format!(
        "SELECT firsts.key, 'organizers', NULL::text, NULL::text, count(*), 0::bigint, \
         count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM events earlier \
                                            WHERE earlier.organizer_id = firsts.organizer_id \
                                              AND earlier.edition_year < firsts.first_here{visible})), \
         NULL::timestamptz \
         FROM (SELECT key, organizer_id, min(edition_year) AS first_here FROM matched GROUP BY key, organizer_id) firsts \
         GROUP BY firsts.key"
    )
}

#[derive(QueryableByName)]
struct ModerationRow {
    #[diesel(sql_type = BigInt)]
    queue: i64,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    oldest_submitted_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = BigInt)]
    decisions: i64,
    #[diesel(sql_type = Nullable<Double>)]
    median_hours: Option<f64>,
    #[diesel(sql_type = Nullable<Double>)]
    p90_hours: Option<f64>,
}

/// The moderation queue of the events `filter` matches (in every state), and how long their
/// decisions took: from each entry into moderation (a submission, or a change sent back to
/// review) to the publication or rejection that ended it, read from the events' history.
pub fn moderation(conn: &mut PgConnection, filter: &EventFilter) -> ApiResult<super::model::Moderation> {
    let sql: Sql = conditions(filter, viewer(Include::AllStates));
    let text = format!(
        "{},\n\
         decisions AS (\n\
           SELECT h.at - (SELECT max(entry.at) FROM event_history entry \
                          WHERE entry.event_id = h.event_id AND entry.id < h.id \
                            AND entry.publication_after = 'submitted' \
                            AND entry.publication_before IS DISTINCT FROM 'submitted') AS waited\n\
           FROM event_history h\n\
           WHERE h.event_id IN (SELECT id FROM matched) AND h.publication_before = 'submitted' \
             AND h.publication_after IN ('published', 'rejected')\n\
         )\n\
         SELECT (SELECT count(*) FROM matched WHERE publication = 'submitted') AS queue,\n\
                (SELECT min(submitted_at) FROM matched WHERE publication = 'submitted') AS oldest_submitted_at,\n\
                count(waited) AS decisions,\n\
                percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM waited) / 3600) AS median_hours,\n\
                percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM waited) / 3600) AS p90_hours\n\
         FROM decisions WHERE waited IS NOT NULL",
        matched(&sql, "0")
    );
    let row: ModerationRow = sql.query(text).get_result(conn)?;
    let round = |hours: Option<f64>| hours.map(|h| (h * 100.0).round() / 100.0);
    Ok(super::model::Moderation {
        queue: row.queue,
        oldest_submitted_at: row.oldest_submitted_at,
        decisions: row.decisions,
        median_hours: round(row.median_hours),
        p90_hours: round(row.p90_hours),
    })
}

#[derive(Debug, QueryableByName)]
pub struct LabRow {
    #[diesel(sql_type = Text)]
    pub slug: String,
    #[diesel(sql_type = Text)]
    pub name: String,
    #[diesel(sql_type = Text)]
    pub region_code: String,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    pub active: bool,
    #[diesel(sql_type = BigInt)]
    pub events: i64,
    #[diesel(sql_type = BigInt)]
    pub sessions: i64,
    #[diesel(sql_type = BigInt)]
    pub organizers: i64,
    #[diesel(sql_type = Nullable<Int4>)]
    pub projects_led: Option<i32>,
    #[diesel(sql_type = Nullable<Int4>)]
    pub projects_supported: Option<i32>,
    #[diesel(sql_type = Nullable<Int4>)]
    pub trainings: Option<i32>,
    /// When the newest of its counted events changed.
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub updated_at: Option<DateTime<Utc>>,
}

/// Per lab (of `region`, or all), the matched events it runs; active labs without any are listed
/// too, and with `figures_of` the lab's own figures of that year. A `lab` filter narrows the
/// labs listed as well as the events.
pub fn lab_figures(
    conn: &mut PgConnection,
    filter: &EventFilter,
    include: Include,
    region: Option<&str>,
    figures_of: Option<i32>,
) -> ApiResult<Vec<LabRow>> {
    let mut sql = conditions(filter, viewer(include));
    let year = sql.bind(Bind::Int(figures_of.unwrap_or(0)));
    let mut listed = String::from("TRUE");
    if let Some(region) = region {
        listed = format!("labs.region_code = {}", sql.bind(Bind::Text(region.to_string())));
    }
    if !filter.labs.is_empty() {
        listed = format!("{listed} AND labs.slug = ANY({})", sql.bind(Bind::Texts(filter.labs.clone())));
    }
    let text = format!(
        "{}\n\
         SELECT labs.slug, labs.name, labs.region_code, labs.active, count(m.id) AS events, \
                coalesce(sum(m.sessions), 0)::bigint AS sessions, count(DISTINCT m.organizer_id) AS organizers, \
                f.projects_led, f.projects_supported, f.trainings, max(m.updated_at) AS updated_at\n\
         FROM labs\n\
         LEFT JOIN (event_labs JOIN matched m ON m.id = event_labs.event_id) ON event_labs.lab_id = labs.id\n\
         LEFT JOIN lab_figures f ON f.lab_id = labs.id AND f.year = {year}\n\
         WHERE {listed}\n\
         GROUP BY labs.id, f.projects_led, f.projects_supported, f.trainings\n\
         HAVING labs.active OR count(m.id) > 0\n\
         ORDER BY events DESC, labs.name",
        matched(&sql, "0")
    );
    Ok(sql.query(text).load(conn)?)
}

#[derive(Debug, QueryableByName)]
pub struct OrganizerRow {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    pub id: uuid::Uuid,
    #[diesel(sql_type = Text)]
    pub slug: String,
    #[diesel(sql_type = Text)]
    pub name: String,
    #[diesel(sql_type = Text)]
    pub kind: String,
    #[diesel(sql_type = BigInt)]
    pub events: i64,
    #[diesel(sql_type = BigInt)]
    pub sessions: i64,
}

/// The organizers of the matched events, most events first.
pub fn organizer_figures(
    conn: &mut PgConnection,
    filter: &EventFilter,
    include: Include,
) -> ApiResult<Vec<OrganizerRow>> {
    let sql = conditions(filter, viewer(include));
    let text = format!(
        "{}\n\
         SELECT o.id, o.slug, o.name, o.kind, count(*) AS events, sum(m.sessions)::bigint AS sessions\n\
         FROM matched m JOIN organizers o ON o.id = m.organizer_id\n\
         GROUP BY o.id ORDER BY events DESC, o.name",
        matched(&sql, "0")
    );
    Ok(sql.query(text).load(conn)?)
}
