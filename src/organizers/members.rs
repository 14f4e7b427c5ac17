//! Members of an organizer: accounts that act for it, and invitations not yet accepted.
//! An organizer always keeps at least one active member.

use chrono::{Duration, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::model::{InvitationOut, MemberOut, MemberStatus};
use crate::auth::model::Account;
use crate::auth::throttle::{self, Action};
use crate::auth::{Role, api_tokens, repo as accounts_repo, tokens};
use crate::error::{ApiError, ApiResult};
use crate::schema::{accounts, invitations, organizers, refresh_tokens};

/// How long an invitation can be accepted.
pub const INVITATION_TTL_DAYS: i64 = 14;
/// Pending invitations an organizer may have at once.
pub const MAX_PENDING_INVITATIONS: i64 = 20;

pub fn list(conn: &mut PgConnection, organizer_id: Uuid) -> ApiResult<Vec<MemberOut>> {
    let members: Vec<Account> = accounts::table
        .filter(accounts::organizer_id.eq(organizer_id))
        .filter(accounts::disabled.eq(false))
        .order(accounts::created_at)
        .select(Account::as_select())
        .load(conn)?;
    let pending: Vec<(Uuid, String, chrono::DateTime<Utc>, chrono::DateTime<Utc>)> = invitations::table
        .filter(invitations::organizer_id.eq(organizer_id))
        .filter(invitations::accepted_at.is_null())
        .filter(invitations::expires_at.gt(Utc::now()))
        .order(invitations::created_at)
        .select((invitations::id, invitations::email, invitations::created_at, invitations::expires_at))
        .load(conn)?;
    let active = members.into_iter().map(|account| MemberOut {
        id: account.id,
        email: account.email,
        status: MemberStatus::Active,
        created_at: account.created_at,
        last_login_at: account.last_login_at,
        expires_at: None,
    });
    let invited = pending.into_iter().map(|(id, email, created_at, expires_at)| MemberOut {
        id,
        email,
        status: MemberStatus::Invited,
        created_at,
        last_login_at: None,
        expires_at: Some(expires_at),
    });
    Ok(active.chain(invited).collect())
}

/// Whether an invitation may bring an existing account back: only a removed organizer member.
fn revivable(account: &Account) -> bool {
    account.disabled && account.role == Role::Organizer.as_str()
}

/// How far back the invitations an organizer sent are counted (see `invite`).
pub const INVITATION_WINDOW: Duration = Duration::hours(1);

/// Invites an email to join the organizer. The token is returned once and stored hashed.
///
/// The answer is the same whether or not the email has an account (that is refused when the
/// invitation is accepted), and an organizer sends at most `max_per_hour` invitations, counted
/// in PostgreSQL so that every instance answers as one: inviting is no way to learn, in bulk,
/// who has an account.
pub fn invite(
    conn: &mut PgConnection,
    organizer_id: Uuid,
    email: &str,
    invited_by: Uuid,
    max_per_hour: i64,
) -> ApiResult<InvitationOut> {
    let email = email.trim();
    let subject = organizer_id.to_string();
    conn.transaction(|conn| {
        // Locking the organizer makes its invitations take turns: each counts those before it,
        // so concurrent requests pass neither the hourly quota nor the pending limit.
        organizers::table.find(organizer_id).select(organizers::id).for_update().first::<Uuid>(conn)?;
        throttle::refuse_when_throttled(conn, Action::Invite, &subject, max_per_hour, INVITATION_WINDOW)?;
        let pending: i64 = invitations::table
            .filter(invitations::organizer_id.eq(organizer_id))
            .filter(invitations::accepted_at.is_null())
            .filter(invitations::expires_at.gt(Utc::now()))
            .count()
            .get_result(conn)?;
        if pending >= MAX_PENDING_INVITATIONS {
            return Err(ApiError::conflict(format!(
                "this organizer already has {MAX_PENDING_INVITATIONS} pending invitations; remove some first"
            )));
        }
        // An expired invitation to the same email no longer blocks a new one.
        diesel::delete(
            invitations::table
                .filter(invitations::organizer_id.eq(organizer_id))
                .filter(invitations::accepted_at.is_null())
                .filter(invitations::expires_at.le(Utc::now()))
                .filter(
                    diesel::dsl::sql::<diesel::sql_types::Bool>("lower(email) = lower(")
                        .bind::<diesel::sql_types::Text, _>(email)
                        .sql(")"),
                ),
        )
        .execute(conn)?;
        let token = tokens::random_secret();
        let expires_at = Utc::now() + Duration::days(INVITATION_TTL_DAYS);
        let id = Uuid::now_v7();
        diesel::insert_into(invitations::table)
            .values((
                invitations::id.eq(id),
                invitations::organizer_id.eq(organizer_id),
                invitations::email.eq(email),
                invitations::token_hash.eq(tokens::sha256_hex(&token)),
                invitations::invited_by.eq(invited_by),
                invitations::expires_at.eq(expires_at),
            ))
            .execute(conn)
            .map_err(|error| match ApiError::from(error) {
                ApiError::Conflict { .. } => {
                    ApiError::conflict_on("email", "already_invited", "this email already has a pending invitation")
                }
                other => other,
            })?;
        // Only invitations sent count: a refused one told nothing.
        throttle::record_attempt(conn, Action::Invite, &subject)?;
        Ok(InvitationOut { id, email: email.to_string(), token, expires_at })
    })
}

/// The refusal of every invitation that cannot be accepted, whatever the reason: unknown,
/// expired, used, or sent to an email whose account it may not take over (which inviting
/// does not tell, so accepting does not either).
fn invalid_invitation() -> ApiError {
    ApiError::Unauthorized("the invitation is invalid, expired or already used".into())
}

/// Turns an invitation into an account of the organizer, with the password the invitee chose.
pub fn accept(conn: &mut PgConnection, token: &str, password_hash: &str) -> ApiResult<Account> {
    let (id, organizer_id, email): (Uuid, Uuid, String) = invitations::table
        .filter(invitations::token_hash.eq(tokens::sha256_hex(token)))
        .filter(invitations::accepted_at.is_null())
        .filter(invitations::expires_at.gt(Utc::now()))
        .for_update()
        .select((invitations::id, invitations::organizer_id, invitations::email))
        .first(conn)
        .optional()?
        .ok_or_else(invalid_invitation)?;
    diesel::update(invitations::table.find(id)).set(invitations::accepted_at.eq(Utc::now())).execute(conn)?;
    match accounts_repo::find_by_email(conn, &email)? {
        None => accounts_repo::create(conn, &email, password_hash, Role::Organizer, Some(organizer_id)),
        Some(account) if revivable(&account) => Ok(diesel::update(accounts::table.find(account.id))
            .set((
                accounts::disabled.eq(false),
                accounts::role.eq(Role::Organizer.as_str()),
                accounts::organizer_id.eq(organizer_id),
                accounts::password_hash.eq(password_hash),
            ))
            .returning(Account::as_returning())
            .get_result(conn)?),
        Some(_) => Err(invalid_invitation()),
    }
}

/// The email of an invitation that can be accepted, to check the password against it; for any
/// other, the same 401 as `accept` gives, before any password is looked at.
pub fn acceptable_email(conn: &mut PgConnection, token: &str) -> ApiResult<String> {
    let email: String = invitations::table
        .filter(invitations::token_hash.eq(tokens::sha256_hex(token)))
        .filter(invitations::accepted_at.is_null())
        .filter(invitations::expires_at.gt(Utc::now()))
        .select(invitations::email)
        .first(conn)
        .optional()?
        .ok_or_else(invalid_invitation)?;
    match accounts_repo::find_by_email(conn, &email)? {
        Some(account) if !revivable(&account) => Err(invalid_invitation()),
        _ => Ok(email),
    }
}

/// Removes a member (its account is disabled, its sessions and tokens revoked) or withdraws a
/// pending invitation. The last active member cannot be removed.
pub fn remove(conn: &mut PgConnection, organizer_id: Uuid, member_id: Uuid) -> ApiResult<()> {
    conn.transaction(|conn| {
        // Locking the organizer serialises concurrent removals, so two members removing each
        // other at once cannot leave it with nobody.
        organizers::table.find(organizer_id).select(organizers::id).for_update().first::<Uuid>(conn)?;
        let withdrawn = diesel::delete(
            invitations::table
                .find(member_id)
                .filter(invitations::organizer_id.eq(organizer_id))
                .filter(invitations::accepted_at.is_null()),
        )
        .execute(conn)?;
        if withdrawn > 0 {
            return Ok(());
        }
        let members: Vec<Uuid> = accounts::table
            .filter(accounts::organizer_id.eq(organizer_id))
            .filter(accounts::disabled.eq(false))
            .select(accounts::id)
            .load(conn)?;
        if !members.contains(&member_id) {
            return Err(ApiError::NotFound(format!("member {member_id}")));
        }
        if members.len() == 1 {
            return Err(ApiError::conflict("the last member of an organizer cannot be removed; invite another first"));
        }
        diesel::update(accounts::table.find(member_id)).set(accounts::disabled.eq(true)).execute(conn)?;
        diesel::update(
            refresh_tokens::table
                .filter(refresh_tokens::account_id.eq(member_id))
                .filter(refresh_tokens::revoked_at.is_null()),
        )
        .set(refresh_tokens::revoked_at.eq(Utc::now()))
        .execute(conn)?;
        api_tokens::revoke_all(conn, member_id)?;
        Ok(())
    })
}
