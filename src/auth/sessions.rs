//! Login sessions: access tokens, rotating refresh tokens, per-account throttling.
//!
//! Everything that must hold across requests (failures, refresh chains) is in PostgreSQL,
//! so any number of instances behind a load balancer answer as one.

use chrono::{Duration, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::model::{Account, LoginForm, Role, TokenResponse};
use super::throttle::{self, Action};
use super::{password, repo, tokens};
use crate::error::{ApiError, ApiResult};
use crate::schema::refresh_tokens;
use crate::state::AppState;

#[derive(Queryable, Selectable)]
#[diesel(table_name = refresh_tokens)]
struct RefreshRow {
    id: Uuid,
    account_id: Uuid,
    family_id: Uuid,
    expires_at: chrono::DateTime<Utc>,
    used_at: Option<chrono::DateTime<Utc>>,
    revoked_at: Option<chrono::DateTime<Utc>>,
}

const WRONG_CREDENTIALS: &str = "wrong email or password";

/// Logs in with email and password, holding a pooled connection only for two short
/// transactions, never while argon2 runs (tens of milliseconds of CPU per attempt: a burst of
/// logins that held connections through it would leave every other request without one).
///
/// 1. Under the email's advisory lock: refuse when throttled, then record this attempt as a
///    failure in progress, and read the account. Commit: lock and connection are released.
/// 2. Verify the password on the blocking pool, no connection held.
/// 3. On success, in a second transaction: clear the attempts, record the login, issue the
///    refresh token. On failure there is nothing left to do: the attempt is already recorded.
///
/// Why concurrent guesses still cannot outrun the limit: each attempt is counted and recorded
/// in one transaction under the lock, so the attempts of one email pass step 1 one at a time,
/// and each sees every attempt that passed before it, finished or not. At most `max` of them
/// get to step 2 within the window, however long their verifications take. Only a correct
/// password clears the count, as it did when failures were recorded after the verification.
pub async fn login(state: &AppState, form: LoginForm) -> ApiResult<TokenResponse> {
    let subject = throttle::subject_of(&form.email);
    let max_failures = state.settings.login_max_failures;
    let window = Duration::seconds(state.settings.login_window_secs as i64);
    let refresh_ttl = Duration::seconds(state.settings.refresh_token_ttl_secs as i64);
    let account = crate::db::transaction(&state.pool, {
        let subject = subject.clone();
        move |conn| {
            throttle::lock(conn, Action::Login, &subject)?;
            throttle::refuse_when_throttled(conn, Action::Login, &subject, max_failures, window)?;
            throttle::record_attempt(conn, Action::Login, &subject)?;
            Ok(repo::find_by_email(conn, &subject)?)
        }
    })
    .await?;
    // An unknown email is verified against a dummy hash, so timing does not tell it apart.
    let stored_hash = account.as_ref().map(|account| account.password_hash.clone());
    let verified = password::verify_off_executor(form.password, stored_hash).await?;
    let account = match account {
        Some(account) if verified && !account.disabled => account,
        _ => {
            crate::metrics::login_failed();
            return Err(ApiError::Unauthorized(WRONG_CREDENTIALS.into()));
        }
    };
    let (account, refresh) = crate::db::transaction(&state.pool, move |conn| {
        // The account as it is now: disabled, or given another password, while its password
        // was being verified, it does not log in with the old one.
        let current = repo::find(conn, account.id)?
            .filter(|current| !current.disabled && current.password_hash == account.password_hash)
            .ok_or_else(|| ApiError::Unauthorized(WRONG_CREDENTIALS.into()))?;
        throttle::clear(conn, Action::Login, &subject)?;
        repo::record_login(conn, current.id)?;
        let refresh = issue_refresh_token(conn, current.id, Uuid::now_v7(), refresh_ttl)?;
        Ok((current, refresh))
    })
    .await?;
    token_response(state, &account, Some(refresh))
}

/// Opens a session for an account that was just created (registration, accepted invitation).
pub fn start_session(conn: &mut PgConnection, state: &AppState, account: &Account) -> ApiResult<TokenResponse> {
    let refresh_ttl = Duration::seconds(state.settings.refresh_token_ttl_secs as i64);
    repo::record_login(conn, account.id)?;
    let refresh = issue_refresh_token(conn, account.id, Uuid::now_v7(), refresh_ttl)?;
    token_response(state, account, Some(refresh))
}

fn issue_refresh_token(conn: &mut PgConnection, account: Uuid, family: Uuid, ttl: Duration) -> ApiResult<String> {
    let token = tokens::random_secret();
    diesel::insert_into(refresh_tokens::table)
        .values((
            refresh_tokens::id.eq(Uuid::now_v7()),
            refresh_tokens::account_id.eq(account),
            refresh_tokens::family_id.eq(family),
            refresh_tokens::token_hash.eq(tokens::sha256_hex(&token)),
            refresh_tokens::expires_at.eq(Utc::now() + ttl),
        ))
        .execute(conn)?;
    Ok(token)
}

/// Trades a refresh token for a new pair. A token used twice revokes its whole chain.
pub async fn refresh(state: &AppState, token: String) -> ApiResult<TokenResponse> {
    let refresh_ttl = Duration::seconds(state.settings.refresh_token_ttl_secs as i64);
    let rotated = crate::db::run(&state.pool, move |conn| {
        conn.transaction(|conn| {
            let invalid = || ApiError::Unauthorized("the refresh token is invalid, expired or revoked".into());
            let row: Option<RefreshRow> = refresh_tokens::table
                .filter(refresh_tokens::token_hash.eq(tokens::sha256_hex(&token)))
                .select(RefreshRow::as_select())
                .for_update()
                .first(conn)
                .optional()?;
            let Some(RefreshRow { id, account_id, family_id: family, expires_at, used_at, revoked_at }) = row else {
                return Err(invalid());
            };
            if used_at.is_some() {
                tracing::warn!(%account_id, "refresh token reused: revoking its chain");
                revoke_family(conn, family)?;
                return Ok(Err(invalid()));
            }
            if revoked_at.is_some() || expires_at <= Utc::now() {
                return Err(invalid());
            }
            diesel::update(refresh_tokens::table.find(id)).set(refresh_tokens::used_at.eq(Utc::now())).execute(conn)?;
            let account = repo::find(conn, account_id)?.filter(|a| !a.disabled).ok_or_else(invalid)?;
            let next = issue_refresh_token(conn, account_id, family, refresh_ttl)?;
            Ok(Ok((account, next)))
        })
    })
    .await?;
    // The revocation of a reused chain must commit, hence the error is raised after the transaction.
    let (account, next) = rotated?;
    token_response(state, &account, Some(next))
}

/// Ends the session the refresh token belongs to. Unknown tokens are ignored (logout is idempotent).
pub async fn logout(state: &AppState, token: String) -> ApiResult<()> {
    crate::db::run(&state.pool, move |conn| {
        let family: Option<Uuid> = refresh_tokens::table
            .filter(refresh_tokens::token_hash.eq(tokens::sha256_hex(&token)))
            .select(refresh_tokens::family_id)
            .first(conn)
            .optional()?;
        if let Some(family) = family {
            revoke_family(conn, family)?;
        }
        Ok(())
    })
    .await
}

/// Drops refresh tokens that expired more than a day ago (they can only be refused anyway).
pub fn prune_expired(conn: &mut PgConnection) -> QueryResult<usize> {
    diesel::delete(refresh_tokens::table.filter(refresh_tokens::expires_at.lt(Utc::now() - Duration::days(1))))
        .execute(conn)
}

fn revoke_family(conn: &mut PgConnection, family: Uuid) -> QueryResult<usize> {
    diesel::update(
        refresh_tokens::table.filter(refresh_tokens::family_id.eq(family)).filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(Utc::now()))
    .execute(conn)
}

fn token_response(state: &AppState, account: &Account, refresh_token: Option<String>) -> ApiResult<TokenResponse> {
    let role = Role::parse(&account.role).ok_or_else(|| ApiError::internal("account with an unknown role"))?;
    let ttl = state.settings.access_token_ttl_secs;
    let access_token = state.keys.access_token(account.id, role, account.organizer_id, ttl)?;
    Ok(TokenResponse { access_token, token_type: "Bearer", expires_in: ttl, refresh_token })
}
