//! Writing events: creation, merge-patch updates and deletion of drafts, each in one
//! transaction with its history entry. Reads that list events are in `search.rs`.

use chrono::Utc;
use diesel::prelude::*;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::form::{Lookups, Resolved, forget_deduced_region, form_of, merge_patch, resolve_with};
use super::history::{self, Actor};
use super::model::{EventContent, EventForm, EventRow, EventStatus, HistoryAction, Publication, SessionRow};
use super::rules::Completeness;
use crate::error::{ApiError, ApiResult};
use crate::geo::repo::Geography;
use crate::http::conditional::IfMatch;
use crate::http::fields::slugify;
use crate::organizers::model::OrganizerRow;
use crate::schema::{event_labs, event_sessions, events};

fn not_found(key: &str) -> ApiError {
    ApiError::NotFound(format!("event `{key}`"))
}

/// An event by id or slug as `viewer` may see it: one the viewer may not see is a 404, as if it
/// did not exist (the one visibility rule, `filter::Viewer`).
pub fn find_visible(conn: &mut PgConnection, key: &str, viewer: super::filter::Viewer) -> ApiResult<EventRow> {
    let row = find_row(conn, key)?;
    if viewer.sees(row.publication(), row.organizer_id) { Ok(row) } else { Err(not_found(key)) }
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
pub fn lock_row(conn: &mut PgConnection, id: Uuid, if_match: &IfMatch) -> ApiResult<EventRow> {
    let row: EventRow = events::table
        .find(id)
        .for_update()
        .select(EventRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| not_found(&id.to_string()))?;
    if_match.check(row.version)?;
    Ok(row)
}

/// Characters of the suffix that ends every event slug: digits and lowercase letters, without
/// `i`, `l`, `o` and `u`, which are misread for `1`, `0` or one another (Crockford's base 32).
const SLUG_SUFFIX_ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";
/// Each character of the suffix carries 5 bits: 6 of them, 30 bits.
const SLUG_SUFFIX_CHARS: usize = 6;

/// The slug of a new event: the title's, the edition's year, and six characters drawn from the
/// event's own id (`fabriquer-un-capteur-2030-k3f9x2`). The suffix never depends on the other
/// events: a slug chosen to step around a taken one (`…-2030-2`) would tell its author that
/// someone else, perhaps another organizer's hidden draft, already has that title.
fn event_slug(title: &str, year: i32, id: Uuid) -> String {
    let mut base = slugify(title);
    base.truncate(70);
    // The last 32 bits of a UUID v7 are random (the bits before them hold the time and, in
    // the `uuid` crate, a counter that only orders ids made in the same millisecond).
    let random = u128::from_be_bytes(*id.as_bytes()) as u32;
    let suffix: String = (0..SLUG_SUFFIX_CHARS)
        .filter_map(|n| SLUG_SUFFIX_ALPHABET.get(((random >> (5 * n)) & 31) as usize))
        .map(|byte| char::from(*byte))
        .collect();
    format!("{}-{year}-{suffix}", base.trim_end_matches('-')).trim_start_matches('-').to_string()
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

/// Whose event a new one is (the organizer the form names, id or slug): members write for
/// their organizer, admins name it.
pub fn owner_of_new_event(conn: &mut PgConnection, actor: &Actor, named: Option<&str>) -> ApiResult<OrganizerRow> {
    let not_yours = || ApiError::Forbidden("you may only reference events for your own organizer".into());
    let named = match named {
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

/// A new event, checked and ready to be inserted.
pub struct NewEvent {
    organizer_id: Uuid,
    title: String,
    edition: i32,
    resolved: Resolved,
}

/// Checks a new event as its creation does, without writing anything: whose it is, and the
/// rules of a draft. Imports check all their rows so, then insert them together.
pub fn prepare_new(
    conn: &mut PgConnection,
    geo: &Geography,
    actor: &Actor,
    form: &EventForm,
    lookups: &mut Lookups,
) -> ApiResult<NewEvent> {
    let organizer_id = lookups
        .owner(form.organizer.as_deref(), |key| owner_of_new_event(conn, actor, key).map(|organizer| organizer.id))?;
    if form.status == Some(EventStatus::Cancelled) {
        return Err(ApiError::field("status", "use_cancel", "a new event cannot be cancelled"));
    }
    let mut resolved = resolve_with(conn, geo, form, Completeness::Draft, lookups)?;
    resolved.normalized.organizer = Some(organizer_id.to_string());
    Ok(NewEvent { organizer_id, title: form.title.clone(), edition: form.edition, resolved })
}

/// Rows per insert statement: PostgreSQL takes at most 65,535 parameters per statement, and an
/// event row has about 40.
const INSERT_CHUNK: usize = 1_000;

/// Inserts new events (drafts) with their sessions, labs and a history entry each, in a few
/// multi-row statements whatever their number. Returns their ids in the order given.
///
/// Each event gets a fresh id and the slug made from it. Two slugs meet only when the titles,
/// the years and 30 random bits do (a few in a hundred thousand events with the same title and
/// year); an event whose slug is taken (`ON CONFLICT (slug) DO NOTHING` leaves it out) is given
/// another id and tried again, so the author never learns of the other event.
pub fn insert_new(conn: &mut PgConnection, actor: &Actor, new: &[NewEvent]) -> ApiResult<Vec<Uuid>> {
    let ids = insert_rows(conn, actor, new)?;
    insert_parts(conn, new, &ids)?;
    let created: Vec<(Uuid, Value)> =
        ids.iter().zip(new).map(|(id, event)| (*id, history::diff(None, &event.resolved.normalized))).collect();
    history::record_created(conn, &created, actor)?;
    Ok(ids)
}

/// The values of a new event's row: its content, id, slug, organizer and author.
type RowValues<'a> = (
    &'a EventContent,
    diesel::dsl::Eq<events::id, Uuid>,
    diesel::dsl::Eq<events::slug, String>,
    diesel::dsl::Eq<events::organizer_id, Uuid>,
    diesel::dsl::Eq<events::created_by, Uuid>,
);

fn row_values<'a>(event: &'a NewEvent, id: Uuid, actor: &Actor) -> RowValues<'a> {
    (
        &event.resolved.content,
        events::id.eq(id),
        events::slug.eq(event_slug(&event.title, event.edition, id)),
        events::organizer_id.eq(event.organizer_id),
        events::created_by.eq(actor.account_id),
    )
}

/// Multi-row `INSERT`s, stepping around taken slugs.
fn insert_rows(conn: &mut PgConnection, actor: &Actor, new: &[NewEvent]) -> ApiResult<Vec<Uuid>> {
    const ATTEMPTS: usize = 3;
    let mut ids: Vec<Uuid> = vec![Uuid::nil(); new.len()];
    let mut pending: Vec<usize> = (0..new.len()).collect();
    for _ in 0..ATTEMPTS {
        if pending.is_empty() {
            break;
        }
        for index in &pending {
            if let Some(id) = ids.get_mut(*index) {
                *id = Uuid::now_v7();
            }
        }
        let mut inserted = std::collections::HashSet::new();
        for chunk in pending.chunks(INSERT_CHUNK) {
            let values: Vec<_> =
                chunk.iter().filter_map(|index| Some(row_values(new.get(*index)?, *ids.get(*index)?, actor))).collect();
            let done: Vec<Uuid> = diesel::insert_into(events::table)
                .values(values)
                .on_conflict(events::slug)
                .do_nothing()
                .returning(events::id)
                .get_results(conn)?;
            inserted.extend(done);
        }
        pending.retain(|index| ids.get(*index).is_some_and(|id| !inserted.contains(id)));
    }
    if !pending.is_empty() {
        return Err(ApiError::internal("could not find a free slug for a new event"));
    }
    Ok(ids)
}

/// The sessions and labs of new events (`ids` in the order of `new`).
fn insert_parts(conn: &mut PgConnection, new: &[NewEvent], ids: &[Uuid]) -> ApiResult<()> {
    let sessions: Vec<SessionRow> = ids
        .iter()
        .zip(new)
        .flat_map(|(id, event)| {
            event.resolved.sessions.iter().enumerate().map(|(position, (starts_at, ends_at))| SessionRow {
                event_id: *id,
                position: position as i32,
                starts_at: *starts_at,
                ends_at: *ends_at,
            })
        })
        .collect();
    for chunk in sessions.chunks(INSERT_CHUNK * 10) {
        diesel::insert_into(event_sessions::table).values(chunk).execute(conn)?;
    }
    let lab_rows: Vec<_> = ids
        .iter()
        .zip(new)
        .flat_map(|(id, event)| {
            event.resolved.lab_ids.iter().map(|lab| (event_labs::event_id.eq(*id), event_labs::lab_id.eq(*lab)))
        })
        .collect();
    for chunk in lab_rows.chunks(INSERT_CHUNK * 10) {
        diesel::insert_into(event_labs::table).values(chunk).execute(conn)?;
    }
    Ok(())
}

/// Creates a draft.
pub fn create(conn: &mut PgConnection, geo: &Geography, actor: &Actor, form: &EventForm) -> ApiResult<EventRow> {
    conn.transaction(|conn| {
        let new = prepare_new(conn, geo, actor, form, &mut Lookups::default())?;
        let id = insert_new(conn, actor, std::slice::from_ref(&new))?
            .pop()
            .ok_or_else(|| ApiError::internal("the new event was not inserted"))?;
        find_row(conn, &id.to_string())
    })
}

/// Applies a merge patch by a member or an admin. A change to a published event is recorded and,
/// when its edition asks for it, sends the event back to moderation.
pub fn update(
    conn: &mut PgConnection,
    geo: &Geography,
    actor: &Actor,
    id: Uuid,
    if_match: &IfMatch,
    patch: &Map<String, Value>,
) -> ApiResult<EventRow> {
    update_with(conn, geo, actor, id, if_match, patch, &mut Lookups::default()).map(|(row, _)| row)
}

/// [`update`], reading editions, tracks and labs through `lookups`; says whether the patch
/// changed anything (an import reports the row `unchanged` otherwise).
pub fn update_with(
    conn: &mut PgConnection,
    geo: &Geography,
    actor: &Actor,
    id: Uuid,
    if_match: &IfMatch,
    patch: &Map<String, Value>,
    lookups: &mut Lookups,
) -> ApiResult<(EventRow, bool)> {
    conn.transaction(|conn| {
        let current = lock_row(conn, id, if_match)?;
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
        let mut resolved = resolve_with(conn, geo, &form, completeness, lookups)?;
        resolved.normalized.organizer = before.organizer.clone();
        let changes = history::diff(Some(&before), &resolved.normalized);
        if changes.as_object().is_none_or(Map::is_empty) {
            return Ok((current, false)); // nothing changed: no new version, no history entry
        }
        // What happens on the day (full, postponed…) is the organizer's to say: only a change of
        // content sends a published event back to moderation.
        let content_changed =
            changes.as_object().is_some_and(|c| c.keys().any(|field| field != "status" && field != "status_note"));
        let back_to_moderation = publication == Publication::Published
            && !actor.has_admin_powers()
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
        Ok((row, true))
    })
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
pub fn delete_draft(conn: &mut PgConnection, id: Uuid, if_match: &IfMatch) -> ApiResult<()> {
    conn.transaction(|conn| {
        let row = lock_row(conn, id, if_match)?;
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
