//! Normalizing an event form: checking it against the database and the rules into the
//! columns to write, reading a stored event back as the form that `PATCH` merges into, and the
//! merge patch itself (RFC 7396).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::model::{
    Audience, EventContent, EventForm, EventFormat, EventMode, EventRow, EventStatus, EventTime, RegistrationForm,
    SessionForm, VenueForm,
};
use super::rules::{self, Completeness};
use crate::editions::model::EditionRow;
use crate::error::{ApiError, ApiResult, FieldError};
use crate::geo::repo::Geography;
use crate::schema::{event_labs, event_sessions, labs, tracks};

/// An event form checked against the database and the rules, ready to be written.
pub struct Resolved {
    pub content: EventContent,
    pub sessions: Vec<(DateTime<Utc>, DateTime<Utc>)>,
    pub lab_ids: Vec<Uuid>,
    pub edition: EditionRow,
    /// The form as it will read back: what the history compares.
    pub normalized: EventForm,
}

/// What checking forms reads from the database, read once for many forms (an import's rows
/// name the same edition, tracks and labs again and again).
#[derive(Default)]
pub struct Lookups {
    /// The organizer of new events, by the key a form names it with (none: the writer's own).
    owners: HashMap<Option<String>, Uuid>,
    editions: HashMap<i32, Option<EditionRow>>,
    tracks: HashMap<(i32, String), Option<Uuid>>,
    labs: HashMap<String, Option<Uuid>>,
}

impl Lookups {
    /// The owner of a new event named by `key`, found by `find` once per key.
    pub fn owner(&mut self, key: Option<&str>, find: impl FnOnce(Option<&str>) -> ApiResult<Uuid>) -> ApiResult<Uuid> {
        let key = key.map(str::to_string);
        if let Some(found) = self.owners.get(&key) {
            return Ok(*found);
        }
        let found = find(key.as_deref())?;
        self.owners.insert(key, found);
        Ok(found)
    }

    fn edition(&mut self, conn: &mut PgConnection, year: i32) -> ApiResult<Option<EditionRow>> {
        if let Some(found) = self.editions.get(&year) {
            return Ok(found.clone());
        }
        let found = match crate::editions::repo::find_row(conn, year) {
            Ok(edition) => Some(edition),
            Err(ApiError::NotFound(_)) => None,
            Err(other) => return Err(other),
        };
        self.editions.insert(year, found.clone());
        Ok(found)
    }

    fn track(&mut self, conn: &mut PgConnection, year: i32, slug: &str) -> ApiResult<Option<Uuid>> {
        let key = (year, slug.to_string());
        if let Some(found) = self.tracks.get(&key) {
            return Ok(*found);
        }
        let found: Option<Uuid> = tracks::table
            .filter(tracks::edition_year.eq(year).and(tracks::slug.eq(slug)))
            .select(tracks::id)
            .first(conn)
            .optional()?;
        self.tracks.insert(key, found);
        Ok(found)
    }

    /// The ids of the labs with these slugs (those that exist), reading only unknown slugs.
    fn labs(&mut self, conn: &mut PgConnection, slugs: &[String]) -> ApiResult<Vec<(String, Uuid)>> {
        let unknown: Vec<&String> = slugs.iter().filter(|slug| !self.labs.contains_key(*slug)).collect();
        if !unknown.is_empty() {
            let found: Vec<(String, Uuid)> =
                labs::table.filter(labs::slug.eq_any(&unknown)).select((labs::slug, labs::id)).load(conn)?;
            for slug in unknown {
                let id = found.iter().find(|(known, _)| known == slug).map(|(_, id)| *id);
                self.labs.insert(slug.clone(), id);
            }
        }
        Ok(slugs.iter().filter_map(|slug| Some((slug.clone(), (*self.labs.get(slug)?)?))).collect())
    }
}

/// Checks a form: the edition, track and labs exist, and the rules hold at `completeness`.
pub fn resolve(
    conn: &mut PgConnection,
    geo: &Geography,
    form: &EventForm,
    completeness: Completeness,
) -> ApiResult<Resolved> {
    resolve_with(conn, geo, form, completeness, &mut Lookups::default())
}

