use actix_web::{HttpRequest, HttpResponse, delete, get, post, web};
use chrono::{Duration, Utc};
use uuid::Uuid;

use super::model::{ApiTokenForm, ApiTokenOut, CreatedApiToken, LoginForm, RefreshForm, TokenResponse};
use super::{Authenticated, Caller, Principal, Scope, api_tokens, sessions};
use crate::db;
use crate::error::{ApiError, ApiResult, Problem};
use crate::http::json::ValidJson;
use crate::http::pagination::{Page, WholeListParams};
use crate::http::query::Query;
use crate::state::AppState;

crate::page_schema! {
    /// The caller's live API tokens (one page).
    ApiTokenPage of ApiTokenOut
}

/// Answers that carry tokens are never stored by a cache (RFC 6749 §5.1).
pub const NO_STORE: (&str, &str) = ("cache-control", "no-store");

/// Log in with email and password.
///
/// Unknown emails and wrong passwords get the same answer in comparable time. Limited per
/// client address and, after repeated failures, per account (429 with `Retry-After`).
#[utoipa::path(
    tag = "auth",
    request_body = LoginForm,
    responses(
        (status = 200, description = "Logged in", body = TokenResponse),
        (status = 400, description = "Malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Wrong email or password", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many attempts", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/login")]
pub async fn login(
    state: web::Data<AppState>,
    request: HttpRequest,
    form: ValidJson<LoginForm>,
) -> ApiResult<HttpResponse> {
    state.auth_limiter.check(&request)?;
    let tokens = sessions::login(&state, form.0).await?;
    Ok(HttpResponse::Ok().insert_header(NO_STORE).json(tokens))
}

/// Trade a refresh token for a new access token and refresh token.
///
/// Each refresh token works once; presenting one that was already used revokes the whole
/// session (it has been copied).
#[utoipa::path(
    tag = "auth",
    request_body = RefreshForm,
    responses(
        (status = 200, description = "A new pair", body = TokenResponse),
        (status = 401, description = "Invalid, expired, used or revoked refresh token", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/refresh")]
pub async fn refresh(state: web::Data<AppState>, form: ValidJson<RefreshForm>) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().insert_header(NO_STORE).json(sessions::refresh(&state, form.0.refresh_token).await?))
}

/// End the session a refresh token belongs to (idempotent).
#[utoipa::path(
    tag = "auth",
    request_body = RefreshForm,
    responses(
        (status = 204, description = "Logged out"),
        (status = 400, description = "Malformed body", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/logout")]
pub async fn logout(state: web::Data<AppState>, form: ValidJson<RefreshForm>) -> ApiResult<HttpResponse> {
    sessions::logout(&state, form.0.refresh_token).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The caller's live API tokens (their secrets are never shown again).
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Live tokens, newest first", body = ApiTokenPage),
        (status = 401, description = "No or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Called with an API token (log in instead)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/me/tokens")]
pub async fn list_tokens(
    state: web::Data<AppState>,
    caller: Caller,
    _no_parameters: Query<WholeListParams>,
) -> ApiResult<HttpResponse> {
    let account = session_account(&caller)?;
    let rows = db::run(&state.pool, move |conn| Ok(api_tokens::list_live(conn, account)?)).await?;
    let tokens: Vec<ApiTokenOut> = rows.into_iter().map(ApiTokenOut::from).collect();
    Ok(HttpResponse::Ok().insert_header(("cache-control", "private, no-store")).json(Page::whole(tokens)))
}

/// Create an API token for a script. The token is in this answer only: store it now.
#[utoipa::path(
    tag = "auth",
    request_body = ApiTokenForm,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created; `token` is shown once", body = CreatedApiToken),
        (status = 400, description = "Malformed body or unknown scope", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Called with an API token (log in instead)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Too many live tokens", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Expiry in the past or too far", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/me/tokens")]
pub async fn create_token(
    state: web::Data<AppState>,
    caller: Authenticated,
    form: ValidJson<ApiTokenForm>,
) -> ApiResult<HttpResponse> {
    let principal = caller.0;
    principal.require_session()?;
    let form = form.0;
    let now = Utc::now();
    let expires_at = form.expires_at.unwrap_or(now + Duration::days(api_tokens::DEFAULT_LIFETIME_DAYS));
    if expires_at <= now || expires_at > now + Duration::days(api_tokens::MAX_LIFETIME_DAYS) {
        return Err(ApiError::field(
            "expires_at",
            "out_of_range",
            format!("must be in the future and within {} days", api_tokens::MAX_LIFETIME_DAYS),
        ));
    }
    // Each scope once, in the order given (`dedup` alone only drops adjacent repeats).
    let mut scopes: Vec<Scope> = Vec::new();
    for scope in &form.scopes {
        if !scopes.contains(scope) {
            scopes.push(*scope);
        }
    }
    let row = db::transaction(&state.pool, move |conn| {
        api_tokens::create(conn, principal.account_id, &form.name, &scopes, expires_at)
    })
    .await?;
    let token = state.keys.api_token(&principal, row.id, &ApiTokenOut::from(row.clone()))?;
    let body = CreatedApiToken { token, details: ApiTokenOut::from(row) };
    Ok(HttpResponse::Created().insert_header(("cache-control", "no-store")).json(body))
}

/// Revoke one of the caller's API tokens; it is refused from the next request on.
#[utoipa::path(
    tag = "auth",
    params(("id" = Uuid, Path, description = "The token's id")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Revoked"),
        (status = 401, description = "No or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Called with an API token (log in instead)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such live token of yours", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/me/tokens/{id}")]
pub async fn revoke_token(state: web::Data<AppState>, caller: Caller, id: web::Path<Uuid>) -> ApiResult<HttpResponse> {
    let account = session_account(&caller)?;
    let id = id.into_inner();
    db::transaction(&state.pool, move |conn| api_tokens::revoke(conn, account, id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The account of a login session (API tokens cannot manage tokens).
fn session_account(caller: &Caller) -> ApiResult<Uuid> {
    let principal: &Principal = caller.authenticated()?;
    principal.require_session()?;
    Ok(principal.account_id)
}
