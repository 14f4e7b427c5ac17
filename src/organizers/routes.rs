use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use uuid::Uuid;

use super::members;
use super::model::{
    InvitationForm, InvitationOut, MemberOut, OrganizerFilter, OrganizerKind, OrganizerOut, OrganizerPatch,
    OrganizerRow,
};
use super::repo::{self, OrganizerQuery};
use crate::auth::{Admin, Authenticated, Caller, Principal};
use crate::db;
use crate::error::{ApiError, ApiResult, Problem};
use crate::http::conditional::{Conditional, if_match, version_etag};
use crate::http::json::ValidJson;
use crate::http::pagination::{Page, WholeListParams, page};
use crate::http::query::Query;
use crate::http::query::list_parameter;
use crate::state::AppState;

crate::page_schema! {
    /// A page of organizers.
    OrganizerPage of OrganizerOut
}

crate::page_schema! {
    /// An organizer's members, then its pending invitations (one page).
    MemberPage of MemberOut
}

/// Whether the caller may see this organizer at all: verified ones are public; an unverified
/// one is known only to its members and admins (others get a 404, not a 403).
fn visible(caller: &Caller, organizer: &OrganizerRow) -> bool {
    organizer.verified || acts_for(caller, organizer.id)
}

fn acts_for(caller: &Caller, organizer: Uuid) -> bool {
    caller.principal().is_some_and(|p| p.acts_for(organizer))
}

/// The caller, when it is a member of the organizer or an admin; 401/403 otherwise.
fn member_or_admin(caller: &Caller, organizer: Uuid) -> ApiResult<&Principal> {
    let principal = caller.authenticated()?;
    if principal.acts_for(organizer) {
        Ok(principal)
    } else {
        Err(ApiError::Forbidden("only the organizer's members and admins may do this".into()))
    }
}

/// Loads an organizer the caller may see, by id or slug.
async fn load_visible(state: &AppState, caller: &Caller, key: String) -> ApiResult<OrganizerRow> {
    let shown_key = key.clone();
    let row = db::run(&state.pool, move |conn| repo::find_row(conn, &key)).await?;
    if visible(caller, &row) { Ok(row) } else { Err(ApiError::NotFound(format!("organizer `{shown_key}`"))) }
}

fn present(state: &AppState, caller: &Caller, row: OrganizerRow) -> OrganizerOut {
    let private = acts_for(caller, row.id);
    OrganizerOut::new(row, &state.geo, private)
}

fn organizer_response(request: &HttpRequest, organizer: &OrganizerOut) -> HttpResponse {
    Conditional::ok()
        .etag(version_etag(organizer.version, None))
        .last_modified(Some(organizer.updated_at))
        .json(request, organizer)
}

