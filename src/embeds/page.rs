//! The embed's page: what it shows of each event, in the reader's language, and its
//! schema.org `Event` data for search engines.

use askama::Template;
use serde_json::json;

use crate::events::model::{EventMode, EventOut, EventStatus};
use crate::feeds::links::Links;
use crate::feeds::wording::{self, Language};

/// The fixed words of the page.
pub struct Words {
    pub lang: &'static str,
    pub nothing: &'static str,
    pub new_window: &'static str,
    pub by: &'static str,
    pub pages: &'static str,
    pub first: &'static str,
    pub next: &'static str,
}

impl Words {
    pub fn of(language: Language) -> Words {
        match language {
            Language::French => Words {
                lang: "fr",
                nothing: "Aucun événement ne correspond pour l'instant.",
                new_window: "nouvelle fenêtre",
                by: "par",
                pages: "Pages d'événements",
                first: "Premiers événements",
                next: "Événements suivants",
            },
            Language::English => Words {
                lang: "en",
                nothing: "No event matches yet.",
                new_window: "new window",
                by: "by",
                pages: "Pages of events",
                first: "First events",
                next: "Next events",
            },
        }
    }
}

/// One event as the embed shows it.
pub struct EventItem {
    pub id: uuid::Uuid,
    pub title: String,
    pub url: String,
    pub cancelled: bool,
    pub status: Option<String>,
    /// Each session: its start (ISO 8601) and how people read it.
    pub dates: Vec<(String, String)>,
    pub place: String,
    pub kind: String,
    pub organizer: String,
    pub summary: Option<String>,
    /// schema.org `Event`, as JSON safe inside a `<script>` element.
    pub json_ld: String,
}

#[derive(Template)]
#[template(path = "embed/events.html")]
pub struct EmbedPage {
    pub words: Words,
    pub theme: Option<&'static str>,
    pub compact: bool,
    pub heading: String,
    pub count: String,
    pub events: Vec<EventItem>,
    pub first: Option<String>,
    pub next: Option<String>,
}

fn schema_status(status: EventStatus) -> &'static str {
    match status {
        EventStatus::Cancelled => "https://schema.org/EventCancelled",
        EventStatus::Postponed => "https://schema.org/EventPostponed",
        EventStatus::Rescheduled => "https://schema.org/EventRescheduled",
        EventStatus::MovedOnline => "https://schema.org/EventMovedOnline",
        EventStatus::Scheduled | EventStatus::Full => "https://schema.org/EventScheduled",
    }
}

/// schema.org `Event` (what search engines read of an event page), as JSON that cannot close
/// the `<script>` element it sits in.
fn json_ld(event: &EventOut, url: &str) -> String {
    let place = event.venue.as_ref().filter(|_| event.mode.needs_venue()).map(|venue| {
        json!({
            "@type": "Place",
            "name": venue.name.clone().or(venue.city.clone()),
            "address": {
                "@type": "PostalAddress",
                "streetAddress": venue.address,
                "postalCode": venue.postal_code,
                "addressLocality": venue.city,
                "addressRegion": venue.region.as_ref().map(|r| r.name.clone()),
                "addressCountry": "FR",
            },
            "geo": venue.latitude.zip(venue.longitude).map(|(latitude, longitude)| json!({
                "@type": "GeoCoordinates", "latitude": latitude, "longitude": longitude,
            })),
        })
    });
    let online = event
        .online_url
        .as_ref()
        .filter(|_| event.mode.needs_link())
        .map(|link| json!({ "@type": "VirtualLocation", "url": link }));
    let location: Vec<serde_json::Value> = [place, online].into_iter().flatten().collect();
    let attendance = match event.mode {
        EventMode::Online => "https://schema.org/OnlineEventAttendanceMode",
        EventMode::Onsite => "https://schema.org/OfflineEventAttendanceMode",
        EventMode::Hybrid => "https://schema.org/MixedEventAttendanceMode",
    };
    let data = json!({
        "@context": "https://schema.org",
        "@type": "Event",
        "name": event.title,
        "description": event.summary,
        "url": url,
        "startDate": event.starts_at.to_rfc3339(),
        "endDate": event.ends_at.to_rfc3339(),
        "eventStatus": schema_status(event.status),
        "eventAttendanceMode": attendance,
        "location": location,
        "organizer": { "@type": "Organization", "name": event.organizer.name },
        "image": event.image_url,
        "inLanguage": event.language,
        "isAccessibleForFree": true,
    });
    // `<`, `>` and `&` as JSON escapes: no `</script>` or comment can appear in the element.
    data.to_string().replace('<', "\\u003c").replace('>', "\\u003e").replace('&', "\\u0026")
}

pub fn item(event: &EventOut, links: &Links, language: Language) -> EventItem {
    let url = links.event_page(&event.slug);
    let kind = match language {
        Language::French => event.format.label().to_string(),
        Language::English => event.format.as_str().replace('_', " "),
    };
    EventItem {
        id: event.id,
        title: event.title.clone(),
        cancelled: event.status == EventStatus::Cancelled,
        status: wording::status(event, language),
        dates: event
            .sessions
            .iter()
            .zip(wording::dates(event, language))
            .map(|(session, text)| (session.starts_at.to_rfc3339(), text))
            .collect(),
        place: wording::place(event, language),
        kind,
        organizer: event.organizer.name.clone(),
        summary: event.summary.clone(),
        json_ld: json_ld(event, &url),
        url,
    }
}
