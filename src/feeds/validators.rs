//! Validators that let feeds and embeds answer 304 without building the document.
//!
//! A feed's ETag is `W/"<body digest>.<fingerprint>"`. The fingerprint is the number of
//! committed transactions that changed anything a feed shows (`content_version`, bumped by
//! deferred triggers at commit: see its migration), salted with the format and the addresses
//! documents link to. Reading it is one row. A client whose tag carries the current fingerprint
//! has a current copy (nothing changed anywhere since): 304 at once. Otherwise the document is
//! built, and a client whose tag carries the same body digest still gets a 304, with the new tag.
//!
//! Why a counter bumped at commit rather than the newest `updated_at`: a transaction that took
//! its timestamp (its start) before another but commits after it would not move the newest
//! `updated_at`, and a client that fetched in between would be told its stale copy is current.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use sha2::{Digest, Sha256};

use super::links::Links;
use crate::error::ApiResult;
use crate::http::conditional::Conditional;
use crate::state::AppState;

/// Changes with every build whose sources differ (`build.rs` digests them), so that a new
/// release never answers 304 to a copy an older one made.
const FORMAT: &str = concat!(env!("CARGO_PKG_VERSION"), "+", env!("MIP_BUILD_ID"));

fn short_digest(parts: &[&[u8]]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part);
    }
    hex::encode(hasher.finalize().iter().take(8).copied().collect::<Vec<u8>>())
}

/// What a document is validated by.
pub struct Validators {
    fingerprint: String,
}

impl Validators {
    /// The database's state, salted with what else shapes a document: the format, and the
    /// addresses it links to (`base`, the event page template).
    pub fn read(conn: &mut PgConnection, salt: &str) -> ApiResult<Validators> {
        use crate::schema::content_version;
        let version: i64 = content_version::table.select(content_version::version).first(conn)?;
        Ok(Validators { fingerprint: short_digest(&[FORMAT.as_bytes(), salt.as_bytes(), &version.to_be_bytes()]) })
    }

    /// The client's tag when it carries the current fingerprint: its copy is current.
    pub fn current_copy(&self, request: &HttpRequest) -> Option<String> {
        client_tags(request).into_iter().find(|(_, fingerprint)| *fingerprint == self.fingerprint).map(|(tag, _)| tag)
    }

    /// The ETag of a document.
    pub fn etag(&self, body: &[u8]) -> String {
        format!("W/\"{}.{}\"", short_digest(&[body]), self.fingerprint)
    }

    /// A 304 at once, nothing built, when the client's copy carries the current fingerprint.
    pub fn unchanged_answer(&self, request: &HttpRequest, shared_for: u32, content_type: &str) -> Option<HttpResponse> {
        let tag = self.current_copy(request)?;
        Some(Conditional::ok().list_etag(tag).shared_for(shared_for).unchanged().send(
            request,
            Vec::new(),
            content_type,
        ))
    }

    /// The document with its validators, or a 304 with the client's own tag when its copy has
    /// the same body.
    pub fn answer(
        &self,
        request: &HttpRequest,
        body: Vec<u8>,
        last_modified: Option<DateTime<Utc>>,
        shared_for: u32,
        content_type: &str,
    ) -> HttpResponse {
        let etag = self.etag(&body);
        let answer = match same_body(request, &etag) {
            Some(tag) => Conditional::ok().list_etag(tag).unchanged(),
            None => Conditional::ok().list_etag(etag),
        };
        answer.last_modified(last_modified).shared_for(shared_for).send(request, body, content_type)
    }
}

/// The client's tag when its copy has the same body as `etag` (made before another change):
/// answered 304 with that very tag, since RFC 9110 lets a 304 stand only for a tag the client
/// sent, and both name the same bytes.
fn same_body(request: &HttpRequest, etag: &str) -> Option<String> {
    let digest = etag.trim_start_matches("W/\"").split('.').next().unwrap_or_default();
    client_tags(request)
        .into_iter()
        .find(|(tag, _)| tag.trim_start_matches("W/\"").split('.').next() == Some(digest))
        .map(|(tag, _)| tag)
}

/// The validators of every feed and embed, salted with the addresses their documents link to.
pub async fn read(state: &AppState, links: &Links) -> ApiResult<Validators> {
    let salt = format!("{}|{}", links.absolute(""), state.settings.event_page_url);
    crate::db::run(&state.pool, move |conn| Validators::read(conn, &salt)).await
}

/// The tags of `If-None-Match` this service could have issued for a feed, with their
/// fingerprint part.
fn client_tags(request: &HttpRequest) -> Vec<(String, String)> {
    let Some(value) = request.headers().get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) else {
        return Vec::new();
    };
    value
        .split(',')
        .map(str::trim)
        .filter_map(|tag| {
            let inner = tag.trim_start_matches("W/").strip_prefix('"')?.strip_suffix('"')?;
            let (digest, fingerprint) = inner.split_once('.')?;
            (digest.len() == 16 && fingerprint.len() == 16).then(|| (format!("W/\"{inner}\""), fingerprint.to_string()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    #[test]
    fn a_tag_with_the_current_fingerprint_is_current_and_one_with_the_same_body_is_too() {
        let validators = Validators { fingerprint: "0123456789abcdef".into() };
        let etag = validators.etag(b"<rss/>");
        let request = TestRequest::default().insert_header((header::IF_NONE_MATCH, etag.as_str())).to_http_request();
        assert_eq!(validators.current_copy(&request), Some(etag.clone()));

        let later = Validators { fingerprint: "fedcba9876543210".into() };
        assert_eq!(later.current_copy(&request), None, "something changed since");
        assert_eq!(same_body(&request, &later.etag(b"<rss/>")), Some(etag.clone()), "but not this document");
        assert_eq!(same_body(&request, &later.etag(b"<rss>changed</rss>")), None);
        let none = TestRequest::default().to_http_request();
        assert!(validators.current_copy(&none).is_none() && same_body(&none, &etag).is_none());
    }
}
