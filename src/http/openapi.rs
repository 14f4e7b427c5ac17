//! The conventions every operation shares, declared once in the OpenAPI document, from the
//! same places that implement them: a JSON body may be malformed (400), too slow (408), too
//! large (413) or of another type (415); a parameter may not parse (400); a bearer token may be bad (401); the
//! database may be away (503, `Retry-After`); reads carry `ETag` and `Last-Modified` and answer
//! 304 to `If-None-Match`; writes to versioned resources need `If-Match` (428, 412); creations
//! carry `Location`; limits answer 429 with `Retry-After`.
//!
//! Handlers' own `#[utoipa::path]` annotations say what is particular to each (its 404, its 409,
//! its rules); this fills in what is common, so that a generated client knows every status and
//! header it can meet, and the fuzzer in CI holds the service to it.

use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{HttpMethod, Operation, Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr, Required, ResponseBuilder, Type, schema::ObjectBuilder};

const PROBLEM: &str = "application/problem+json";

/// `DELETE`s of things that carry no version (a token, a member, a year's figures).
const UNVERSIONED_DELETES: [&str; 3] =
    ["/api/v1/me/tokens/{id}", "/api/v1/organizers/{id}/members/{member_id}", "/api/v1/labs/{slug}/figures/{year}"];

/// Reads streamed as they are read (exports): no validators, since nothing is known of the whole
/// answer before its first byte is sent.
const UNVALIDATED_READS: [&str; 3] =
    ["/api/v1/exports/events.csv", "/api/v1/exports/events.ndjson", "/api/v1/exports/events.xlsx"];

/// Adds the shared statuses, headers and parameters to every operation of the document.
pub fn declare_conventions(spec: &mut OpenApi) {
    for (path, item) in spec.paths.paths.iter_mut() {
        for (method, operation) in [
            (HttpMethod::Get, item.get.as_mut()),
            (HttpMethod::Post, item.post.as_mut()),
            (HttpMethod::Put, item.put.as_mut()),
            (HttpMethod::Patch, item.patch.as_mut()),
            (HttpMethod::Delete, item.delete.as_mut()),
        ] {
            if let Some(operation) = operation {
                declare(path, method, operation);
            }
        }
    }
}

fn declare(path: &str, method: HttpMethod, operation: &mut Operation) {
    let api = path.starts_with("/api/");
    let has_body = operation.request_body.is_some();
    let has_parameters = operation.parameters.as_ref().is_some_and(|p| !p.is_empty()) || path.contains('{');
    if api {
        problem(operation, "401", "The bearer token sent is not valid (expired, revoked, forged)");
        problem(operation, "503", "The database is unavailable; retry after the delay given");
    }
    // Every API route parses its query string (an unknown parameter is a 400), its path and body.
    if api || has_parameters || has_body {
        problem(operation, "400", "A parameter or the body does not parse (the problem names it)");
    }
    if has_body {
        problem(operation, "408", "The body did not all arrive within the body timeout");
        problem(operation, "413", "The body is larger than the limit");
        problem(operation, "415", "The body is not sent as `application/json`");
        problem(operation, "422", "The body breaks a rule (each field named)");
    }
    match method {
        HttpMethod::Get if !UNVALIDATED_READS.contains(&path) => declare_read(operation),
        HttpMethod::Patch | HttpMethod::Put => declare_versioned_write(operation, true),
        HttpMethod::Delete if !UNVERSIONED_DELETES.contains(&path) => declare_versioned_write(operation, true),
        HttpMethod::Post if path.starts_with("/api/v1/events/{id}/") => {
            declare_versioned_write(operation, false);
            // A transition's body is optional (`OptionalJson`), except a rejection's reason.
            if !path.ends_with("/reject")
                && let Some(RefOr::T(body)) = operation.request_body.as_mut()
            {
                body.required = Some(Required::False);
            }
        }
        _ => {}
    }
    for (status, response) in operation.responses.responses.iter_mut() {
        let RefOr::T(response) = response else { continue };
        match status.as_str() {
            "201" => {
                response
                    .headers
                    .entry("Location".into())
                    .or_insert_with(|| string_header("Where the created resource lives").into());
            }
            "429" | "503" => {
                response.headers.entry("Retry-After".into()).or_insert_with(|| {
                    HeaderBuilder::new()
                        .schema(Some(ObjectBuilder::new().schema_type(Type::Integer).minimum(Some(0))))
                        .description(Some("Seconds to wait before trying again"))
                        .build()
                        .into()
                });
            }
            _ => {}
        }
    }
}

/// Reads carry validators and revalidate with `If-None-Match` (304).
fn declare_read(operation: &mut Operation) {
    let Some(RefOr::T(ok)) = operation.responses.responses.get_mut("200") else { return };
    ok.headers
        .entry("ETag".into())
        .or_insert_with(|| string_header("Validator for `If-None-Match` and `If-Match`").into());
    ok.headers
        .entry("Last-Modified".into())
        .or_insert_with(|| string_header("When what the answer shows last changed (HTTP date)").into());
    operation.responses.responses.entry("304".into()).or_insert_with(|| {
        ResponseBuilder::new().description("Not modified since the given `If-None-Match`").build().into()
    });
    add_parameter(
        operation,
        ParameterBuilder::new()
            .name("If-None-Match")
            .parameter_in(ParameterIn::Header)
            .required(Required::False)
            .description(Some("An `ETag` received before: 304 while the answer is the same"))
            .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
            .build(),
    );
}

/// `If-Match` with the resource's `ETag` (strong comparison): 412 when stale, and on versioned
/// resources 428 when absent.
fn declare_versioned_write(operation: &mut Operation, required: bool) {
    let description = if required {
        "The `ETag` of the version this write changes (required: 428 without it, 412 when stale)"
    } else {
        "The `ETag` of the version this transition applies to (optional: 412 when stale)"
    };
    add_parameter(
        operation,
        ParameterBuilder::new()
            .name("If-Match")
            .parameter_in(ParameterIn::Header)
            .required(if required { Required::True } else { Required::False })
            .description(Some(description))
            .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
            .build(),
    );
    problem(operation, "412", "`If-Match` names another version than the current one: read it again");
    if required {
        problem(operation, "428", "`If-Match` is missing: read the resource and send its `ETag`");
    }
    if let Some(RefOr::T(ok)) = operation.responses.responses.get_mut("200") {
        ok.headers.entry("ETag".into()).or_insert_with(|| string_header("The new version's `ETag`").into());
    }
}

fn add_parameter(operation: &mut Operation, parameter: Parameter) {
    let parameters = operation.parameters.get_or_insert_with(Vec::new);
    let present = parameters.iter().any(|p| matches!(p, RefOr::T(p) if p.name == parameter.name));
    if !present {
        parameters.push(RefOr::T(parameter));
    }
}

/// Declares a problem+json answer of `status`, unless the operation already describes one.
pub fn problem(operation: &mut Operation, status: &str, description: &str) {
    operation.responses.responses.entry(status.into()).or_insert_with(|| {
        ResponseBuilder::new()
            .description(description)
            .content(PROBLEM, ContentBuilder::new().schema(Some(Ref::from_schema_name("Problem"))).build())
            .build()
            .into()
    });
}

fn string_header(description: &str) -> utoipa::openapi::header::Header {
    HeaderBuilder::new()
        .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
        .description(Some(description))
        .build()
}
