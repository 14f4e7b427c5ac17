//! `VTIMEZONE` components (RFC 5545 §3.6.5) read off the tz database that chrono-tz compiles
//! in, so that a calendar states the rules its local times follow instead of trusting each
//! client to know `Europe/Paris` or `America/Cayenne` the same way.
//!
//! Each zone gets its observances as concrete transitions (no `RRULE`) over the years its
//! sessions span, plus the year before: exact whatever the zone's rules did in those years.

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, Offset, TimeZone, Utc};
use chrono_tz::{OffsetComponents, OffsetName, Tz};
use icalendar::Property;

/// One observance: from `starts` (local time before the change), the offset is `to`.
#[derive(Debug, Clone, PartialEq)]
struct Observance {
    daylight: bool,
    starts: NaiveDateTime,
    from: i32,
    to: i32,
    name: Option<String>,
}

fn offset_at(zone: Tz, at: DateTime<Utc>) -> (i32, bool, Option<String>) {
    let offset = zone.offset_from_utc_datetime(&at.naive_utc());
    let daylight = offset.dst_offset() != Duration::zero();
    (offset.fix().local_minus_utc(), daylight, offset.abbreviation().map(str::to_string))
}

/// The first second in `(before, after]` whose offset differs from the one at `before`.
fn transition_between(zone: Tz, before: DateTime<Utc>, after: DateTime<Utc>) -> DateTime<Utc> {
    let initial = offset_at(zone, before).0;
    let at = |seconds: i64| DateTime::from_timestamp(seconds, 0).unwrap_or(before);
    let (mut low, mut high) = (before.timestamp(), after.timestamp());
    while high - low > 1 {
        let middle = low + (high - low) / 2;
        if offset_at(zone, at(middle)).0 == initial { low = middle } else { high = middle }
    }
    at(high)
}

fn observances(zone: Tz, first_year: i32, last_year: i32) -> Vec<Observance> {
    let year_start =
        |year: i32| NaiveDate::from_ymd_opt(year, 1, 1).and_then(|d| d.and_hms_opt(0, 0, 0)).map(|n| n.and_utc());
    let (Some(start), Some(end)) = (year_start(first_year - 1), year_start(last_year + 1)) else {
        return Vec::new();
    };
    let (offset, daylight, name) = offset_at(zone, start);
    let mut found = vec![Observance {
        daylight,
        starts: (start + Duration::seconds(offset.into())).naive_utc(),
        from: offset,
        to: offset,
        name,
    }];
    let mut day = start;
    let mut current = offset;
    while day < end {
        let next = day + Duration::days(1);
        if offset_at(zone, next).0 != current {
            let at = transition_between(zone, day, next);
            let (to, daylight, name) = offset_at(zone, at);
            found.push(Observance {
                daylight,
                starts: (at + Duration::seconds(current.into())).naive_utc(),
                from: current,
                to,
                name,
            });
            current = to;
        }
        day = next;
    }
    found
}

/// `+0100`, `-0300`, `+053000`: an RFC 5545 UTC offset.
fn utc_offset(seconds: i32) -> String {
    let sign = if seconds < 0 { '-' } else { '+' };
    let seconds = seconds.unsigned_abs();
    let (hours, minutes, rest) = (seconds / 3600, seconds % 3600 / 60, seconds % 60);
    if rest == 0 { format!("{sign}{hours:02}{minutes:02}") } else { format!("{sign}{hours:02}{minutes:02}{rest:02}") }
}

/// The `VTIMEZONE` of `zone` for sessions between `first_year` and `last_year`, as folded
/// content lines (each written by the iCalendar crate's `Property`).
pub fn vtimezone(zone: Tz, first_year: i32, last_year: i32) -> Result<String, std::fmt::Error> {
    let mut out = String::from("BEGIN:VTIMEZONE\r\n");
    let line = |key: &str, value: &str| -> Result<String, std::fmt::Error> { Property::new(key, value).try_into() };
    out.push_str(&line("TZID", zone.name())?);
    for observance in observances(zone, first_year, last_year) {
        let kind = if observance.daylight { "DAYLIGHT" } else { "STANDARD" };
        out.push_str(&format!("BEGIN:{kind}\r\n"));
        out.push_str(&line("DTSTART", &observance.starts.format("%Y%m%dT%H%M%S").to_string())?);
        out.push_str(&line("TZOFFSETFROM", &utc_offset(observance.from))?);
        out.push_str(&line("TZOFFSETTO", &utc_offset(observance.to))?);
        if let Some(name) = observance.name.filter(|n| !n.starts_with(['+', '-'])) {
            out.push_str(&line("TZNAME", &name)?);
        }
        out.push_str(&format!("END:{kind}\r\n"));
    }
    out.push_str("END:VTIMEZONE\r\n");
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paris_changes_twice_a_year_at_the_legal_hours() {
        let found = observances(chrono_tz::Europe::Paris, 2021, 2021);
        // 1 January 2020 (the year before), then two changes in 2020 and two in 2021.
        assert_eq!(found.len(), 5);
        let march_2021 = &found[3];
        assert!(march_2021.daylight);
        assert_eq!(march_2021.starts.to_string(), "2021-03-28 02:00:00");
        assert_eq!((march_2021.from, march_2021.to), (3600, 7200));
        let october_2021 = &found[4];
        assert!(!october_2021.daylight);
        assert_eq!(october_2021.starts.to_string(), "2021-10-31 03:00:00");
        assert_eq!(october_2021.name.as_deref(), Some("CET"));
    }

    #[test]
    fn a_zone_without_daylight_saving_has_one_standard_observance() {
        let found = observances(chrono_tz::Indian::Reunion, 2021, 2022);
        assert_eq!(found.len(), 1);
        assert_eq!((found[0].from, found[0].to), (4 * 3600, 4 * 3600));
        assert!(!found[0].daylight);
    }

    #[test]
    fn offsets_are_written_as_rfc_5545_wants() {
        assert_eq!(utc_offset(3600), "+0100");
        assert_eq!(utc_offset(-3 * 3600), "-0300");
        assert_eq!(utc_offset(19_800), "+0530");
        assert_eq!(utc_offset(-(9 * 3600 + 30 * 60 + 12)), "-093012");
    }

    #[test]
    fn the_component_is_well_formed() {
        let text = vtimezone(chrono_tz::Europe::Paris, 2021, 2021).unwrap();
        assert!(text.starts_with("BEGIN:VTIMEZONE\r\nTZID:Europe/Paris\r\n"));
        assert!(text.contains("BEGIN:DAYLIGHT\r\nDTSTART:20210328T020000\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nTZNAME:CEST\r\nEND:DAYLIGHT\r\n"));
        assert!(text.ends_with("END:VTIMEZONE\r\n"));
    }
}
