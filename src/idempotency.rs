//! `Idempotency-Key`: a retried request gets the first answer again instead of being run twice
//! (draft-ietf-httpapi-idempotency-key-header). Keys live in PostgreSQL, so that every instance
//! answers a retry the same way, and are bound to the caller and to the request's digest.
//!
//! A key is claimed (a row without `completed_at`, with the claiming request's token) before
//! the work starts, in its own statement, so that a second request with the key, on any
//! instance, sees it at once and gets `409`. The work's transaction first takes a
//! transaction-level advisory lock on the key ([`hold`]): while it runs, nobody can take the
//! key over, and an instance that dies releases it with its connection. The answer is stored
//! by [`complete`] inside that transaction, only under the claim's own token: the work and its
//! stored answer commit together, or neither does. A request that fails, or is dropped,
//! releases its key (again only under its token). A claim whose request never started its
//! work (the instance died in between) is taken over after [`ABANDONED_AFTER_MINUTES`], and
//! only when no transaction holds the key's lock.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use diesel::prelude::*;
use diesel::sql_types::{Bool, Bytea, Text, Uuid as SqlUuid};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::db::{self, DbPool};
use crate::error::{ApiError, ApiResult, FieldError};
use crate::schema::idempotency_keys;

pub const HEADER: &str = "Idempotency-Key";
/// Answers are replayed for a day; after that the key may be used again.
pub const KEPT_HOURS: i64 = 24;
/// A claim older than this without an answer was left by a request that never finished.
pub const ABANDONED_AFTER_MINUTES: i64 = 10;

/// A key claimed by the current request.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub account_id: Uuid,
    pub key: String,
    /// This request's claim: the key may have been taken over since.
    pub token: Uuid,
}

/// The advisory lock of a key, shared by every instance: the same account and key give the
/// same number.
const LOCK: &str = "hashtextextended($1::text || ':' || $2, 7207)";

/// What to do with a request that carries a key.
pub enum Claim {
    /// Run it; store its answer with [`complete`].
    Run(Claimed),
    /// Its first answer, to send again.
    Replay(HttpResponse),
}

/// A stored answer, read on the blocking pool (a response is built on the worker).
struct Stored {
    status: i16,
    content_type: Option<String>,
    body: Vec<u8>,
}

/// The `Idempotency-Key` header, if any: 1 to 255 visible ASCII characters.
pub fn key_of(request: &HttpRequest) -> ApiResult<Option<String>> {
    let Some(value) = request.headers().get(HEADER) else { return Ok(None) };
    let key = value.to_str().ok().map(str::trim).unwrap_or_default();
    // Structured-field strings are quoted; a bare token is accepted too.
    let key = key.strip_prefix('"').and_then(|k| k.strip_suffix('"')).unwrap_or(key);
    if key.is_empty() || key.len() > 255 || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ApiError::BadRequest {
            detail: "`Idempotency-Key` must hold 1 to 255 visible ASCII characters (a UUID is a good key)".into(),
            errors: vec![FieldError::new(HEADER, "invalid", "must hold 1 to 255 visible ASCII characters")],
        });
    }
    Ok(Some(key.to_string()))
}

/// The digest a key is bound to: the method, the path with its query, the content type, and
/// the body (the same bytes sent as another format are another request).
pub fn request_digest(request: &HttpRequest, body: &[u8]) -> Vec<u8> {
    let content_type = request.headers().get(actix_web::http::header::CONTENT_TYPE).map_or(&b""[..], |v| v.as_bytes());
    let mut hasher = Sha256::new();
    hasher.update(request.method().as_str());
    hasher.update([0]);
    hasher.update(request.uri().path_and_query().map_or("", |p| p.as_str()));
    hasher.update([0]);
    // A multipart boundary changes with every upload of the same file: only the type counts.
    hasher.update(content_type.split(|b| *b == b';').next().unwrap_or_default());
    hasher.update([0]);
    hasher.update(body);
    hasher.finalize().to_vec()
}

