//! Reading and writing events: resolution of a form into rows, creation, merge-patch updates,
//! deletion of drafts, and the presentation of rows as `EventOut`.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::history::{self, Actor};
use super::model::{
    Audience, EventContent, EventForm, EventFormat, EventMode, EventOut, EventRow, EventStatus, EventTime,
    HistoryAction, NamedRef, Publication, RegistrationForm, RegistrationOut, SessionForm, SessionOut, SessionRow,
    VenueForm, VenueOut,
};
use super::rules::{self, Completeness};
use crate::editions::model::EditionRow;
use crate::error::{ApiError, ApiResult, FieldError};
use crate::geo::repo::geography;
use crate::http::fields::slugify;
use crate::organizers::model::{OrganizerRow, OrganizerSummary};
use crate::schema::{event_labs, event_sessions, events, labs, tracks};

/// A session's start and end.
pub type Span = (DateTime<Utc>, DateTime<Utc>);

fn not_found(key: &str) -> ApiError {
    ApiError::NotFound(format!("event `{key}`"))
}

/// An event by id or slug.
pub fn find_row(conn: &mut PgConnection, key: &str) -> ApiResult<EventRow> {
    // Two plain queries rather than one boxed: diesel keeps plain ones prepared.
    let found = match Uuid::parse_str(key) {
        Ok(id) => events::table.find(id).select(EventRow::as_select()).first(conn).optional()?,
        Err(_) => events::table.filter(events::slug.eq(key)).select(EventRow::as_select()).first(conn).optional()?,
    };
    found.ok_or_else(|| not_found(key))
}

/// The row, locked for the rest of the transaction, at the version the writer expects.
pub fn lock_row(conn: &mut PgConnection, id: Uuid, expected_version: Option<i32>) -> ApiResult<EventRow> {
    let row: EventRow = events::table
        .find(id)
        .for_update()
        .select(EventRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| not_found(&id.to_string()))?;
    match expected_version {
        Some(expected) if expected != row.version => Err(ApiError::PreconditionFailed(format!("v{expected}"))),
        _ => Ok(row),
    }
}

/// An event form checked against the database and the rules, ready to be written.
pub struct Resolved {
    pub content: EventContent,
    pub sessions: Vec<(DateTime<Utc>, DateTime<Utc>)>,
    pub lab_ids: Vec<Uuid>,
    pub edition: EditionRow,
    /// The form as it will read back: what the history compares.
    pub normalized: EventForm,
}

