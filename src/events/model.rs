use chrono::{DateTime, Datelike, FixedOffset, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use diesel::prelude::*;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::{Validate, ValidationError};

use crate::geo::Place;
use crate::http::fields::{MAX_YEAR, MIN_YEAR, validate_http_url};
use crate::organizers::model::OrganizerSummary;
use crate::schema::{event_history, event_sessions, events};

crate::text_enum! {
    /// What kind of event it is.
    pub enum EventFormat {
        Webinar = "webinar",
        Conference = "conference",
        /// Atelier (participatory workshop).
        Workshop = "workshop",
        Training = "training",
        RoundTable = "round_table",
        /// Hackathon, simplificathon, creative marathon.
        Hackathon = "hackathon",
        SeriousGame = "serious_game",
        CreativeSession = "creative_session",
        ToolDemo = "tool_demo",
        Exhibition = "exhibition",
        Visit = "visit",
        OpenHouse = "open_house",
        Podcast = "podcast",
        CallForIdeas = "call_for_ideas",
        Other = "other",
    }
}

crate::text_enum! {
    /// Where it happens.
    pub enum EventMode {
        Online = "online",
        Onsite = "onsite",
        Hybrid = "hybrid",
    }
}

impl EventMode {
    pub fn needs_venue(self) -> bool {
        matches!(self, EventMode::Onsite | EventMode::Hybrid)
    }

    pub fn needs_link(self) -> bool {
        matches!(self, EventMode::Online | EventMode::Hybrid)
    }
}

crate::text_enum! {
    /// Who may attend.
    pub enum Audience {
        /// Public servants only.
        PublicAgents = "public_agents",
        GeneralPublic = "general_public",
        Everyone = "everyone",
    }
}

crate::text_enum! {
    /// Where the event stands in moderation.
    pub enum Publication {
        /// Being prepared; only its organizer sees it.
        Draft = "draft",
        /// Waiting for moderation.
        Submitted = "submitted",
        /// In the public programme.
        Published = "published",
        /// Refused by moderation, with a reason; can be changed and submitted again.
        Rejected = "rejected",
        /// Taken out of the programme by its organizer or an admin.
        Withdrawn = "withdrawn",
    }
}

crate::text_enum! {
    /// What happens on the day, independent of moderation.
    pub enum EventStatus {
        Scheduled = "scheduled",
        Postponed = "postponed",
        Rescheduled = "rescheduled",
        MovedOnline = "moved_online",
        /// No seats left.
        Full = "full",
        /// Set with `POST /events/{id}/cancel` only.
        Cancelled = "cancelled",
    }
}

/// A point in time as people write it: with an offset (`2021-11-24T14:00:00+01:00`) or as
/// the event's local time (`2021-11-24T14:00`), read in the event's `timezone`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventTime {
    Exact(DateTime<FixedOffset>),
    Local(NaiveDateTime),
}

impl EventTime {
    /// The instant, reading local times in `zone`. `None` for a local time that does not exist
    /// there (skipped by a daylight-saving change).
    pub fn resolve(self, zone: Tz) -> Option<DateTime<Utc>> {
        match self {
            EventTime::Exact(at) => Some(at.with_timezone(&Utc)),
            EventTime::Local(naive) => zone.from_local_datetime(&naive).earliest().map(|at| at.with_timezone(&Utc)),
        }
    }

    /// Reads a date-time within the years any date may name (`http::fields::MIN_YEAR`..`MAX_YEAR`).
    pub fn parse(text: &str) -> Option<EventTime> {
        let text = text.trim();
        let in_range = |year: i32| (MIN_YEAR..=MAX_YEAR).contains(&year);
        if let Ok(exact) = DateTime::parse_from_rfc3339(text) {
            return in_range(exact.year()).then_some(EventTime::Exact(exact));
        }
        ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"]
            .iter()
            .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
            .filter(|local| in_range(local.year()))
            .map(EventTime::Local)
    }
}

impl<'de> Deserialize<'de> for EventTime {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        EventTime::parse(&text).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "`{text}` is not a date-time between the years {MIN_YEAR} and {MAX_YEAR}: write 2021-11-24T14:00:00+01:00, or 2021-11-24T14:00 in the event's timezone"
            ))
        })
    }
}

