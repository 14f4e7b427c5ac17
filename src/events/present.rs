//! Presenting events: rows as the API shows them, with what they refer to (sessions, labs,
//! track, organizer, place names) loaded in a few batched queries.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::model::{
    Audience, EventFormat, EventMode, EventOut, EventRow, EventStatus, NamedRef, Publication, RegistrationOut,
    SessionOut, SessionRow, VenueOut,
};
use crate::error::{ApiError, ApiResult};
use crate::geo::repo::Geography;
use crate::organizers::model::OrganizerSummary;
use crate::schema::{event_labs, event_sessions, labs, tracks};

/// A session's start and end.
type Span = (DateTime<Utc>, DateTime<Utc>);

/// Rows as the API shows them, loading what they refer to in a few batched queries.
pub fn present(conn: &mut PgConnection, geo: &Geography, rows: Vec<EventRow>) -> ApiResult<Vec<EventOut>> {
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

pub fn present_one(conn: &mut PgConnection, geo: &Geography, row: EventRow) -> ApiResult<EventOut> {
    present(conn, geo, vec![row])?.pop().ok_or_else(|| ApiError::internal("presenting an event gave nothing"))
}
