use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};

use super::model::{EditionForm, EditionOut, EditionPatch, TrackForm, TrackOut, TrackPatch};
use super::repo;
use crate::auth::{Admin, Then};
use crate::db;
use crate::error::{ApiResult, Problem};
use crate::http::conditional::{Conditional, if_match, version_etag};
use crate::http::json::ValidJson;
use crate::http::pagination::{Page, PageParams, WholeListParams, page};
use crate::http::query::Query;
use crate::state::AppState;

crate::page_schema! {
    /// A page of editions, newest first.
    EditionPage of EditionOut
}

crate::page_schema! {
    /// The tracks of an edition, in programme order (one page).
    TrackPage of TrackOut
}

/// The representation also depends on the clock: `phase`, and `referencing_open`, which can
/// change while the edition runs.
fn edition_etag(edition: &EditionOut) -> String {
    let referencing = if edition.referencing_open { "open" } else { "shut" };
    version_etag(edition.version, Some(&format!("{}-{referencing}", edition.phase.as_str())))
}

/// Editions, newest first, each with its tracks and its phase.
#[utoipa::path(
    tag = "editions",
    params(PageParams),
    responses(
        (status = 200, description = "A page of editions", body = EditionPage),
        (status = 400, description = "Bad `limit` or `cursor`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/editions")]
pub async fn list_editions(
    state: web::Data<AppState>,
    request: HttpRequest,
    params: Query<PageParams>,
) -> ApiResult<HttpResponse> {
    let limit = params.limit()?;
    let before_year = params.cursor::<i32>("editions")?;
    let now = state.clock.now();
    let (rows, total) = db::run(&state.pool, move |conn| repo::list(conn, before_year, limit, now)).await?;
    let last_modified = rows.iter().map(|e| e.changed_at).max();
    let body = page(rows, limit, total, "editions", |e| e.year);
    Ok(Conditional::ok().last_modified(last_modified).json(&request, &body))
}

/// One edition by year.
#[utoipa::path(
    tag = "editions",
    params(("year" = i32, Path, description = "The edition's year", example = 2021)),
    responses(
        (status = 200, description = "The edition", body = EditionOut),
        (status = 304, description = "Not modified since the given ETag"),
        (status = 404, description = "No edition that year", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/editions/{year}")]
pub async fn get_edition(
    state: web::Data<AppState>,
    request: HttpRequest,
    year: web::Path<i32>,
) -> ApiResult<HttpResponse> {
    let year = year.into_inner();
    let now = state.clock.now();
    let edition = db::run(&state.pool, move |conn| repo::find(conn, year, now)).await?;
    Ok(Conditional::ok().etag(edition_etag(&edition)).last_modified(Some(edition.changed_at)).json(&request, &edition))
}

/// Create an edition (admins).
#[utoipa::path(
    tag = "editions",
    request_body = EditionForm,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = EditionOut),
        (status = 400, description = "Malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Year or number taken", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A rule is broken", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/editions")]
pub async fn create_edition(
    state: web::Data<AppState>,
    request: HttpRequest,
    admin_then_body: Then<Admin, ValidJson<EditionForm>>,
) -> ApiResult<HttpResponse> {
    let Then(_, form) = admin_then_body;
    let now = state.clock.now();
    let edition = db::transaction(&state.pool, move |conn| repo::create(conn, &form.0, now)).await?;
    let location = format!("/api/v1/editions/{}", edition.year);
    let mut response = Conditional::created().etag(edition_etag(&edition)).json(&request, &edition);
    response
        .headers_mut()
        .insert(actix_web::http::header::LOCATION, location.parse().map_err(crate::error::ApiError::internal)?);
    Ok(response)
}

/// Change an edition (admins). Send `If-Match` with the ETag you read to avoid lost updates.
#[utoipa::path(
    tag = "editions",
    params(("year" = i32, Path, description = "The edition's year")),
    request_body = EditionPatch,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Updated", body = EditionOut),
        (status = 400, description = "Malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No edition that year", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Number taken", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Stale `If-Match`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A rule is broken", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/editions/{year}")]
pub async fn update_edition(
    state: web::Data<AppState>,
    request: HttpRequest,
    year: web::Path<i32>,
    admin_then_body: Then<Admin, ValidJson<EditionPatch>>,
) -> ApiResult<HttpResponse> {
    let Then(_, patch) = admin_then_body;
    let if_match = if_match(&request)?;
    let year = year.into_inner();
    let now = state.clock.now();
    let edition = db::transaction(&state.pool, move |conn| repo::update(conn, year, &if_match, &patch.0, now)).await?;
    Ok(Conditional::ok().etag(edition_etag(&edition)).json(&request, &edition))
}

/// Delete an edition and its tracks (admins). Refused while events belong to it.
#[utoipa::path(
    tag = "editions",
    params(("year" = i32, Path, description = "The edition's year")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "No or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No edition that year", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Events belong to it", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/editions/{year}")]
