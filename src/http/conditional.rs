//! The one conditional-request helper: ETag / Last-Modified on reads, 304 on revalidation,
//! and `If-Match` for optimistic concurrency on writes.

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::ApiError;

/// The ETag of a versioned resource. `salt` carries what the representation derives from
/// something other than the row (an edition's `phase` changes with the clock).
pub fn version_etag(version: i32, salt: Option<&str>) -> String {
    match salt {
        Some(salt) => format!("\"v{version}-{salt}\""),
        None => format!("\"v{version}\""),
    }
}

/// The version a write expects, from `If-Match` (absent or `*`: no expectation).
/// A tag this service never issued can match nothing, hence 412.
pub fn expected_version(request: &HttpRequest) -> Result<Option<i32>, ApiError> {
    let Some(raw) = request.headers().get(header::IF_MATCH) else { return Ok(None) };
    let raw = raw.to_str().map_err(|_| ApiError::PreconditionFailed("an unreadable If-Match".into()))?.trim();
    if raw == "*" {
        return Ok(None);
    }
    let tag = raw.trim_start_matches("W/").trim_matches('"');
    let digits = tag.strip_prefix('v').map(|rest| rest.split('-').next().unwrap_or(""));
    digits.and_then(|d| d.parse::<i32>().ok()).map(Some).ok_or_else(|| ApiError::PreconditionFailed(raw.to_string()))
}

/// Refuses the write when `If-Match` names another version than the current one.
pub fn check_version(request: &HttpRequest, current: i32) -> Result<(), ApiError> {
    match expected_version(request)? {
        Some(expected) if expected != current => Err(ApiError::PreconditionFailed(format!("v{expected}"))),
        _ => Ok(()),
    }
}

fn content_etag(body: &[u8]) -> String {
    let digest = Sha256::digest(body);
    format!("W/\"{}\"", hex::encode(&digest[..12]))
}

fn etag_matches(if_none_match: &str, etag: &str) -> bool {
    let bare = |t: &str| t.trim().trim_start_matches("W/").to_string();
    if_none_match.split(',').any(|candidate| candidate.trim() == "*" || bare(candidate) == bare(etag))
}

/// A JSON answer with validators. For GET and HEAD it answers 304 when the client's copy is current.
pub struct Conditional {
    etag: Option<String>,
    /// Salt the version ETag with a digest of the body (see `versioned_by_content`).
    version_with_digest: Option<i32>,
    last_modified: Option<DateTime<Utc>>,
    status: StatusCode,
}

impl Conditional {
    pub fn ok() -> Self {
        Conditional { etag: None, version_with_digest: None, last_modified: None, status: StatusCode::OK }
    }

    pub fn created() -> Self {
        Conditional { status: StatusCode::CREATED, ..Self::ok() }
    }

    /// Uses a version ETag instead of hashing the body.
    pub fn etag(mut self, etag: String) -> Self {
        self.etag = Some(etag);
        self
    }

    /// A version ETag (`"v3-…"`, which `If-Match` reads) salted with a digest of the body, for a
    /// representation that also shows what the version does not cover (related names).
    pub fn versioned_by_content(mut self, version: i32) -> Self {
        self.version_with_digest = Some(version);
        self
    }

    pub fn last_modified(mut self, at: Option<DateTime<Utc>>) -> Self {
        self.last_modified = at;
        self
    }

    pub fn json(self, request: &HttpRequest, body: &impl Serialize) -> HttpResponse {
        let bytes = match serde_json::to_vec(body) {
            Ok(bytes) => bytes,
            Err(error) => return actix_web::ResponseError::error_response(&ApiError::internal(error)),
        };
        // A list's Last-Modified is the newest row it shows, which says nothing about rows that
        // left it (withdrawn, deleted, moved out of a filter): only its content ETag can tell
        // a current copy, so If-Modified-Since is honoured for single, versioned resources only.
        let revalidate_by_date = self.etag.is_some() || self.version_with_digest.is_some();
        let etag = match (self.etag, self.version_with_digest) {
            (Some(etag), _) => etag,
            (None, Some(version)) => version_etag(version, Some(&hex::encode(&Sha256::digest(&bytes)[..6]))),
            (None, None) => content_etag(&bytes),
        };
        let private = request.headers().contains_key(header::AUTHORIZATION);
        let mut response = HttpResponse::build(self.status);
        response.insert_header((header::ETAG, etag.clone()));
        // Answers depend on who asks: shared caches must key on it, and revalidate every time.
        response.insert_header((header::VARY, HeaderValue::from_static("Authorization, Accept-Encoding")));
        response.insert_header((
            header::CACHE_CONTROL,
            HeaderValue::from_static(if private { "private, no-cache" } else { "public, no-cache" }),
        ));
        if let Some(at) = self.last_modified {
            response.insert_header((header::LAST_MODIFIED, httpdate(at)));
        }
        let readable = matches!(*request.method(), Method::GET | Method::HEAD);
        let last_modified = self.last_modified.filter(|_| revalidate_by_date);
        if readable && self.status == StatusCode::OK && not_modified(request, &etag, last_modified) {
            return response.status(StatusCode::NOT_MODIFIED).finish();
        }
        response.content_type("application/json").body(bytes)
    }
}

fn not_modified(request: &HttpRequest, etag: &str, last_modified: Option<DateTime<Utc>>) -> bool {
    if let Some(value) = request.headers().get(header::IF_NONE_MATCH) {
        // RFC 9110: If-Modified-Since is ignored when If-None-Match is present.
        return value.to_str().is_ok_and(|v| etag_matches(v, etag));
    }
    let since = request
        .headers()
        .get(header::IF_MODIFIED_SINCE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| DateTime::parse_from_rfc2822(v).ok());
    match (since, last_modified) {
        (Some(since), Some(modified)) => modified.timestamp() <= since.timestamp(),
        _ => false,
    }
}

fn httpdate(at: DateTime<Utc>) -> String {
    at.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}
