//! Field validators and shapes shared by the domains' request bodies.

use serde::{Deserialize, Deserializer};
use validator::ValidationError;

/// The years a date may name, anywhere one is read: far enough for any real event, and far
/// from the limits where chrono's and PostgreSQL's date arithmetic overflows.
pub const MIN_YEAR: i32 = 1900;
pub const MAX_YEAR: i32 = 2200;

/// Lowercase words joined by hyphens: `innovation-ouverte`.
pub fn validate_slug(slug: &str) -> Result<(), ValidationError> {
    let well_formed = !slug.is_empty()
        && slug.len() <= 100
        && slug
            .split('-')
            .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()));
    if well_formed {
        Ok(())
    } else {
        Err(ValidationError::new("invalid_slug")
            .with_message("must be lowercase letters and digits joined by hyphens".into()))
    }
}

/// Text with something in it besides spaces (empty text is left to the length rule).
pub fn validate_not_blank(value: &str) -> Result<(), ValidationError> {
    if !value.is_empty() && value.trim().is_empty() {
        Err(ValidationError::new("blank").with_message("must not be blank".into()))
    } else {
        Ok(())
    }
}

/// An absolute http or https URL (no `javascript:`, `file:` or relative links).
pub fn validate_http_url(value: &str) -> Result<(), ValidationError> {
    // The URL parser drops tabs and line breaks before parsing; the text kept would still hold
    // them, and a line break in a URL breaks the formats it is written into (iCalendar, headers).
    let ok = value.len() <= 2000
        && !value.chars().any(char::is_control)
        && url::Url::parse(value).is_ok_and(|url| matches!(url.scheme(), "http" | "https") && url.host_str().is_some());
    if ok {
        Ok(())
    } else {
        Err(ValidationError::new("invalid_url").with_message("must be an absolute http(s) URL".into()))
    }
}

/// A readable slug made from a name: `L'innovation ouverte` → `l-innovation-ouverte`.
pub fn slugify(name: &str) -> String {
    let mut slug = slug::slugify(name);
    slug.truncate(80);
    slug.trim_end_matches('-').to_string()
}

/// For PATCH bodies: tells "absent" (`None`) from "set to null" (`Some(None)`).
pub fn nullable<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// Checks a nullable PATCH URL (validator does not look inside `Option<Option<_>>`).
pub fn check_nullable_url(field: &str, value: &Option<Option<String>>) -> Option<crate::error::FieldError> {
    match value {
        Some(Some(url)) if validate_http_url(url).is_err() => {
            Some(crate::error::FieldError::new(field, "invalid_url", "must be an absolute http(s) URL"))
        }
        _ => None,
    }
}

/// Bounds a nullable PATCH field (validator does not look inside `Option<Option<_>>`).
pub fn check_nullable_length(
    field: &str,
    value: &Option<Option<String>>,
    max: usize,
) -> Option<crate::error::FieldError> {
    match value {
        Some(Some(text)) if text.chars().count() > max => {
            Some(crate::error::FieldError::new(field, "length", format!("must be at most {max} characters long")))
        }
        _ => None,
    }
}
