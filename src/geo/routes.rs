use actix_web::{HttpRequest, HttpResponse, get, web};

use super::model::RegionOut;
use crate::error::ApiResult;
use crate::http::conditional::Conditional;
use crate::http::pagination::{Page, WholeListParams};
use crate::http::query::Query;
use crate::state::AppState;

crate::page_schema! {
    /// The regions with their departments (one page).
    RegionPage of RegionOut
}

/// The 18 INSEE regions with their departments (reference data for filters and forms), as one
/// whole page: the list is fixed and short, so `next_cursor` is always null.
#[utoipa::path(tag = "geography", responses(
    (status = 200, description = "Regions with departments", body = RegionPage),
    (status = 304, description = "Not modified"),
))]
#[get("/regions")]
pub async fn list_regions(
    state: web::Data<AppState>,
    request: HttpRequest,
    _no_parameters: Query<WholeListParams>,
) -> ApiResult<HttpResponse> {
    Ok(Conditional::ok().json(&request, &Page::whole(state.geo.all())))
}