/// Verified organizers, by slug, filtered by kind, region and words of the name.
///
/// Admins also see unverified organizers and may filter on `verified`.
#[utoipa::path(
    tag = "organizers",
    params(OrganizerFilter),
    responses(
        (status = 200, description = "A page of organizers (public fields)", body = OrganizerPage),
        (status = 400, description = "A bad parameter, named", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/organizers")]
pub async fn list_organizers(
    state: web::Data<AppState>,
    request: HttpRequest,
    caller: Caller,
    filter: Query<OrganizerFilter>,
) -> ApiResult<HttpResponse> {
    let page_params = filter.page();
    let limit = page_params.limit()?;
    let after = page_params.cursor::<String>("organizers")?;
    let kinds = list_parameter("kind", &filter.kind)?
        .iter()
        .map(|k| {
            OrganizerKind::parse(k)
                .ok_or_else(|| ApiError::bad_param("kind", format!("`{k}` is not an organizer kind")))
        })
        .collect::<ApiResult<Vec<_>>>()?;
    let regions = list_parameter("region", &filter.region)?;
    let words: Vec<String> = filter.q.as_deref().unwrap_or("").split_whitespace().take(10).map(String::from).collect();
    // The admins' view of the list (unverified organizers, private fields) is an admin power.
    let admin_view = caller.has_admin_powers();
    let verified = match filter.verified {
        Some(false) => {
            caller.require_admin_powers("list unverified organizers")?;
            Some(false)
        }
        None if admin_view => None,
        _ => Some(true),
    };
    if let Some(bad) = regions.iter().find(|code| state.geo.region(code).is_none()) {
        return Err(ApiError::bad_param("region", format!("`{bad}` is not an INSEE region code")));
    }
    let query = OrganizerQuery { kinds, regions, words, verified };
    let (rows, total) = db::run(&state.pool, move |conn| repo::list(conn, &query, after, limit)).await?;
    let last_modified = rows.iter().map(|o| o.updated_at).max();
    let body = page(rows, limit, total, "organizers", |o| o.slug.clone())
        .map(|row| OrganizerOut::new(row, &state.geo, admin_view));
    Ok(Conditional::ok().last_modified(last_modified).json(&request, &body))
}

/// One organizer, by id or slug. Members and admins also see its private fields.
#[utoipa::path(
    tag = "organizers",
    params(("id" = String, Path, description = "The organizer's id or slug")),
    responses(
        (status = 200, description = "The organizer", body = OrganizerOut),
        (status = 304, description = "Not modified"),
        (status = 404, description = "No such organizer (or not verified and not yours)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/organizers/{id}")]
pub async fn get_organizer(
    state: web::Data<AppState>,
    request: HttpRequest,
    caller: Caller,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let row = load_visible(&state, &caller, id.into_inner()).await?;
    let organizer = present(&state, &caller, row);
    Ok(organizer_response(&request, &organizer))
}

/// Change an organizer's profile (its members and admins), with `If-Match`.
#[utoipa::path(
    tag = "organizers",
    params(("id" = String, Path, description = "The organizer's id or slug")),
    request_body = OrganizerPatch,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Updated", body = OrganizerOut),
        (status = 400, description = "Malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a member, or an API token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such organizer", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Stale `If-Match`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A rule is broken", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/organizers/{id}")]
pub async fn update_organizer(
    state: web::Data<AppState>,
    request: HttpRequest,
    caller: Authenticated,
    id: web::Path<String>,
    patch: ValidJson<OrganizerPatch>,
) -> ApiResult<HttpResponse> {
    let caller = caller.caller();
    let row = load_visible(&state, &caller, id.into_inner()).await?;
    member_or_admin(&caller, row.id)?.require_session()?;
    let if_match = if_match(&request)?;
    let geo = state.geo.clone();
    let updated =
        db::transaction(&state.pool, move |conn| repo::update(conn, &geo, row.id, &if_match, patch.0)).await?;
    let organizer = present(&state, &caller, updated);
    Ok(organizer_response(&request, &organizer))
}

/// Mark an organizer verified (admins): it then appears in the public list.
#[utoipa::path(
    tag = "organizers",
    params(("id" = String, Path, description = "The organizer's id or slug")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Verified", body = OrganizerOut),
        (status = 401, description = "No or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such organizer", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/organizers/{id}/verify")]
pub async fn verify_organizer(
    state: web::Data<AppState>,
    request: HttpRequest,
    admin: Admin,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let caller = Caller::Authenticated(admin.0);
    let key = id.into_inner();
    let row = db::transaction(&state.pool, move |conn| {
        let row = repo::find_row(conn, &key)?;
        repo::verify(conn, row.id)
    })
    .await?;
    let organizer = present(&state, &caller, row);
    Ok(organizer_response(&request, &organizer))
}

/// The organizer's members and pending invitations (its members and admins).
#[utoipa::path(
    tag = "organizers",
    params(("id" = String, Path, description = "The organizer's id or slug")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Members, then pending invitations", body = MemberPage),
        (status = 401, description = "No or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a member, or an API token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such organizer", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/organizers/{id}/members")]
pub async fn list_members(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    _no_parameters: Query<WholeListParams>,
) -> ApiResult<HttpResponse> {
    let row = load_visible(&state, &caller, id.into_inner()).await?;
    // Members' emails and last logins are account data: a script's API token does not read them.
    member_or_admin(&caller, row.id)?.require_session()?;
    let list = db::run(&state.pool, move |conn| members::list(conn, row.id)).await?;
    Ok(HttpResponse::Ok().insert_header(("cache-control", "private, no-store")).json(Page::whole(list)))
}

/// Invite a colleague (members and admins). The answer holds the invitation token, once:
/// the colleague sets a password with it at `POST /api/v1/auth/invitations/accept`.
///
/// The answer does not say whether the email already has an account (accepting refuses an
/// email whose account may not join). An organizer sends a limited number of invitations per
/// hour (`MIP_INVITATIONS_PER_HOUR`).
#[utoipa::path(
    tag = "organizers",
    params(("id" = String, Path, description = "The organizer's id or slug")),
    request_body = InvitationForm,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Invited", body = InvitationOut),
        (status = 401, description = "No or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a member, or an API token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such organizer", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Email already invited, or too many pending invitations", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not an email", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many invitations within the hour (`Retry-After`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/organizers/{id}/members")]
pub async fn invite_member(
    state: web::Data<AppState>,
    caller: Authenticated,
    id: web::Path<String>,
    form: ValidJson<InvitationForm>,
) -> ApiResult<HttpResponse> {
    let caller = caller.caller();
    let row = load_visible(&state, &caller, id.into_inner()).await?;
    let principal = member_or_admin(&caller, row.id)?;
    principal.require_session()?;
    let inviter = principal.account_id;
    let max_per_hour = state.settings.invitations_per_hour;
    let invitation =
        db::transaction(&state.pool, move |conn| members::invite(conn, row.id, &form.email, inviter, max_per_hour))
            .await?;
    Ok(HttpResponse::Created().insert_header(("cache-control", "no-store")).json(invitation))
}

/// Remove a member (its sessions and API tokens stop working at once) or withdraw an
/// invitation (members and admins). The last member cannot be removed.
#[utoipa::path(
    tag = "organizers",
    params(
        ("id" = String, Path, description = "The organizer's id or slug"),
        ("member_id" = Uuid, Path, description = "The member's account id, or a pending invitation's id"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, description = "No or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a member, or an API token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such organizer or member", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The last member", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/organizers/{id}/members/{member_id}")]
pub async fn remove_member(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, Uuid)>,
) -> ApiResult<HttpResponse> {
    let (key, member_id) = path.into_inner();
    let row = load_visible(&state, &caller, key).await?;
    member_or_admin(&caller, row.id)?.require_session()?;
    db::transaction(&state.pool, move |conn| members::remove(conn, row.id, member_id)).await?;
    Ok(HttpResponse::NoContent().finish())
}
