//! Cross-cutting web helpers shared by every domain.

pub mod conditional;
pub mod fallback;
pub mod fields;
pub mod json;
pub mod language;
pub mod openapi;
pub mod pagination;
pub mod protocol;
pub mod query;
pub mod rate_limit;
pub mod request_id;
