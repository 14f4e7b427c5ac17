//! problem+json for what actix answers by itself: unknown routes, wrong methods, bad paths.

use actix_web::{HttpRequest, HttpResponse, ResponseError, web};

use super::protocol::{RouteMethods, with_allow};

use crate::error::{ApiError, FieldError};

/// The default service: 405 with `Allow` when the path exists under another method, 404 otherwise.
pub async fn not_found_or_wrong_method(request: HttpRequest) -> HttpResponse {
    if !request.resource_map().has_resource(request.path()) {
        return ApiError::NotFound(format!("route `{}`", request.path())).error_response();
    }
    let allow = request.app_data::<web::Data<RouteMethods>>().and_then(|routes| routes.allow(request.path()));
    // A plain OPTIONS (not a CORS preflight, which the CORS layer answers) asks what is allowed.
    if request.method() == actix_web::http::Method::OPTIONS {
        return with_allow(HttpResponse::NoContent().finish(), allow);
    }
    with_allow(ApiError::MethodNotAllowed.error_response(), allow)
}

/// For `web::Path` parameters that do not parse (a year that is not a number).
pub fn path_error(error: actix_web::error::PathError, request: &HttpRequest) -> actix_web::Error {
    let invalid =
        |(name, value): (&str, &str)| FieldError::new(name, "invalid", format!("`{value}` is not a valid {name}"));
    // Path segments are typed by name: a year is a number, a `…_id` (and a token's id) a UUID.
    let unparsed = |name: &str, value: &str| match name {
        "year" => value.parse::<i32>().is_err(),
        "member_id" => uuid::Uuid::parse_str(value).is_err(),
        "id" if request.path().starts_with("/api/v1/me/tokens/") => uuid::Uuid::parse_str(value).is_err(),
        _ => false,
    };
    let mut errors: Vec<FieldError> =
        request.match_info().iter().filter(|(name, value)| unparsed(name, value)).map(invalid).collect();
    if errors.is_empty() {
        errors = request.match_info().iter().map(invalid).collect();
    }
    ApiError::BadRequest { detail: format!("invalid path parameter: {error}"), errors }.into()
}
