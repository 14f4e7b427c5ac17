//! The one conditional-request helper: ETag / Last-Modified on reads, 304 on revalidation,
//! and `If-Match` for optimistic concurrency on writes (required on versioned resources).

use std::ops::Not;

use actix_web::http::header::{self, EntityTag, HeaderValue};
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

/// What a write's `If-Match` asks (RFC 9110 §13.1.1), evaluated once the resource is locked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IfMatch {
    /// No `If-Match`: a versioned resource answers 428 (RFC 6585), so that a client that never
    /// sends it cannot silently overwrite a colleague's change.
    Absent,
    /// `If-Match: *`: any current version.
    Any,
    /// The versions named by strong tags this service issued (`"v3"`, `"v3-…"`). Weak tags and
    /// tags it never issued match nothing (strong comparison).
    Versions(Vec<i32>),
}

impl IfMatch {
    /// Checks the current version of a resource that requires `If-Match`.
    pub fn check(&self, current: i32) -> Result<(), ApiError> {
        match self {
            IfMatch::Absent => Err(ApiError::PreconditionRequired),
            IfMatch::Any => Ok(()),
            IfMatch::Versions(versions) if versions.contains(&current) => Ok(()),
            IfMatch::Versions(_) => Err(ApiError::PreconditionFailed(format!("v{current}"))),
        }
    }

    /// For writes where `If-Match` is optional (transitions): absent means any version.
    pub fn or_any(self) -> Self {
        if self == IfMatch::Absent { IfMatch::Any } else { self }
    }
}

/// Reads `If-Match`: `*`, or a list of entity tags (several headers count as one list).
pub fn if_match(request: &HttpRequest) -> Result<IfMatch, ApiError> {
    let mut values = request.headers().get_all(header::IF_MATCH).peekable();
    if values.peek().is_none() {
        return Ok(IfMatch::Absent);
    }
    let unreadable = || ApiError::bad_param("If-Match", "must be `*` or a list of entity tags such as `\"v3\"`");
    let mut versions = Vec::new();
    for value in values {
        let value = value.to_str().map_err(|_| unreadable())?;
        for tag in split_tags(value) {
            if tag == "*" {
                return Ok(IfMatch::Any);
            }
            let tag = tag.parse::<EntityTag>().map_err(|_| unreadable())?;
            if let Some(version) = tag.weak.not().then(|| version_of(tag.tag())).flatten() {
                versions.push(version);
            }
        }
    }
    Ok(IfMatch::Versions(versions))
}

/// Splits a list of entity tags on the commas between them (a tag itself holds no `"` but may
/// hold a comma).
fn split_tags(value: &str) -> Vec<&str> {
    let mut tags = Vec::new();
    let (mut start, mut quoted) = (0, false);
    for (index, character) in value.char_indices() {
        match character {
            '"' => quoted = !quoted,
            ',' if !quoted => {
                tags.push(value[start..index].trim());
                start = index + 1;
            }
            _ => {}
        }
    }
    tags.push(value[start..].trim());
    tags.into_iter().filter(|tag| !tag.is_empty()).collect()
}

/// `v3` or `v3-…` → 3: the version an ETag of this service carries.
fn version_of(opaque: &str) -> Option<i32> {
    let rest = opaque.strip_prefix('v')?;
    rest.split('-').next()?.parse().ok()
}

/// The first `bytes` bytes of the body's SHA-256, in hex.
fn digest_prefix(body: &[u8], bytes: usize) -> String {
    hex::encode(Sha256::digest(body).iter().take(bytes).copied().collect::<Vec<u8>>())
}

fn content_etag(body: &[u8]) -> String {
    format!("W/\"{}\"", digest_prefix(body, 12))
}

/// `If-None-Match` uses the weak comparison (RFC 9110 §13.1.2): `W/"x"` matches `"x"`.
fn etag_matches(if_none_match: &str, etag: &str) -> bool {
    let bare = |t: &str| t.trim().trim_start_matches("W/").to_string();
    split_tags(if_none_match).into_iter().any(|candidate| candidate == "*" || bare(candidate) == bare(etag))
}

/// A JSON answer with validators. For GET and HEAD it answers 304 when the client's copy is current.
pub struct Conditional {
    etag: Option<String>,
    /// Salt the version ETag with a digest of the body (see `versioned_by_content`).
    version_with_digest: Option<i32>,
    last_modified: Option<DateTime<Utc>>,
    status: StatusCode,
    /// Seconds a shared cache (a CDN) may serve an anonymous answer without asking again.
    shared_max_age: Option<u32>,
    /// The representation was chosen from `Accept`.
    negotiated: bool,
    /// The ETag of a list, decided by the caller (see `list_etag`).
    list: bool,
    /// The caller found the client's copy current (see `unchanged`).
    unchanged: bool,
}

impl Conditional {
    pub fn ok() -> Self {
        Conditional {
            etag: None,
            version_with_digest: None,
            last_modified: None,
            status: StatusCode::OK,
            shared_max_age: None,
            negotiated: false,
            list: false,
            unchanged: false,
        }
    }

    pub fn created() -> Self {
        Conditional { status: StatusCode::CREATED, ..Self::ok() }
    }

    /// Uses a version ETag instead of hashing the body.
    pub fn etag(mut self, etag: String) -> Self {
        self.etag = Some(etag);
        self
    }

    /// An ETag the caller made for a list (a feed): like a content ETag, it is the only
    /// validator (`If-Modified-Since` is not honoured, see `send`).
    pub fn list_etag(mut self, etag: String) -> Self {
        self.etag = Some(etag);
        self.list = true;
        self
    }

