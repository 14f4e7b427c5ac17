//! From grouped counts to reports: labels beside codes, shares, totals, and the change from the
//! previous edition. Pure functions over [`FigureRow`]s.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};

use super::figures::FigureRow;
use super::model::{BreakdownRow, Change, Dimension, Totals};
use crate::events::model::{Audience, EventFormat, EventMode, EventStatus, Publication};
use crate::geo::repo::Geography;
use crate::organizers::model::OrganizerKind;

/// The rows of one group (one edition, or everything).
pub struct Group<'a> {
    rows: Vec<&'a FigureRow>,
}

impl<'a> Group<'a> {
    pub fn of(rows: &'a [FigureRow], key: i32) -> Self {
        Group { rows: rows.iter().filter(|row| row.key == key).collect() }
    }

    fn dimension(&self, name: &str) -> impl Iterator<Item = &&'a FigureRow> {
        self.rows.iter().filter(move |row| row.dimension == name)
    }

    fn count(&self, dimension: Dimension, code: &str) -> i64 {
        self.dimension(dimension.as_str()).filter(|row| row.code.as_deref() == Some(code)).map(|row| row.events).sum()
    }

    /// The totals (from the `total`, `organizers`, mode, status, region, department and lab rows).
    pub fn totals(&self) -> Totals {
        let total = self.dimension("total").next();
        let events = total.map_or(0, |row| row.events);
        let with_code = |dimension: Dimension| self.dimension(dimension.as_str()).filter(|r| r.code.is_some()).count();
        let online = self.count(Dimension::Mode, EventMode::Online.as_str());
        let hybrid = self.count(Dimension::Mode, EventMode::Hybrid.as_str());
        Totals {
            events,
            sessions: total.map_or(0, |row| row.sessions),
            organizers: self.dimension("organizers").map(|row| row.events).sum(),
            first_time_organizers: self.dimension("organizers").map(|row| row.organizers).sum(),
            regions: with_code(Dimension::Region) as i64,
            departments: with_code(Dimension::Department) as i64,
            labs: with_code(Dimension::Lab) as i64,
            online,
            hybrid,
            onsite: self.count(Dimension::Mode, EventMode::Onsite.as_str()),
            share_online: share(online, events),
            share_hybrid: share(hybrid, events),
            cancelled: self.count(Dimension::Status, EventStatus::Cancelled.as_str()),
            postponed: self.count(Dimension::Status, EventStatus::Postponed.as_str()),
            moved_online: self.count(Dimension::Status, EventStatus::MovedOnline.as_str()),
        }
    }

    pub fn rows_of(&self, dimension: Dimension) -> Vec<&'a FigureRow> {
        self.dimension(dimension.as_str()).copied().collect()
    }
}

/// A fraction rounded to 4 decimals (0 of nothing is 0).
pub fn share(part: i64, whole: i64) -> f64 {
    if whole == 0 { 0.0 } else { (part as f64 / whole as f64 * 10_000.0).round() / 10_000.0 }
}

pub fn change(previous: i64, current: i64) -> Change {
    let difference = current - previous;
    let ratio = (previous != 0).then(|| (difference as f64 / previous as f64 * 10_000.0).round() / 10_000.0);
    Change { previous, current, difference, ratio }
}

/// Names of codes, for people.
pub struct Labels<'a> {
    pub geo: &'a Geography,
}

const WEEKDAYS: [&str; 7] = ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"];
const MONTHS: [&str; 12] = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
];

/// `lundi 15 novembre` (a report is about one edition: the year goes without saying).
pub fn french_day(day: NaiveDate) -> String {
    let weekday = WEEKDAYS.get(day.weekday().num_days_from_monday() as usize).copied().unwrap_or_default();
    let month = MONTHS.get(day.month0() as usize).copied().unwrap_or_default();
    let first = if day.day() == 1 { "1er".to_string() } else { day.day().to_string() };
    format!("{weekday} {first} {month}")
}

impl Labels<'_> {
    /// The label of a row: from the database for tracks and labs, otherwise from the code.
    pub fn label(&self, dimension: Dimension, row: &FigureRow) -> String {
        let Some(code) = row.code.as_deref() else {
            return match dimension {
                Dimension::Region | Dimension::Department => "Sans lieu (en ligne)".into(),
                Dimension::Track => "Hors parcours".into(),
                _ => "Non renseigné".into(),
            };
        };
        let named = match dimension {
            Dimension::Track | Dimension::Lab => row.label.clone(),
            Dimension::Format => EventFormat::parse(code).map(|v| v.label().to_string()),
            Dimension::Mode => EventMode::parse(code).map(|v| v.label().to_string()),
            Dimension::Audience => Audience::parse(code).map(|v| v.label().to_string()),
            Dimension::Status => EventStatus::parse(code).map(|v| v.label().to_string()),
            Dimension::Publication => Publication::parse(code).map(|v| v.label().to_string()),
            Dimension::OrganizerKind => OrganizerKind::parse(code).map(|v| v.label().to_string()),
            Dimension::Region => self.geo.region(code).map(|p| p.name),
            Dimension::Department => self.geo.department(code).map(|p| p.name),
            Dimension::Day => NaiveDate::parse_from_str(code, "%Y-%m-%d").ok().map(french_day),
            Dimension::Tag => None,
        };
        named.unwrap_or_else(|| code.to_string())
    }
}

/// What a row of the previous edition is matched on: the code, or for days the day of the month.
fn matching_key(dimension: Dimension, code: Option<&str>) -> Option<String> {
    match dimension {
        Dimension::Day => code.and_then(|c| c.get(5..)).map(String::from),
        _ => code.map(String::from),
    }
}