impl Serialize for EventTime {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            EventTime::Exact(at) => serializer.serialize_str(&at.to_rfc3339()),
            EventTime::Local(naive) => serializer.serialize_str(&naive.format("%Y-%m-%dT%H:%M:%S").to_string()),
        }
    }
}

/// One session of an event.
#[derive(Debug, Clone, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SessionForm {
    #[schema(value_type = String, example = "2021-11-24T14:00:00+01:00")]
    pub starts_at: EventTime,
    #[schema(value_type = String, example = "2021-11-24T16:00:00+01:00")]
    pub ends_at: EventTime,
}

/// Where an onsite or hybrid event takes place.
#[derive(Debug, Clone, Default, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VenueForm {
    #[validate(length(max = 200))]
    #[schema(max_length = 200)]
    pub name: Option<String>,
    #[validate(length(max = 300))]
    #[schema(max_length = 300)]
    pub address: Option<String>,
    /// Five digits, belonging to the department.
    #[schema(example = "35000")]
    pub postal_code: Option<String>,
    #[validate(length(min = 1, max = 100))]
    #[schema(min_length = 1, max_length = 100)]
    pub city: Option<String>,
    /// INSEE department code; the region is deduced from it when absent.
    #[schema(example = "35")]
    pub department: Option<String>,
    /// INSEE region code.
    #[schema(example = "53")]
    pub region: Option<String>,
    #[validate(range(min = -90.0, max = 90.0))]
    #[schema(minimum = -90.0, maximum = 90.0)]
    pub latitude: Option<f64>,
    #[validate(range(min = -180.0, max = 180.0))]
    #[schema(minimum = -180.0, maximum = 180.0)]
    pub longitude: Option<f64>,
}

/// How to register.
#[derive(Debug, Clone, Default, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegistrationForm {
    #[serde(default)]
    pub required: bool,
    #[validate(custom(function = "validate_http_url"))]
    pub url: Option<String>,
    #[validate(range(min = 1, max = 1_000_000))]
    #[schema(minimum = 1, maximum = 1_000_000)]
    pub capacity: Option<i32>,
    #[schema(value_type = Option<String>)]
    pub closes_at: Option<EventTime>,
}

fn everyone() -> Audience {
    Audience::Everyone
}

fn paris() -> String {
    "Europe/Paris".into()
}

fn french() -> String {
    "fr".into()
}

