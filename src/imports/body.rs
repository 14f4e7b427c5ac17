//! Reading an import's body: a plain body or the `file` part of a multipart upload (as
//! `curl -F file=@events.csv` sends it), refused with a `413` as soon as it passes the limit
//! (memory is bounded by the limit, whatever the client sends), and its format: the `format`
//! parameter, else the content type or the file name, else what the body starts with.

use std::time::Duration;

use actix_multipart::Multipart;
use actix_web::{HttpMessage, HttpRequest, web};
use futures_util::StreamExt;

use super::model::ImportFormat;
use crate::error::{ApiError, ApiResult, FieldError};
use crate::http::json::read_limited;

/// The body of an import and how it is written.
pub struct Upload {
    pub bytes: web::Bytes,
    pub format: ImportFormat,
}

/// Reads the body within `max_bytes` and `timeout`.
pub async fn read(
    request: &HttpRequest,
    payload: web::Payload,
    asked: Option<ImportFormat>,
    max_bytes: usize,
    timeout: Duration,
) -> ApiResult<Upload> {
    // A declared length past the limit is refused before a byte is read.
    let declared = request
        .headers()
        .get(actix_web::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|length| length > max_bytes) {
        return Err(ApiError::PayloadTooLarge(max_bytes));
    }
    let content_type = request.content_type().to_ascii_lowercase();
    if content_type == "multipart/form-data" {
        let mut parts = Multipart::new(request.headers(), payload.into_inner());
        let file = tokio::time::timeout(timeout, file_part(&mut parts, max_bytes))
            .await
            .map_err(|_| ApiError::RequestTimeout(timeout.as_millis()))??;
        let format = asked.or(file.format).unwrap_or_else(|| sniff(&file.bytes));
        return Ok(Upload { bytes: file.bytes, format });
    }
    let mut payload = payload.into_inner();
    let bytes = read_limited(&mut payload, max_bytes, timeout).await?;
    let format = asked.or_else(|| format_of_type(&content_type)).unwrap_or_else(|| sniff(&bytes));
    Ok(Upload { bytes, format })
}

struct FilePart {
    bytes: web::Bytes,
    format: Option<ImportFormat>,
}

/// The part named `file` (or the first part with a file name).
async fn file_part(parts: &mut Multipart, max_bytes: usize) -> ApiResult<FilePart> {
    while let Some(part) = parts.next().await {
        let mut part = part.map_err(malformed)?;
        let disposition = part.content_disposition().cloned();
        let name = disposition.as_ref().and_then(|d| d.get_name().map(str::to_string));
        let filename = disposition.as_ref().and_then(|d| d.get_filename().map(str::to_string));
        if name.as_deref() != Some("file") && filename.is_none() {
            continue; // another form field: drained by the next `next()`
        }
        let mut body = web::BytesMut::new();
        while let Some(chunk) = part.next().await {
            let chunk = chunk.map_err(malformed)?;
            if body.len() + chunk.len() > max_bytes {
                return Err(ApiError::PayloadTooLarge(max_bytes));
            }
            body.extend_from_slice(&chunk);
        }
        let by_type = part.content_type().and_then(|mime| format_of_type(mime.essence_str()));
        let by_name = filename.as_deref().and_then(format_of_name);
        return Ok(FilePart { bytes: body.freeze(), format: by_name.or(by_type) });
    }
    Err(ApiError::BadRequest {
        detail: "the upload has no `file` part: send the file as `curl -F file=@events.csv`".into(),
        errors: vec![FieldError::new("file", "required", "send the file in a part named `file`")],
    })
}

fn malformed(error: actix_multipart::MultipartError) -> ApiError {
    ApiError::BadRequest {
        detail: format!("the multipart body cannot be read: {error}"),
        errors: vec![FieldError::new("body", "malformed_multipart", error.to_string())],
    }
}

fn format_of_type(content_type: &str) -> Option<ImportFormat> {
    match content_type {
        "application/json" => Some(ImportFormat::Json),
        "application/x-ndjson" | "application/ndjson" | "application/jsonl" | "application/x-jsonlines" => {
            Some(ImportFormat::Ndjson)
        }
        "text/csv" | "application/csv" | "text/comma-separated-values" => Some(ImportFormat::Csv),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" => Some(ImportFormat::Xlsx),
        _ => None,
    }
}

fn format_of_name(filename: &str) -> Option<ImportFormat> {
    let extension = filename.rsplit_once('.')?.1.to_ascii_lowercase();
    match extension.as_str() {
        "json" => Some(ImportFormat::Json),
        "ndjson" | "jsonl" => Some(ImportFormat::Ndjson),
        "csv" | "txt" => Some(ImportFormat::Csv),
        "xlsx" => Some(ImportFormat::Xlsx),
        _ => None,
    }
}

/// `[` is a JSON array, `{` a line of NDJSON, a zip is a workbook; anything else is read as CSV.
fn sniff(bytes: &[u8]) -> ImportFormat {
    let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match text.iter().find(|b| !b.is_ascii_whitespace()) {
        _ if text.starts_with(b"PK\x03\x04") => ImportFormat::Xlsx,
        Some(b'[') => ImportFormat::Json,
        Some(b'{') => ImportFormat::Ndjson,
        _ => ImportFormat::Csv,
    }
}
