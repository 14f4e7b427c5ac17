//! What reports answer: figures for people (codes beside labels) and for charts.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::geo::model::Place;

crate::text_enum! {
    /// A breakdown of a report: what events are counted along.
    pub enum Dimension {
        Track = "track",
        Format = "format",
        Mode = "mode",
        Audience = "audience",
        Region = "region",
        Department = "department",
        OrganizerKind = "organizer_kind",
        /// An event with two labs counts once in each lab's row.
        Lab = "lab",
        /// The most used tags (at most 20); an event counts once per tag.
        Tag = "tag",
        /// Days of the edition's month, in each event's timezone: an event counts on every day one
        /// of its sessions takes place, so an event over two days counts on both (and sessions
        /// outside the month, which the rules allow near it, on none).
        Day = "day",
        Status = "status",
        /// Only with `include=all_states`.
        Publication = "publication",
    }
}

impl Dimension {
    /// The French name of the dimension, for chart titles and CSV.
    pub fn label(self) -> &'static str {
        match self {
            Dimension::Track => "Parcours",
            Dimension::Format => "Format",
            Dimension::Mode => "Modalité",
            Dimension::Audience => "Public",
            Dimension::Region => "Région",
            Dimension::Department => "Département",
            Dimension::OrganizerKind => "Type d'organisateur",
            Dimension::Lab => "Laboratoire d'innovation territoriale",
            Dimension::Tag => "Mot-clé",
            Dimension::Day => "Jour",
            Dimension::Status => "Statut le jour J",
            Dimension::Publication => "État de publication",
        }
    }

    /// Breakdowns that everyone sees (`publication` needs `include=all_states`).
    pub const PUBLIC: &'static [Dimension] = &[
        Dimension::Track,
        Dimension::Format,
        Dimension::Mode,
        Dimension::Audience,
        Dimension::Region,
        Dimension::Department,
        Dimension::OrganizerKind,
        Dimension::Lab,
        Dimension::Tag,
        Dimension::Day,
        Dimension::Status,
    ];
}

crate::text_enum! {
    /// Which events a report counts.
    pub enum Include {
        /// Published events (the default, and all that anonymous callers get).
        Published = "published",
        /// Every event whatever its publication state, with the moderation figures: admins, and
        /// admins' API tokens with `reports:read`.
        AllStates = "all_states",
    }
}

crate::text_enum! {
    /// The CSV field separator.
    pub enum Delimiter {
        /// `,` with decimal points (RFC 4180; what scripts and most tools expect).
        Comma = "comma",
        /// `;` with decimal commas: what a spreadsheet set to French reads without an import dialog.
        Semicolon = "semicolon",
    }
}

/// What every report adds to the event filter.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// `all_states` counts events in every publication state and adds moderation figures
    /// (admins, and admins' API tokens with `reports:read`).
    #[param(value_type = Option<Include>)]
    pub include: Option<String>,
    /// CSV only: start with a UTF-8 byte order mark, which Excel needs to read accents.
    pub bom: Option<bool>,
    /// CSV only: `comma` (the default) or `semicolon`, which also writes decimal commas: what a
    /// spreadsheet set to French opens without an import dialog.
    #[param(value_type = Option<Delimiter>)]
    pub delimiter: Option<String>,
}

/// One row of a breakdown.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct BreakdownRow {
    /// What to pass to the event filter of the same name (a region's INSEE code, a format, a lab's
    /// slug; a day is `YYYY-MM-DD`); `null` for events without one (online events have no region).
    pub code: Option<String>,
    /// For people: a region's name, a format in French.
    pub label: String,
    /// Events counted in this row.
    pub events: i64,
    /// Their sessions (on this day, for `day`).
    pub sessions: i64,
    /// `events` over all the report's events, from 0 to 1 (a tag's or a lab's shares may add up
    /// to more than 1, a day's too).
    pub share: f64,
    /// Events in the same row of the previous edition (for `day`: the same day of the month);
    /// absent outside an edition report, when there is no previous edition, and for a track the
    /// previous edition did not have.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_events: Option<i64>,
    /// `events - previous_events`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub change: Option<i64>,
}

/// The main figures of a set of events.
#[derive(Debug, Clone, Default, PartialEq, Serialize, ToSchema)]
pub struct Totals {
    pub events: i64,
    pub sessions: i64,
    pub organizers: i64,
    /// Organizers with no event in any earlier edition (under the same publication scope).
    pub first_time_organizers: i64,
    /// Regions where at least one event is placed (by its venue).
    pub regions: i64,
    pub departments: i64,
    /// Labs running at least one event.
    pub labs: i64,
    pub online: i64,
    pub hybrid: i64,
    pub onsite: i64,
    /// `online / events`, from 0 to 1.
    pub share_online: f64,
    /// `hybrid / events`, from 0 to 1.
    pub share_hybrid: f64,
    pub cancelled: i64,
    pub postponed: i64,
    pub moved_online: i64,
}

/// How a figure moved from the previous edition.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Change {
    pub previous: i64,
    pub current: i64,
    /// `current - previous`.
    pub difference: i64,
    /// `difference / previous`, `null` when there was nothing before.
    pub ratio: Option<f64>,
}

