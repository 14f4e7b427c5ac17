//! The history of an event: who changed what and when, one entry per write or transition.

use diesel::prelude::*;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::model::{ActorOut, EventForm, EventRow, HistoryAction, HistoryOut, HistoryRow, Publication};
use crate::auth::{Principal, Role};
use crate::error::{ApiError, ApiResult};
use crate::schema::{accounts, event_history};

/// Who acts on an event: the caller. Its admin powers (moderation, overriding the
/// referencing window, changes that skip review) follow [`Principal::has_admin_powers`].
pub type Actor = Principal;

/// The fields that differ between two forms, each as `{"from": …, "to": …}`. Without a
/// `before`, every field set is reported as new.
pub fn diff(before: Option<&EventForm>, after: &EventForm) -> Value {
    let as_map = |form: Option<&EventForm>| -> Map<String, Value> {
        match form.map(serde_json::to_value) {
            Some(Ok(Value::Object(map))) => map,
            _ => Map::new(),
        }
    };
    let (before, after) = (as_map(before), as_map(Some(after)));
    let mut changes = Map::new();
    for (field, to) in &after {
        let from = before.get(field).unwrap_or(&Value::Null);
        if from != to && !(from.is_null() && is_empty(to)) {
            changes.insert(field.clone(), json!({"from": from, "to": to}));
        }
    }
    for (field, from) in &before {
        if !after.contains_key(field) && !from.is_null() {
            changes.insert(field.clone(), json!({"from": from, "to": null}));
        }
    }
    Value::Object(changes)
}

fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Array(items) => items.is_empty(),
        _ => false,
    }
}

pub fn record(
    conn: &mut PgConnection,
    event: &EventRow,
    action: HistoryAction,
    actor: &Actor,
    publication_before: Option<Publication>,
    changes: Value,
    note: Option<String>,
) -> ApiResult<()> {
    diesel::insert_into(event_history::table)
        .values((
            event_history::event_id.eq(event.id),
            event_history::version.eq(event.version),
            event_history::action.eq(action.as_str()),
            event_history::account_id.eq(actor.account_id),
            event_history::actor_role.eq(actor.role.as_str()),
            event_history::publication_before.eq(publication_before.map(Publication::as_str)),
            event_history::publication_after.eq(&event.publication),
            event_history::changes.eq(changes),
            event_history::note.eq(note),
        ))
        .execute(conn)?;
    Ok(())
}

/// The `created` entries of new events (drafts at version 1), by id with their fields.
pub fn record_created(conn: &mut PgConnection, created: &[(Uuid, Value)], actor: &Actor) -> ApiResult<()> {
    let rows: Vec<_> = created
        .iter()
        .map(|(id, changes)| {
            (
                event_history::event_id.eq(*id),
                event_history::version.eq(1),
                event_history::action.eq(HistoryAction::Created.as_str()),
                event_history::account_id.eq(actor.account_id),
                event_history::actor_role.eq(actor.role.as_str()),
                event_history::publication_after.eq(Publication::Draft.as_str()),
                event_history::changes.eq(changes),
            )
        })
        .collect();
    for chunk in rows.chunks(5_000) {
        diesel::insert_into(event_history::table).values(chunk).execute(conn)?;
    }
    Ok(())
}

/// The event's history, oldest first. `after_id` is the cursor. DITP staff appear to
/// organizers by their role, not their email.
pub fn list(
    conn: &mut PgConnection,
    event_id: Uuid,
    after_id: Option<i64>,
    limit: i64,
    viewer_is_admin: bool,
) -> ApiResult<(Vec<(i64, HistoryOut)>, i64)> {
    let total = event_history::table.filter(event_history::event_id.eq(event_id)).count().get_result(conn)?;
    let mut query = event_history::table
        .left_join(accounts::table)
        .filter(event_history::event_id.eq(event_id))
        .order(event_history::id)
        .limit(limit + 1)
        .select((HistoryRow::as_select(), accounts::email.nullable()))
        .into_boxed();
    if let Some(after) = after_id {
        query = query.filter(event_history::id.gt(after));
    }
    let rows: Vec<(HistoryRow, Option<String>)> = query.load(conn)?;
    let entries = rows
        .into_iter()
        .map(|(row, email)| {
            let email = email.filter(|_| viewer_is_admin || row.actor_role != Role::Admin.as_str());
            let entry = HistoryOut {
                at: row.at,
                action: HistoryAction::parse(&row.action)
                    .ok_or_else(|| ApiError::internal("unknown history action"))?,
                version: row.version,
                by: ActorOut {
                    account_id: row.account_id,
                    email,
                    role: Role::parse(&row.actor_role).unwrap_or(Role::Organizer),
                },
                publication_before: row.publication_before.as_deref().and_then(Publication::parse),
                publication_after: Publication::parse(&row.publication_after).unwrap_or(Publication::Draft),
                changes: row.changes,
                note: row.note,
            };
            Ok((row.id, entry))
        })
        .collect::<ApiResult<Vec<_>>>()?;
    Ok((entries, total))
}
