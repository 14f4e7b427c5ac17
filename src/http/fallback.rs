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
    with_allow(ApiError::MethodNotAllowed.error_response(), allow)
}

/// For `web::Path` parameters that do not parse (a year that is not a number).
pub fn path_error(error: actix_web::error::PathError, request: &HttpRequest) -> actix_web::Error {
    let errors = request
        .match_info()
        .iter()
        .map(|(name, value)| FieldError::new(name, "invalid", format!("`{value}` is not a valid {name}")))
        .collect();
    ApiError::BadRequest { detail: format!("invalid path parameter: {error}"), errors }.into()
}
