//! API tokens for scripts: long-lived, scoped JWTs whose `jti` is checked on every use.

use chrono::Utc;
use diesel::prelude::*;
use uuid::Uuid;

use super::model::Scope;
use crate::schema::api_tokens;

/// What the `Caller` extractor needs to know of a live token.
pub struct LiveToken {
    pub scopes: Vec<Scope>,
}

/// Returns the token when it is neither revoked nor expired, recording its use.
pub fn touch_live_token(conn: &mut PgConnection, token_id: Uuid) -> Result<Option<LiveToken>, crate::error::ApiError> {
    let now = Utc::now();
    let scopes: Option<Vec<Option<String>>> = diesel::update(
        api_tokens::table
            .find(token_id)
            .filter(api_tokens::revoked_at.is_null())
            .filter(api_tokens::expires_at.gt(now)),
    )
    .set(api_tokens::last_used_at.eq(now))
    .returning(api_tokens::scopes)
    .get_result(conn)
    .optional()?;
    Ok(scopes.map(|scopes| LiveToken { scopes: scopes.iter().flatten().filter_map(|s| parse_scope(s)).collect() }))
}

pub fn parse_scope(value: &str) -> Option<Scope> {
    serde_json::from_value(serde_json::Value::String(value.to_string())).ok()
}
