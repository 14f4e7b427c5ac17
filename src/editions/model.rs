use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};
use chrono_tz::Europe::Paris;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use crate::error::FieldError;
use crate::http::fields::{MAX_YEAR, MIN_YEAR, check_nullable_length, nullable, validate_slug};
use crate::schema::{editions, tracks};

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = editions, primary_key(year))]
pub struct EditionRow {
    pub year: i32,
    pub number: i32,
    pub title: String,
    pub theme: Option<String>,
    pub description: Option<String>,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub referencing_opens_at: DateTime<Utc>,
    pub referencing_closes_at: DateTime<Utc>,
    pub changes_require_review: bool,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = tracks)]
pub struct TrackRow {
    pub id: Uuid,
    pub edition_year: i32,
    pub slug: String,
    pub name: String,
    pub description: Option<String>,
    pub position: i32,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Where an edition stands, derived from the clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Referencing has not opened yet.
    Upcoming,
    /// Referencing is open and the month has not started.
    Referencing,
    /// The month is under way.
    Running,
    /// The month is over.
    Closed,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Upcoming => "upcoming",
            Phase::Referencing => "referencing",
            Phase::Running => "running",
            Phase::Closed => "closed",
        }
    }
}

/// Midnight in Paris at the start of `day`: editions are French calendar days.
/// The next day; dates are bounded on input (`http::fields::MAX_YEAR`), and this cannot panic
/// even on a date that was not.
pub fn day_after(day: NaiveDate) -> NaiveDate {
    day.succ_opt().unwrap_or(day)
}

pub fn paris_midnight(day: NaiveDate) -> DateTime<Utc> {
    let midnight = day.and_hms_opt(0, 0, 0).unwrap_or_default();
    Paris.from_local_datetime(&midnight).earliest().map(|t| t.with_timezone(&Utc)).unwrap_or_else(|| midnight.and_utc())
}

impl EditionRow {
    /// The edition's period as instants: from its first day's start to its last day's end.
    pub fn period(&self) -> (DateTime<Utc>, DateTime<Utc>) {
        (paris_midnight(self.starts_on), paris_midnight(day_after(self.ends_on)))
    }

    pub fn referencing_open_at(&self, now: DateTime<Utc>) -> bool {
        self.referencing_opens_at <= now && now < self.referencing_closes_at
    }

    /// The latest instant, up to `now`, at which the clock changed the edition's `phase` or
    /// `referencing_open`; `None` while no boundary has passed.
    pub fn last_clock_change(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let (starts, ends) = self.period();
        [self.referencing_opens_at, self.referencing_closes_at, starts, ends].into_iter().filter(|at| *at <= now).max()
    }

    pub fn phase_at(&self, now: DateTime<Utc>) -> Phase {
        let (starts, ends) = self.period();
        if now >= ends {
            Phase::Closed
        } else if now >= starts {
            Phase::Running
        } else if self.referencing_open_at(now) {
            Phase::Referencing
        } else {
            Phase::Upcoming
        }
    }
}

/// A track (parcours) of an edition.
#[derive(Debug, Serialize, ToSchema)]
pub struct TrackOut {
    #[schema(example = "experience-usager")]
    pub slug: String,
    pub name: String,
    pub description: Option<String>,
    /// Order in the programme, smallest first.
    pub position: i32,
    pub version: i32,
}

impl From<TrackRow> for TrackOut {
    fn from(row: TrackRow) -> Self {
        TrackOut {
            slug: row.slug,
            name: row.name,
            description: row.description,
            position: row.position,
            version: row.version,
        }
    }
}

/// An edition of the Mois de l'innovation publique.
#[derive(Debug, Serialize, ToSchema)]
pub struct EditionOut {
    #[schema(example = 2021)]
    pub year: i32,
    /// Its rank in the series (7 for 2020).
    #[schema(example = 8)]
    pub number: i32,
    pub title: String,
    pub theme: Option<String>,
    pub description: Option<String>,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub referencing_opens_at: DateTime<Utc>,
    pub referencing_closes_at: DateTime<Utc>,
    /// Whether organizers may submit events now.
    pub referencing_open: bool,
    pub phase: Phase,
    /// Whether a change to a published event sends it back to moderation.
    pub changes_require_review: bool,
    pub tracks: Vec<TrackOut>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// When this representation last changed: the row's last update or, if later, the last
    /// time the clock moved `phase` or `referencing_open`. Sent as `Last-Modified`.
    #[serde(skip)]
    pub changed_at: DateTime<Utc>,
}

