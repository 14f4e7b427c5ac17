//! The one API error type. Every 4xx/5xx the service sends is RFC 9457 problem+json built here.

use std::borrow::Cow;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;
use validator::{ValidationErrors, ValidationErrorsKind};

use crate::telemetry;

/// One field-level problem inside a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// Path to the field, as the client wrote it: `sessions[0].ends_at`, `limit`.
    pub field: String,
    /// A stable, machine-readable code: `required`, `too_long`, `before_start`, `unknown_region`.
    pub code: String,
    /// A sentence for a person.
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, code: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError { field: field.into(), code: code.into(), message: message.into() }
    }
}

/// An RFC 9457 problem document.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem (`urn:mip:problem:validation`).
    #[serde(rename = "type")]
    pub problem_type: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// The request path this problem is about.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    /// The `X-Request-Id` of the request, to quote when asking for help.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// Field-level problems, for validation and parameter errors.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(value_type = Vec<FieldError>)]
    pub errors: Vec<FieldError>,
}

/// Every way a request can fail.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Syntactically wrong input: malformed JSON, a bad query or path parameter.
    #[error("{detail}")]
    BadRequest { detail: String, errors: Vec<FieldError> },
    /// Well-formed input that breaks a rule.
    #[error("the request breaks {} rule(s)", .0.len())]
    Validation(Vec<FieldError>),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    /// The named thing does not exist (or the caller may not know it exists).
    #[error("{0} not found")]
    NotFound(String),
    #[error("{detail}")]
    Conflict { detail: String, errors: Vec<FieldError> },
    #[error("the resource changed: it is now at {0}; read it again and apply your change to it")]
    PreconditionFailed(String),
    /// A write to a versioned resource without `If-Match` (RFC 6585).
    #[error(
        "this write needs an `If-Match` header with the resource's `ETag` (GET it first), so that it cannot overwrite a change made since"
    )]
    PreconditionRequired,
    #[error("the body is larger than {0} bytes")]
    PayloadTooLarge(usize),
    /// An import holding more rows than one request may.
    #[error("the import holds more than {0} rows; send it in several parts")]
    TooManyRows(usize),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("the request target is longer than {0} bytes")]
    UriTooLong(usize),
    #[error("the request headers hold more than {0} bytes")]
    HeadersTooLarge(usize),
    #[error("the body did not arrive within {0} ms")]
    RequestTimeout(u128),
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("too many requests")]
    TooManyRequests { retry_after_secs: u64 },
    #[error("the database is unavailable")]
    Unavailable,
    /// Anything unexpected. The cause is logged, never sent.
    #[error("internal error")]
    Internal(String),
}

impl ApiError {
    pub fn field(field: &str, code: &str, message: impl Into<String>) -> Self {
        ApiError::Validation(vec![FieldError::new(field, code, message)])
    }

    pub fn bad_param(field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        ApiError::BadRequest {
            detail: format!("invalid parameter `{field}`: {message}"),
            errors: vec![FieldError::new(field, "invalid", message)],
        }
    }

    pub fn conflict(detail: impl Into<String>) -> Self {
        ApiError::Conflict { detail: detail.into(), errors: vec![] }
    }

    pub fn conflict_on(field: &str, code: &str, detail: impl Into<String>) -> Self {
        let detail = detail.into();
        ApiError::Conflict { errors: vec![FieldError::new(field, code, detail.clone())], detail }
    }

    pub fn internal(cause: impl std::fmt::Display) -> Self {
        ApiError::Internal(cause.to_string())
    }

    fn kind(&self) -> (&'static str, &'static str) {
        match self {
            ApiError::BadRequest { .. } => ("bad-request", "Bad request"),
            ApiError::Validation(_) => ("validation", "The request breaks a rule"),
            ApiError::Unauthorized(_) => ("unauthorized", "Authentication required"),
            ApiError::Forbidden(_) => ("forbidden", "Not allowed"),
            ApiError::NotFound(_) => ("not-found", "Not found"),
            ApiError::Conflict { .. } => ("conflict", "Conflict"),
            ApiError::PreconditionFailed(_) => ("stale-version", "Precondition failed"),
            ApiError::PreconditionRequired => ("if-match-required", "Precondition required"),
            ApiError::PayloadTooLarge(_) => ("payload-too-large", "Payload too large"),
            ApiError::TooManyRows(_) => ("too-many-rows", "Payload too large"),
            ApiError::UnsupportedMediaType(_) => ("unsupported-media-type", "Unsupported media type"),
            ApiError::UriTooLong(_) => ("uri-too-long", "URI too long"),
            ApiError::HeadersTooLarge(_) => ("headers-too-large", "Request header fields too large"),
            ApiError::RequestTimeout(_) => ("request-timeout", "Request timeout"),
            ApiError::MethodNotAllowed => ("method-not-allowed", "Method not allowed"),
            ApiError::TooManyRequests { .. } => ("rate-limited", "Too many requests"),
            ApiError::Unavailable => ("unavailable", "Service unavailable"),
            ApiError::Internal(_) => ("internal", "Internal server error"),
        }
    }

