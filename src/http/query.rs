//! `Query<T>`: query parameters parsed with the failing parameter named in the 400.
//!
//! Every list uses it, so every list answers alike: an unknown parameter is a 400 naming it,
//! `_` (a cache-buster clients add) is accepted everywhere, a repeated parameter fills a `Vec`
//! field (and is a 400 on a single-valued one), and a NUL character is refused.

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use serde::de::DeserializeOwned;
use utoipa::IntoParams;

use crate::error::{ApiError, FieldError};

/// The parameter every list accepts and ignores.
pub const CACHE_BUSTER: &str = "_";

pub struct Query<T>(pub T);

impl<T> std::ops::Deref for Query<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned> FromRequest for Query<T> {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(parse_query(request.query_string()).map(Query))
    }
}

/// Two sets of parameters in one query string, such as the event filter and a list's paging:
/// the names `B` documents go to `B`, every other name to `A` (which refuses unknown ones). So
/// one filter can be shared by lists, reports and feeds that each add their own parameters.
pub struct Queries<A, B>(pub A, pub B);

impl<A: DeserializeOwned, B: DeserializeOwned + IntoParams> FromRequest for Queries<A, B> {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(parse_queries(request.query_string()).map(|(a, b)| Queries(a, b)))
    }
}

/// Parses a query string into `T` (whose serde attributes should deny unknown fields).
pub fn parse_query<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    let mut kept = form_urlencoded::Serializer::new(String::new());
    for (name, value) in checked_pairs(query)? {
        kept.append_pair(&name, &value);
    }
    deserialize(&kept.finish())
}

/// Parses a query string into two parameter sets (see [`Queries`]).
pub fn parse_queries<A: DeserializeOwned, B: DeserializeOwned + IntoParams>(query: &str) -> Result<(A, B), ApiError> {
    let names_of_b: Vec<String> = B::into_params(|| None).into_iter().map(|parameter| parameter.name).collect();
    let (mut a, mut b) =
        (form_urlencoded::Serializer::new(String::new()), form_urlencoded::Serializer::new(String::new()));
    for (name, value) in checked_pairs(query)? {
        let to = if names_of_b.contains(&name) { &mut b } else { &mut a };
        to.append_pair(&name, &value);
    }
    Ok((deserialize(&a.finish())?, deserialize(&b.finish())?))
}

/// The name-value pairs, without the cache-buster; a NUL character anywhere is a 400.
fn checked_pairs(query: &str) -> Result<Vec<(String, String)>, ApiError> {
    let mut pairs = Vec::new();
    for (name, value) in form_urlencoded::parse(query.as_bytes()) {
        if name.contains('\0') || value.contains('\0') {
            let field = name.replace('\0', "");
            return Err(ApiError::bad_param(&field, "contains a NUL character"));
        }
        if name != CACHE_BUSTER {
            pairs.push((name.into_owned(), value.into_owned()));
        }
    }
    Ok(pairs)
}

fn deserialize<T: DeserializeOwned>(kept: &str) -> Result<T, ApiError> {
    let deserializer = serde_html_form::Deserializer::from_bytes(kept.as_bytes());
    serde_path_to_error::deserialize(deserializer).map_err(|error| {
        let path = error.path().to_string();
        let message = error.into_inner().to_string();
        // serde names an unknown or missing field in its message, not in the path.
        let field = if path == "." { field_in_message(&message).unwrap_or("query".into()) } else { path };
        let message = if message == "unsupported value" { "is given more than once".to_string() } else { message };
        ApiError::BadRequest {
            detail: format!("invalid query parameter `{field}`: {message}"),
            errors: vec![FieldError::new(field, "invalid", message)],
        }
    })
}

/// Values one list parameter may hold.
pub const MAX_VALUES_PER_PARAMETER: usize = 50;

/// Every value of a list parameter, comma-separated or repeated (`region=53,52` or
/// `region=53&region=52`). An empty value (`region=`, `region=53,,52`) is a 400: a client that
/// sent one has a bug to know about, not a filter to drop.
pub fn list_parameter(name: &str, values: &[String]) -> Result<Vec<String>, ApiError> {
    let values: Vec<String> = values.iter().flat_map(|v| v.split(',')).map(|v| v.trim().to_string()).collect();
    if values.iter().any(String::is_empty) {
        return Err(ApiError::bad_param(name, "has an empty value"));
    }
    if values.len() > MAX_VALUES_PER_PARAMETER {
        return Err(ApiError::bad_param(name, format!("lists at most {MAX_VALUES_PER_PARAMETER} values")));
    }
    Ok(values)
}

fn field_in_message(message: &str) -> Option<String> {
    let start = message.find('`')? + 1;
    let end = start + message[start..].find('`')?;
    Some(message[start..end].to_string())
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Params {
        q: Option<String>,
        #[serde(default)]
        region: Vec<String>,
        limit: Option<i64>,
    }

    fn field(error: ApiError) -> String {
        match error {
            ApiError::BadRequest { errors, .. } => errors[0].field.clone(),
            other => panic!("not a 400: {other:?}"),
        }
    }

    #[test]
    fn repeated_parameters_fill_a_list_and_the_cache_buster_is_ignored() {
        let params: Params = parse_query("region=53&region=52&q=atelier&_=1712").unwrap();
        assert_eq!(params, Params { q: Some("atelier".into()), region: vec!["53".into(), "52".into()], limit: None });
    }

    #[test]
    fn an_unknown_parameter_is_named() {
        assert_eq!(field(parse_query::<Params>("regoin=53").unwrap_err()), "regoin");
    }

    #[test]
    fn a_single_valued_parameter_given_twice_is_named() {
        assert_eq!(field(parse_query::<Params>("q=a&q=b").unwrap_err()), "q");
    }

    #[test]
    fn a_value_of_the_wrong_type_is_named() {
        assert_eq!(field(parse_query::<Params>("limit=ten").unwrap_err()), "limit");
    }

    #[test]
    fn a_nul_character_is_refused_and_named() {
        assert_eq!(field(parse_query::<Params>("q=a%00b").unwrap_err()), "q");
        assert_eq!(field(parse_query::<Params>("q%00=a").unwrap_err()), "q");
    }
}