#[derive(QueryableByName)]
struct ClaimedRow {
    #[diesel(sql_type = Bool)]
    claimed: bool,
}

/// Claims `key` for this request, or says what to answer instead: the stored answer, `409`
/// while the first request runs, `422` when the key was used for another request.
pub async fn claim(
    pool: &DbPool,
    account_id: Uuid,
    key: String,
    digest: Vec<u8>,
    location: fn(&serde_json::Value) -> Option<String>,
) -> ApiResult<Claim> {
    let token = Uuid::now_v7();
    let claimed_key = Claimed { account_id, key: key.clone(), token };
    let stored = db::run_on_primary(pool, move |conn| {
        // One statement: a fresh key, an expired one, or an abandoned claim of the same request
        // (old, and no transaction holds its lock: its work never started or died with it).
        let claimed = diesel::sql_query(format!(
            "INSERT INTO idempotency_keys (account_id, key, request_digest, claim_token) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (account_id, key) DO UPDATE \
               SET request_digest = EXCLUDED.request_digest, claim_token = EXCLUDED.claim_token, created_at = now(), \
                   completed_at = NULL, status = NULL, content_type = NULL, body = NULL \
             WHERE idempotency_keys.created_at < now() - interval '{KEPT_HOURS} hours' \
                OR (idempotency_keys.completed_at IS NULL \
                    AND idempotency_keys.created_at < now() - interval '{ABANDONED_AFTER_MINUTES} minutes' \
                    AND idempotency_keys.request_digest = EXCLUDED.request_digest \
                    AND pg_try_advisory_xact_lock({LOCK})) \
             RETURNING true AS claimed"
        ))
        .bind::<SqlUuid, _>(account_id)
        .bind::<Text, _>(&key)
        .bind::<Bytea, _>(&digest)
        .bind::<SqlUuid, _>(token)
        .get_result::<ClaimedRow>(conn)
        .optional()?;
        if claimed.is_some_and(|row| row.claimed) {
            return Ok(None);
        }
        type Row = (Vec<u8>, Option<i16>, Option<String>, Option<Vec<u8>>);
        let stored: Option<Row> = idempotency_keys::table
            .find((account_id, &key))
            .select((
                idempotency_keys::request_digest,
                idempotency_keys::status,
                idempotency_keys::content_type,
                idempotency_keys::body,
            ))
            .first(conn)
            .optional()?;
        match stored {
            // Released between the two statements: the caller may simply retry.
            None => Err(in_progress()),
            Some((first, _, _, _)) if first != digest => Err(ApiError::Validation(vec![FieldError::new(
                HEADER,
                "reused_key",
                "this key was used for another request (another body, path or query); use a new key for a new request",
            )])),
            Some((_, Some(status), content_type, Some(body))) => Ok(Some(Stored { status, content_type, body })),
            Some(_) => Err(in_progress()),
        }
    })
    .await?;
    Ok(match stored {
        None => Claim::Run(claimed_key),
        Some(stored) => Claim::Replay(replay(stored, location)),
    })
}

fn in_progress() -> ApiError {
    ApiError::Conflict {
        detail: "a request with this `Idempotency-Key` is still running; retry once it has answered".into(),
        errors: vec![FieldError::new(HEADER, "in_progress", "the first request with this key has not answered yet")],
    }
}

/// The first answer again: its status, type and body, and the headers made from them (an
/// answer's `Location` names the `id` its body carries).
fn replay(
    Stored { status, content_type, body }: Stored,
    location: fn(&serde_json::Value) -> Option<String>,
) -> HttpResponse {
    let status = u16::try_from(status).ok().and_then(|s| StatusCode::from_u16(s).ok()).unwrap_or(StatusCode::OK);
    let mut response = HttpResponse::build(status);
    if let Some(content_type) = content_type {
        response.content_type(content_type);
    }
    if let Some(location) = serde_json::from_slice(&body).ok().as_ref().and_then(location) {
        response.insert_header((actix_web::http::header::LOCATION, location));
    }
    response
        .insert_header(("Idempotent-Replayed", "true"))
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .body(body)
}

