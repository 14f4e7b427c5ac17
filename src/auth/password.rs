//! Password hashing with argon2id (the crate's defaults are OWASP's recommended parameters).

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

use crate::error::{ApiError, FieldError};

pub const MIN_PASSWORD_CHARS: usize = 12;
pub const MAX_PASSWORD_CHARS: usize = 256;

pub fn hash(password: &str) -> Result<String, ApiError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default().hash_password(password.as_bytes(), &salt).map(|h| h.to_string()).map_err(ApiError::internal)
}

/// Hashes on the blocking pool: argon2 takes tens of milliseconds, too long for the executor.
pub async fn hash_off_executor(password: String) -> Result<String, ApiError> {
    let task = crate::metrics::BlockingTask::start();
    actix_web::web::block(crate::telemetry::carry(move || {
        let _task = task;
        hash(&password)
    }))
    .await?
}

pub fn verify(password: &str, stored_hash: &str) -> bool {
    PasswordHash::new(stored_hash)
        .is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
}

/// Verifies on the blocking pool, with no database connection held. Without a stored hash
/// (an unknown email) it spends the time of one verification anyway.
pub async fn verify_off_executor(password: String, stored_hash: Option<String>) -> Result<bool, ApiError> {
    let work = move || match stored_hash {
        Some(stored_hash) => verify(&password, &stored_hash),
        None => {
            verify_against_nothing(&password);
            false
        }
    };
    let task = crate::metrics::BlockingTask::start();
    Ok(actix_web::web::block(crate::telemetry::carry(move || {
        let _task = task;
        work()
    }))
    .await?)
}

/// Spends the time of one verification, so an unknown email answers as slowly as a wrong password.
pub fn verify_against_nothing(password: &str) {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let dummy = DUMMY.get_or_init(|| hash("dummy password for timing").unwrap_or_default());
    let _ = verify(password, dummy);
}

/// The password rules: long enough, not absurdly long, not the email.
pub fn check_strength(password: &str, email: &str) -> Result<(), FieldError> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(FieldError::new(
            "password",
            "too_short",
            format!("must be at least {MIN_PASSWORD_CHARS} characters long"),
        ));
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err(FieldError::new(
            "password",
            "too_long",
            format!("must be at most {MAX_PASSWORD_CHARS} characters long"),
        ));
    }
    if password.trim().eq_ignore_ascii_case(email.trim()) {
        return Err(FieldError::new("password", "equals_email", "must not be the email address"));
    }
    Ok(())
}