pub async fn delete_edition(
    state: web::Data<AppState>,
    request: HttpRequest,
    _admin: Admin,
    year: web::Path<i32>,
) -> ApiResult<HttpResponse> {
    let if_match = if_match(&request)?;
    let year = year.into_inner();
    db::transaction(&state.pool, move |conn| repo::delete(conn, year, &if_match)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The tracks of an edition, in programme order.
#[utoipa::path(
    tag = "editions",
    params(("year" = i32, Path, description = "The edition's year")),
    responses(
        (status = 200, description = "Tracks", body = TrackPage),
        (status = 404, description = "No edition that year", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/editions/{year}/tracks")]
pub async fn list_tracks(
    state: web::Data<AppState>,
    request: HttpRequest,
    year: web::Path<i32>,
    _no_parameters: Query<WholeListParams>,
) -> ApiResult<HttpResponse> {
    let year = year.into_inner();
    let tracks = db::run(&state.pool, move |conn| repo::list_tracks(conn, year)).await?;
    let tracks: Vec<TrackOut> = tracks.into_iter().map(TrackOut::from).collect();
    Ok(Conditional::ok().json(&request, &Page::whole(tracks)))
}

/// One track.
#[utoipa::path(
    tag = "editions",
    params(("year" = i32, Path, description = "The edition's year"), ("slug" = String, Path, description = "The track's slug")),
    responses(
        (status = 200, description = "The track", body = TrackOut),
        (status = 404, description = "No such edition or track", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/editions/{year}/tracks/{slug}")]
pub async fn get_track(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<(i32, String)>,
) -> ApiResult<HttpResponse> {
    let (year, slug) = path.into_inner();
    let track = TrackOut::from(db::run(&state.pool, move |conn| repo::find_track(conn, year, &slug)).await?);
    Ok(Conditional::ok().etag(version_etag(track.version, None)).json(&request, &track))
}

/// Add a track to an edition (admins).
#[utoipa::path(
    tag = "editions",
    params(("year" = i32, Path, description = "The edition's year")),
    request_body = TrackForm,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = TrackOut),
        (status = 400, description = "Malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No edition that year", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Slug taken in this edition", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A rule is broken", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/editions/{year}/tracks")]
pub async fn create_track(
    state: web::Data<AppState>,
    request: HttpRequest,
    year: web::Path<i32>,
    admin_then_body: Then<Admin, ValidJson<TrackForm>>,
) -> ApiResult<HttpResponse> {
    let Then(_, form) = admin_then_body;
    let year = year.into_inner();
    let track =
        TrackOut::from(db::transaction(&state.pool, move |conn| repo::create_track(conn, year, &form.0)).await?);
    Ok(Conditional::created().etag(version_etag(track.version, None)).json(&request, &track))
}

/// Change a track (admins), with `If-Match`.
#[utoipa::path(
    tag = "editions",
    params(("year" = i32, Path, description = "The edition's year"), ("slug" = String, Path, description = "The track's slug")),
    request_body = TrackPatch,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Updated", body = TrackOut),
        (status = 400, description = "Malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such edition or track", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Slug taken", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Stale `If-Match`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A rule is broken", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/editions/{year}/tracks/{slug}")]
pub async fn update_track(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<(i32, String)>,
    admin_then_body: Then<Admin, ValidJson<TrackPatch>>,
) -> ApiResult<HttpResponse> {
    let Then(_, patch) = admin_then_body;
    let if_match = if_match(&request)?;
    let (year, slug) = path.into_inner();
    let track = TrackOut::from(
        db::transaction(&state.pool, move |conn| repo::update_track(conn, year, &slug, &if_match, &patch.0)).await?,
    );
    Ok(Conditional::ok().etag(version_etag(track.version, None)).json(&request, &track))
}

/// Remove a track (admins). Refused while events use it.
#[utoipa::path(
    tag = "editions",
    params(("year" = i32, Path, description = "The edition's year"), ("slug" = String, Path, description = "The track's slug")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "No or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such edition or track", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Events use it", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/editions/{year}/tracks/{slug}")]
pub async fn delete_track(
    state: web::Data<AppState>,
    request: HttpRequest,
    _admin: Admin,
    path: web::Path<(i32, String)>,
) -> ApiResult<HttpResponse> {
    let if_match = if_match(&request)?;
    let (year, slug) = path.into_inner();
    db::transaction(&state.pool, move |conn| repo::delete_track(conn, year, &slug, &if_match)).await?;
    Ok(HttpResponse::NoContent().finish())
}
