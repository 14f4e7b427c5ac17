use actix_web::{HttpRequest, HttpResponse, delete, get, post, web};
use chrono::{Duration, Utc};
use uuid::Uuid;

use super::model::{
    AcceptInvitationForm, ApiTokenForm, ApiTokenOut, AuthMethod, CreatedApiToken, LoginForm, MeOut, RefreshForm,
    RegisterForm, RegisteredOut, TokenResponse,
};
use super::throttle::{self, Action};
use super::{Authenticated, Caller, Principal, Role, Scope, api_tokens, password, repo, sessions};
use crate::app::AppState;
use crate::db;
use crate::error::{ApiError, ApiResult, Problem};
use crate::http::json::ValidJson;
use crate::http::pagination::Page;
use crate::organizers::model::OrganizerOut;

/// Answers that carry tokens are never stored by a cache (RFC 6749 §5.1).
const NO_STORE: (&str, &str) = ("cache-control", "no-store");

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

/// Open an account and its organizer in one step.
///
/// The organizer starts unverified: it can prepare drafts at once, and appears in the public
/// list once DITP has verified it. The answer logs the new account in.
#[utoipa::path(
    tag = "auth",
    request_body = RegisterForm,
    responses(
        (status = 201, description = "Registered and logged in", body = RegisteredOut),
        (status = 400, description = "Malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The email already has an account", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields (weak password, unknown region…)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many attempts", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/register")]
pub async fn register(
    state: web::Data<AppState>,
    request: HttpRequest,
    form: ValidJson<RegisterForm>,
) -> ApiResult<HttpResponse> {
    state.auth_limiter.check(&request)?;
    let form = form.0;
    password::check_strength(&form.password, &form.email).map_err(|e| ApiError::Validation(vec![e]))?;
    let subject = throttle::subject_of(&form.email);
    let (max, window) = (state.settings.login_max_failures, Duration::seconds(state.settings.login_window_secs as i64));
    // Attempts are counted (and committed) before the work, whatever its outcome.
    db::transaction(&state.pool, move |conn| {
        throttle::lock(conn, Action::Register, &subject)?;
        throttle::refuse_when_throttled(conn, Action::Register, &subject, max, window)?;
        Ok(throttle::record_attempt(conn, Action::Register, &subject)?)
    })
    .await?;
    let hash = password::hash_off_executor(form.password.clone()).await?;
    let app = state.clone();
    let registered = db::transaction(&state.pool, move |conn| {
        if repo::find_by_email(conn, &form.email)?.is_some() {
            return Err(ApiError::conflict_on("email", "already_registered", "an account already uses this email"));
        }
        let organizer = crate::organizers::repo::create(conn, &form.organizer, &form.email)?;
        let account = repo::create(conn, &form.email, &hash, Role::Organizer, Some(organizer.id))?;
        let tokens = sessions::start_session(conn, &app, &account)?;
        let geo = crate::geo::repo::geography(conn)?;
        let account_out = MeOut {
            id: account.id,
            email: account.email,
            role: Role::Organizer,
            organizer: Some(OrganizerOut::new(organizer, geo, true)),
            auth_method: AuthMethod::Session,
            scopes: None,
            created_at: account.created_at,
            last_login_at: Some(Utc::now()),
        };
        Ok(RegisteredOut { account: account_out, tokens })
    })
    .await?;
    let location =
        format!("/api/v1/organizers/{}", registered.account.organizer.as_ref().map(|o| o.id).unwrap_or_default());
    Ok(HttpResponse::Created()
        .insert_header((actix_web::http::header::LOCATION, location))
        .insert_header(NO_STORE)
        .json(registered))
}

/// Accept an invitation to join an organizer, choosing a password; logs the new member in.
#[utoipa::path(
    tag = "auth",
    request_body = AcceptInvitationForm,
    responses(
        (status = 201, description = "Member account created and logged in", body = TokenResponse),
        (status = 401, description = "Invalid, expired or used invitation", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Weak password", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many attempts", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/invitations/accept")]
pub async fn accept_invitation(
    state: web::Data<AppState>,
    request: HttpRequest,
    form: ValidJson<AcceptInvitationForm>,
) -> ApiResult<HttpResponse> {
    state.auth_limiter.check(&request)?;
    let form = form.0;
    let token = form.token.clone();
    let email = db::run(&state.pool, move |conn| Ok(crate::organizers::members::invited_email(conn, &token)?)).await?;
    let email =
        email.ok_or_else(|| ApiError::Unauthorized("the invitation is invalid, expired or already used".into()))?;
    password::check_strength(&form.password, &email).map_err(|e| ApiError::Validation(vec![e]))?;
    let hash = password::hash_off_executor(form.password).await?;
    let token = form.token;
    let app = state.clone();
    let tokens = db::transaction(&state.pool, move |conn| {
        let account = crate::organizers::members::accept(conn, &token, &hash)?;
        sessions::start_session(conn, &app, &account)
    })
    .await?;
    Ok(HttpResponse::Created().insert_header(NO_STORE).json(tokens))
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

/// The caller's account, with its organizer (private fields included).
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller", body = MeOut),
        (status = 401, description = "No or bad token", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/me")]
pub async fn me(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    let principal = caller.authenticated()?.clone();
    let account_out = db::run(&state.pool, move |conn| {
        let account = repo::find(conn, principal.account_id)?.ok_or_else(|| ApiError::NotFound("account".into()))?;
        let organizer = match account.organizer_id {
            Some(id) => {
                let row = crate::organizers::repo::find_by_id(conn, id)?;
                Some(OrganizerOut::new(row, crate::geo::repo::geography(conn)?, true))
            }
            None => None,
        };
        Ok(MeOut {
            id: account.id,
            email: account.email,
            role: principal.role,
            organizer,
            auth_method: if principal.token_id.is_some() { AuthMethod::ApiToken } else { AuthMethod::Session },
            scopes: principal.scopes.clone(),
            created_at: account.created_at,
            last_login_at: account.last_login_at,
        })
    })
    .await?;
    Ok(HttpResponse::Ok().insert_header(("cache-control", "private, no-store")).json(account_out))
}

/// The caller's live API tokens (their secrets are never shown again).
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Live tokens, newest first", body = Page<ApiTokenOut>),
        (status = 401, description = "No or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Called with an API token (log in instead)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/me/tokens")]
pub async fn list_tokens(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
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
    let row = db::run(&state.pool, move |conn| {
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
    db::run(&state.pool, move |conn| api_tokens::revoke(conn, account, id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The account of a login session (API tokens cannot manage tokens).
fn session_account(caller: &Caller) -> ApiResult<Uuid> {
    let principal: &Principal = caller.authenticated()?;
    principal.require_session()?;
    Ok(principal.account_id)
}
