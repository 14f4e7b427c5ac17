//! iCalendar (RFC 5545, with the RFC 7986 additions) for calendar applications.
//!
//! One `VEVENT` per session. Sessions are separate `VEVENT`s with distinct, stable `UID`s
//! (`<event id>-<session number>@…`), not one event with `RECURRENCE-ID` overrides: sessions are
//! a list of arbitrary periods, not a recurrence rule, and a `RECURRENCE-ID` needs a master
//! event with `RRULE`/`RDATE` that Google Calendar and Outlook handle badly for periods of
//! different lengths; plain events import the same way in every client. `SEQUENCE` is the
//! event's version, so clients know which copy is newer.
//!
//! The crate `icalendar` writes every content line (escaping, 75-octet folding on character
//! boundaries); `timezones` adds the `VTIMEZONE` of each zone the sessions use.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, FixedOffset, TimeZone, Utc};
use chrono_tz::Tz;
use icalendar::{CalendarDateTime, Class, Component, Event, EventLike, EventStatus as IcsStatus, Property};

use super::links::Links;
use super::timezones::vtimezone;
use crate::error::{ApiError, ApiResult};
use crate::events::model::{EventMode, EventOut, EventStatus};

/// How often subscribers should fetch the calendar again.
const REFRESH: &str = "PT1H";
/// The domain part of every `UID`: fixed, so that ids survive a move of the service.
const UID_DOMAIN: &str = "mois-innovation-publique.fr";

/// What the calendar says about itself.
pub struct CalendarHead {
    pub name: String,
    /// A sentence for people: how many events it holds out of how many matched.
    pub description: String,
    /// Its own address (`SOURCE`).
    pub source: String,
    /// How many events matched in all, and the next page, when it holds only some of them.
    pub total: Option<i64>,
    pub next: Option<String>,
}

fn line(property: Property) -> ApiResult<String> {
    property.try_into().map_err(|_| ApiError::internal("cannot write an iCalendar line"))
}

fn text(key: &str, value: &str) -> ApiResult<String> {
    let mut property = Property::new(key, value);
    property.add_parameter("VALUE", "TEXT");
    // `VALUE=TEXT` is the default of these keys: said only so that the crate escapes them.
    line(property)
}

fn zone_of(event: &EventOut) -> Option<Tz> {
    event.timezone.parse::<Tz>().ok()
}

/// A session's instant as local time in the event's zone, or in UTC when the zone is unknown
/// or when the local time names it ambiguously: in the hour repeated when summer time ends,
/// RFC 5545 (§3.3.5) reads a local time as its first occurrence, so the second 02:30 of a
/// night of October can only be written in UTC.
fn at(instant: DateTime<FixedOffset>, zone: Option<Tz>) -> CalendarDateTime {
    let utc = instant.with_timezone(&Utc);
    let Some(zone) = zone else { return CalendarDateTime::Utc(utc) };
    let local = instant.with_timezone(&zone).naive_local();
    match zone.from_local_datetime(&local).earliest() {
        Some(first) if first.with_timezone(&Utc) == utc => {
            CalendarDateTime::WithTimezone { date_time: local, tzid: zone.name().to_string() }
        }
        _ => CalendarDateTime::Utc(utc),
    }
}

fn location(event: &EventOut) -> Option<String> {
    let venue = event.venue.as_ref().filter(|_| event.mode.needs_venue());
    let place = venue.map(|v| {
        let town = [v.postal_code.as_deref(), v.city.as_deref()].into_iter().flatten().collect::<Vec<_>>().join(" ");
        [v.name.clone(), v.address.clone(), Some(town).filter(|t| !t.is_empty())]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(", ")
    });
    match (event.mode, place) {
        (EventMode::Online, _) => Some("En ligne".into()),
        (EventMode::Hybrid, Some(place)) => Some(format!("{place} (et en ligne)")),
        (_, place) => place.filter(|p| !p.is_empty()),
    }
}

/// The description a calendar shows: what, who, where, how to join, and the page.
fn description(event: &EventOut, page: &str) -> String {
    let mut parts = Vec::new();
    if event.status == EventStatus::Cancelled {
        parts.push(match &event.status_note {
            Some(note) => format!("ANNULÉ : {note}"),
            None => "ANNULÉ".to_string(),
        });
    } else if event.status != EventStatus::Scheduled {
        let note = event.status_note.as_deref().map(|n| format!(" : {n}")).unwrap_or_default();
        parts.push(format!("{}{note}", event.status.label()));
    }
    if let Some(summary) = event.summary.as_deref().or(event.description.as_deref()) {
        parts.push(summary.to_string());
    }
    parts.push(format!("Organisé par {}", event.organizer.name));
    parts.push(format!("{} · {}", event.format.label(), event.audience.label()));
    if let Some(link) = &event.online_url {
        parts.push(format!("En ligne : {link}"));
    }
    if let Some(registration) = &event.registration.url {
        parts.push(format!("Inscription : {registration}"));
    }
    parts.push(format!("Page de l'événement : {page}"));
    parts.join("\n\n")
}