    fn detail(&self) -> String {
        match self {
            ApiError::Validation(errors) => match errors.as_slice() {
                [one] => format!("`{}`: {}", one.field, one.message),
                _ => format!("{} fields break a rule; see `errors`", errors.len()),
            },
            ApiError::Internal(_) => "an unexpected error occurred; quote the request id when reporting it".into(),
            ApiError::TooManyRequests { retry_after_secs } => {
                format!("too many attempts; retry in {retry_after_secs} s")
            }
            other => other.to_string(),
        }
    }

    /// The problem document, with the current request's path and id when there is one.
    pub fn to_problem(&self) -> Problem {
        let (slug, title) = self.kind();
        let context = telemetry::current();
        let errors = match self {
            ApiError::BadRequest { errors, .. } | ApiError::Conflict { errors, .. } => errors.clone(),
            ApiError::Validation(errors) => errors.clone(),
            ApiError::PreconditionRequired => vec![FieldError::new("If-Match", "required", self.to_string())],
            ApiError::PreconditionFailed(_) => vec![FieldError::new("If-Match", "stale", self.to_string())],
            ApiError::RequestTimeout(_) => vec![FieldError::new("body", "timeout", self.to_string())],
            ApiError::PayloadTooLarge(_) => vec![FieldError::new("body", "too_large", self.to_string())],
            ApiError::TooManyRows(_) => vec![FieldError::new("body", "too_many_rows", self.to_string())],
            _ => vec![],
        };
        Problem {
            problem_type: format!("urn:mip:problem:{slug}"),
            title: title.into(),
            status: self.status_code().as_u16(),
            detail: self.detail(),
            instance: context.as_ref().map(|c| c.path.clone()),
            request_id: context.map(|c| c.request_id),
            errors,
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::PreconditionFailed(_) => StatusCode::PRECONDITION_FAILED,
            ApiError::PreconditionRequired => StatusCode::PRECONDITION_REQUIRED,
            ApiError::PayloadTooLarge(_) | ApiError::TooManyRows(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::UriTooLong(_) => StatusCode::URI_TOO_LONG,
            ApiError::HeadersTooLarge(_) => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            ApiError::RequestTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let ApiError::Internal(cause) = self {
            tracing::error!(%cause, "internal error");
        }
        let mut response = HttpResponse::build(self.status_code());
        response.insert_header((header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json")));
        match self {
            ApiError::Unauthorized(_) => {
                response.insert_header((header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer")));
            }
            ApiError::TooManyRequests { retry_after_secs } => {
                response.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
            }
            // A client that stalls its body does not keep the connection.
            ApiError::RequestTimeout(_) => {
                response.insert_header((header::CONNECTION, HeaderValue::from_static("close")));
            }
            // The database is away: a short wait, as the document promises with every 503.
            ApiError::Unavailable => {
                response.insert_header((header::RETRY_AFTER, HeaderValue::from_static("2")));
            }
            _ => {}
        }
        let body = serde_json::to_vec(&self.to_problem()).unwrap_or_default();
        response.body(body)
    }
}

impl From<diesel::result::Error> for ApiError {
    fn from(error: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind as Kind, Error};
        if !matches!(error, Error::NotFound) {
            crate::metrics::database_error(error_kind(&error));
        }
        match error {
            Error::NotFound => ApiError::NotFound("resource".into()),
            Error::DatabaseError(Kind::UniqueViolation, info) => {
                let constraint = info.constraint_name().unwrap_or("unique").to_string();
                ApiError::conflict_on(
                    field_of_constraint(&constraint),
                    "already_exists",
                    "a resource with this value already exists",
                )
            }
            Error::DatabaseError(Kind::ForeignKeyViolation, info) => {
                let constraint = info.constraint_name().unwrap_or("reference").to_string();
                // PostgreSQL says which side broke the reference: deleting a row that others
                // still refer to, or writing a reference to a row that is not there.
                let deleting = info.message().starts_with("update or delete on table");
                match still_referred_to_by(&constraint) {
                    Some((field, detail)) if deleting => ApiError::conflict_on(field, "in_use", detail),
                    _ => ApiError::conflict_on(
                        field_of_constraint(&constraint),
                        "referenced",
                        "this change would break a reference between resources",
                    ),
                }
            }
            Error::DatabaseError(Kind::CheckViolation, info) => {
                let constraint = info.constraint_name().unwrap_or("check").to_string();
                ApiError::field(field_of_constraint(&constraint), "invalid", "the value breaks a rule")
            }
            // The database went away (a restart, a broken connection) or gave up on a statement
            // that waited too long (the session's timeouts): nothing was done, try again later.
            Error::DatabaseError(Kind::ClosedConnection | Kind::UnableToSendCommand, info) => {
                tracing::error!(error = %info.message(), "database connection lost");
                ApiError::Unavailable
            }
            Error::DatabaseError(_, info) if gave_up(info.message()) => {
                tracing::error!(error = %info.message(), "database statement given up");
                ApiError::Unavailable
            }
            Error::BrokenTransactionManager => ApiError::Unavailable,
            other => ApiError::internal(other),
        }
    }
}

/// The kind of a database error, for the metrics (a bounded set of names).
fn error_kind(error: &diesel::result::Error) -> &'static str {
    use diesel::result::{DatabaseErrorKind as Kind, Error};
    match error {
        Error::DatabaseError(Kind::UniqueViolation, _) => "unique_violation",
        Error::DatabaseError(Kind::ForeignKeyViolation, _) => "foreign_key_violation",
        Error::DatabaseError(Kind::CheckViolation, _) => "check_violation",
        Error::DatabaseError(Kind::SerializationFailure, _) => "serialization_failure",
        Error::DatabaseError(Kind::ClosedConnection | Kind::UnableToSendCommand, _) => "connection_lost",
        Error::DatabaseError(_, info) if info.message().starts_with("canceling statement due to") => "timeout",
        Error::DatabaseError(_, info) if gave_up(info.message()) => "connection_lost",
        Error::BrokenTransactionManager => "connection_lost",
        _ => "other",
    }
}

/// PostgreSQL's messages for a statement it cancelled on a timeout, or a session it ended
/// (`statement_timeout`, `lock_timeout`, `idle_in_transaction_session_timeout`, a shutdown).
fn gave_up(message: &str) -> bool {
    message.starts_with("canceling statement due to")
        || message.starts_with("terminating connection")
        || message.contains("server closed the connection")
        || message.contains("the database system is")
}

/// Postgres names constraints `<table>_<column>_<kind>`; the column is what a client can act on.
fn field_of_constraint(constraint: &str) -> &str {
    let known = [
        ("editions_pkey", "year"),
        ("editions_number_key", "number"),
        ("tracks_edition_slug_key", "slug"),
        ("labs_slug_key", "slug"),
        ("accounts_email_key", "email"),
        ("organizers_slug_key", "slug"),
        ("events_slug_key", "slug"),
        ("events_organizer_external_id_key", "external_id"),
    ];
    known.iter().find(|(name, _)| *name == constraint).map(|(_, field)| *field).unwrap_or(constraint)
}

/// For a reference that forbids deleting what it points to (`ON DELETE RESTRICT`): the field of
/// the referring rows, and what to do. The repos count the references first and say how many;
/// this is the answer when the database is the one that refuses.
fn still_referred_to_by(constraint: &str) -> Option<(&'static str, &'static str)> {
    match constraint {
        "event_labs_lab_id_fkey" => Some(("labs", "events refer to this lab in `labs`; remove it from them first")),
        _ => None,
    }
}

impl From<diesel::r2d2::PoolError> for ApiError {
    fn from(error: diesel::r2d2::PoolError) -> Self {
        tracing::error!(%error, "database pool unavailable");
        crate::metrics::database_error("pool_timeout");
        ApiError::Unavailable
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(error: actix_web::error::BlockingError) -> Self {
        ApiError::internal(error)
    }
}

impl From<validator::ValidationErrors> for ApiError {
    fn from(errors: validator::ValidationErrors) -> Self {
        ApiError::Validation(field_errors(&errors))
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// Flattens validator's nested errors into `a.b[2].c` paths.
pub fn field_errors(errors: &ValidationErrors) -> Vec<FieldError> {
    let mut out = Vec::new();
    collect(errors, "", &mut out);
    out
}

fn collect(errors: &ValidationErrors, prefix: &str, out: &mut Vec<FieldError>) {
    for (field, kind) in errors.errors() {
        let path = if prefix.is_empty() { field.to_string() } else { format!("{prefix}.{field}") };
        match kind {
            ValidationErrorsKind::Field(list) => {
                for error in list {
                    let message = error.message.clone().unwrap_or_else(|| Cow::Owned(default_message(error)));
                    out.push(FieldError::new(&path, error.code.to_string(), message.to_string()));
                }
            }
            ValidationErrorsKind::Struct(inner) => collect(inner, &path, out),
            ValidationErrorsKind::List(items) => {
                for (index, inner) in items {
                    collect(inner, &format!("{path}[{index}]"), out);
                }
            }
        }
    }
    out.sort_by(|a, b| a.field.cmp(&b.field));
}

fn default_message(error: &validator::ValidationError) -> String {
    let param = |name: &str| error.params.get(name).map(|v| v.to_string());
    match error.code.as_ref() {
        "length" => match (param("min"), param("max")) {
            (Some(min), Some(max)) => format!("must be between {min} and {max} characters long"),
            (None, Some(max)) => format!("must be at most {max} characters long"),
            (Some(min), None) => format!("must be at least {min} characters long"),
            _ => "has a wrong length".into(),
        },
        "range" => match (param("min"), param("max")) {
            (Some(min), Some(max)) => format!("must be between {min} and {max}"),
            (None, Some(max)) => format!("must be at most {max}"),
            (Some(min), None) => format!("must be at least {min}"),
            _ => "is out of range".into(),
        },
        "email" => "must be an email address".into(),
        "url" => "must be an http(s) URL".into(),
        other => format!("is invalid ({other})"),
    }
}

#[cfg(test)]
mod tests {
    use diesel::result::{DatabaseErrorInformation, DatabaseErrorKind, Error};

    use super::*;

    struct Info(&'static str);

    impl DatabaseErrorInformation for Info {
        fn message(&self) -> &str {
            "duplicate key value violates unique constraint"
        }
        fn details(&self) -> Option<&str> {
            None
        }
        fn hint(&self) -> Option<&str> {
            None
        }
        fn table_name(&self) -> Option<&str> {
            None
        }
        fn column_name(&self) -> Option<&str> {
            None
        }
        fn constraint_name(&self) -> Option<&str> {
            Some(self.0)
        }
        fn statement_position(&self) -> Option<i32> {
            None
        }
    }

    fn database(kind: DatabaseErrorKind, constraint: &'static str) -> ApiError {
        ApiError::from(Error::DatabaseError(kind, Box::new(Info(constraint))))
    }

    #[test]
    fn database_faults_map_to_statuses_naming_the_field() {
        let taken = database(DatabaseErrorKind::UniqueViolation, "events_slug_key");
        assert_eq!(taken.status_code(), StatusCode::CONFLICT);
        assert_eq!(taken.to_problem().errors[0].field, "slug");
        let referenced = database(DatabaseErrorKind::ForeignKeyViolation, "tracks_edition_year_fkey");
        assert_eq!(referenced.status_code(), StatusCode::CONFLICT);
        let checked = database(DatabaseErrorKind::CheckViolation, "labs_founded_year_check");
        assert_eq!(checked.status_code(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(ApiError::from(Error::NotFound).status_code(), StatusCode::NOT_FOUND);
    }

    #[test]
    fn a_database_that_went_away_or_gave_up_is_a_503_not_a_500() {
        assert!(gave_up("canceling statement due to lock timeout"));
        assert!(gave_up("canceling statement due to statement timeout"));
        assert!(gave_up("terminating connection due to administrator command"));
        assert!(gave_up("server closed the connection unexpectedly"));
        assert!(!gave_up("relation \"events\" does not exist"));
        let lost = database(DatabaseErrorKind::ClosedConnection, "");
        assert_eq!(lost.status_code(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(ApiError::from(Error::BrokenTransactionManager).status_code(), StatusCode::SERVICE_UNAVAILABLE);
    }

    #[test]
    fn an_unexpected_error_says_nothing_of_its_cause() {
        let problem = ApiError::internal("relation \"events\" does not exist: SELECT secret").to_problem();
        assert_eq!(problem.status, 500);
        assert!(!problem.detail.contains("SELECT") && !problem.detail.contains("events"), "{}", problem.detail);
    }

    #[test]
    fn nested_validation_errors_are_named_by_their_path() {
        use validator::Validate;
        #[derive(Validate)]
        struct Session {
            #[validate(length(min = 1))]
            label: String,
        }
        #[derive(Validate)]
        struct Form {
            #[validate(length(max = 3))]
            title: String,
            #[validate(nested)]
            sessions: Vec<Session>,
        }
        let form =
            Form { title: "long".into(), sessions: vec![Session { label: "a".into() }, Session { label: "".into() }] };
        let errors = field_errors(&form.validate().unwrap_err());
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, vec!["sessions[1].label", "title"]);
        assert_eq!(errors[1].message, "must be at most 3 characters long");
    }

    #[test]
    fn every_problem_names_its_kind_and_status() {
        for error in [
            ApiError::PreconditionRequired,
            ApiError::PreconditionFailed("v3".into()),
            ApiError::TooManyRequests { retry_after_secs: 5 },
            ApiError::UriTooLong(8192),
            ApiError::Unavailable,
        ] {
            let problem = error.to_problem();
            assert!(problem.problem_type.starts_with("urn:mip:problem:"));
            assert_eq!(problem.status, error.status_code().as_u16());
        }
    }
}
