use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, put, web};

use super::model::{FigureForm, LabFilter, LabForm, LabOut, LabPatch};
use super::repo;
use crate::auth::{Admin, Then};
use crate::db;
use crate::error::{ApiError, ApiResult, Problem};
use crate::http::conditional::{Conditional, if_match, version_etag};
use crate::http::json::ValidJson;
use crate::http::pagination::page;
use crate::http::query::Query;
use crate::state::AppState;

crate::page_schema! {
    /// A page of labs.
    LabPage of LabOut
}

fn lab_response(request: &HttpRequest, lab: &LabOut, created: bool) -> HttpResponse {
    let answer = if created { Conditional::created() } else { Conditional::ok() };
    answer.etag(version_etag(lab.version, None)).last_modified(Some(lab.updated_at)).json(request, lab)
}

/// Labs by slug, filtered by region (OR within the list) and activity.
#[utoipa::path(
    tag = "labs",
    params(LabFilter),
    responses(
        (status = 200, description = "A page of labs", body = LabPage),
        (status = 400, description = "A bad parameter, named", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/labs")]
pub async fn list_labs(
    state: web::Data<AppState>,
    request: HttpRequest,
    filter: Query<LabFilter>,
) -> ApiResult<HttpResponse> {
    let page_params = filter.page();
    let limit = page_params.limit()?;
    let after = page_params.cursor::<String>("labs")?;
    let regions = filter.regions()?;
    let active = filter.active;
    if let Some(bad) = regions.iter().find(|code| state.geo.region(code).is_none()) {
        return Err(ApiError::bad_param("region", format!("`{bad}` is not an INSEE region code")));
    }
    let geo = state.geo.clone();
    let (rows, total) =
        db::run(&state.pool, move |conn| repo::list(conn, &geo, &regions, active, after, limit)).await?;
    let last_modified = rows.iter().map(|lab| lab.updated_at).max();
    let body = page(rows, limit, total, "labs", |lab| lab.slug.clone());
    Ok(Conditional::ok().last_modified(last_modified).json(&request, &body))
}

/// One lab, with its yearly figures.
#[utoipa::path(
    tag = "labs",
    params(("slug" = String, Path, description = "The lab's slug", example = "ti-lab")),
    responses(
        (status = 200, description = "The lab", body = LabOut),
        (status = 304, description = "Not modified"),
        (status = 404, description = "No such lab", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/labs/{slug}")]
pub async fn get_lab(
    state: web::Data<AppState>,
    request: HttpRequest,
    slug: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let geo = state.geo.clone();
    let lab = db::run(&state.pool, move |conn| repo::find(conn, &geo, &slug)).await?;
    Ok(lab_response(&request, &lab, false))
}

/// Create a lab (admins).
#[utoipa::path(
    tag = "labs",
    request_body = LabForm,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = LabOut),
        (status = 400, description = "Malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Slug taken", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A rule is broken (unknown region…)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/labs")]
pub async fn create_lab(
    state: web::Data<AppState>,
    request: HttpRequest,
    admin_then_body: Then<Admin, ValidJson<LabForm>>,
) -> ApiResult<HttpResponse> {
    let Then(_, form) = admin_then_body;
    let geo = state.geo.clone();
    let lab = db::transaction(&state.pool, move |conn| repo::create(conn, &geo, &form.0)).await?;
    let mut response = lab_response(&request, &lab, true);
    let location = format!("/api/v1/labs/{}", lab.slug);
    response.headers_mut().insert(actix_web::http::header::LOCATION, location.parse().map_err(ApiError::internal)?);
    Ok(response)
}

/// Change a lab (admins), with `If-Match`.
#[utoipa::path(
    tag = "labs",
    params(("slug" = String, Path, description = "The lab's slug")),
    request_body = LabPatch,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Updated", body = LabOut),
        (status = 400, description = "Malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such lab", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Slug taken", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Stale `If-Match`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A rule is broken", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/labs/{slug}")]
pub async fn update_lab(
    state: web::Data<AppState>,
    request: HttpRequest,
    slug: web::Path<String>,
    admin_then_body: Then<Admin, ValidJson<LabPatch>>,
) -> ApiResult<HttpResponse> {
    let Then(_, patch) = admin_then_body;
    let if_match = if_match(&request)?;
    let geo = state.geo.clone();
    let lab = db::transaction(&state.pool, move |conn| repo::update(conn, &geo, &slug, &if_match, patch.0)).await?;
    Ok(lab_response(&request, &lab, false))
}

/// Delete a lab and its figures (admins). Refused while events refer to it.
#[utoipa::path(
    tag = "labs",
    params(("slug" = String, Path, description = "The lab's slug")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "No or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such lab", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Events refer to the lab (the problem says how many)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/labs/{slug}")]
pub async fn delete_lab(
    state: web::Data<AppState>,
    request: HttpRequest,
    _admin: Admin,
    slug: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let if_match = if_match(&request)?;
    db::transaction(&state.pool, move |conn| repo::delete(conn, &slug, &if_match)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Set a lab's figures for a year (admins); replaces that year's figures.
///
/// The figures are part of the lab: send `If-Match` with the lab's ETag to avoid lost updates.
#[utoipa::path(
    tag = "labs",
    params(("slug" = String, Path, description = "The lab's slug"), ("year" = i32, Path, description = "The year the figures cover")),
    request_body = FigureForm,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The lab with its figures", body = LabOut),
        (status = 400, description = "Malformed body or year", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such lab", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Stale `If-Match`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A negative figure", body = Problem, content_type = "application/problem+json"),
    )
)]
#[put("/labs/{slug}/figures/{year}")]
pub async fn put_figures(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<(String, i32)>,
    admin_then_body: Then<Admin, ValidJson<FigureForm>>,
) -> ApiResult<HttpResponse> {
    let Then(_, form) = admin_then_body;
    let if_match = if_match(&request)?;
    let (slug, year) = path.into_inner();
    let geo = state.geo.clone();
    let lab = db::transaction(&state.pool, move |conn| repo::put_figures(conn, &geo, &slug, year, &if_match, &form.0))
        .await?;
    Ok(lab_response(&request, &lab, false))
}

/// Remove a lab's figures for a year (admins).
#[utoipa::path(
    tag = "labs",
    params(("slug" = String, Path, description = "The lab's slug"), ("year" = i32, Path, description = "The year")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "No or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such lab or no figures that year", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/labs/{slug}/figures/{year}")]
pub async fn delete_figures(
    state: web::Data<AppState>,
    _admin: Admin,
    path: web::Path<(String, i32)>,
) -> ApiResult<HttpResponse> {
    let (slug, year) = path.into_inner();
    db::transaction(&state.pool, move |conn| repo::delete_figures(conn, &slug, year)).await?;
    Ok(HttpResponse::NoContent().finish())
}
