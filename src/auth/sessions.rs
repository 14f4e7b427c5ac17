//! Login sessions: access tokens, rotating refresh tokens, per-account throttling.
//!
//! Everything that must hold across requests (failures, refresh chains) is in PostgreSQL,
//! so any number of instances behind a load balancer answer as one.

use chrono::{Duration, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::model::{Account, LoginForm, Role, TokenResponse};
use super::{password, repo, tokens};
use crate::app::AppState;
use crate::error::{ApiError, ApiResult};
use crate::schema::{login_failures, refresh_tokens};

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

pub async fn login(state: &AppState, form: LoginForm) -> ApiResult<TokenResponse> {
    let email_key = form.email.trim().to_lowercase();
    let max_failures = state.settings.login_max_failures;
    let window = Duration::seconds(state.settings.login_window_secs as i64);
    let refresh_ttl = Duration::seconds(state.settings.refresh_token_ttl_secs as i64);
    let account = crate::db::run(&state.pool, move |conn| {
        refuse_when_throttled(conn, &email_key, max_failures, window)?;
        let account = repo::find_by_email(conn, &email_key)?;
        // Verify even when the account is unknown or disabled, so timing does not tell them apart.
        let verified = match &account {
            Some(account) => password::verify(&form.password, &account.password_hash) && !account.disabled,
            None => {
                password::verify_against_nothing(&form.password);
                false
            }
        };
        match account {
            Some(account) if verified => {
                diesel::delete(login_failures::table.filter(login_failures::email_key.eq(&email_key))).execute(conn)?;
                let refresh = issue_refresh_token(conn, account.id, Uuid::now_v7(), refresh_ttl)?;
                Ok((account, refresh))
            }
            _ => {
                diesel::insert_into(login_failures::table)
                    .values(login_failures::email_key.eq(&email_key))
                    .execute(conn)?;
                Err(ApiError::Unauthorized(WRONG_CREDENTIALS.into()))
            }
        }
    })
    .await?;
    let (account, refresh) = account;
    token_response(state, &account, Some(refresh)).await
}

/// 429 once an account has failed `max_failures` times within `window`.
fn refuse_when_throttled(
    conn: &mut PgConnection,
    email_key: &str,
    max_failures: i64,
    window: Duration,
) -> ApiResult<()> {
    let since = Utc::now() - window;
    let recent = login_failures::table
        .filter(login_failures::email_key.eq(email_key))
        .filter(login_failures::failed_at.gt(since));
    let count: i64 = recent.count().get_result(conn)?;
    if count < max_failures {
        return Ok(());
    }
    let oldest =
        recent.select(diesel::dsl::min(login_failures::failed_at)).first::<Option<chrono::DateTime<Utc>>>(conn)?;
    let retry_after = oldest.map(|at| (at + window - Utc::now()).num_seconds().max(1)).unwrap_or(1) as u64;
    Err(ApiError::TooManyRequests { retry_after_secs: retry_after })
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
    token_response(state, &account, Some(next)).await
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

fn revoke_family(conn: &mut PgConnection, family: Uuid) -> QueryResult<usize> {
    diesel::update(
        refresh_tokens::table.filter(refresh_tokens::family_id.eq(family)).filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(Utc::now()))
    .execute(conn)
}

async fn token_response(
    state: &AppState,
    account: &Account,
    refresh_token: Option<String>,
) -> ApiResult<TokenResponse> {
    let role = Role::parse(&account.role).ok_or_else(|| ApiError::internal("account with an unknown role"))?;
    let ttl = state.settings.access_token_ttl_secs;
    let access_token = state.keys.access_token(account.id, role, account.organizer_id, ttl)?;
    Ok(TokenResponse { access_token, token_type: "Bearer", expires_in: ttl, refresh_token })
}
