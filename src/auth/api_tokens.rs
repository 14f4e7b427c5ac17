//! API tokens for scripts: long-lived, scoped JWTs whose `jti` is checked on every use,
//! so revoking one (or disabling its account) takes effect at once.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::model::{ApiTokenOut, Scope};
use crate::error::{ApiError, ApiResult};
use crate::schema::{accounts, api_tokens};

/// Longest life of an API token, in days.
pub const MAX_LIFETIME_DAYS: i64 = 366;
/// Life of an API token created without `expires_at`, in days.
pub const DEFAULT_LIFETIME_DAYS: i64 = 90;
/// Live tokens an account may hold at once.
pub const MAX_LIVE_TOKENS_PER_ACCOUNT: i64 = 50;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = api_tokens)]
pub struct ApiTokenRow {
    pub id: Uuid,
    pub account_id: Uuid,
    pub name: String,
    pub scopes: Vec<Option<String>>,
    pub expires_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl From<ApiTokenRow> for ApiTokenOut {
    fn from(row: ApiTokenRow) -> Self {
        ApiTokenOut {
            id: row.id,
            name: row.name,
            scopes: row.scopes.iter().flatten().filter_map(|s| Scope::parse(s)).collect(),
            expires_at: row.expires_at,
            last_used_at: row.last_used_at,
            created_at: row.created_at,
        }
    }
}

/// Who a live credential speaks for, read fresh from the database on every request.
pub struct LiveAccount {
    pub role: String,
    pub organizer_id: Option<Uuid>,
    /// For API tokens: what the token may do.
    pub scopes: Option<Vec<Scope>>,
}

/// The account behind a session token, when it still exists and is enabled.
pub fn live_account(conn: &mut PgConnection, account_id: Uuid) -> QueryResult<Option<LiveAccount>> {
    let found: Option<(String, Option<Uuid>)> = accounts::table
        .find(account_id)
        .filter(accounts::disabled.eq(false))
        .select((accounts::role, accounts::organizer_id))
        .first(conn)
        .optional()?;
    Ok(found.map(|(role, organizer_id)| LiveAccount { role, organizer_id, scopes: None }))
}

/// The account behind an API token when the token is neither revoked nor expired and the
/// account is enabled; records the token's use.
pub fn touch_live_token(conn: &mut PgConnection, account_id: Uuid, token_id: Uuid) -> QueryResult<Option<LiveAccount>> {
    let Some(account) = live_account(conn, account_id)? else { return Ok(None) };
    let now = Utc::now();
    let scopes: Option<Vec<Option<String>>> = diesel::update(
        api_tokens::table
            .find(token_id)
            .filter(api_tokens::account_id.eq(account_id))
            .filter(api_tokens::revoked_at.is_null())
            .filter(api_tokens::expires_at.gt(now)),
    )
    .set(api_tokens::last_used_at.eq(now))
    .returning(api_tokens::scopes)
    .get_result(conn)
    .optional()?;
    Ok(scopes.map(|scopes| LiveAccount {
        scopes: Some(scopes.iter().flatten().filter_map(|s| Scope::parse(s)).collect()),
        ..account
    }))
}

/// Creates a token, unless the account already holds `MAX_LIVE_TOKENS_PER_ACCOUNT` live ones.
pub fn create(
    conn: &mut PgConnection,
    account_id: Uuid,
    name: &str,
    scopes: &[Scope],
    expires_at: DateTime<Utc>,
) -> ApiResult<ApiTokenRow> {
    conn.transaction(|conn| {
        // Locking the account makes its token creations take turns: each counts the tokens of
        // those before it, so a burst of requests cannot all pass the count at once.
        accounts::table.find(account_id).select(accounts::id).for_update().first::<Uuid>(conn)?;
        let live: i64 = api_tokens::table
            .filter(api_tokens::account_id.eq(account_id))
            .filter(api_tokens::revoked_at.is_null())
            .filter(api_tokens::expires_at.gt(Utc::now()))
            .count()
            .get_result(conn)?;
        if live >= MAX_LIVE_TOKENS_PER_ACCOUNT {
            return Err(ApiError::conflict(format!(
                "this account already holds {MAX_LIVE_TOKENS_PER_ACCOUNT} live API tokens; revoke one first"
            )));
        }
        let scopes: Vec<String> = scopes.iter().map(|s| s.as_str().to_string()).collect();
        Ok(diesel::insert_into(api_tokens::table)
            .values((
                api_tokens::id.eq(Uuid::now_v7()),
                api_tokens::account_id.eq(account_id),
                api_tokens::name.eq(name.trim()),
                api_tokens::scopes.eq(scopes),
                api_tokens::expires_at.eq(expires_at),
            ))
            .returning(ApiTokenRow::as_returning())
            .get_result(conn)?)
    })
}

/// The account's tokens that can still be used, newest first.
pub fn list_live(conn: &mut PgConnection, account_id: Uuid) -> QueryResult<Vec<ApiTokenRow>> {
    api_tokens::table
        .filter(api_tokens::account_id.eq(account_id))
        .filter(api_tokens::revoked_at.is_null())
        .filter(api_tokens::expires_at.gt(Utc::now()))
        .order(api_tokens::id.desc())
        .select(ApiTokenRow::as_select())
        .load(conn)
}

/// Revokes one of the account's tokens. Another account's token is "not found".
pub fn revoke(conn: &mut PgConnection, account_id: Uuid, token_id: Uuid) -> ApiResult<()> {
    let revoked = diesel::update(
        api_tokens::table
            .find(token_id)
            .filter(api_tokens::account_id.eq(account_id))
            .filter(api_tokens::revoked_at.is_null()),
    )
    .set(api_tokens::revoked_at.eq(Utc::now()))
    .execute(conn)?;
    match revoked {
        0 => Err(ApiError::NotFound(format!("API token {token_id}"))),
        _ => Ok(()),
    }
}

/// Revokes every token of an account (when it leaves its organizer).
pub fn revoke_all(conn: &mut PgConnection, account_id: Uuid) -> QueryResult<usize> {
    diesel::update(
        api_tokens::table.filter(api_tokens::account_id.eq(account_id)).filter(api_tokens::revoked_at.is_null()),
    )
    .set(api_tokens::revoked_at.eq(Utc::now()))
    .execute(conn)
}