/// An event as organizers write it (`POST /events`); `PATCH` takes any part of it, as a JSON
/// merge patch (RFC 7396: absent fields stay, `null` clears, arrays are replaced whole).
#[derive(Debug, Clone, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventForm {
    /// The edition's year.
    #[schema(example = 2021)]
    pub edition: i32,
    /// Whose event it is (id or slug). Members may omit it (their own organizer); admins
    /// give it. It cannot change once the event exists.
    pub organizer: Option<String>,
    /// A track (parcours) slug of the edition.
    #[schema(example = "experience-usager")]
    pub track: Option<String>,
    #[validate(length(min = 3, max = 200))]
    #[schema(min_length = 3, max_length = 200)]
    #[schema(example = "Fabriquer un capteur de qualité de l'air")]
    pub title: String,
    /// One or two sentences for lists and feeds.
    #[validate(length(max = 300))]
    #[schema(max_length = 300)]
    pub summary: Option<String>,
    /// Markdown.
    #[validate(length(max = 20000))]
    #[schema(max_length = 20000)]
    pub description: Option<String>,
    pub format: EventFormat,
    pub mode: EventMode,
    #[serde(default = "everyone")]
    pub audience: Audience,
    /// One or more sessions; a weekly series is one event with one session per week.
    #[validate(length(min = 1, max = 100), nested)]
    #[schema(min_items = 1, max_items = 100)]
    pub sessions: Vec<SessionForm>,
    /// IANA time zone the local times are written in (default `Europe/Paris`).
    #[serde(default = "paris")]
    #[validate(length(max = 64))]
    #[schema(max_length = 64)]
    pub timezone: String,
    /// Needed (with city and region) for onsite and hybrid events.
    #[validate(nested)]
    pub venue: Option<VenueForm>,
    /// The link to join; needed for online and hybrid events.
    #[validate(custom(function = "validate_http_url"))]
    pub online_url: Option<String>,
    #[validate(nested)]
    pub registration: Option<RegistrationForm>,
    /// ISO 639-1 code of the language spoken (default `fr`).
    #[serde(default = "french")]
    #[validate(custom(function = "validate_language"))]
    pub language: String,
    /// What is done for people with disabilities.
    #[validate(length(max = 2000))]
    #[schema(max_length = 2000)]
    pub accessibility: Option<String>,
    /// Free keywords, at most 20 of at most 50 characters (stored lowercased).
    #[serde(default)]
    #[validate(length(max = 20), custom(function = "validate_tags"))]
    #[schema(max_items = 20)]
    pub tags: Vec<String>,
    /// Slugs of the territorial labs the event is run with.
    #[serde(default)]
    #[validate(length(max = 20))]
    #[schema(max_items = 20)]
    pub labs: Vec<String>,
    /// Names of the bodies organizing with it.
    #[serde(default)]
    #[validate(length(max = 20), custom(function = "validate_co_organizers"))]
    #[schema(max_items = 20)]
    pub co_organizers: Vec<String>,
    #[validate(custom(function = "validate_http_url"))]
    pub image_url: Option<String>,
    /// The organizer's own identifier for the event (unique per organizer): imports upsert on it.
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub external_id: Option<String>,
    /// What happens on the day (default `scheduled`); `cancelled` is set with the cancel endpoint.
    pub status: Option<EventStatus>,
    /// A word about the status: where it moved, when it is postponed to.
    #[validate(length(max = 1000))]
    #[schema(max_length = 1000)]
    pub status_note: Option<String>,
}

fn validate_language(code: &str) -> Result<(), ValidationError> {
    if code.len() == 2 && code.bytes().all(|b| b.is_ascii_lowercase()) {
        Ok(())
    } else {
        Err(ValidationError::new("invalid_language").with_message("must be an ISO 639-1 code such as `fr`".into()))
    }
}

fn validate_tags(tags: &[String]) -> Result<(), ValidationError> {
    if tags.iter().all(|tag| !tag.trim().is_empty() && tag.chars().count() <= 50) {
        Ok(())
    } else {
        Err(ValidationError::new("invalid_tag").with_message("each tag has 1 to 50 characters".into()))
    }
}

