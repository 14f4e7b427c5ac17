//! Each report: the figures it needs, assembled. Every function takes the shared event filter as
//! parsed from the query, and which events to count.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::assemble::{Group, Labels, breakdown, change};
use super::figures::{self, FigureRow, Grouping, LabRow};
use super::model::{
    BreakdownReport, Breakdowns, Comparison, Dimension, EditionFigures, EditionRef, EditionReport, EditionSeries,
    Include, LabFigures, LabsReport, OrganizerFigures, RegionReport,
};
use crate::editions::model::EditionRow;
use crate::error::{ApiError, ApiResult};
use crate::events::filter::EventFilter;
use crate::geo::repo::Geography;
use crate::organizers::model::OrganizerKind;
use crate::schema::editions;

/// Which events a report counts: the shared filter, and the publication scope.
#[derive(Debug, Clone)]
pub struct Scope {
    pub filter: EventFilter,
    pub include: Include,
}

/// A report and the time its newest event changed (for `Last-Modified`).
pub struct Dated<T> {
    pub report: T,
    pub last_modified: Option<DateTime<Utc>>,
}

fn newest(rows: &[FigureRow]) -> Option<DateTime<Utc>> {
    rows.iter().filter_map(|row| row.updated_at).max()
}

fn edition_ref(row: &EditionRow) -> EditionRef {
    EditionRef {
        year: row.year,
        title: row.title.clone(),
        theme: row.theme.clone(),
        starts_on: row.starts_on,
        ends_on: row.ends_on,
    }
}

/// An edition and the one before it, if any.
fn edition_and_previous(conn: &mut PgConnection, year: i32) -> ApiResult<(EditionRow, Option<i32>)> {
    let edition = crate::editions::repo::find_row(conn, year)?;
    let previous: Option<i32> =
        editions::table.filter(editions::year.lt(year)).select(diesel::dsl::max(editions::year)).first(conn)?;
    Ok((edition, previous))
}

/// The edition before `year` to compare with, unless the filter names dates: dates are absolute
/// (`from=2021-11-15`), so the same filter would find nothing in the edition before and every
/// change would read as a rise from zero.
fn comparable(previous: Option<i32>, filter: &EventFilter) -> Option<i32> {
    let dated = filter.from.is_some() || filter.to.is_some() || filter.updated_since.is_some();
    previous.filter(|_| !dated)
}

/// The edition's own filter: `edition` comes from the path, never also from the query.
fn for_editions(scope: &Scope, years: Vec<i32>) -> ApiResult<EventFilter> {
    if !scope.filter.editions.is_empty() {
        return Err(ApiError::bad_param("edition", "is given by the path of this report"));
    }
    Ok(EventFilter { editions: years, ..scope.filter.clone() })
}

fn dimensions_for(include: Include) -> Vec<Dimension> {
    let mut dimensions = Dimension::PUBLIC.to_vec();
    if include == Include::AllStates {
        dimensions.push(Dimension::Publication);
    }
    dimensions
}

pub fn edition_report(
    conn: &mut PgConnection,
    geo: &Geography,
    scope: &Scope,
    year: i32,
) -> ApiResult<Dated<EditionReport>> {
    let (edition, previous_year) = edition_and_previous(conn, year)?;
    let previous_year = comparable(previous_year, &scope.filter);
    let filter = for_editions(scope, previous_year.into_iter().chain([year]).collect())?;
    let dimensions = dimensions_for(scope.include);
    let rows = figures::figures(conn, &filter, scope.include, Grouping::ByEdition, &dimensions, year)?;
    let current = Group::of(&rows, year);
    let previous = previous_year.map(|y| (y, Group::of(&rows, y)));
    let totals = current.totals();
    let labels = Labels { geo };
    let mut breakdowns = Breakdowns::default();
    for dimension in dimensions {
        let rows = breakdown(&labels, dimension, &current, previous.as_ref().map(|(_, g)| g), totals.events);
        breakdowns.set(dimension, rows);
    }
    let previous = previous.map(|(year, group)| {
        let before = group.totals();
        Comparison {
            year,
            events: change(before.events, totals.events),
            sessions: change(before.sessions, totals.sessions),
            organizers: change(before.organizers, totals.organizers),
            totals: before,
        }
    });
    let moderation = match scope.include {
        Include::AllStates => Some(figures::moderation(conn, &EventFilter { editions: vec![year], ..filter.clone() })?),
        Include::Published => None,
    };
    let report = EditionReport {
        edition: edition_ref(&edition),
        include: scope.include,
        totals,
        previous,
        breakdowns,
        moderation,
    };
    Ok(Dated { report, last_modified: newest(&rows) })
}

