use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use crate::schema::accounts;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// DITP staff: everything.
    Admin,
    /// A member of one organizer: its own events.
    Organizer,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Organizer => "organizer",
        }
    }

    pub fn parse(value: &str) -> Option<Role> {
        match value {
            "admin" => Some(Role::Admin),
            "organizer" => Some(Role::Organizer),
            _ => None,
        }
    }
}

/// What an API token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
pub enum Scope {
    #[serde(rename = "events:write")]
    EventsWrite,
    #[serde(rename = "imports:write")]
    ImportsWrite,
    #[serde(rename = "reports:read")]
    ReportsRead,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = accounts)]
pub struct Account {
    pub id: Uuid,
    pub email: String,
    pub password_hash: String,
    pub role: String,
    pub disabled: bool,
    pub organizer_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = accounts)]
pub struct NewAccount<'a> {
    pub id: Uuid,
    pub email: &'a str,
    pub password_hash: &'a str,
    pub role: &'a str,
    pub organizer_id: Option<Uuid>,
}

/// Credentials for `POST /auth/login`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct LoginForm {
    #[validate(length(min = 3, max = 254))]
    #[schema(example = "admin@mip.example")]
    pub email: String,
    #[validate(length(min = 1, max = 256))]
    pub password: String,
}

/// A signed access token.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    /// Present on login and refresh: trade it at `/auth/refresh` for a new pair (used once).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
}