fn validate_co_organizers(names: &[String]) -> Result<(), ValidationError> {
    if names.iter().all(|name| !name.trim().is_empty() && name.chars().count() <= 200) {
        Ok(())
    } else {
        Err(ValidationError::new("invalid_name").with_message("each name has 1 to 200 characters".into()))
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = events)]
pub struct EventRow {
    pub id: Uuid,
    pub slug: String,
    pub edition_year: i32,
    pub track_id: Option<Uuid>,
    pub organizer_id: Uuid,
    pub title: String,
    pub summary: Option<String>,
    pub description: Option<String>,
    pub format: String,
    pub mode: String,
    pub audience: String,
    pub timezone: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// How many sessions: kept on the row for the reports, which count sessions per breakdown.
    pub session_count: i32,
    pub venue_name: Option<String>,
    pub venue_address: Option<String>,
    pub venue_postal_code: Option<String>,
    pub venue_city: Option<String>,
    pub region_code: Option<String>,
    pub department_code: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub online_url: Option<String>,
    pub registration_required: bool,
    pub registration_url: Option<String>,
    pub registration_capacity: Option<i32>,
    pub registration_closes_at: Option<DateTime<Utc>>,
    pub language: String,
    pub accessibility: Option<String>,
    pub tags: Vec<Option<String>>,
    pub co_organizers: Vec<Option<String>>,
    pub image_url: Option<String>,
    pub external_id: Option<String>,
    pub publication: String,
    pub status: String,
    pub rejection_reason: Option<String>,
    pub status_note: Option<String>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub published_at: Option<DateTime<Utc>>,
    pub created_by: Option<Uuid>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl EventRow {
    pub fn publication(&self) -> Publication {
        Publication::parse(&self.publication).unwrap_or(Publication::Draft)
    }

    pub fn status(&self) -> EventStatus {
        EventStatus::parse(&self.status).unwrap_or(EventStatus::Scheduled)
    }

    pub fn zone(&self) -> Tz {
        self.timezone.parse().unwrap_or(chrono_tz::Europe::Paris)
    }
}

/// The columns an organizer's writes set, resolved and checked.
#[derive(Debug, Clone, PartialEq, Insertable, AsChangeset)]
#[diesel(table_name = events, treat_none_as_null = true)]
pub struct EventContent {
    pub edition_year: i32,
    pub track_id: Option<Uuid>,
    pub title: String,
    pub summary: Option<String>,
    pub description: Option<String>,
    pub format: String,
    pub mode: String,
    pub audience: String,
    pub timezone: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// How many sessions: kept on the row for the reports, which count sessions per breakdown.
    pub session_count: i32,
    pub venue_name: Option<String>,
    pub venue_address: Option<String>,
    pub venue_postal_code: Option<String>,
    pub venue_city: Option<String>,
    pub region_code: Option<String>,
    pub department_code: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub online_url: Option<String>,
    pub registration_required: bool,
    pub registration_url: Option<String>,
    pub registration_capacity: Option<i32>,
    pub registration_closes_at: Option<DateTime<Utc>>,
    pub language: String,
    pub accessibility: Option<String>,
    pub tags: Vec<String>,
    pub co_organizers: Vec<String>,
    pub image_url: Option<String>,
    pub external_id: Option<String>,
    pub status: String,
    pub status_note: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = event_sessions)]
pub struct SessionRow {
    pub event_id: Uuid,
    pub position: i32,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

/// One session, in the event's time zone.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SessionOut {
    #[schema(example = "2021-11-24T14:00:00+01:00")]
    pub starts_at: DateTime<FixedOffset>,
    #[schema(example = "2021-11-24T16:00:00+01:00")]
    pub ends_at: DateTime<FixedOffset>,
}

/// Where it takes place, with the names beside the INSEE codes.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct VenueOut {
    pub name: Option<String>,
    pub address: Option<String>,
    pub postal_code: Option<String>,
    pub city: Option<String>,
    pub department: Option<Place>,
    pub region: Option<Place>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RegistrationOut {
    pub required: bool,
    pub url: Option<String>,
    pub capacity: Option<i32>,
    pub closes_at: Option<DateTime<FixedOffset>>,
}

/// A track or a lab, named.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NamedRef {
    pub slug: String,
    pub name: String,
}

/// An event.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EventOut {
    pub id: Uuid,
    /// The title, the edition's year and six characters drawn from the event's own id.
    #[schema(example = "fabriquer-un-capteur-de-qualite-de-l-air-2021-k3f9x2")]
    pub slug: String,
    /// The edition's year.
    pub edition: i32,
    pub track: Option<NamedRef>,
    pub organizer: OrganizerSummary,
    pub co_organizers: Vec<String>,
    pub labs: Vec<NamedRef>,
    pub title: String,
    pub summary: Option<String>,
    pub description: Option<String>,
    pub format: EventFormat,
    pub mode: EventMode,
    pub audience: Audience,
    pub sessions: Vec<SessionOut>,
    /// Start of the first session.
    pub starts_at: DateTime<FixedOffset>,
    /// End of the last session.
    pub ends_at: DateTime<FixedOffset>,
    pub timezone: String,
    pub venue: Option<VenueOut>,
    pub online_url: Option<String>,
    pub registration: RegistrationOut,
    pub language: String,
    pub accessibility: Option<String>,
    pub tags: Vec<String>,
    pub image_url: Option<String>,
    pub external_id: Option<String>,
    pub publication: Publication,
    pub status: EventStatus,
    /// Why moderation rejected the event (when `rejected`).
    pub rejection_reason: Option<String>,
    pub status_note: Option<String>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub published_at: Option<DateTime<Utc>>,
    /// Increases with every change; the `ETag` carries it, `If-Match` checks it.
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

