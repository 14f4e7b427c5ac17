//! `ValidJson<T>`: a JSON body that was parsed (with the failing field named) and validated.

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use std::time::Duration;

use futures_util::StreamExt;
use serde::de::DeserializeOwned;
use validator::Validate;

use crate::error::{ApiError, FieldError};

/// Largest JSON body accepted, in bytes. Imports have their own, larger limit.
pub const MAX_JSON_BODY: usize = 256 * 1024;

/// A request body that is JSON, within the size limit, of the right shape and valid.
pub struct ValidJson<T>(pub T);

impl<T> std::ops::Deref for ValidJson<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned + Validate + 'static> FromRequest for ValidJson<T> {
    type Error = ApiError;
    type Future = futures_util::future::LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(request: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let content_type_ok = is_json(request);
        let timeout = body_timeout(request);
        let mut payload = payload.take();
        Box::pin(async move { read_valid_json(content_type_ok, &mut payload, timeout).await.map(ValidJson) })
    }
}

/// A JSON body that may be left out: no body at all, or `null`, reads as `T::default()`.
pub struct OptionalJson<T>(pub T);

impl<T: DeserializeOwned + Validate + Default + 'static> FromRequest for OptionalJson<T> {
    type Error = ApiError;
    type Future = futures_util::future::LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(request: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let headers = request.headers();
        let no_body = headers.get(actix_web::http::header::CONTENT_TYPE).is_none()
            && headers.get(actix_web::http::header::TRANSFER_ENCODING).is_none()
            && headers.get(actix_web::http::header::CONTENT_LENGTH).is_none_or(|length| length == "0");
        let content_type_ok = is_json(request);
        let timeout = body_timeout(request);
        let mut payload = payload.take();
        Box::pin(async move {
            if no_body {
                return Ok(OptionalJson(T::default()));
            }
            // Many clients send `Content-Type: application/json` on every POST, body or not:
            // an empty body is still no body.
            let body = read_limited(&mut payload, MAX_JSON_BODY, timeout).await?;
            if body.iter().all(u8::is_ascii_whitespace) {
                return Ok(OptionalJson(T::default()));
            }
            if !content_type_ok {
                return Err(unsupported_media_type());
            }
            // The document allows `null` for an optional body, as generated clients send it.
            if body.trim_ascii() == b"null" {
                return Ok(OptionalJson(T::default()));
            }
            let value: T = parse_json(&body)?;
            value.validate()?;
            Ok(OptionalJson(value))
        })
    }
}

fn is_json(request: &HttpRequest) -> bool {
    request
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or("").trim().to_ascii_lowercase())
        .is_some_and(|mime| mime == "application/json" || mime.ends_with("+json"))
}

async fn read_valid_json<T: DeserializeOwned + Validate>(
    content_type_ok: bool,
    payload: &mut Payload,
    timeout: Duration,
) -> Result<T, ApiError> {
    if !content_type_ok {
        return Err(unsupported_media_type());
    }
    let body = read_limited(payload, MAX_JSON_BODY, timeout).await?;
    let value: T = parse_json(&body)?;
    value.validate()?;
    Ok(value)
}

fn unsupported_media_type() -> ApiError {
    ApiError::UnsupportedMediaType("the body must be sent with `Content-Type: application/json`".into())
}

/// How long a request body may take to arrive, whole (actix bounds the head, not the body).
/// The app registers it as app data; without it, [`DEFAULT_BODY_TIMEOUT`].
#[derive(Debug, Clone, Copy)]
pub struct BodyTimeout(pub Duration);

pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(10);

/// The body timeout the app registered (imports allow a multiple of it).
pub fn body_timeout(request: &HttpRequest) -> Duration {
    request.app_data::<web::Data<BodyTimeout>>().map_or(DEFAULT_BODY_TIMEOUT, |timeout| timeout.0)
}

