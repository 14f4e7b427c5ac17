//! HTTP as clients expect it of every resource: `HEAD` wherever `GET` is served, `Allow` on a
//! 405, and the security headers browsers read.

use actix_web::ResponseError;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ResourceDef, ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;

use crate::error::ApiError;

/// Serves `HEAD` as `GET` (RFC 9110 §9.3.2): CDNs, link checkers and feed readers use it.
/// The handler answers as for `GET`, validators and all; actix's HTTP/1 codec knows the request
/// was a `HEAD` and sends the headers, with the `GET` length, and no body.
pub async fn head_as_get(
    mut request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody + 'static>, actix_web::Error> {
    if request.method() == Method::HEAD {
        request.head_mut().method = Method::GET;
    }
    next.call(request).await
}

/// Longest request target (path and query) answered, in bytes: longer is a 414.
pub const MAX_URI_BYTES: usize = 8 * 1024;
/// Most header bytes answered (names and values): more is a 431.
pub const MAX_HEADER_BYTES: usize = 32 * 1024;

/// Refuses an oversized URI (414) or header block (431) with a problem, before any work.
/// Past 128 KiB, actix's HTTP/1 parser refuses the request head itself, with a bare 431.
pub async fn request_head_limits(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody + 'static>>, actix_web::Error> {
    // Path and query, as the client sent them (no allocation on this hot path).
    let uri = request.uri().path_and_query().map_or(0, |target| target.as_str().len());
    let headers: usize = request.headers().iter().map(|(name, value)| name.as_str().len() + value.len()).sum();
    let refusal = if uri > MAX_URI_BYTES {
        Some(ApiError::UriTooLong(MAX_URI_BYTES))
    } else if headers > MAX_HEADER_BYTES {
        Some(ApiError::HeadersTooLarge(MAX_HEADER_BYTES))
    } else {
        None
    };
    match refusal {
        Some(error) => Ok(request.into_response(error.error_response()).map_into_right_body()),
        None => Ok(next.call(request).await?.map_into_left_body()),
    }
}

/// What the security headers say, set once from the settings.
#[derive(Debug, Clone)]
pub struct SecurityHeaders {
    /// `Strict-Transport-Security`, when the service is served over HTTPS only.
    pub hsts: Option<HeaderValue>,
}

impl SecurityHeaders {
    pub fn new(hsts_max_age_secs: u64) -> Self {
        let hsts = (hsts_max_age_secs > 0)
            .then(|| HeaderValue::from_str(&format!("max-age={hsts_max_age_secs}; includeSubDomains")).ok())
            .flatten();
        SecurityHeaders { hsts }
    }
}

/// The API explorer's page may load its own scripts and styles, nothing from elsewhere.
const DOCS_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
                           img-src 'self' data:; connect-src 'self'; font-src 'self'; frame-ancestors 'none'; \
                           base-uri 'none'; form-action 'none'";
/// Answers of the API are data, never a page to render or frame.
const API_POLICY: &str = "default-src 'none'; frame-ancestors 'none'";

/// `nosniff`, no referrer, a content policy per kind of answer, and HSTS when configured.
pub async fn security_headers(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody + 'static>, actix_web::Error> {
    let docs = request.path().starts_with("/docs");
    let hsts = request.app_data::<actix_web::web::Data<SecurityHeaders>>().and_then(|s| s.hsts.clone());
    let mut response = next.call(request).await?;
    let headers = response.headers_mut();
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    // An answer made to be embedded (a chart) sets its own policy; every other gets one here.
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        let policy = if docs { DOCS_POLICY } else { API_POLICY };
        headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(policy));
    }
    if let Some(hsts) = hsts {
        headers.insert(header::STRICT_TRANSPORT_SECURITY, hsts);
    }
    Ok(response)
}

/// The methods each documented path answers, for the `Allow` header of a 405.
#[derive(Debug, Default)]
pub struct RouteMethods(Vec<(ResourceDef, Vec<Method>)>);

impl RouteMethods {
    /// From the OpenAPI document, which lists every route the service registers.
    pub fn from_spec(spec: &utoipa::openapi::OpenApi) -> Self {
        let routes = spec
            .paths
            .paths
            .iter()
            .map(|(path, item)| {
                let methods = [
                    (Method::GET, item.get.is_some()),
                    (Method::HEAD, item.get.is_some() || item.head.is_some()),
                    (Method::POST, item.post.is_some()),
                    (Method::PUT, item.put.is_some()),
                    (Method::PATCH, item.patch.is_some()),
                    (Method::DELETE, item.delete.is_some()),
                ];
                let mut allowed: Vec<Method> =
                    methods.into_iter().filter(|(_, present)| *present).map(|(method, _)| method).collect();
                // Every route answers CORS preflights.
                allowed.push(Method::OPTIONS);
                (ResourceDef::new(path.as_str()), allowed)
            })
            .collect();
        RouteMethods(routes)
    }

    /// The `Allow` value for a path, when some route has it.
    pub fn allow(&self, path: &str) -> Option<HeaderValue> {
        let mut methods: Vec<&Method> =
            self.0.iter().filter(|(route, _)| route.is_match(path)).flat_map(|(_, methods)| methods).collect();
        if methods.is_empty() {
            return None;
        }
        methods.sort_by_key(|m| m.as_str());
        methods.dedup();
        HeaderValue::from_str(&methods.iter().map(|m| m.as_str()).collect::<Vec<_>>().join(", ")).ok()
    }
}

/// Inserts `Allow` into a response.
pub fn with_allow(mut response: actix_web::HttpResponse, allow: Option<HeaderValue>) -> actix_web::HttpResponse {
    if let Some(allow) = allow {
        response.headers_mut().insert(HeaderName::from_static("allow"), allow);
    }
    response
}
