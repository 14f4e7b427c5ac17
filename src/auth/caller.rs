//! `Caller`: who is asking, taken from `Authorization: Bearer <JWT>`.
//!
//! No header means anonymous; a header that does not hold a valid token is a 401 at once
//! (a client that sends a broken token wants to know, not to be served as anonymous).

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::future::LocalBoxFuture;
use uuid::Uuid;

use super::model::{Role, Scope};
use crate::error::ApiError;
use crate::state::AppState;

/// An authenticated account.
#[derive(Debug, Clone)]
pub struct Principal {
    pub account_id: Uuid,
    pub role: Role,
    pub organizer_id: Option<Uuid>,
    /// `None` for a login session (all the account may do); API tokens carry their scopes.
    pub scopes: Option<Vec<Scope>>,
    /// The API token's id, when the request came with one.
    pub token_id: Option<Uuid>,
}

impl Principal {
    /// The account's role. What a request may do also depends on how it came: see
    /// [`Principal::has_admin_powers`].
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// Whether this caller acts for the given organizer (members; admins act for everyone),
    /// within what its API token's scopes allow.
    pub fn acts_for(&self, organizer: Uuid) -> bool {
        self.is_admin() || self.organizer_id == Some(organizer)
    }

    /// The one rule for what only DITP does: administration (editions, labs, verifying
    /// organizers), moderation (publishing, rejecting, overriding the referencing window,
    /// changes that skip review) and the admin-only lists (organizers waiting for
    /// verification). It takes an admin in a login session: no API token scope covers it,
    /// whoever holds the token, so a script's token leaked from an admin's machine cannot.
    pub fn has_admin_powers(&self) -> bool {
        self.is_admin() && self.token_id.is_none()
    }

    /// 403 unless the caller [has admin powers](Principal::has_admin_powers), saying what is
    /// missing: the role, or a login session. `what` completes "only admins may …".
    pub fn require_admin_powers(&self, what: &str) -> Result<(), ApiError> {
        if !self.is_admin() {
            return Err(ApiError::Forbidden(format!("only admins may {what}")));
        }
        if !self.has_admin_powers() {
            return Err(ApiError::Forbidden(format!(
                "API tokens cannot {what}, whatever their scopes: it needs an admin's login session; log in instead"
            )));
        }
        Ok(())
    }

    /// A login session may do everything; an API token only what its scopes say.
    pub fn require_scope(&self, scope: Scope) -> Result<(), ApiError> {
        match &self.scopes {
            Some(scopes) if !scopes.contains(&scope) => {
                Err(ApiError::Forbidden(format!("this API token lacks the `{}` scope", scope.as_str())))
            }
            _ => Ok(()),
        }
    }

    /// Account management (tokens, members, profile) needs a login session, not an API token.
    pub fn require_session(&self) -> Result<(), ApiError> {
        match self.token_id {
            Some(_) => Err(ApiError::Forbidden("API tokens cannot manage accounts; log in instead".into())),
            None => Ok(()),
        }
    }
}

#[derive(Debug, Clone)]
pub enum Caller {
    Anonymous,
    Authenticated(Principal),
}

impl Caller {
    pub fn principal(&self) -> Option<&Principal> {
        match self {
            Caller::Authenticated(principal) => Some(principal),
            Caller::Anonymous => None,
        }
    }

    pub fn is_admin(&self) -> bool {
        self.principal().is_some_and(Principal::is_admin)
    }

    /// 401 for anonymous callers.
    pub fn authenticated(&self) -> Result<&Principal, ApiError> {
        self.principal().ok_or_else(|| ApiError::Unauthorized("this endpoint needs a bearer token".into()))
    }

    /// Whether the caller [has admin powers](Principal::has_admin_powers).
    pub fn has_admin_powers(&self) -> bool {
        self.principal().is_some_and(Principal::has_admin_powers)
    }

    /// 403 unless the caller [has admin powers](Principal::has_admin_powers), anonymous callers
    /// included (for answers that serve everyone but show admins more).
    pub fn require_admin_powers(&self, what: &str) -> Result<(), ApiError> {
        match self.principal() {
            Some(principal) => principal.require_admin_powers(what),
            None => Err(ApiError::Forbidden(format!("only admins may {what}"))),
        }
    }

