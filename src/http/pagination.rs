//! The one pagination helper: keyset cursors that stay stable while rows are inserted.
//!
//! A list query fetches `limit + 1` rows ordered by its sort key and then by id; the extra row
//! only says whether a next page exists. The cursor carries the last row's sort key and id, so
//! the next page starts strictly after it, whatever was inserted or edited in between.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use utoipa::IntoParams;

use crate::error::ApiError;

pub const DEFAULT_LIMIT: i64 = 20;
pub const MAX_LIMIT: i64 = 100;

/// `limit` and `cursor`, shared by every list endpoint.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PageParams {
    /// Page size, 1 to 100 (default 20). Out of range is a 400, never clamped.
    #[param(minimum = 1, maximum = 100, default = 20)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page; opaque.
    pub cursor: Option<String>,
}

/// The parameters of a list short enough to be one whole page (the regions, an edition's
/// tracks, an organizer's members, the caller's tokens): none, so that a `limit` or a typo is a
/// 400 there too rather than silently ignored (`_`, the cache-buster, is still accepted).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WholeListParams {}

/// A page of a list. The document names one page type per item (see [`page_schema!`]).
#[derive(Debug, Serialize)]
pub struct Page<T> {
    pub data: Vec<T>,
    /// Pass as `cursor` to get the next page; null on the last page.
    pub next_cursor: Option<String>,
    /// How many items match, over all pages.
    pub total: i64,
}

/// A `limit` parameter: `default` when absent, 1 to `max` otherwise (a 400 naming it beyond).
pub fn bounded_limit(limit: Option<i64>, default: i64, max: i64) -> Result<i64, ApiError> {
    match limit {
        None => Ok(default),
        Some(limit) if (1..=max).contains(&limit) => Ok(limit),
        Some(_) => Err(ApiError::bad_param("limit", format!("must be between 1 and {max}"))),
    }
}

impl PageParams {
    pub fn limit(&self) -> Result<i64, ApiError> {
        bounded_limit(self.limit, DEFAULT_LIMIT, MAX_LIMIT)
    }

    /// The decoded cursor, whose `scope` must be the list's own (a cursor from another list or
    /// another sort order is refused rather than silently misread).
    pub fn cursor<K: DeserializeOwned>(&self, scope: &str) -> Result<Option<K>, ApiError> {
        let Some(raw) = &self.cursor else { return Ok(None) };
        let invalid = || ApiError::bad_param("cursor", "is not a cursor this list issued");
        let bytes = URL_SAFE_NO_PAD.decode(raw).map_err(|_| invalid())?;
        let envelope: CursorEnvelope<K> = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
        if envelope.scope != scope {
            return Err(invalid());
        }
        Ok(Some(envelope.key))
    }
}

#[derive(Serialize, Deserialize)]
struct CursorEnvelope<K> {
    #[serde(rename = "s")]
    scope: String,
    #[serde(rename = "k")]
    key: K,
}

pub fn encode_cursor<K: Serialize>(scope: &str, key: K) -> String {
    let envelope = CursorEnvelope { scope: scope.to_string(), key };
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(&envelope).unwrap_or_default())
}

/// Builds a page from `limit + 1` fetched rows, keying the cursor on the last row kept.
pub fn page<T, K: Serialize>(
    mut rows: Vec<T>,
    limit: i64,
    total: i64,
    scope: &str,
    key_of: impl Fn(&T) -> K,
) -> Page<T> {
    let has_more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let next_cursor = if has_more { rows.last().map(|last| encode_cursor(scope, key_of(last))) } else { None };
    Page { data: rows, next_cursor, total }
}

impl<T> Page<T> {
    /// A list short enough by construction (a few dozen rows at most) to be one whole page.
    pub fn whole(data: Vec<T>) -> Page<T> {
        let total = data.len() as i64;
        Page { data, next_cursor: None, total }
    }

    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page { data: self.data.into_iter().map(f).collect(), next_cursor: self.next_cursor, total: self.total }
    }
}

/// Declares the documented shape of a page of one kind of item, the shape `Page<Item>`
/// serializes to: its `data` refers to the item's own schema, so that a generated client has
/// one item type whichever list it came from.
#[macro_export]
macro_rules! page_schema {
    ($(#[$meta:meta])* $name:ident of $item:ty) => {
        $(#[$meta])*
        #[derive(utoipa::ToSchema)]
        pub struct $name {
            pub data: Vec<$item>,
            /// Pass as `cursor` to get the next page; null on the last page.
            pub next_cursor: Option<String>,
            /// How many items match, over all pages.
            pub total: i64,
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(limit: Option<i64>, cursor: Option<String>) -> PageParams {
        PageParams { limit, cursor }
    }

    #[test]
    fn a_limit_out_of_range_is_refused_never_clamped() {
        assert_eq!(params(None, None).limit().unwrap(), DEFAULT_LIMIT);
        assert_eq!(params(Some(1), None).limit().unwrap(), 1);
        assert_eq!(params(Some(MAX_LIMIT), None).limit().unwrap(), MAX_LIMIT);
        assert!(params(Some(0), None).limit().is_err());
        assert!(params(Some(MAX_LIMIT + 1), None).limit().is_err());
    }

    #[test]
    fn a_cursor_reads_back_only_in_the_list_that_issued_it() {
        let cursor = encode_cursor("labs", "ti-lab");
        assert_eq!(params(None, Some(cursor.clone())).cursor::<String>("labs").unwrap().as_deref(), Some("ti-lab"));
        assert!(params(None, Some(cursor)).cursor::<String>("organizers").is_err());
        assert!(params(None, Some("not base64!".into())).cursor::<String>("labs").is_err());
    }

    #[test]
    fn a_page_keys_its_cursor_on_the_last_row_kept_and_says_when_it_is_the_last() {
        let full = page(vec!["a", "b", "c"], 2, 3, "letters", |row| row.to_string());
        assert_eq!(full.data, vec!["a", "b"]);
        let next = params(None, full.next_cursor).cursor::<String>("letters").unwrap();
        assert_eq!(next.as_deref(), Some("b"));
        let last = page(vec!["c"], 2, 3, "letters", |row| row.to_string());
        assert!(last.next_cursor.is_none());
    }
}
