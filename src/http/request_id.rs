//! `X-Request-Id` on every response and every log line, and one access-log line per request.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use tracing::Instrument;

use crate::telemetry::{self, RequestContext};

pub const HEADER: &str = "x-request-id";

/// A client-sent id is echoed when it is short and printable; otherwise a fresh UUID is used,
/// so a hostile header cannot forge log lines.
fn accepted_client_id(request: &ServiceRequest) -> Option<String> {
    let value = request.headers().get(HEADER)?.to_str().ok()?;
    let acceptable = !value.is_empty()
        && value.len() <= 128
        && value.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b));
    acceptable.then(|| value.to_string())
}

pub async fn middleware(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody + 'static>, actix_web::Error> {
    let request_id = accepted_client_id(&request).unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    let method = request.method().to_string();
    // The path only: query strings may carry things that do not belong in logs.
    let path = request.path().to_string();
    let span = tracing::info_span!("request", request_id = %request_id, %method, %path);
    let context = RequestContext { request_id: request_id.clone(), path: path.clone() };
    let started = Instant::now();

    let result = telemetry::scope(context, next.call(request)).instrument(span.clone()).await;
    let _entered = span.enter();
    let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
    match result {
        Ok(mut response) => {
            let status = response.status().as_u16();
            if let Ok(value) = HeaderValue::from_str(&request_id) {
                response.headers_mut().insert(HeaderName::from_static(HEADER), value);
            }
            tracing::info!(status, elapsed_ms, "served");
            Ok(response)
        }
        Err(error) => {
            tracing::warn!(%error, elapsed_ms, "failed");
            Err(error)
        }
    }
}