    /// 401 for anonymous callers, 403 for anyone without [admin powers](Principal::has_admin_powers):
    /// an admin's API token (made for a script's `events:write` or `reports:read`) must not
    /// verify organizers or rewrite editions.
    pub fn admin(&self) -> Result<&Principal, ApiError> {
        let principal = self.authenticated()?;
        principal.require_admin_powers("use admin endpoints")?;
        Ok(principal)
    }
}

fn bearer_token(request: &HttpRequest) -> Result<Option<String>, ApiError> {
    let Some(value) = request.headers().get(header::AUTHORIZATION) else { return Ok(None) };
    let value = value.to_str().map_err(|_| ApiError::Unauthorized("unreadable Authorization header".into()))?;
    match value.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() => {
            Ok(Some(token.trim().to_string()))
        }
        _ => Err(ApiError::Unauthorized("expected `Authorization: Bearer <token>`".into())),
    }
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        let token = bearer_token(request);
        let state = request.app_data::<web::Data<AppState>>().cloned();
        Box::pin(async move {
            let Some(token) = token? else { return Ok(Caller::Anonymous) };
            let state = state.ok_or_else(|| ApiError::internal("AppState is not registered"))?;
            let claims = state.keys.verify(&token)?;
            let (account_id, token_id) = (claims.sub, claims.jti);
            // One primary-key lookup per authenticated request: a disabled account, a member
            // removed from its organizer or a revoked API token loses access at once, and the
            // role and organizer come from the database, not from a token that may be stale.
            let live = crate::db::run(&state.pool, move |conn| {
                Ok(match token_id {
                    Some(token_id) => crate::auth::api_tokens::touch_live_token(conn, account_id, token_id)?,
                    None => crate::auth::api_tokens::live_account(conn, account_id)?,
                })
            })
            .await?;
            let live = live.ok_or_else(|| {
                ApiError::Unauthorized(match token_id {
                    Some(_) => "the API token is revoked or expired".into(),
                    None => "the account behind this token is disabled or gone".into(),
                })
            })?;
            let role = Role::parse(&live.role).ok_or_else(|| ApiError::internal("account with an unknown role"))?;
            let principal =
                Principal { account_id, role, organizer_id: live.organizer_id, scopes: live.scopes, token_id };
            Ok(Caller::Authenticated(principal))
        })
    }
}

/// A caller who must be authenticated, extracted before the body: an anonymous request with a
/// malformed body learns first that it needs a token (401), not what is wrong with the body.
pub struct Authenticated(pub Principal);

/// An admin in a login session, extracted before the body (401, then 403).
pub struct Admin(pub Principal);

impl Authenticated {
    /// The same caller, for code that also serves anonymous callers.
    pub fn caller(&self) -> Caller {
        Caller::Authenticated(self.0.clone())
    }
}

impl FromRequest for Authenticated {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(request: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let caller = Caller::from_request(request, payload);
        Box::pin(async move { caller.await?.authenticated().cloned().map(Authenticated) })
    }
}

impl FromRequest for Admin {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(request: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let caller = Caller::from_request(request, payload);
        Box::pin(async move { caller.await?.admin().cloned().map(Admin) })
    }
}

/// Two extractors, one after the other: `Then<Admin, ValidJson<T>>` reads the body only once the
/// caller is known to be allowed, so a caller who may not write gets its 401 or 403 whatever it
/// sent (actix polls a handler's extractors together, so their order alone does not say this).
pub struct Then<A, B>(pub A, pub B);

impl<A, B> FromRequest for Then<A, B>
where
    A: FromRequest<Error = ApiError> + 'static,
    B: FromRequest<Error = ApiError> + 'static,
{
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(request: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let first = A::from_request(request, payload);
        let second = B::from_request(request, payload);
        Box::pin(async move {
            let first = first.await?;
            Ok(Then(first, second.await?))
        })
    }
}