    /// Answers 304 to a GET or HEAD: the caller compared the client's validators itself.
    pub fn unchanged(mut self) -> Self {
        self.unchanged = true;
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

    /// Lets shared caches keep an anonymous answer for `seconds` (and serve it stale while they
    /// revalidate): for answers that may lag a little, such as reports. Answers to callers with
    /// a token stay private.
    pub fn shared_for(mut self, seconds: u32) -> Self {
        self.shared_max_age = Some(seconds);
        self
    }

    /// Says the answer depends on `Accept` (JSON or CSV at the same address).
    pub fn negotiated(mut self) -> Self {
        self.negotiated = true;
        self
    }

    pub fn json(self, request: &HttpRequest, body: &impl Serialize) -> HttpResponse {
        match serde_json::to_vec(body) {
            Ok(bytes) => self.send(request, bytes, "application/json"),
            Err(error) => actix_web::ResponseError::error_response(&ApiError::internal(error)),
        }
    }

    /// Any representation: the validators, then 304 or the body with its media type.
    pub fn send(self, request: &HttpRequest, bytes: Vec<u8>, content_type: &str) -> HttpResponse {
        // A list's Last-Modified is the newest row it shows, which says nothing about rows that
        // left it (withdrawn, deleted, moved out of a filter): only its content ETag can tell
        // a current copy, so If-Modified-Since is honoured for single, versioned resources only.
        let revalidate_by_date = (self.etag.is_some() && !self.list) || self.version_with_digest.is_some();
        let etag = match (self.etag, self.version_with_digest) {
            (Some(etag), _) => etag,
            (None, Some(version)) => version_etag(version, Some(&digest_prefix(&bytes, 6))),
            (None, None) => content_etag(&bytes),
        };
        let private = request.headers().contains_key(header::AUTHORIZATION);
        let mut response = HttpResponse::build(self.status);
        response.insert_header((header::ETAG, etag.clone()));
        // Answers depend on who asks: shared caches must key on it, and revalidate every time.
        let vary =
            if self.negotiated { "Authorization, Accept, Accept-Encoding" } else { "Authorization, Accept-Encoding" };
        response.insert_header((header::VARY, HeaderValue::from_static(vary)));
        let cache_control = match (private, self.shared_max_age) {
            (true, _) => "private, no-cache".to_string(),
            (false, None) => "public, no-cache".to_string(),
            (false, Some(seconds)) => format!("public, max-age={seconds}, stale-while-revalidate={seconds}"),
        };
        response.insert_header((header::CACHE_CONTROL, cache_control));
        if let Some(at) = self.last_modified {
            response.insert_header((header::LAST_MODIFIED, httpdate(at)));
        }
        let readable = matches!(*request.method(), Method::GET | Method::HEAD);
        let last_modified = self.last_modified.filter(|_| revalidate_by_date);
        if readable && self.status == StatusCode::OK && (self.unchanged || not_modified(request, &etag, last_modified))
        {
            return response.status(StatusCode::NOT_MODIFIED).finish();
        }
        response.content_type(content_type.to_string()).body(bytes)
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

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    fn parsed(values: &[&str]) -> IfMatch {
        let mut request = TestRequest::default();
        for value in values {
            request = request.append_header((header::IF_MATCH, *value));
        }
        if_match(&request.to_http_request()).unwrap()
    }

    #[test]
    fn if_match_reads_star_lists_and_several_headers() {
        assert_eq!(parsed(&[]), IfMatch::Absent);
        assert_eq!(parsed(&["*"]), IfMatch::Any);
        assert_eq!(parsed(&["\"v3\""]), IfMatch::Versions(vec![3]));
        assert_eq!(parsed(&["\"v2\", \"v3-open\""]), IfMatch::Versions(vec![2, 3]));
        assert_eq!(parsed(&["\"v2\"", "\"v4-running-shut\""]), IfMatch::Versions(vec![2, 4]));
    }

    #[test]
    fn weak_and_foreign_tags_match_nothing() {
        assert_eq!(parsed(&["W/\"v3\""]), IfMatch::Versions(vec![]));
        assert_eq!(parsed(&["\"abc\""]), IfMatch::Versions(vec![]));
        assert!(matches!(parsed(&["W/\"v3\""]).check(3), Err(ApiError::PreconditionFailed(_))));
    }

    #[test]
    fn a_missing_if_match_is_428_and_a_stale_one_412() {
        assert!(matches!(IfMatch::Absent.check(3), Err(ApiError::PreconditionRequired)));
        assert!(matches!(IfMatch::Versions(vec![2]).check(3), Err(ApiError::PreconditionFailed(_))));
        assert!(IfMatch::Versions(vec![2, 3]).check(3).is_ok());
        assert!(IfMatch::Absent.or_any().check(3).is_ok());
    }

    #[test]
    fn a_malformed_if_match_is_a_400_naming_the_header() {
        let request = TestRequest::default().insert_header((header::IF_MATCH, "v3")).to_http_request();
        assert!(matches!(if_match(&request), Err(ApiError::BadRequest { .. })));
    }

    #[test]
    fn if_none_match_compares_weakly_and_reads_lists() {
        assert!(etag_matches("\"a\", W/\"b\"", "W/\"b\""));
        assert!(etag_matches("W/\"v3\"", "\"v3\""));
        assert!(!etag_matches("\"c\"", "\"v3\""));
    }
}
