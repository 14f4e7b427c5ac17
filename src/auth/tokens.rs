//! JWTs: HS256 only, with `exp`, `iat`, `sub`, `role`, `iss` and `aud` required and checked.

use chrono::Utc;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::model::{Role, Scope};
use crate::error::ApiError;

pub const ISSUER: &str = "mip";
pub const AUDIENCE: &str = "mip-api";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// The account.
    pub sub: Uuid,
    pub role: Role,
    pub iss: String,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
    /// The organizer the account belongs to, for organizer accounts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org: Option<Uuid>,
    /// API tokens only: the server-side record that makes them revocable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jti: Option<Uuid>,
    /// API tokens only: what the token may do.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Vec<Scope>>,
}

pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl JwtKeys {
    pub fn new(secret: &str) -> Self {
        // The algorithm is pinned: a token claiming `none` or RS256 is refused, whatever it says.
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iat", "sub", "iss", "aud"]);
        validation.leeway = 30;
        JwtKeys {
            encoding: EncodingKey::from_secret(secret.as_bytes()),
            decoding: DecodingKey::from_secret(secret.as_bytes()),
            validation,
        }
    }

    pub fn sign(&self, claims: &Claims) -> Result<String, ApiError> {
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &self.encoding).map_err(ApiError::internal)
    }

    pub fn verify(&self, token: &str) -> Result<Claims, ApiError> {
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation).map(|data| data.claims).map_err(
            |error| {
                use jsonwebtoken::errors::ErrorKind;
                let reason = match error.kind() {
                    ErrorKind::ExpiredSignature => "the token has expired",
                    ErrorKind::InvalidAudience => "the token is not meant for this API",
                    ErrorKind::InvalidIssuer => "the token was not issued by this API",
                    ErrorKind::InvalidAlgorithm => "the token is not signed with HS256",
                    ErrorKind::InvalidSignature => "the token's signature is invalid",
                    ErrorKind::MissingRequiredClaim(_) => "the token lacks a required claim",
                    _ => "the token is malformed",
                };
                ApiError::Unauthorized(reason.into())
            },
        )
    }

    /// A short-lived access token for a logged-in account.
    pub fn access_token(
        &self,
        account: Uuid,
        role: Role,
        organizer: Option<Uuid>,
        ttl_secs: u64,
    ) -> Result<String, ApiError> {
        let now = Utc::now().timestamp();
        self.sign(&Claims {
            sub: account,
            role,
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            iat: now,
            exp: now + ttl_secs as i64,
            org: organizer,
            jti: None,
            scopes: None,
        })
    }
}

impl JwtKeys {
    /// A long-lived token for a script. It is only honoured while its record (`jti`) is live.
    pub fn api_token(
        &self,
        owner: &crate::auth::Principal,
        token_id: Uuid,
        details: &crate::auth::model::ApiTokenOut,
    ) -> Result<String, ApiError> {
        self.sign(&Claims {
            sub: owner.account_id,
            role: owner.role,
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            iat: Utc::now().timestamp(),
            exp: details.expires_at.timestamp(),
            org: owner.organizer_id,
            jti: Some(token_id),
            scopes: Some(details.scopes.clone()),
        })
    }
}

/// 32 random bytes, hex: secrets and opaque tokens.
pub fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// Opaque tokens are stored hashed, so a database dump does not hand them out.
pub fn sha256_hex(value: &str) -> String {
    hex::encode(Sha256::digest(value.as_bytes()))
}
