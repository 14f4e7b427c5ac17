//! Dates, places and states of events as people read them, in French (the default) or English:
//! what every feed item and the embed say about an event.

use chrono::{DateTime, FixedOffset, Locale};
use chrono_tz::Tz;

use crate::events::model::{EventMode, EventOut, EventStatus, SessionOut};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Language {
    #[default]
    French,
    English,
}

impl Language {
    pub fn code(self) -> &'static str {
        match self {
            Language::French => "fr",
            Language::English => "en",
        }
    }

    fn locale(self) -> Locale {
        match self {
            Language::French => Locale::fr_FR,
            Language::English => Locale::en_GB,
        }
    }
}

fn zone_of(event: &EventOut) -> Tz {
    event.timezone.parse().unwrap_or(chrono_tz::Europe::Paris)
}

/// `jeudi 24 novembre 2021, 14:00–16:00`, or across days `du … au …`, in the event's zone.
pub fn session_span(event: &EventOut, session: &SessionOut, language: Language) -> String {
    let zone = zone_of(event);
    let local = |at: DateTime<FixedOffset>| at.with_timezone(&zone);
    let (start, end) = (local(session.starts_at), local(session.ends_at));
    let day = |at: &DateTime<Tz>| at.format_localized("%A %-d %B %Y", language.locale()).to_string();
    let hour = |at: &DateTime<Tz>| at.format("%H:%M").to_string();
    if start.date_naive() == end.date_naive() {
        format!("{}, {}–{}", day(&start), hour(&start), hour(&end))
    } else {
        match language {
            Language::French => format!("du {}, {} au {}, {}", day(&start), hour(&start), day(&end), hour(&end)),
            Language::English => format!("from {}, {} to {}, {}", day(&start), hour(&start), day(&end), hour(&end)),
        }
    }
}

/// Every session of the event, one per line, with its zone when it is not Paris.
pub fn dates(event: &EventOut, language: Language) -> Vec<String> {
    let zone = if event.timezone == "Europe/Paris" { String::new() } else { format!(" ({})", event.timezone) };
    event.sessions.iter().map(|session| format!("{}{zone}", session_span(event, session, language))).collect()
}

/// Where: the venue's name and town (with its department), online, or both.
pub fn place(event: &EventOut, language: Language) -> String {
    let online = match language {
        Language::French => "En ligne",
        Language::English => "Online",
    };
    let venue = event.venue.as_ref().filter(|_| event.mode.needs_venue()).map(|venue| {
        let town = match (&venue.city, &venue.department) {
            (Some(city), Some(department)) => format!("{city} ({})", department.code),
            (Some(city), None) => city.clone(),
            (None, Some(department)) => department.name.clone(),
            (None, None) => String::new(),
        };
        [venue.name.clone(), Some(town).filter(|t| !t.is_empty())].into_iter().flatten().collect::<Vec<_>>().join(", ")
    });
    match (event.mode, venue) {
        (EventMode::Online, _) | (_, None) => online.to_string(),
        (EventMode::Hybrid, Some(venue)) => match language {
            Language::French => format!("{venue} et en ligne"),
            Language::English => format!("{venue} and online"),
        },
        (EventMode::Onsite, Some(venue)) => venue,
    }
}

/// The state on the day, when it is not the ordinary one (`None` for scheduled events).
pub fn status(event: &EventOut, language: Language) -> Option<String> {
    if event.status == EventStatus::Scheduled {
        return None;
    }
    let name = match language {
        Language::French => event.status.label().to_string(),
        Language::English => event.status.as_str().replace('_', " "),
    };
    Some(match &event.status_note {
        Some(note) => format!("{name} : {note}"),
        None => name,
    })
}

/// An item's text for feed readers: state, dates, place, organizer, then the summary.
pub fn item_text(event: &EventOut) -> String {
    let mut lines = Vec::new();
    if let Some(status) = status(event, Language::French) {
        lines.push(status.to_uppercase());
    }
    lines.extend(dates(event, Language::French));
    lines.push(format!("Lieu : {}", place(event, Language::French)));
    lines.push(format!("Organisé par {}", event.organizer.name));
    lines.push(format!("{} · {}", event.format.label(), event.audience.label()));
    if let Some(summary) = &event.summary {
        lines.push(String::new());
        lines.push(summary.clone());
    }
    lines.join("\n")
}

/// Text as every format can carry it: line breaks as `\n`, and no other control character
/// (XML 1.0 forbids most of them, and one would break a whole RSS or Atom feed; in iCalendar a
/// bare `\r` ends a line).
pub fn clean_text(text: &str) -> String {
    text.replace("\r\n", "\n")
        .replace('\r', "\n")
        .chars()
        .filter(|c| (!c.is_control() || matches!(c, '\n' | '\t')) && !matches!(c, '\u{FFFE}' | '\u{FFFF}'))
        .collect()
}

/// An address as every format can carry it: no control character at all (a line break in a
/// URI would start a new iCalendar line).
pub fn clean_uri(uri: &str) -> String {
    uri.chars().filter(|c| !c.is_control()).collect()
}

/// The event with every text and address cleaned (see [`clean_text`]): what the feeds and the
/// embed write, whatever was stored before the input rules were as strict as they are now.
pub fn cleaned(mut event: EventOut) -> EventOut {
    let text = |value: &mut String| *value = clean_text(value);
    let optional = |value: &mut Option<String>| {
        if let Some(inner) = value.as_mut() {
            *inner = clean_text(inner);
        }
    };
    let uri = |value: &mut Option<String>| {
        if let Some(inner) = value.as_mut() {
            *inner = clean_uri(inner);
        }
    };
    text(&mut event.title);
    optional(&mut event.summary);
    optional(&mut event.description);
    optional(&mut event.status_note);
    optional(&mut event.accessibility);
    text(&mut event.organizer.name);
    event.tags.iter_mut().for_each(text);
    event.co_organizers.iter_mut().for_each(text);
    event.labs.iter_mut().for_each(|lab| text(&mut lab.name));
    if let Some(track) = event.track.as_mut() {
        text(&mut track.name);
    }
    if let Some(venue) = event.venue.as_mut() {
        optional(&mut venue.name);
        optional(&mut venue.address);
        optional(&mut venue.postal_code);
        optional(&mut venue.city);
    }
    uri(&mut event.online_url);
    uri(&mut event.registration.url);
    uri(&mut event.image_url);
    event
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_keeps_its_line_breaks_and_loses_other_controls() {
        assert_eq!(clean_text("a\r\nb\rc\u{b}d\u{0}e\tf\u{FFFF}"), "a\nb\ncde\tf");
        assert_eq!(clean_uri("https://v.example/x\nEND:VEVENT\r\n"), "https://v.example/xEND:VEVENT");
    }
}