pub fn breakdown_report(
    conn: &mut PgConnection,
    geo: &Geography,
    scope: &Scope,
    year: i32,
    dimension: Dimension,
) -> ApiResult<Dated<BreakdownReport>> {
    let (edition, previous_year) = edition_and_previous(conn, year)?;
    let previous_year = comparable(previous_year, &scope.filter);
    let filter = for_editions(scope, previous_year.into_iter().chain([year]).collect())?;
    let rows = figures::figures(conn, &filter, scope.include, Grouping::ByEdition, &[dimension], year)?;
    let current = Group::of(&rows, year);
    let previous = previous_year.map(|y| Group::of(&rows, y));
    let events = current.totals().events;
    let report = BreakdownReport {
        edition: edition_ref(&edition),
        include: scope.include,
        dimension,
        title: dimension.label().to_string(),
        events,
        rows: breakdown(&Labels { geo }, dimension, &current, previous.as_ref(), events),
    };
    Ok(Dated { report, last_modified: newest(&rows) })
}

/// Every edition (or those of the `edition` filter), oldest first, with zeros where nothing matched.
pub fn series(conn: &mut PgConnection, scope: &Scope) -> ApiResult<Dated<EditionSeries>> {
    let mut editions: Vec<EditionRow> =
        editions::table.order(editions::year).select(EditionRow::as_select()).load(conn)?;
    if !scope.filter.editions.is_empty() {
        editions.retain(|e| scope.filter.editions.contains(&e.year));
    }
    let dimensions = [Dimension::Mode, Dimension::Status, Dimension::Region, Dimension::Department, Dimension::Lab];
    let rows = figures::figures(conn, &scope.filter, scope.include, Grouping::ByEdition, &dimensions, 0)?;
    let data = editions
        .iter()
        .map(|edition| EditionFigures {
            year: edition.year,
            title: edition.title.clone(),
            theme: edition.theme.clone(),
            totals: Group::of(&rows, edition.year).totals(),
        })
        .collect();
    Ok(Dated { report: EditionSeries { include: scope.include, data }, last_modified: newest(&rows) })
}

fn lab_out(geo: &Geography, row: LabRow) -> LabFigures {
    LabFigures {
        region: geo.region(&row.region_code).unwrap_or_else(|| crate::geo::model::Place {
            code: row.region_code.clone(),
            name: row.region_code.clone(),
        }),
        slug: row.slug,
        name: row.name,
        active: row.active,
        events: row.events,
        sessions: row.sessions,
        organizers: row.organizers,
        projects_led: row.projects_led,
        projects_supported: row.projects_supported,
        trainings: row.trainings,
    }
}

/// The editions a report covers: those of the filter, or every edition.
fn covered(conn: &mut PgConnection, filter: &EventFilter) -> ApiResult<Vec<i32>> {
    if !filter.editions.is_empty() {
        let mut years = filter.editions.clone();
        years.sort_unstable();
        years.dedup();
        return Ok(years);
    }
    Ok(editions::table.order(editions::year).select(editions::year).load(conn)?)
}

/// A lab's own figures are yearly: they come with a report on exactly one edition.
fn single_edition(filter: &EventFilter) -> Option<i32> {
    match filter.editions.as_slice() {
        [year] => Some(*year),
        _ => None,
    }
}

pub fn labs_report(conn: &mut PgConnection, geo: &Geography, scope: &Scope) -> ApiResult<Dated<LabsReport>> {
    let rows = figures::lab_figures(conn, &scope.filter, scope.include, None, single_edition(&scope.filter))?;
    let last_modified = rows.iter().filter_map(|row| row.updated_at).max();
    let report = LabsReport {
        include: scope.include,
        editions: covered(conn, &scope.filter)?,
        data: rows.into_iter().map(|row| lab_out(geo, row)).collect(),
    };
    Ok(Dated { report, last_modified })
}

pub fn region_report(
    conn: &mut PgConnection,
    geo: &Geography,
    scope: &Scope,
    code: &str,
) -> ApiResult<Dated<RegionReport>> {
    let region = geo.region(code).ok_or_else(|| ApiError::NotFound(format!("region `{code}`")))?;
    if !scope.filter.regions.is_empty() {
        return Err(ApiError::bad_param("region", "is given by the path of this report"));
    }
    let filter = EventFilter { regions: vec![region.code.clone()], ..scope.filter.clone() };
    let dimensions = dimensions_for(scope.include);
    let rows = figures::figures(conn, &filter, scope.include, Grouping::Together, &dimensions, 0)?;
    let group = Group::of(&rows, 0);
    let totals = group.totals();
    let labels = Labels { geo };
    let mut breakdowns = Breakdowns::default();
    for dimension in dimensions {
        breakdowns.set(dimension, breakdown(&labels, dimension, &group, None, totals.events));
    }
    let labs = figures::lab_figures(conn, &filter, scope.include, Some(&region.code), single_edition(&filter))?;
    let organizers = figures::organizer_figures(conn, &filter, scope.include)?
        .into_iter()
        .map(|row| OrganizerFigures {
            id: row.id,
            slug: row.slug,
            name: row.name,
            kind: OrganizerKind::parse(&row.kind).unwrap_or(OrganizerKind::Other),
            events: row.events,
            sessions: row.sessions,
        })
        .collect();
    let report = RegionReport {
        region,
        include: scope.include,
        editions: covered(conn, &filter)?,
        totals,
        breakdowns,
        labs: labs.into_iter().map(|row| lab_out(geo, row)).collect(),
        organizers,
    };
    Ok(Dated { report, last_modified: newest(&rows) })
}