/// [`resolve`], reading the database through `lookups`.
pub fn resolve_with(
    conn: &mut PgConnection,
    geo: &Geography,
    form: &EventForm,
    completeness: Completeness,
    lookups: &mut Lookups,
) -> ApiResult<Resolved> {
    let mut errors = Vec::new();
    let Some(edition) = lookups.edition(conn, form.edition)? else {
        return Err(ApiError::field("edition", "unknown_edition", format!("there is no {} edition", form.edition)));
    };
    let track_id = match &form.track {
        None => None,
        Some(slug) => {
            let found = lookups.track(conn, form.edition, slug)?;
            if found.is_none() {
                errors.push(FieldError::new(
                    "track",
                    "unknown_track",
                    format!("the {} edition has no track `{slug}`", form.edition),
                ));
            }
            found
        }
    };
    let mut lab_slugs: Vec<String> = form.labs.iter().map(|s| s.trim().to_string()).collect();
    lab_slugs.sort();
    lab_slugs.dedup();
    let known = if lab_slugs.is_empty() { Vec::new() } else { lookups.labs(conn, &lab_slugs)? };
    for (index, slug) in form.labs.iter().enumerate() {
        if !known.iter().any(|(known_slug, _)| known_slug == slug.trim()) {
            errors.push(FieldError::new(
                format!("labs[{index}]"),
                "unknown_lab",
                format!("no lab has the slug `{slug}`"),
            ));
        }
    }
    let checked = rules::check_event(form, &edition, geo, completeness);
    let checked = match checked {
        Ok(checked) if errors.is_empty() => checked,
        Ok(_) => return Err(ApiError::Validation(errors)),
        Err(rule_errors) => {
            errors.extend(rule_errors);
            errors.sort_by(|a, b| a.field.cmp(&b.field));
            return Err(ApiError::Validation(errors));
        }
    };
    let venue = form.venue.clone().unwrap_or_default();
    let registration = form.registration.clone().unwrap_or_default();
    let (starts_at, ends_at) = (
        checked.sessions.iter().map(|s| s.0).min().unwrap_or_default(),
        checked.sessions.iter().map(|s| s.1).max().unwrap_or_default(),
    );
    let content = EventContent {
        edition_year: form.edition,
        track_id,
        title: form.title.trim().to_string(),
        summary: trimmed(&form.summary),
        description: form.description.clone().filter(|d| !d.trim().is_empty()),
        format: form.format.as_str().into(),
        mode: form.mode.as_str().into(),
        audience: form.audience.as_str().into(),
        timezone: checked.zone.name().into(),
        starts_at,
        ends_at,
        session_count: checked.sessions.len() as i32,
        venue_name: trimmed(&venue.name),
        venue_address: trimmed(&venue.address),
        venue_postal_code: trimmed(&venue.postal_code),
        venue_city: trimmed(&venue.city),
        region_code: checked.region.clone(),
        department_code: checked.department.clone(),
        latitude: venue.latitude,
        longitude: venue.longitude,
        online_url: form.online_url.clone(),
        registration_required: registration.required,
        registration_url: registration.url.clone(),
        registration_capacity: registration.capacity,
        registration_closes_at: checked.registration_closes_at,
        language: form.language.clone(),
        accessibility: trimmed(&form.accessibility),
        tags: normalized_tags(&form.tags),
        co_organizers: unique(form.co_organizers.iter().map(|n| n.trim().to_string())),
        image_url: form.image_url.clone(),
        external_id: trimmed(&form.external_id),
        status: form.status.unwrap_or(EventStatus::Scheduled).as_str().into(),
        status_note: trimmed(&form.status_note),
    };
    let lab_ids = known.iter().map(|(_, id)| *id).collect();
    let normalized = form_of_parts(&content, &checked.sessions, form.track.clone(), lab_slugs, form.organizer.clone());
    Ok(Resolved { content, sessions: checked.sessions, lab_ids, edition, normalized })
}

fn trimmed(value: &Option<String>) -> Option<String> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(String::from)
}

/// Tags are compared lowercased, each once.
fn normalized_tags(tags: &[String]) -> Vec<String> {
    unique(tags.iter().map(|tag| tag.trim().to_lowercase()))
}