impl EditionOut {
    pub fn new(row: EditionRow, tracks: Vec<TrackRow>, now: DateTime<Utc>) -> Self {
        EditionOut {
            changed_at: row.last_clock_change(now).map_or(row.updated_at, |at| at.max(row.updated_at)),
            phase: row.phase_at(now),
            referencing_open: row.referencing_open_at(now),
            year: row.year,
            number: row.number,
            title: row.title,
            theme: row.theme,
            description: row.description,
            starts_on: row.starts_on,
            ends_on: row.ends_on,
            referencing_opens_at: row.referencing_opens_at,
            referencing_closes_at: row.referencing_closes_at,
            changes_require_review: row.changes_require_review,
            tracks: tracks.into_iter().map(TrackOut::from).collect(),
            version: row.version,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

/// A new edition.
#[derive(Debug, Deserialize, Validate, ToSchema, Insertable)]
#[diesel(table_name = editions)]
#[serde(deny_unknown_fields)]
pub struct EditionForm {
    #[validate(range(min = 2014, max = 2100))]
    #[schema(minimum = 2014, maximum = 2100)]
    #[schema(example = 2026)]
    pub year: i32,
    #[validate(range(min = 1, max = 200))]
    #[schema(minimum = 1, maximum = 200)]
    #[schema(example = 13)]
    pub number: i32,
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub title: String,
    #[validate(length(max = 200))]
    #[schema(max_length = 200)]
    pub theme: Option<String>,
    #[validate(length(max = 10000))]
    #[schema(max_length = 10000)]
    pub description: Option<String>,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub referencing_opens_at: DateTime<Utc>,
    pub referencing_closes_at: DateTime<Utc>,
    #[serde(default)]
    pub changes_require_review: bool,
}

/// Changes to an edition; absent fields stay as they are.
#[derive(Debug, Default, Deserialize, Validate, ToSchema, AsChangeset)]
#[diesel(table_name = editions)]
#[serde(deny_unknown_fields)]
pub struct EditionPatch {
    #[validate(range(min = 1, max = 200))]
    #[schema(minimum = 1, maximum = 200)]
    pub number: Option<i32>,
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub title: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub theme: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    pub starts_on: Option<NaiveDate>,
    pub ends_on: Option<NaiveDate>,
    pub referencing_opens_at: Option<DateTime<Utc>>,
    pub referencing_closes_at: Option<DateTime<Utc>>,
    pub changes_require_review: Option<bool>,
}

/// The dates every edition must respect, checked on create and on the merged result of a patch.
pub struct EditionDates {
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub referencing_opens_at: DateTime<Utc>,
    pub referencing_closes_at: DateTime<Utc>,
}

/// The edition rules: the month ends after it starts; referencing closes after it opens, and
/// before or during the month (organizers may still reference while it runs).
pub fn check_dates(dates: &EditionDates) -> Vec<FieldError> {
    let years = (MIN_YEAR..=MAX_YEAR, format!("must be within the years {MIN_YEAR} to {MAX_YEAR}"));
    let out_of_range: Vec<FieldError> = [
        ("starts_on", dates.starts_on.year()),
        ("ends_on", dates.ends_on.year()),
        ("referencing_opens_at", dates.referencing_opens_at.year()),
        ("referencing_closes_at", dates.referencing_closes_at.year()),
    ]
    .into_iter()
    .filter(|(_, year)| !years.0.contains(year))
    .map(|(field, _)| FieldError::new(field, "out_of_range", years.1.clone()))
    .collect();
    if !out_of_range.is_empty() {
        return out_of_range;
    }
    let mut errors = Vec::new();
    if dates.ends_on < dates.starts_on {
        errors.push(FieldError::new("ends_on", "before_start", "must not be before starts_on"));
    }
    if dates.referencing_closes_at <= dates.referencing_opens_at {
        errors.push(FieldError::new("referencing_closes_at", "before_open", "must be after referencing_opens_at"));
    }
    let month_end = paris_midnight(day_after(dates.ends_on));
    if dates.referencing_closes_at > month_end {
        errors.push(FieldError::new(
            "referencing_closes_at",
            "after_edition_end",
            "referencing must close before or during the month, not after ends_on",
        ));
    }
    errors
}

/// Long text is bounded in patches too (validator does not see inside the double option).
pub fn check_patch_lengths(patch: &EditionPatch) -> Vec<FieldError> {
    [check_nullable_length("theme", &patch.theme, 200), check_nullable_length("description", &patch.description, 10000)]
        .into_iter()
        .flatten()
        .collect()
}

/// A new track. Without a slug, one is made from the name.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TrackForm {
    #[validate(custom(function = "validate_slug"))]
    pub slug: Option<String>,
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    #[validate(length(max = 5000))]
    #[schema(max_length = 5000)]
    pub description: Option<String>,
    #[validate(range(min = 0, max = 1000))]
    #[schema(minimum = 0, maximum = 1000)]
    #[serde(default)]
    pub position: i32,
}

/// Changes to a track.
#[derive(Debug, Deserialize, Validate, ToSchema, AsChangeset)]
#[diesel(table_name = tracks)]
#[serde(deny_unknown_fields)]
pub struct TrackPatch {
    #[validate(custom(function = "validate_slug"))]
    pub slug: Option<String>,
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    #[validate(range(min = 0, max = 1000))]
    #[schema(minimum = 0, maximum = 1000)]
    pub position: Option<i32>,
}
