use actix_web::{HttpRequest, HttpResponse, get, web};

use super::model::RegionOut;
use crate::app::AppState;
use crate::error::ApiResult;
use crate::http::conditional::Conditional;

/// The 18 INSEE regions with their departments (reference data for filters and forms).
#[utoipa::path(tag = "geography", responses((status = 200, description = "Regions with departments", body = Vec<RegionOut>)))]
#[get("/regions")]
pub async fn list_regions(state: web::Data<AppState>, request: HttpRequest) -> ApiResult<HttpResponse> {
    let regions = crate::db::run(&state.pool, |conn| Ok(super::repo::geography(conn)?.all())).await?;
    Ok(Conditional::ok().json(&request, &regions))
}