/// The `VEVENT`s of one event: one per session.
fn vevents(event: &EventOut, links: &Links) -> ApiResult<String> {
    let zone = zone_of(event);
    let page = links.event_page(&event.slug);
    let count = event.sessions.len();
    let status = match event.status {
        EventStatus::Cancelled => IcsStatus::Cancelled,
        EventStatus::Postponed => IcsStatus::Tentative,
        _ => IcsStatus::Confirmed,
    };
    let mut categories = vec![event.format.label().to_string()];
    categories.extend(event.tags.iter().cloned());
    let mut out = String::new();
    for (index, session) in event.sessions.iter().enumerate() {
        let mut title = event.title.clone();
        if count > 1 {
            title = format!("{title} (séance {} sur {count})", index + 1);
        }
        if event.status == EventStatus::Cancelled {
            title = format!("Annulé : {title}");
        }
        let mut vevent = Event::new();
        vevent
            .uid(&format!("{}-{}@{UID_DOMAIN}", event.id, index + 1))
            .timestamp(event.updated_at)
            .sequence(event.version.max(0).unsigned_abs())
            .created(event.created_at)
            .last_modified(event.updated_at)
            .summary(&title)
            .description(&description(event, &page))
            .starts(at(session.starts_at, zone))
            .ends(at(session.ends_at, zone))
            .status(status)
            .class(Class::Public)
            .url(&page)
            .categories(&categories);
        if let Some(place) = location(event) {
            vevent.location(&place);
        }
        let point = event.venue.as_ref().and_then(|v| v.latitude.zip(v.longitude));
        if let (Some((latitude, longitude)), true) = (point, event.mode.needs_venue()) {
            vevent.add_property("GEO", format!("{latitude:.6};{longitude:.6}"));
        }
        if let Some(link) = &event.online_url {
            // RFC 7986: how to join, which some clients show as a button.
            let mut conference = Property::new("CONFERENCE", link);
            conference.add_parameter("VALUE", "URI").add_parameter("FEATURE", "VIDEO");
            vevent.append_property(conference);
        }
        out.push_str(&vevent.try_into_string().map_err(|_| ApiError::internal("cannot write a VEVENT"))?);
    }
    Ok(out)
}

/// The `VTIMEZONE`s of the zones the events use, over the years their sessions span.
fn timezones(events: &[EventOut]) -> ApiResult<String> {
    let mut years: BTreeMap<&'static str, (Tz, i32, i32)> = BTreeMap::new();
    for event in events {
        let Some(zone) = zone_of(event) else { continue };
        for session in &event.sessions {
            for year in [session.starts_at.year(), session.ends_at.year()] {
                let entry = years.entry(zone.name()).or_insert((zone, year, year));
                entry.1 = entry.1.min(year);
                entry.2 = entry.2.max(year);
            }
        }
    }
    let mut out = String::new();
    for (zone, first, last) in years.into_values() {
        out.push_str(&vtimezone(zone, first, last).map_err(|_| ApiError::internal("cannot write a VTIMEZONE"))?);
    }
    Ok(out)
}

/// A whole calendar of `events`.
pub fn calendar(events: &[EventOut], head: &CalendarHead, links: &Links) -> ApiResult<String> {
    let mut out = String::from("BEGIN:VCALENDAR\r\n");
    out.push_str(&line(Property::new("VERSION", "2.0"))?);
    out.push_str(&line(Property::new("PRODID", "-//DITP//Mois de l'innovation publique//FR"))?);
    out.push_str(&line(Property::new("CALSCALE", "GREGORIAN"))?);
    out.push_str(&line(Property::new("METHOD", "PUBLISH"))?);
    out.push_str(&text("NAME", &head.name)?);
    out.push_str(&line(Property::new("X-WR-CALNAME", &head.name))?);
    out.push_str(&text("DESCRIPTION", &head.description)?);
    out.push_str(&line(Property::new("X-WR-CALDESC", &head.description))?);
    out.push_str(&line(Property::new("X-WR-TIMEZONE", "Europe/Paris"))?);
    let mut refresh = Property::new("REFRESH-INTERVAL", REFRESH);
    refresh.add_parameter("VALUE", "DURATION");
    out.push_str(&line(refresh)?);
    out.push_str(&line(Property::new("X-PUBLISHED-TTL", REFRESH))?);
    let mut source = Property::new("SOURCE", &head.source);
    source.add_parameter("VALUE", "URI");
    out.push_str(&line(source)?);
    if let Some(total) = head.total {
        out.push_str(&line(Property::new("X-MIP-TOTAL", total.to_string()))?);
    }
    if let Some(next) = &head.next {
        out.push_str(&line(Property::new("X-MIP-NEXT", next))?);
    }
    out.push_str(&timezones(events)?);
    for event in events {
        out.push_str(&vevents(event, links)?);
    }
    out.push_str("END:VCALENDAR\r\n");
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn instant(text: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(text).unwrap()
    }

    #[test]
    fn local_times_carry_their_zone_and_the_repeated_hour_is_written_in_utc() {
        let paris = Some(chrono_tz::Europe::Paris);
        let local = |date_time: &str| CalendarDateTime::WithTimezone {
            date_time: chrono::NaiveDateTime::parse_from_str(date_time, "%Y-%m-%dT%H:%M").unwrap(),
            tzid: "Europe/Paris".into(),
        };
        assert_eq!(at(instant("2021-11-18T09:30:00+01:00"), paris), local("2021-11-18T09:30"));
        assert_eq!(at(instant("2021-10-28T09:30:00+02:00"), paris), local("2021-10-28T09:30"));
        // 31 October 2021, 02:30 happened twice: first in summer time (kept local), then in winter.
        assert_eq!(at(instant("2021-10-31T02:30:00+02:00"), paris), local("2021-10-31T02:30"));
        let second = instant("2021-10-31T02:30:00+01:00");
        assert_eq!(at(second, paris), CalendarDateTime::Utc(second.with_timezone(&Utc)));
        assert_eq!(at(second, None), CalendarDateTime::Utc(second.with_timezone(&Utc)));
    }
}