/// Rows of the previous edition that have no counterpart now are listed with 0 events, except
/// where the code does not recur from one edition to the next (tracks, days) or only the current
/// edition's top values are listed (tags).
fn keeps_rows_gone_since(dimension: Dimension) -> bool {
    !matches!(dimension, Dimension::Track | Dimension::Day | Dimension::Tag)
}

/// One breakdown: labelled rows with their share of `events`, and with the previous edition's
/// counts when `previous` is given. Days come in order, other rows most frequent first (then
/// values before "none", the previous edition's most frequent, and by label).
pub fn breakdown(
    labels: &Labels,
    dimension: Dimension,
    current: &Group,
    previous: Option<&Group>,
    events: i64,
) -> Vec<BreakdownRow> {
    let before: BTreeMap<Option<String>, i64> = previous
        .map(|group| {
            group.rows_of(dimension).into_iter().map(|row| (matching_key(dimension, row.code.as_deref()), row.events))
        })
        .into_iter()
        .flatten()
        .collect();
    let mut seen = Vec::new();
    let mut rows: Vec<BreakdownRow> = current
        .rows_of(dimension)
        .into_iter()
        .map(|row| {
            let key = matching_key(dimension, row.code.as_deref());
            let previous_events = match previous {
                // A track belongs to its edition: no row of that slug before means no such track.
                Some(_) if dimension == Dimension::Track && key.is_some() => before.get(&key).copied(),
                Some(_) => Some(before.get(&key).copied().unwrap_or(0)),
                None => None,
            };
            seen.push(key);
            BreakdownRow {
                code: row.code.clone(),
                label: labels.label(dimension, row),
                events: row.events,
                sessions: row.sessions,
                share: share(row.events, events),
                previous_events,
                change: previous_events.map(|p| row.events - p),
            }
        })
        .collect();
    if let Some(group) = previous.filter(|_| keeps_rows_gone_since(dimension)) {
        for row in group.rows_of(dimension) {
            if !seen.contains(&row.code) {
                rows.push(BreakdownRow {
                    code: row.code.clone(),
                    label: labels.label(dimension, row),
                    events: 0,
                    sessions: 0,
                    share: 0.0,
                    previous_events: Some(row.events),
                    change: Some(-row.events),
                });
            }
        }
    }
    if dimension == Dimension::Day {
        rows.sort_by(|a, b| a.code.cmp(&b.code));
    } else {
        rows.sort_by(|a, b| {
            b.events
                .cmp(&a.events)
                .then_with(|| a.code.is_none().cmp(&b.code.is_none()))
                .then_with(|| b.previous_events.cmp(&a.previous_events))
                .then_with(|| a.label.cmp(&b.label))
        });
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(key: i32, dimension: &str, code: Option<&str>, events: i64) -> FigureRow {
        FigureRow {
            key,
            dimension: dimension.into(),
            code: code.map(String::from),
            label: None,
            events,
            sessions: events,
            organizers: 0,
            updated_at: None,
        }
    }

    fn geography() -> Geography {
        Geography::from_rows(vec![("53".into(), "Bretagne".into())], vec![])
    }

    #[test]
    fn rows_carry_labels_shares_and_the_change_and_gone_values_stay() {
        let rows = vec![
            row(2021, "region", Some("53"), 3),
            row(2021, "region", None, 1),
            row(2020, "region", Some("53"), 5),
            row(2020, "region", Some("11"), 2),
        ];
        let geo = geography();
        let (now, before) = (Group::of(&rows, 2021), Group::of(&rows, 2020));
        let out = breakdown(&Labels { geo: &geo }, Dimension::Region, &now, Some(&before), 4);
        let summary: Vec<_> = out.iter().map(|r| (r.code.as_deref(), r.label.as_str(), r.events, r.change)).collect();
        assert_eq!(
            summary,
            vec![
                (Some("53"), "Bretagne", 3, Some(-2)),
                (None, "Sans lieu (en ligne)", 1, Some(1)),
                (Some("11"), "11", 0, Some(-2)),
            ]
        );
        assert_eq!(out.first().map(|r| r.share), Some(0.75));
    }

    #[test]
    fn days_are_compared_with_the_same_day_of_the_month_and_listed_in_order() {
        let rows = vec![
            row(2021, "day", Some("2021-11-16"), 1),
            row(2021, "day", Some("2021-11-15"), 2),
            row(2020, "day", Some("2020-11-15"), 4),
            row(2020, "day", Some("2020-11-03"), 4),
        ];
        let geo = geography();
        let out =
            breakdown(&Labels { geo: &geo }, Dimension::Day, &Group::of(&rows, 2021), Some(&Group::of(&rows, 2020)), 3);
        let summary: Vec<_> = out.iter().map(|r| (r.label.as_str(), r.previous_events)).collect();
        assert_eq!(summary, vec![("lundi 15 novembre", Some(4)), ("mardi 16 novembre", Some(0))]);
    }

    #[test]
    fn a_change_from_nothing_has_no_ratio() {
        assert_eq!(change(0, 4).ratio, None);
        assert_eq!(change(4, 5).ratio, Some(0.25));
        assert_eq!(share(1, 3), 0.3333);
    }

    #[test]
    fn the_first_of_the_month_is_written_as_the_french_do() {
        assert_eq!(french_day(NaiveDate::from_ymd_opt(2022, 11, 1).unwrap()), "mardi 1er novembre");
    }
}
