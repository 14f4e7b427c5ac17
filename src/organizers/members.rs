//! Members of an organizer: accounts that act for it, and invitations not yet accepted.
//! An organizer always keeps at least one active member.

use chrono::{Duration, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::model::{InvitationOut, MemberOut, MemberStatus};
use crate::auth::model::Account;
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

/// Invites an email to join the organizer. The token is returned once and stored hashed.
pub fn invite(conn: &mut PgConnection, organizer_id: Uuid, email: &str, invited_by: Uuid) -> ApiResult<InvitationOut> {
    let email = email.trim();
    conn.transaction(|conn| {
        // Locking the organizer makes its invitations take turns: each counts those before it,
        // so concurrent requests cannot all pass the pending limit at once.
        organizers::table.find(organizer_id).select(organizers::id).for_update().first::<Uuid>(conn)?;
        // A removed member (a disabled organizer account) may be invited again, here or elsewhere;
        // any other account, and a disabled admin above all, stays as it is.
        if accounts_repo::find_by_email(conn, email)?.is_some_and(|account| !revivable(&account)) {
            return Err(ApiError::conflict_on("email", "already_registered", "an account already uses this email"));
        }
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
        Ok(InvitationOut { id, email: email.to_string(), token, expires_at })
    })
}

/// Turns an invitation into an account of the organizer, with the password the invitee chose.
pub fn accept(conn: &mut PgConnection, token: &str, password_hash: &str) -> ApiResult<Account> {
    let invalid = || ApiError::Unauthorized("the invitation is invalid, expired or already used".into());
    let (id, organizer_id, email): (Uuid, Uuid, String) = invitations::table
        .filter(invitations::token_hash.eq(tokens::sha256_hex(token)))
        .filter(invitations::accepted_at.is_null())
        .filter(invitations::expires_at.gt(Utc::now()))
        .for_update()
        .select((invitations::id, invitations::organizer_id, invitations::email))
        .first(conn)
        .optional()?
        .ok_or_else(invalid)?;
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
        Some(_) => Err(ApiError::conflict_on("email", "already_registered", "an account already uses this email")),
    }
}

/// The email an invitation token was sent to, to check the password against it.
pub fn invited_email(conn: &mut PgConnection, token: &str) -> QueryResult<Option<String>> {
    invitations::table
        .filter(invitations::token_hash.eq(tokens::sha256_hex(token)))
        .select(invitations::email)
        .first(conn)
        .optional()
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