fn unique(values: impl Iterator<Item = String>) -> Vec<String> {
    let mut seen = Vec::new();
    for value in values {
        if !value.is_empty() && !seen.contains(&value) {
            seen.push(value);
        }
    }
    seen
}

/// The form that reads back the given content: what `PATCH` merges into and history compares.
fn form_of_parts(
    content: &EventContent,
    sessions: &[(DateTime<Utc>, DateTime<Utc>)],
    track: Option<String>,
    lab_slugs: Vec<String>,
    organizer: Option<String>,
) -> EventForm {
    let zone: chrono_tz::Tz = content.timezone.parse().unwrap_or(chrono_tz::Europe::Paris);
    let local = |at: DateTime<Utc>| EventTime::Exact(at.with_timezone(&zone).fixed_offset());
    let has_venue = content.venue_name.is_some()
        || content.venue_address.is_some()
        || content.venue_postal_code.is_some()
        || content.venue_city.is_some()
        || content.region_code.is_some()
        || content.department_code.is_some()
        || content.latitude.is_some();
    let has_registration = content.registration_required
        || content.registration_url.is_some()
        || content.registration_capacity.is_some()
        || content.registration_closes_at.is_some();
    EventForm {
        edition: content.edition_year,
        organizer,
        track,
        title: content.title.clone(),
        summary: content.summary.clone(),
        description: content.description.clone(),
        format: EventFormat::parse(&content.format).unwrap_or(EventFormat::Other),
        mode: EventMode::parse(&content.mode).unwrap_or(EventMode::Online),
        audience: Audience::parse(&content.audience).unwrap_or(Audience::Everyone),
        sessions: sessions.iter().map(|(s, e)| SessionForm { starts_at: local(*s), ends_at: local(*e) }).collect(),
        timezone: content.timezone.clone(),
        venue: has_venue.then(|| VenueForm {
            name: content.venue_name.clone(),
            address: content.venue_address.clone(),
            postal_code: content.venue_postal_code.clone(),
            city: content.venue_city.clone(),
            department: content.department_code.clone(),
            region: content.region_code.clone(),
            latitude: content.latitude,
            longitude: content.longitude,
        }),
        online_url: content.online_url.clone(),
        registration: has_registration.then(|| RegistrationForm {
            required: content.registration_required,
            url: content.registration_url.clone(),
            capacity: content.registration_capacity,
            closes_at: content.registration_closes_at.map(local),
        }),
        language: content.language.clone(),
        accessibility: content.accessibility.clone(),
        tags: content.tags.clone(),
        labs: lab_slugs,
        co_organizers: content.co_organizers.clone(),
        image_url: content.image_url.clone(),
        external_id: content.external_id.clone(),
        status: EventStatus::parse(&content.status),
        status_note: content.status_note.clone(),
    }
}

fn content_of(row: &EventRow) -> EventContent {
    EventContent {
        edition_year: row.edition_year,
        track_id: row.track_id,
        title: row.title.clone(),
        summary: row.summary.clone(),
        description: row.description.clone(),
        format: row.format.clone(),
        mode: row.mode.clone(),
        audience: row.audience.clone(),
        timezone: row.timezone.clone(),
        starts_at: row.starts_at,
        ends_at: row.ends_at,
        session_count: row.session_count,
        venue_name: row.venue_name.clone(),
        venue_address: row.venue_address.clone(),
        venue_postal_code: row.venue_postal_code.clone(),
        venue_city: row.venue_city.clone(),
        region_code: row.region_code.clone(),
        department_code: row.department_code.clone(),
        latitude: row.latitude,
        longitude: row.longitude,
        online_url: row.online_url.clone(),
        registration_required: row.registration_required,
        registration_url: row.registration_url.clone(),
        registration_capacity: row.registration_capacity,
        registration_closes_at: row.registration_closes_at,
        language: row.language.clone(),
        accessibility: row.accessibility.clone(),
        tags: row.tags.iter().flatten().cloned().collect(),
        co_organizers: row.co_organizers.iter().flatten().cloned().collect(),
        image_url: row.image_url.clone(),
        external_id: row.external_id.clone(),
        status: row.status.clone(),
        status_note: row.status_note.clone(),
    }
}

