//! What the account endpoints read and answer: registration, invitations accepted, `/me`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use crate::auth::model::TokenResponse;
use crate::auth::{Role, Scope};
use crate::organizers::model::{OrganizerForm, OrganizerOut};

/// How the current request authenticated.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AuthMethod {
    /// A login session's access token: everything the account may do.
    Session,
    /// An API token: only its scopes.
    ApiToken,
}

/// The caller's account.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeOut {
    pub id: Uuid,
    pub email: String,
    pub role: Role,
    /// The organizer the account belongs to (organizer accounts), with its private fields.
    pub organizer: Option<OrganizerOut>,
    pub auth_method: AuthMethod,
    /// For API tokens: what this token may do.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Vec<Scope>>,
    pub created_at: DateTime<Utc>,
    pub last_login_at: Option<DateTime<Utc>>,
}

/// A new account with its organizer.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterForm {
    /// The login email of the account.
    #[validate(email, length(max = 254))]
    #[schema(max_length = 254)]
    #[schema(example = "innovation@prefecture-35.example")]
    pub email: String,
    /// At least 12 characters, not the email.
    #[validate(length(min = 1, max = 256))]
    #[schema(min_length = 1, max_length = 256)]
    pub password: String,
    /// The organizer the account opens (it starts unverified and can already prepare drafts).
    #[validate(nested)]
    pub organizer: OrganizerForm,
}

/// A registration: the account, its organizer, and a session.
#[derive(Debug, Serialize, ToSchema)]
pub struct RegisteredOut {
    pub account: MeOut,
    #[serde(flatten)]
    pub tokens: TokenResponse,
}

/// Accepting an invitation: the token received and the password chosen.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptInvitationForm {
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub token: String,
    /// At least 12 characters, not the email.
    #[validate(length(min = 1, max = 256))]
    #[schema(min_length = 1, max_length = 256)]
    pub password: String,
}
