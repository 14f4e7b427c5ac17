//! Accounts: opening one with its organizer, joining an organizer by invitation, and `/me`.

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{Duration, Utc};

use super::model::{AcceptInvitationForm, AuthMethod, MeOut, RegisterForm, RegisteredOut};
use crate::auth::model::TokenResponse;
use crate::auth::routes::NO_STORE;
use crate::auth::throttle::{self, Action};
use crate::auth::{Caller, Role, password, repo, sessions};
use crate::db;
use crate::error::{ApiError, ApiResult, Problem};
use crate::http::json::ValidJson;
use crate::organizers::model::OrganizerOut;
use crate::state::AppState;

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
        let geo = &app.geo;
        if repo::find_by_email(conn, &form.email)?.is_some() {
            return Err(ApiError::conflict_on("email", "already_registered", "an account already uses this email"));
        }
        let organizer = crate::organizers::repo::create(conn, geo, &form.organizer, &form.email)?;
        let account = repo::create(conn, &form.email, &hash, Role::Organizer, Some(organizer.id))?;
        let tokens = sessions::start_session(conn, &app, &account)?;
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
        (status = 401, description = "Invalid, expired or used invitation, or one for an email whose account may not join (the same answer)", body = Problem, content_type = "application/problem+json"),
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
    let email = db::run(&state.pool, move |conn| crate::organizers::members::acceptable_email(conn, &token)).await?;
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
    let geo = state.geo.clone();
    let account_out = db::run(&state.pool, move |conn| {
        let account = repo::find(conn, principal.account_id)?.ok_or_else(|| ApiError::NotFound("account".into()))?;
        let organizer = match account.organizer_id {
            Some(id) => {
                let row = crate::organizers::repo::find_by_id(conn, id)?;
                Some(OrganizerOut::new(row, &geo, true))
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