/// The previous edition's totals under the same filter, and the change.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Comparison {
    pub year: i32,
    pub totals: Totals,
    pub events: Change,
    pub sessions: Change,
    pub organizers: Change,
}

/// The breakdowns of a report, each most frequent first (days in order).
#[derive(Debug, Clone, Default, PartialEq, Serialize, ToSchema)]
pub struct Breakdowns {
    pub track: Vec<BreakdownRow>,
    pub format: Vec<BreakdownRow>,
    pub mode: Vec<BreakdownRow>,
    pub audience: Vec<BreakdownRow>,
    pub region: Vec<BreakdownRow>,
    pub department: Vec<BreakdownRow>,
    pub organizer_kind: Vec<BreakdownRow>,
    pub lab: Vec<BreakdownRow>,
    pub tag: Vec<BreakdownRow>,
    pub day: Vec<BreakdownRow>,
    pub status: Vec<BreakdownRow>,
    /// With `include=all_states` only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub publication: Option<Vec<BreakdownRow>>,
}

impl Breakdowns {
    pub fn get(&self, dimension: Dimension) -> Option<&Vec<BreakdownRow>> {
        Some(match dimension {
            Dimension::Track => &self.track,
            Dimension::Format => &self.format,
            Dimension::Mode => &self.mode,
            Dimension::Audience => &self.audience,
            Dimension::Region => &self.region,
            Dimension::Department => &self.department,
            Dimension::OrganizerKind => &self.organizer_kind,
            Dimension::Lab => &self.lab,
            Dimension::Tag => &self.tag,
            Dimension::Day => &self.day,
            Dimension::Status => &self.status,
            Dimension::Publication => return self.publication.as_ref(),
        })
    }

    pub fn set(&mut self, dimension: Dimension, rows: Vec<BreakdownRow>) {
        match dimension {
            Dimension::Track => self.track = rows,
            Dimension::Format => self.format = rows,
            Dimension::Mode => self.mode = rows,
            Dimension::Audience => self.audience = rows,
            Dimension::Region => self.region = rows,
            Dimension::Department => self.department = rows,
            Dimension::OrganizerKind => self.organizer_kind = rows,
            Dimension::Lab => self.lab = rows,
            Dimension::Tag => self.tag = rows,
            Dimension::Day => self.day = rows,
            Dimension::Status => self.status = rows,
            Dimension::Publication => self.publication = Some(rows),
        }
    }
}

/// Moderation figures (`include=all_states`).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Moderation {
    /// Events waiting for a decision now.
    pub queue: i64,
    /// When the longest-waiting of them was submitted.
    pub oldest_submitted_at: Option<DateTime<Utc>>,
    /// Decisions (publications and rejections) taken on these events.
    pub decisions: i64,
    /// Median time from a submission to its decision, in hours.
    pub median_hours: Option<f64>,
    /// 90th percentile of the same, in hours.
    pub p90_hours: Option<f64>,
}

/// An edition as reports name it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct EditionRef {
    pub year: i32,
    pub title: String,
    pub theme: Option<String>,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
}

/// An edition in figures.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EditionReport {
    pub edition: EditionRef,
    /// Which events are counted.
    pub include: Include,
    pub totals: Totals,
    /// The previous edition under the same filter; `null` for the first edition.
    pub previous: Option<Comparison>,
    pub breakdowns: Breakdowns,
    /// With `include=all_states` only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub moderation: Option<Moderation>,
}

/// One breakdown of an edition, as charts and spreadsheets take it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BreakdownReport {
    pub edition: EditionRef,
    pub include: Include,
    pub dimension: Dimension,
    /// The dimension's name, in French.
    pub title: String,
    /// All the events the shares are taken of.
    pub events: i64,
    pub rows: Vec<BreakdownRow>,
}

/// One edition in the series.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct EditionFigures {
    pub year: i32,
    pub title: String,
    pub theme: Option<String>,
    #[serde(flatten)]
    pub totals: Totals,
}

/// Every edition, oldest first, under the same filter.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EditionSeries {
    pub include: Include,
    pub data: Vec<EditionFigures>,
}

/// A lab's figures.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct LabFigures {
    pub slug: String,
    pub name: String,
    pub region: Place,
    pub active: bool,
    pub events: i64,
    pub sessions: i64,
    pub organizers: i64,
    /// The lab's own yearly figures (projects, trainings) when the report covers one edition.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub projects_led: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub projects_supported: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trainings: Option<i32>,
}

/// Every lab (those without events too, when active), most events first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LabsReport {
    pub include: Include,
    /// The editions covered: those of the `edition` filter, or every edition.
    pub editions: Vec<i32>,
    pub data: Vec<LabFigures>,
}

/// An organizer's figures in a region's report.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct OrganizerFigures {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
    pub kind: crate::organizers::model::OrganizerKind,
    pub events: i64,
    pub sessions: i64,
}

/// A region's month: its figures, its labs, its organizers.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RegionReport {
    pub region: Place,
    pub include: Include,
    pub editions: Vec<i32>,
    pub totals: Totals,
    pub breakdowns: Breakdowns,
    /// The labs of the region, with the region's events they run.
    pub labs: Vec<LabFigures>,
    /// Organizers of the region's events, most events first.
    pub organizers: Vec<OrganizerFigures>,
}