/// A session's start and end.
type Session = (DateTime<Utc>, DateTime<Utc>);

/// The form of a stored event, as `PATCH` merges into it.
pub fn form_of(conn: &mut PgConnection, row: &EventRow) -> ApiResult<EventForm> {
    forms_of(conn, std::slice::from_ref(row))?
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::internal("forms_of answered no form for one row"))
}

/// The forms of stored events, in the rows' order: their sessions, track slugs and lab slugs
/// read for all of them in three queries (exports read a chunk of rows at a time).
pub fn forms_of(conn: &mut PgConnection, rows: &[EventRow]) -> ApiResult<Vec<EventForm>> {
    use std::collections::HashMap;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<Uuid> = rows.iter().map(|row| row.id).collect();
    let mut sessions: HashMap<Uuid, Vec<Session>> = HashMap::new();
    let session_rows: Vec<(Uuid, DateTime<Utc>, DateTime<Utc>)> = event_sessions::table
        .filter(event_sessions::event_id.eq_any(&ids))
        .order((event_sessions::event_id, event_sessions::position))
        .select((event_sessions::event_id, event_sessions::starts_at, event_sessions::ends_at))
        .load(conn)?;
    for (event, starts_at, ends_at) in session_rows {
        sessions.entry(event).or_default().push((starts_at, ends_at));
    }
    let mut track_ids: Vec<Uuid> = rows.iter().filter_map(|row| row.track_id).collect();
    track_ids.sort();
    track_ids.dedup();
    let tracks: HashMap<Uuid, String> = if track_ids.is_empty() {
        HashMap::new()
    } else {
        tracks::table
            .filter(tracks::id.eq_any(&track_ids))
            .select((tracks::id, tracks::slug))
            .load(conn)?
            .into_iter()
            .collect()
    };
    let mut labs: HashMap<Uuid, Vec<String>> = HashMap::new();
    let lab_rows: Vec<(Uuid, String)> = event_labs::table
        .inner_join(labs::table)
        .filter(event_labs::event_id.eq_any(&ids))
        .select((event_labs::event_id, labs::slug))
        .load(conn)?;
    for (event, slug) in lab_rows {
        labs.entry(event).or_default().push(slug);
    }
    rows.iter()
        .map(|row| {
            let track = match row.track_id {
                // The foreign key keeps it; a missing one is what a lone read of it answered.
                Some(id) => Some(tracks.get(&id).cloned().ok_or(diesel::result::Error::NotFound)?),
                None => None,
            };
            let mut lab_slugs = labs.get(&row.id).cloned().unwrap_or_default();
            lab_slugs.sort();
            let sessions = sessions.get(&row.id).map_or(&[][..], Vec::as_slice);
            Ok(form_of_parts(&content_of(row), sessions, track, lab_slugs, Some(row.organizer_id.to_string())))
        })
        .collect()
}

/// RFC 7396: objects merge key by key, `null` removes, anything else replaces.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    match (target, patch) {
        (Value::Object(target), Value::Object(patch)) => {
            for (key, value) in patch {
                if value.is_null() {
                    target.remove(key);
                } else {
                    merge_patch(target.entry(key.clone()).or_insert(Value::Null), value);
                }
            }
        }
        (target, patch) => *target = strip_nulls(patch.clone()),
    }
}

fn strip_nulls(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            Value::Object(map.into_iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| (k, strip_nulls(v))).collect())
        }
        other => other,
    }
}

/// The stored region reads back as if the client had written it, although it was usually
/// deduced from the department. A patch that moves the venue to another department without
/// naming a region gets that department's region, as at creation (and as organizers do),
/// instead of a 422 about a region it never sent.
pub fn forget_deduced_region(merged: &mut Value, patch: &Map<String, Value>) {
    let Some(Value::Object(venue_patch)) = patch.get("venue") else { return };
    let new_department = venue_patch.get("department").is_some_and(|d| !d.is_null());
    if new_department
        && !venue_patch.contains_key("region")
        && let Some(Value::Object(venue)) = merged.get_mut("venue")
    {
        venue.remove("region");
    }
}