#[derive(QueryableByName)]
struct Locked {
    #[diesel(sql_type = Bool)]
    locked: bool,
}

/// Takes the key's advisory lock for the rest of the work's transaction: `409` when another
/// transaction runs with the same key (a takeover raced with a slow first request).
pub fn hold(conn: &mut PgConnection, claimed: &Claimed) -> ApiResult<()> {
    let locked = diesel::sql_query(format!("SELECT pg_try_advisory_xact_lock({LOCK}) AS locked"))
        .bind::<SqlUuid, _>(claimed.account_id)
        .bind::<Text, _>(&claimed.key)
        .get_result::<Locked>(conn)?;
    if locked.locked { Ok(()) } else { Err(in_progress()) }
}

/// Stores the answer of a claimed request, in the transaction of its work; `409` (and so no
/// commit of the work) when the claim is no longer this request's.
pub fn complete(
    conn: &mut PgConnection,
    claimed: &Claimed,
    status: StatusCode,
    content_type: &str,
    body: &[u8],
) -> ApiResult<()> {
    let stored = diesel::update(
        idempotency_keys::table
            .find((claimed.account_id, &claimed.key))
            .filter(idempotency_keys::claim_token.eq(claimed.token)),
    )
    .set((
        idempotency_keys::completed_at.eq(diesel::dsl::now),
        idempotency_keys::status.eq(status.as_u16() as i16),
        idempotency_keys::content_type.eq(content_type),
        idempotency_keys::body.eq(body),
    ))
    .execute(conn)?;
    if stored == 0 { Err(in_progress()) } else { Ok(()) }
}

/// Lets a request that failed be retried with its key.
pub async fn release(pool: &DbPool, claimed: Claimed) {
    let result = db::run_on_primary(pool, move |conn| {
        diesel::delete(
            idempotency_keys::table
                .find((claimed.account_id, &claimed.key))
                .filter(idempotency_keys::completed_at.is_null())
                .filter(idempotency_keys::claim_token.eq(claimed.token)),
        )
        .execute(conn)?;
        Ok(())
    })
    .await;
    if let Err(error) = result {
        // The claim is taken over once abandoned; nothing is lost meanwhile.
        tracing::warn!(%error, "could not release an idempotency key");
    }
}

/// Releases a claim when dropped unless [`ClaimGuard::keep`] was called: a request whose future
/// is dropped (the client went away, the server shuts down) lets its key be retried at once.
pub struct ClaimGuard {
    pool: DbPool,
    claimed: Option<Claimed>,
}

impl ClaimGuard {
    pub fn new(pool: &DbPool, claimed: Option<Claimed>) -> Self {
        ClaimGuard { pool: pool.clone(), claimed }
    }

    pub fn claimed(&self) -> Option<Claimed> {
        self.claimed.clone()
    }

    /// The request answered: its stored answer stays.
    pub fn keep(mut self) {
        self.claimed = None;
    }
}

impl Drop for ClaimGuard {
    fn drop(&mut self) {
        if let Some(claimed) = self.claimed.take() {
            let pool = self.pool.clone();
            actix_web::rt::spawn(async move { release(&pool, claimed).await });
        }
    }
}

/// Deletes answers kept longer than [`KEPT_HOURS`] (the hourly cleanup).
pub fn delete_expired(conn: &mut PgConnection) -> QueryResult<usize> {
    diesel::delete(
        idempotency_keys::table
            .filter(idempotency_keys::created_at.lt(chrono::Utc::now() - chrono::Duration::hours(KEPT_HOURS))),
    )
    .execute(conn)
}
