//! Moderation and the day's status: the explicit transitions of an event, each allowed only
//! from the right state and to the right role. Anything else is a 409 naming the current state.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde_json::json;
use uuid::Uuid;

use super::form::{form_of, resolve};
use super::history::{self, Actor};
use super::model::{EventRow, EventStatus, HistoryAction, Publication};
use super::repo::lock_row;
use super::rules::Completeness;
use crate::error::{ApiError, ApiResult};
use crate::geo::repo::Geography;
use crate::http::conditional::IfMatch;
use crate::schema::events;

/// A transition asked for.
#[derive(Debug, Clone)]
pub enum Transition {
    /// To moderation. Admins in a login session may override a closed referencing window
    /// (recorded); anyone else asking to is refused.
    Submit { override_referencing_window: bool },
    /// Into the programme (admins).
    Publish,
    /// Refused by moderation, with a reason (admins). The reason is checked once the caller
    /// is known to be allowed to reject this event, so that a 401/403/404 is not a 422.
    Reject { reason: Option<String> },
    /// Out of the programme, kept (members and admins).
    Withdraw { reason: Option<String> },
    /// It will not take place (members and admins); stays visible as cancelled.
    Cancel { reason: Option<String> },
}

impl Transition {
    fn name(&self) -> &'static str {
        match self {
            Transition::Submit { .. } => "submit",
            Transition::Publish => "publish",
            Transition::Reject { .. } => "reject",
            Transition::Withdraw { .. } => "withdraw",
            Transition::Cancel { .. } => "cancel",
        }
    }

    /// The publication states this transition starts from.
    fn allowed_from(&self) -> &'static [Publication] {
        match self {
            Transition::Submit { .. } => &[Publication::Draft, Publication::Rejected, Publication::Withdrawn],
            Transition::Publish | Transition::Reject { .. } => &[Publication::Submitted],
            // A rejected event may be withdrawn for good, rather than left waiting for changes.
            Transition::Withdraw { .. } => &[Publication::Submitted, Publication::Published, Publication::Rejected],
            Transition::Cancel { .. } => &[Publication::Submitted, Publication::Published],
        }
    }

    /// What this transition needs admin powers for, if anything (completes "only admins may …").
    fn needs_admin_powers(&self) -> Option<&'static str> {
        match self {
            Transition::Publish => Some("publish events"),
            Transition::Reject { .. } => Some("reject events"),
            Transition::Submit { override_referencing_window: true } => Some("override the referencing window"),
            _ => None,
        }
    }
}

fn wrong_state(transition: &Transition, current: Publication) -> ApiError {
    let allowed: Vec<&str> = transition.allowed_from().iter().map(|p| p.as_str()).collect();
    ApiError::conflict_on(
        "publication",
        "invalid_transition",
        format!(
            "cannot {} an event that is `{}`; it must be {}",
            transition.name(),
            current.as_str(),
            allowed.iter().map(|s| format!("`{s}`")).collect::<Vec<_>>().join(" or ")
        ),
    )
}

/// Applies a transition by `actor` to the event `id` (already known to be visible to it).
pub fn apply(
    conn: &mut PgConnection,
    geo: &Geography,
    actor: &Actor,
    id: Uuid,
    if_match: &IfMatch,
    transition: Transition,
    now: DateTime<Utc>,
) -> ApiResult<EventRow> {
    conn.transaction(|conn| {
        let current = lock_row(conn, id, if_match)?;
        if let Some(what) = transition.needs_admin_powers() {
            actor.require_admin_powers(what)?;
        }
        if !actor.acts_for(current.organizer_id) {
            return Err(ApiError::Forbidden(format!(
                "only the organizer's members and admins may {} its events",
                transition.name()
            )));
        }
        let before = current.publication();
        if !transition.allowed_from().contains(&before) {
            return Err(wrong_state(&transition, before));
        }
        let target = events::table.find(id);
        let (action, note, changes) = match &transition {
            Transition::Submit { override_referencing_window } => {
                let form = form_of(conn, &current)?;
                let resolved = resolve(conn, geo, &form, Completeness::Complete)?;
                let window_open = resolved.edition.referencing_open_at(now);
                // An override gets this far only from a caller with admin powers (checked above).
                let overridden = !window_open && *override_referencing_window;
                if !window_open && !overridden {
                    return Err(ApiError::conflict_on(
                        "edition",
                        "referencing_closed",
                        format!(
                            "referencing for the {} edition is closed (it was open from {} to {})",
                            resolved.edition.year,
                            resolved.edition.referencing_opens_at,
                            resolved.edition.referencing_closes_at
                        ),
                    ));
                }
                diesel::update(target)
                    .set((
                        events::publication.eq(Publication::Submitted.as_str()),
                        events::submitted_at.eq(now),
                        events::rejection_reason.eq(None::<String>),
                    ))
                    .execute(conn)?;
                let note = overridden.then(|| "submitted by an admin while referencing was closed".to_string());
                (HistoryAction::Submitted, note, json!({}))
            }
            Transition::Publish => {
                diesel::update(target)
                    .set((events::publication.eq(Publication::Published.as_str()), events::published_at.eq(now)))
                    .execute(conn)?;
                (HistoryAction::Published, None, json!({}))
            }
            Transition::Reject { reason } => {
                let reason = reason
                    .as_ref()
                    .ok_or_else(|| ApiError::field("reason", "required", "say why the event is rejected"))?;
                diesel::update(target)
                    .set((events::publication.eq(Publication::Rejected.as_str()), events::rejection_reason.eq(reason)))
                    .execute(conn)?;
                (HistoryAction::Rejected, Some(reason.clone()), json!({}))
            }
            Transition::Withdraw { reason } => {
                diesel::update(target).set(events::publication.eq(Publication::Withdrawn.as_str())).execute(conn)?;
                (HistoryAction::Withdrawn, reason.clone(), json!({}))
            }
            Transition::Cancel { reason } => {
                if current.status() == EventStatus::Cancelled {
                    return Err(ApiError::conflict_on(
                        "status",
                        "already_cancelled",
                        "the event is already `cancelled`",
                    ));
                }
                diesel::update(target)
                    .set((events::status.eq(EventStatus::Cancelled.as_str()), events::status_note.eq(reason)))
                    .execute(conn)?;
                let changes = json!({"status": {"from": current.status, "to": EventStatus::Cancelled.as_str()}});
                (HistoryAction::Cancelled, reason.clone(), changes)
            }
        };
        let row = super::repo::find_row(conn, &id.to_string())?;
        history::record(conn, &row, action, actor, Some(before), changes, note)?;
        Ok(row)
    })
}