crate::text_enum! {
    /// What a history entry records.
    pub enum HistoryAction {
        Created = "created",
        Updated = "updated",
        Submitted = "submitted",
        Published = "published",
        Rejected = "rejected",
        Withdrawn = "withdrawn",
        Cancelled = "cancelled",
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = event_history)]
pub struct HistoryRow {
    pub id: i64,
    pub event_id: Uuid,
    pub version: i32,
    pub action: String,
    pub account_id: Option<Uuid>,
    pub actor_role: String,
    pub publication_before: Option<String>,
    pub publication_after: String,
    pub changes: serde_json::Value,
    pub note: Option<String>,
    pub at: DateTime<Utc>,
}

/// Who made a change.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ActorOut {
    /// The account (null once it is deleted).
    pub account_id: Option<Uuid>,
    pub email: Option<String>,
    pub role: crate::auth::Role,
}

/// One change of an event.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HistoryOut {
    pub at: DateTime<Utc>,
    pub action: HistoryAction,
    /// The event's version after the change.
    pub version: i32,
    pub by: ActorOut,
    pub publication_before: Option<Publication>,
    pub publication_after: Publication,
    /// The fields changed, each with its value before and after: `{"title": {"from": "…", "to": "…"}}`.
    #[schema(value_type = Object)]
    pub changes: serde_json::Value,
    /// A reason (rejection, cancellation) or what else happened (sent back to moderation,
    /// referencing window overridden).
    pub note: Option<String>,
}

/// A reason for a transition (required to reject; optional to withdraw or cancel).
#[derive(Debug, Clone, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransitionForm {
    #[validate(length(min = 1, max = 2000))]
    #[schema(min_length = 1, max_length = 2000)]
    pub reason: Option<String>,
    /// Admins only, on submit: submit although the edition's referencing window is closed
    /// (recorded in the history).
    #[serde(default)]
    pub override_referencing_window: bool,
}

impl EventFormat {
    /// The French label, for people (facets, feeds, reports).
    pub fn label(self) -> &'static str {
        match self {
            EventFormat::Webinar => "Webinaire",
            EventFormat::Conference => "Conférence",
            EventFormat::Workshop => "Atelier",
            EventFormat::Training => "Formation",
            EventFormat::RoundTable => "Table ronde",
            EventFormat::Hackathon => "Hackathon",
            EventFormat::SeriousGame => "Serious game",
            EventFormat::CreativeSession => "Session créative",
            EventFormat::ToolDemo => "Démonstration d'outils",
            EventFormat::Exhibition => "Exposition",
            EventFormat::Visit => "Visite",
            EventFormat::OpenHouse => "Journée portes ouvertes",
            EventFormat::Podcast => "Podcast",
            EventFormat::CallForIdeas => "Appel à idées",
            EventFormat::Other => "Autre",
        }
    }
}

impl EventMode {
    pub fn label(self) -> &'static str {
        match self {
            EventMode::Online => "En ligne",
            EventMode::Onsite => "Sur place",
            EventMode::Hybrid => "Hybride",
        }
    }
}

impl Audience {
    pub fn label(self) -> &'static str {
        match self {
            Audience::PublicAgents => "Agents publics",
            Audience::GeneralPublic => "Grand public",
            Audience::Everyone => "Tous publics",
        }
    }
}

impl EventStatus {
    pub fn label(self) -> &'static str {
        match self {
            EventStatus::Scheduled => "Programmé",
            EventStatus::Postponed => "Reporté",
            EventStatus::Rescheduled => "Reprogrammé",
            EventStatus::MovedOnline => "Passé en ligne",
            EventStatus::Full => "Complet",
            EventStatus::Cancelled => "Annulé",
        }
    }
}

impl Publication {
    pub fn label(self) -> &'static str {
        match self {
            Publication::Draft => "Brouillon",
            Publication::Submitted => "En modération",
            Publication::Published => "Publié",
            Publication::Rejected => "Refusé",
            Publication::Withdrawn => "Retiré",
        }
    }
}