/// Checks a form: the edition, track and labs exist, and the rules hold at `completeness`.
pub fn resolve(conn: &mut PgConnection, form: &EventForm, completeness: Completeness) -> ApiResult<Resolved> {
    let mut errors = Vec::new();
    let edition = match crate::editions::repo::find_row(conn, form.edition) {
        Ok(edition) => edition,
        Err(ApiError::NotFound(_)) => {
            return Err(ApiError::field("edition", "unknown_edition", format!("there is no {} edition", form.edition)));
        }
        Err(other) => return Err(other),
    };
    let track_id = match &form.track {
        None => None,
        Some(slug) => {
            let found: Option<Uuid> = tracks::table
                .filter(tracks::edition_year.eq(form.edition).and(tracks::slug.eq(slug)))
                .select(tracks::id)
                .first(conn)
                .optional()?;
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
    let known: Vec<(String, Uuid)> =
        labs::table.filter(labs::slug.eq_any(&lab_slugs)).select((labs::slug, labs::id)).load(conn)?;
    for (index, slug) in form.labs.iter().enumerate() {
        if !known.iter().any(|(known_slug, _)| known_slug == slug.trim()) {
            errors.push(FieldError::new(
                format!("labs[{index}]"),
                "unknown_lab",
                format!("no lab has the slug `{slug}`"),
            ));
        }
    }
    let checked = rules::check_event(form, &edition, geography(conn)?, completeness);
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

/// The form of a stored event, as `PATCH` merges into it.
pub fn form_of(conn: &mut PgConnection, row: &EventRow) -> ApiResult<EventForm> {
    let sessions: Vec<(DateTime<Utc>, DateTime<Utc>)> = event_sessions::table
        .filter(event_sessions::event_id.eq(row.id))
        .order(event_sessions::position)
        .select((event_sessions::starts_at, event_sessions::ends_at))
        .load(conn)?;
    let track: Option<String> = match row.track_id {
        Some(id) => Some(tracks::table.find(id).select(tracks::slug).first(conn)?),
        None => None,
    };
    let mut lab_slugs: Vec<String> = event_labs::table
        .inner_join(labs::table)
        .filter(event_labs::event_id.eq(row.id))
        .select(labs::slug)
        .load(conn)?;
    lab_slugs.sort();
    Ok(form_of_parts(&content_of(row), &sessions, track, lab_slugs, Some(row.organizer_id.to_string())))
}

/// A slug no other event has: the title's with the year, then `-2`, `-3`…
fn free_slug(conn: &mut PgConnection, title: &str, year: i32) -> ApiResult<String> {
    let mut base = slugify(title);
    base.truncate(70);
    let base = format!("{}-{year}", base.trim_end_matches('-')).trim_start_matches('-').to_string();
    let taken: Vec<String> = events::table
        .filter(events::slug.eq(&base).or(events::slug.like(format!("{base}-%"))))
        .select(events::slug)
        .load(conn)?;
    Ok((1..)
        .map(|n| if n == 1 { base.clone() } else { format!("{base}-{n}") })
        .find(|candidate| !taken.contains(candidate))
        .unwrap_or(base))
}

fn write_parts(conn: &mut PgConnection, event_id: Uuid, resolved: &Resolved) -> ApiResult<()> {
    diesel::delete(event_sessions::table.filter(event_sessions::event_id.eq(event_id))).execute(conn)?;
    let sessions: Vec<SessionRow> = resolved
        .sessions
        .iter()
        .enumerate()
        .map(|(position, (starts_at, ends_at))| SessionRow {
            event_id,
            position: position as i32,
            starts_at: *starts_at,
            ends_at: *ends_at,
        })
        .collect();
    diesel::insert_into(event_sessions::table).values(&sessions).execute(conn)?;
    diesel::delete(event_labs::table.filter(event_labs::event_id.eq(event_id))).execute(conn)?;
    let lab_rows: Vec<_> =
        resolved.lab_ids.iter().map(|lab| (event_labs::event_id.eq(event_id), event_labs::lab_id.eq(*lab))).collect();
    diesel::insert_into(event_labs::table).values(&lab_rows).execute(conn)?;
    Ok(())
}

/// Whose event a new one is: members write for their organizer, admins name it.
pub fn owner_of_new_event(conn: &mut PgConnection, actor: &Actor, form: &EventForm) -> ApiResult<OrganizerRow> {
    let not_yours = || ApiError::Forbidden("you may only reference events for your own organizer".into());
    let named = match &form.organizer {
        Some(key) => Some(crate::organizers::repo::find_row(conn, key).map_err(|error| match error {
            // Members get the same answer for an organizer that does not exist and for one that
            // is not theirs, so unverified organizers cannot be found by guessing their slugs.
            ApiError::NotFound(_) if !actor.is_admin() => not_yours(),
            ApiError::NotFound(_) => {
                ApiError::field("organizer", "unknown_organizer", format!("no organizer has the id or slug `{key}`"))
            }
            other => other,
        })?),
        None => None,
    };
    match (actor.organizer_id, named) {
        (_, Some(organizer)) if actor.acts_for(organizer.id) => Ok(organizer),
        (_, Some(_)) => Err(not_yours()),
        (Some(own), None) => crate::organizers::repo::find_by_id(conn, own),
        (None, None) => Err(ApiError::field("organizer", "required", "admins name the organizer of the event")),
    }
}

/// Creates a draft.
pub fn create(conn: &mut PgConnection, actor: &Actor, form: &EventForm) -> ApiResult<EventRow> {
    conn.transaction(|conn| {
        let organizer = owner_of_new_event(conn, actor, form)?;
        if form.status == Some(EventStatus::Cancelled) {
            return Err(ApiError::field("status", "use_cancel", "a new event cannot be cancelled"));
        }
        let mut resolved = resolve(conn, form, Completeness::Draft)?;
        resolved.normalized.organizer = Some(organizer.id.to_string());
        let id = Uuid::now_v7();
        crate::db::insert_with_free_slug(
            conn,
            "events_slug_key",
            |conn| free_slug(conn, &form.title, form.edition),
            |conn, slug| {
                diesel::insert_into(events::table)
                    .values((
                        &resolved.content,
                        events::id.eq(id),
                        events::slug.eq(slug),
                        events::organizer_id.eq(organizer.id),
                        events::created_by.eq(actor.account_id),
                    ))
                    .execute(conn)
            },
        )?;
        write_parts(conn, id, &resolved)?;
        let row = find_row(conn, &id.to_string())?;
        let changes = history::diff(None, &resolved.normalized);
        history::record(conn, &row, HistoryAction::Created, actor, None, changes, None)?;
        Ok(row)
    })
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

/// Applies a merge patch by a member or an admin. A change to a published event is recorded and,
/// when its edition asks for it, sends the event back to moderation.
pub fn update(
    conn: &mut PgConnection,
    actor: &Actor,
    id: Uuid,
    expected_version: Option<i32>,
    patch: &Map<String, Value>,
) -> ApiResult<EventRow> {
    conn.transaction(|conn| {
        let current = lock_row(conn, id, expected_version)?;
        let before = form_of(conn, &current)?;
        let mut merged = serde_json::to_value(&before).map_err(ApiError::internal)?;
        merge_patch(&mut merged, &Value::Object(patch.clone()));
        forget_deduced_region(&mut merged, patch);
        let merged_bytes = serde_json::to_vec(&merged).map_err(ApiError::internal)?;
        let form: EventForm = crate::http::json::parse_json(&merged_bytes)?;
        validator::Validate::validate(&form)?;
        if form.organizer != before.organizer {
            return Err(ApiError::field("organizer", "immutable", "an event stays with the organizer that created it"));
        }
        check_status_change(current.status(), form.status)?;
        let publication = current.publication();
        let completeness = match publication {
            Publication::Submitted | Publication::Published => Completeness::Complete,
            _ => Completeness::Draft,
        };
        let mut resolved = resolve(conn, &form, completeness)?;
        resolved.normalized.organizer = before.organizer.clone();
        let changes = history::diff(Some(&before), &resolved.normalized);
        if changes.as_object().is_none_or(Map::is_empty) {
            return Ok(current); // nothing changed: no new version, no history entry
        }
        // What happens on the day (full, postponed…) is the organizer's to say: only a change of
        // content sends a published event back to moderation.
        let content_changed =
            changes.as_object().is_some_and(|c| c.keys().any(|field| field != "status" && field != "status_note"));
        let back_to_moderation = publication == Publication::Published
            && !actor.is_admin()
            && resolved.edition.changes_require_review
            && content_changed;
        let after = if back_to_moderation { Publication::Submitted } else { publication };
        // Back in moderation, it queues from now (the moderation queue is ordered by it).
        let submitted_at = if back_to_moderation { Some(Utc::now()) } else { current.submitted_at };
        diesel::update(events::table.find(id))
            .set((&resolved.content, events::publication.eq(after.as_str()), events::submitted_at.eq(submitted_at)))
            .execute(conn)?;
        write_parts(conn, id, &resolved)?;
        let row = find_row(conn, &id.to_string())?;
        let note = back_to_moderation.then(|| "changed after publication: back to moderation".to_string());
        history::record(conn, &row, HistoryAction::Updated, actor, Some(publication), changes, note)?;
        Ok(row)
    })
}

/// The stored region reads back as if the client had written it, although it was usually
/// deduced from the department. A patch that moves the venue to another department without
/// naming a region gets that department's region, as at creation (and as organizers do),
/// instead of a 422 about a region it never sent.
fn forget_deduced_region(merged: &mut Value, patch: &Map<String, Value>) {
    let Some(Value::Object(venue_patch)) = patch.get("venue") else { return };
    let new_department = venue_patch.get("department").is_some_and(|d| !d.is_null());
    if new_department
        && !venue_patch.contains_key("region")
        && let Some(Value::Object(venue)) = merged.get_mut("venue")
    {
        venue.remove("region");
    }
}

/// `cancelled` is a transition of its own, and is final.
fn check_status_change(current: EventStatus, wanted: Option<EventStatus>) -> ApiResult<()> {
    let wanted = wanted.unwrap_or(EventStatus::Scheduled);
    match (current, wanted) {
        (EventStatus::Cancelled, EventStatus::Cancelled) => Ok(()),
        (EventStatus::Cancelled, _) => Err(ApiError::conflict_on(
            "status",
            "cancelled",
            "the event is `cancelled`; a cancelled event keeps its status (reference a new event instead)",
        )),
        (_, EventStatus::Cancelled) => {
            Err(ApiError::field("status", "use_cancel", "cancel an event with POST /api/v1/events/{id}/cancel"))
        }
        _ => Ok(()),
    }
}

/// Deletes a draft. Anything else is withdrawn or cancelled, never lost.
pub fn delete_draft(conn: &mut PgConnection, id: Uuid, expected_version: Option<i32>) -> ApiResult<()> {
    conn.transaction(|conn| {
        let row = lock_row(conn, id, expected_version)?;
        if row.publication() != Publication::Draft {
            return Err(ApiError::conflict_on(
                "publication",
                "not_a_draft",
                format!("the event is `{}`; only drafts are deleted (withdraw or cancel it instead)", row.publication),
            ));
        }
        diesel::delete(events::table.find(id)).execute(conn)?;
        Ok(())
    })
}

/// Rows as the API shows them, loading what they refer to in a few batched queries.
pub fn present(conn: &mut PgConnection, rows: Vec<EventRow>) -> ApiResult<Vec<EventOut>> {
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let mut sessions: HashMap<Uuid, Vec<Span>> = HashMap::new();
    let session_rows: Vec<SessionRow> = event_sessions::table
        .filter(event_sessions::event_id.eq_any(&ids))
        .order((event_sessions::event_id, event_sessions::position))
        .select(SessionRow::as_select())
        .load(conn)?;
    for s in session_rows {
        sessions.entry(s.event_id).or_default().push((s.starts_at, s.ends_at));
    }
    let mut event_lab_refs: HashMap<Uuid, Vec<NamedRef>> = HashMap::new();
    let lab_rows: Vec<(Uuid, String, String)> = event_labs::table
        .inner_join(labs::table)
        .filter(event_labs::event_id.eq_any(&ids))
        .order(labs::slug)
        .select((event_labs::event_id, labs::slug, labs::name))
        .load(conn)?;
    for (event_id, slug, name) in lab_rows {
        event_lab_refs.entry(event_id).or_default().push(NamedRef { slug, name });
    }
    let track_ids: Vec<Uuid> = rows.iter().filter_map(|r| r.track_id).collect();
    // Most events of a page, or the one event asked for, may have no track: no query then.
    let track_refs: HashMap<Uuid, NamedRef> = if track_ids.is_empty() {
        HashMap::new()
    } else {
        tracks::table
            .filter(tracks::id.eq_any(&track_ids))
            .select((tracks::id, tracks::slug, tracks::name))
            .load::<(Uuid, String, String)>(conn)?
            .into_iter()
            .map(|(id, slug, name)| (id, NamedRef { slug, name }))
            .collect()
    };
    let organizer_ids: Vec<Uuid> = rows.iter().map(|r| r.organizer_id).collect();
    let organizers: HashMap<Uuid, OrganizerSummary> = crate::organizers::repo::rows_by_id(conn, &organizer_ids)?
        .iter()
        .map(|o| (o.id, OrganizerSummary::from(o)))
        .collect();
    let geo = geography(conn)?;
    rows.into_iter()
        .map(|row| {
            let organizer = organizers
                .get(&row.organizer_id)
                .cloned()
                .ok_or_else(|| ApiError::internal("event without organizer"))?;
            let zone = row.zone();
            let local = |at: DateTime<Utc>| at.with_timezone(&zone).fixed_offset();
            let has_venue = row.venue_city.is_some()
                || row.venue_name.is_some()
                || row.venue_address.is_some()
                || row.region_code.is_some();
            Ok(EventOut {
                id: row.id,
                slug: row.slug,
                edition: row.edition_year,
                track: row.track_id.and_then(|id| track_refs.get(&id).cloned()),
                organizer,
                co_organizers: row.co_organizers.into_iter().flatten().collect(),
                labs: event_lab_refs.remove(&row.id).unwrap_or_default(),
                title: row.title,
                summary: row.summary,
                description: row.description,
                format: EventFormat::parse(&row.format).unwrap_or(EventFormat::Other),
                mode: EventMode::parse(&row.mode).unwrap_or(EventMode::Online),
                audience: Audience::parse(&row.audience).unwrap_or(Audience::Everyone),
                sessions: sessions
                    .remove(&row.id)
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(s, e)| SessionOut { starts_at: local(s), ends_at: local(e) })
                    .collect(),
                starts_at: local(row.starts_at),
                ends_at: local(row.ends_at),
                timezone: row.timezone.clone(),
                venue: has_venue.then(|| VenueOut {
                    name: row.venue_name,
                    address: row.venue_address,
                    postal_code: row.venue_postal_code,
                    city: row.venue_city,
                    department: row.department_code.as_deref().and_then(|c| geo.department(c)),
                    region: row.region_code.as_deref().and_then(|c| geo.region(c)),
                    latitude: row.latitude,
                    longitude: row.longitude,
                }),
                online_url: row.online_url,
                registration: RegistrationOut {
                    required: row.registration_required,
                    url: row.registration_url,
                    capacity: row.registration_capacity,
                    closes_at: row.registration_closes_at.map(local),
                },
                language: row.language,
                accessibility: row.accessibility,
                tags: row.tags.into_iter().flatten().collect(),
                image_url: row.image_url,
                external_id: row.external_id,
                publication: Publication::parse(&row.publication).unwrap_or(Publication::Draft),
                status: EventStatus::parse(&row.status).unwrap_or(EventStatus::Scheduled),
                rejection_reason: row.rejection_reason,
                status_note: row.status_note,
                submitted_at: row.submitted_at,
                published_at: row.published_at,
                version: row.version,
                created_at: row.created_at,
                updated_at: row.updated_at,
            })
        })
        .collect()
}

pub fn present_one(conn: &mut PgConnection, row: EventRow) -> ApiResult<EventOut> {
    present(conn, vec![row])?.pop().ok_or_else(|| ApiError::internal("presenting an event gave nothing"))
}

/// Which events a list shows.
pub struct EventScope {
    pub organizer: Option<Uuid>,
    pub lab: Option<Uuid>,
    /// Events of this organizer are shown in every state (its members, or an admin, are asking).
    pub unpublished_of: Option<Uuid>,
}

/// A page of events by start, then id. `after` is the cursor: the last row's (start, id).
pub fn list(
    conn: &mut PgConnection,
    scope: &EventScope,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> ApiResult<(Vec<EventRow>, i64)> {
    let filtered = || {
        let mut query = events::table.into_boxed();
        if let Some(organizer) = scope.organizer {
            query = query.filter(events::organizer_id.eq(organizer));
        }
        if let Some(lab) = scope.lab {
            query = query.filter(
                events::id.eq_any(event_labs::table.filter(event_labs::lab_id.eq(lab)).select(event_labs::event_id)),
            );
        }
        let published = events::publication.eq(Publication::Published.as_str());
        query = match scope.unpublished_of {
            Some(own) => query.filter(published.or(events::organizer_id.eq(own))),
            None => query.filter(published),
        };
        query
    };
    let total = filtered().count().get_result(conn)?;
    let mut page = filtered().select(EventRow::as_select()).order((events::starts_at, events::id)).limit(limit + 1);
    if let Some((starts_at, id)) = after {
        page = page.filter(events::starts_at.gt(starts_at).or(events::starts_at.eq(starts_at).and(events::id.gt(id))));
    }
    Ok((page.load(conn)?, total))
}