/// Reads the whole body, refusing it as soon as it passes `limit` bytes, or when it has not
/// all arrived within the body timeout (a stalled client must not hold its connection).
pub async fn read_limited(payload: &mut Payload, limit: usize, timeout: Duration) -> Result<web::Bytes, ApiError> {
    let read = async {
        let mut body = web::BytesMut::new();
        while let Some(chunk) = payload.next().await {
            let chunk = chunk.map_err(|e| ApiError::BadRequest {
                detail: format!("could not read the body: {e}"),
                errors: vec![],
            })?;
            if body.len() + chunk.len() > limit {
                return Err(ApiError::PayloadTooLarge(limit));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body.freeze())
    };
    tokio::time::timeout(timeout, read).await.map_err(|_| ApiError::RequestTimeout(timeout.as_millis()))?
}

/// Parses JSON and names the field that failed, e.g. `sessions[0].starts_at`. Text after the
/// document is refused, and so is a NUL character in any string (PostgreSQL cannot store it).
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    // `\u0000` is the only way JSON can carry a NUL; the walk that names its field runs only then.
    if body.windows(6).any(|w| w == b"\\u0000")
        && let Ok(value) = serde_json::from_slice::<serde_json::Value>(body)
        && let Some(field) = field_with_nul(&value, String::new())
    {
        return Err(ApiError::BadRequest {
            detail: format!("`{field}` contains a NUL character"),
            errors: vec![FieldError::new(field, "nul_character", "must not contain a NUL character")],
        });
    }
    let deserializer = &mut serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut *deserializer).map_err(json_error)?;
    deserializer.end().map_err(|error| ApiError::BadRequest {
        detail: format!("the body is not valid JSON: {error}"),
        errors: vec![FieldError::new("body", "malformed_json", error.to_string())],
    })?;
    Ok(value)
}

/// A parse error, naming the field that failed.
fn json_error(error: serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    {
        let path = error.path().to_string();
        let inner = error.into_inner();
        let syntax = inner.is_syntax() || inner.is_eof();
        let field = if path == "." || syntax { "body".to_string() } else { path };
        let code = if syntax { "malformed_json" } else { "invalid_type" };
        let message = inner.to_string();
        ApiError::BadRequest {
            detail: if syntax {
                format!("the body is not valid JSON: {message}")
            } else {
                format!("`{field}`: {message}")
            },
            errors: vec![FieldError::new(field, code, message)],
        }
    }
}

/// The path of the first string (or key) holding a NUL character.
fn field_with_nul(value: &serde_json::Value, path: String) -> Option<String> {
    use serde_json::Value;
    let named = |path: &str| if path.is_empty() { "body".to_string() } else { path.to_string() };
    match value {
        Value::String(text) if text.contains('\0') => Some(named(&path)),
        Value::Array(items) => {
            items.iter().enumerate().find_map(|(i, item)| field_with_nul(item, format!("{path}[{i}]")))
        }
        Value::Object(map) => map.iter().find_map(|(key, item)| {
            let inner = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
            if key.contains('\0') { Some(named(&path)) } else { field_with_nul(item, inner) }
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize)]
    #[expect(dead_code, reason = "only parsed")]
    struct Form {
        title: String,
        tags: Vec<String>,
    }

    fn refused_field(body: &str) -> String {
        match parse_json::<Form>(body.as_bytes()) {
            Err(ApiError::BadRequest { errors, .. }) => errors[0].field.clone(),
            other => panic!("{body}: not a 400: {other:?}"),
        }
    }

    #[test]
    fn text_after_the_document_is_refused() {
        assert_eq!(refused_field(r#"{"title": "a", "tags": []} {"title": "b"}"#), "body");
        assert_eq!(refused_field(r#"{"title": "a", "tags": []} trailing"#), "body");
        assert!(parse_json::<Form>(b" {\"title\": \"a\", \"tags\": []}  \r\n").is_ok());
    }

    #[test]
    fn a_nul_character_is_refused_naming_its_field() {
        assert_eq!(refused_field(r#"{"title": "a\u0000b", "tags": []}"#), "title");
        assert_eq!(refused_field(r#"{"title": "a", "tags": ["x", "\u0000"]}"#), "tags[1]");
        // A backslash followed by the text u0000 is no NUL.
        assert!(parse_json::<Form>(br#"{"title": "a\\u0000", "tags": []}"#).is_ok());
    }
}
