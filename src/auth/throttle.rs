//! Throttling of login and registration (per email) and of invitations (per organizer),
//! counted in PostgreSQL so that every instance behind a load balancer sees the same attempts.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;

use crate::error::{ApiError, ApiResult};
use crate::schema::auth_attempts;

/// What is being throttled.
#[derive(Debug, Clone, Copy)]
pub enum Action {
    /// Failed logins of one email.
    Login,
    /// Registrations attempted with one email.
    Register,
    /// Invitations sent by one organizer (the subject is its id).
    Invite,
}

impl Action {
    fn as_str(self) -> &'static str {
        match self {
            Action::Login => "login",
            Action::Register => "register",
            Action::Invite => "invite",
        }
    }
}

/// The throttling key of an email: case and surrounding spaces do not make a new account.
pub fn subject_of(email: &str) -> String {
    email.trim().to_lowercase()
}

/// Serialises the attempts on one subject until the current transaction ends. Without it,
/// concurrent attempts all count the past failures before any of them records its own, and a
/// burst gets far more than `max` guesses.
pub fn lock(conn: &mut PgConnection, action: Action, subject: &str) -> QueryResult<()> {
    diesel::sql_query("SELECT pg_advisory_xact_lock(hashtext($1))")
        .bind::<diesel::sql_types::Text, _>(format!("{}:{subject}", action.as_str()))
        .execute(conn)
        .map(drop)
}

/// 429 once `subject` has `max` attempts of `action` within `window`.
pub fn refuse_when_throttled(
    conn: &mut PgConnection,
    action: Action,
    subject: &str,
    max: i64,
    window: Duration,
) -> ApiResult<()> {
    let since = Utc::now() - window;
    let recent = auth_attempts::table
        .filter(auth_attempts::action.eq(action.as_str()))
        .filter(auth_attempts::subject.eq(subject))
        .filter(auth_attempts::attempted_at.gt(since));
    let (count, oldest): (i64, Option<DateTime<Utc>>) =
        recent.select((diesel::dsl::count_star(), diesel::dsl::min(auth_attempts::attempted_at))).first(conn)?;
    if count < max {
        return Ok(());
    }
    let retry_after = oldest.map(|at| (at + window - Utc::now()).num_seconds().max(1)).unwrap_or(1) as u64;
    crate::metrics::throttled(action.as_str());
    Err(ApiError::TooManyRequests { retry_after_secs: retry_after })
}

pub fn record_attempt(conn: &mut PgConnection, action: Action, subject: &str) -> QueryResult<()> {
    diesel::insert_into(auth_attempts::table)
        .values((auth_attempts::action.eq(action.as_str()), auth_attempts::subject.eq(subject)))
        .execute(conn)
        .map(drop)
}

/// Forgets the attempts of a subject (after a successful login).
pub fn clear(conn: &mut PgConnection, action: Action, subject: &str) -> QueryResult<()> {
    diesel::delete(
        auth_attempts::table
            .filter(auth_attempts::action.eq(action.as_str()))
            .filter(auth_attempts::subject.eq(subject)),
    )
    .execute(conn)
    .map(drop)
}

/// Drops attempts older than the longest window, so the table stays small.
pub fn prune(conn: &mut PgConnection, older_than: Duration) -> QueryResult<usize> {
    diesel::delete(auth_attempts::table.filter(auth_attempts::attempted_at.lt(Utc::now() - older_than))).execute(conn)
}
