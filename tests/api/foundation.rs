//! The cross-cutting contract: problem+json everywhere, request ids, health, the OpenAPI snapshot.

use crate::common;

use actix_web::test::TestRequest;
use serde_json::json;

#[actix_web::test]
async fn unknown_route_is_a_404_problem() {
    let app = common::spawn().await;
    let problem = app.get("/api/v1/nothing-here").await.problem(404);
    assert_eq!(problem["instance"], "/api/v1/nothing-here");
}

#[actix_web::test]
async fn wrong_method_is_a_405_problem() {
    let app = common::spawn().await;
    app.delete("/api/v1/editions", None).await.problem(405);
}

#[actix_web::test]
async fn malformed_json_is_a_400_problem_naming_the_body() {
    let app = common::spawn().await;
    let token = app.admin_token().await;
    let request = TestRequest::post()
        .uri("/api/v1/editions")
        .insert_header(("content-type", "application/json"))
        .insert_header(("authorization", format!("Bearer {token}")))
        .set_payload("{\"year\": 2030,");
    let reply = app.send(request).await;
    assert_eq!(reply.problem_fields(400), vec!["body"]);
}

#[actix_web::test]
async fn a_field_of_the_wrong_type_is_named() {
    let app = common::spawn().await;
    let token = app.admin_token().await;
    let mut body = common::edition_body(2030);
    body["starts_on"] = json!("the second of November");
    let reply = app.post("/api/v1/editions", Some(&token), body).await;
    assert_eq!(reply.problem_fields(400), vec!["starts_on"]);
}

#[actix_web::test]
async fn unknown_fields_are_refused_not_ignored() {
    let app = common::spawn().await;
    let token = app.admin_token().await;
    let mut body = common::edition_body(2030);
    body["colour"] = json!("blue");
    let problem = app.post("/api/v1/editions", Some(&token), body).await.problem(400);
    assert!(problem["detail"].as_str().unwrap().contains("colour"));
}

#[actix_web::test]
async fn wrong_content_type_is_a_415_problem() {
    let app = common::spawn().await;
    let token = app.admin_token().await;
    let request = TestRequest::post()
        .uri("/api/v1/editions")
        .insert_header(("content-type", "text/plain"))
        .insert_header(("authorization", format!("Bearer {token}")))
        .set_payload(common::edition_body(2030).to_string());
    app.send(request).await.problem(415);
}

#[actix_web::test]
async fn a_body_over_the_limit_is_a_413_problem() {
    let app = common::spawn().await;
    let token = app.admin_token().await;
    let mut body = common::edition_body(2030);
    body["description"] = json!("x".repeat(mip::http::json::MAX_JSON_BODY + 1));
    app.post("/api/v1/editions", Some(&token), body).await.problem(413);
}

#[actix_web::test]
async fn a_bad_path_parameter_is_a_400_problem_naming_it() {
    let app = common::spawn().await;
    assert_eq!(app.get("/api/v1/editions/twenty").await.problem_fields(400), vec!["year"]);
    let too_big = app.get("/api/v1/editions/2147483648/tracks/experience-usager").await;
    assert_eq!(too_big.problem_fields(400), vec!["year"], "only the parameter that does not parse");
}

#[actix_web::test]
async fn a_plain_options_request_says_what_is_allowed() {
    let app = common::spawn().await;
    let reply = app.send(TestRequest::default().method(actix_web::http::Method::OPTIONS).uri("/api/v1/labs")).await;
    assert_eq!(reply.status.as_u16(), 204);
    assert_eq!(reply.header("allow").as_deref(), Some("GET, HEAD, OPTIONS, POST"));
}

#[actix_web::test]
async fn bad_query_parameters_are_400_problems_naming_them() {
    let app = common::spawn().await;
    for (query, field) in
        [("limit=0", "limit"), ("limit=101", "limit"), ("limit=ten", "limit"), ("cursor=garbage", "cursor")]
    {
        let reply = app.get(&format!("/api/v1/editions?{query}")).await;
        assert_eq!(reply.problem_fields(400), vec![field], "{query}");
    }
    assert_eq!(app.get("/api/v1/labs?active=perhaps").await.problem_fields(400), vec!["active"]);
}

#[actix_web::test]
async fn a_client_request_id_is_echoed_and_quoted_in_problems() {
    let app = common::spawn().await;
    let reply =
        app.send(TestRequest::get().uri("/api/v1/editions/1999").insert_header(("x-request-id", "trace-42"))).await;
    assert_eq!(reply.header("x-request-id").as_deref(), Some("trace-42"));
    assert_eq!(reply.problem(404)["request_id"], "trace-42");
}

#[actix_web::test]
async fn a_hostile_request_id_is_replaced() {
    let app = common::spawn().await;
    let reply = app.send(TestRequest::get().uri("/health/live").insert_header(("x-request-id", "a b\tc"))).await;
    let id = reply.header("x-request-id").unwrap();
    assert_ne!(id, "a b\tc");
    assert!(uuid::Uuid::parse_str(&id).is_ok());
}

#[actix_web::test]
async fn health_probes_answer() {
    let app = common::spawn().await;
    assert_eq!(app.get("/health/live").await.json()["status"], "ok");
    assert_eq!(app.get("/health/ready").await.json()["status"], "ok");
}

#[actix_web::test]
async fn readiness_fails_with_a_problem_when_the_database_is_gone() {
    use diesel::r2d2::{ConnectionManager, Pool};
    let app = common::spawn().await;
    let missing = ConnectionManager::new("postgres://postgres@localhost:5432/mip_no_such_database");
    let pool = Pool::builder().connection_timeout(std::time::Duration::from_millis(500)).build_unchecked(missing);
    let settings = common::settings(&app.db);
    let state = mip::state::AppState::from_parts(pool, settings, app.state.geo.clone(), app.state.clock.clone());
    let state = actix_web::web::Data::new(state);
    let service = actix_web::test::init_service(mip::app::build_app(state)).await;
    let response = actix_web::test::call_service(&service, TestRequest::get().uri("/health/ready").to_request()).await;
    assert_eq!(response.status().as_u16(), 503);
    assert_eq!(response.headers().get("content-type").unwrap(), "application/problem+json");
    assert_eq!(response.headers().get("retry-after").unwrap(), "2");
}

#[actix_web::test]
async fn public_reads_allow_any_origin() {
    let app = common::spawn().await;
    let reply =
        app.send(TestRequest::get().uri("/api/v1/editions").insert_header(("origin", "https://partner.example"))).await;
    assert_eq!(reply.header("access-control-allow-origin").as_deref(), Some("https://partner.example"));
}

#[actix_web::test]
async fn responses_are_compressed_when_asked() {
    let app = common::spawn().await;
    let reply = app.send(TestRequest::get().uri("/api/v1/regions").insert_header(("accept-encoding", "gzip"))).await;
    assert_eq!(reply.header("content-encoding").as_deref(), Some("gzip"));
}

#[actix_web::test]
async fn the_api_explorer_is_served_without_internet() {
    let app = common::spawn().await;
    let reply = app.get("/docs/").await;
    assert_eq!(reply.status.as_u16(), 200);
    let html = String::from_utf8_lossy(&reply.body);
    assert!(html.contains("swagger-ui"), "{html}");
    assert!(!html.contains("https://"), "the explorer must not load assets from the internet");
    let spec = app.get("/openapi.json").await.json();
    assert_eq!(spec["openapi"], "3.1.0");
}

#[test]
fn the_committed_openapi_document_is_the_generated_one() {
    let committed: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string("openapi/openapi.json").expect("openapi/openapi.json")).unwrap();
    let generated = serde_json::to_value(mip::app::openapi()).unwrap();
    assert!(
        committed == generated,
        "openapi/openapi.json is stale: run `cargo run -q -- openapi > openapi/openapi.json` and commit it"
    );
}

#[actix_web::test]
async fn who_may_write_is_answered_before_what_is_wrong_with_the_body() {
    let app = common::spawn().await;
    let malformed = |path: &str, token: Option<&str>| {
        let mut request = TestRequest::post()
            .uri(path)
            .insert_header(("content-type", "application/json"))
            .set_payload("{\"year\": ");
        if let Some(token) = token {
            request = request.insert_header(("authorization", format!("Bearer {token}")));
        }
        request
    };
    app.send(malformed("/api/v1/editions", None)).await.problem(401);
    app.send(malformed("/api/v1/labs", None)).await.problem(401);
    app.send(malformed("/api/v1/events", None)).await.problem(401);
    app.send(malformed("/api/v1/me/tokens", None)).await.problem(401);
    // A caller who may not write is told so, whatever its body.
    let organizer = app.organizer_token().await;
    app.send(malformed("/api/v1/editions", Some(&organizer))).await.problem(403);
    app.send(malformed("/api/v1/labs", Some(&organizer))).await.problem(403);
    // With the right to write, the body is what is wrong.
    let admin = app.admin_token().await;
    assert_eq!(app.send(malformed("/api/v1/editions", Some(&admin))).await.problem_fields(400), vec!["body"]);
}

/// A generated client sends and expects what the document lists: each enum's published values
/// must be exactly what serde writes.
fn assert_schema_lists_the_wire_values<T: utoipa::ToSchema + serde::Serialize>(all: &[T]) {
    let schema = serde_json::to_value(T::schema()).unwrap();
    let published = schema["enum"].as_array().cloned().unwrap_or_default();
    let spoken: Vec<serde_json::Value> = all.iter().map(|value| serde_json::to_value(value).unwrap()).collect();
    assert_eq!(published, spoken, "the schema of {} lists other values than the server speaks", T::name());
}

#[test]
fn every_enum_is_published_with_the_values_the_server_speaks() {
    use mip::accounts::model::AuthMethod;
    use mip::auth::{Role, Scope};
    use mip::editions::model::Phase;
    use mip::events::filter::{EventSort, Facet};
    use mip::events::model::{Audience, EventFormat, EventMode, EventStatus, HistoryAction, Publication};
    use mip::organizers::model::{MemberStatus, OrganizerKind};
    assert_schema_lists_the_wire_values(EventFormat::ALL);
    assert_schema_lists_the_wire_values(EventMode::ALL);
    assert_schema_lists_the_wire_values(Audience::ALL);
    assert_schema_lists_the_wire_values(Publication::ALL);
    assert_schema_lists_the_wire_values(EventStatus::ALL);
    assert_schema_lists_the_wire_values(HistoryAction::ALL);
    assert_schema_lists_the_wire_values(OrganizerKind::ALL);
    assert_schema_lists_the_wire_values(EventSort::ALL);
    assert_schema_lists_the_wire_values(Facet::ALL);
    assert_schema_lists_the_wire_values(&[Role::Admin, Role::Organizer]);
    assert_schema_lists_the_wire_values(&[Scope::EventsWrite, Scope::ImportsWrite, Scope::ReportsRead]);
    assert_schema_lists_the_wire_values(&[Phase::Upcoming, Phase::Referencing, Phase::Running, Phase::Closed]);
    assert_schema_lists_the_wire_values(&[AuthMethod::Session, AuthMethod::ApiToken]);
    assert_schema_lists_the_wire_values(&[MemberStatus::Active, MemberStatus::Invited]);
}

/// The same, for every enum of the document, including any added later: wire values are
/// snake_case (or scopes such as `events:write`, or sorts such as `-starts_at`), never a Rust name.
#[test]
fn no_enum_of_the_document_lists_a_rust_variant_name() {
    fn walk(value: &serde_json::Value, path: &str, found: &mut Vec<String>) {
        match value {
            serde_json::Value::Object(map) => {
                if let Some(serde_json::Value::Array(values)) = map.get("enum") {
                    for v in values.iter().filter_map(|v| v.as_str()) {
                        if v.chars().any(|c| c.is_ascii_uppercase()) {
                            found.push(format!("{path}: {v}"));
                        }
                    }
                }
                for (key, inner) in map {
                    walk(inner, &format!("{path}/{key}"), found);
                }
            }
            serde_json::Value::Array(items) => items.iter().for_each(|inner| walk(inner, path, found)),
            _ => {}
        }
    }
    let mut found = Vec::new();
    walk(&serde_json::to_value(mip::app::openapi()).unwrap(), "", &mut found);
    assert!(found.is_empty(), "{found:#?}");
}

#[actix_web::test]
async fn head_answers_as_get_on_every_get_resource() {
    let app = common::spawn().await;
    for path in ["/api/v1/events", "/api/v1/editions", "/api/v1/regions", "/api/v1/labs", "/health/live"] {
        let get = app.get(path).await;
        let head = app.send(TestRequest::default().method(actix_web::http::Method::HEAD).uri(path)).await;
        assert_eq!(head.status.as_u16(), 200, "HEAD {path}");
        assert_eq!(head.header("etag"), get.header("etag"), "HEAD {path} validates like GET");
    }
    let missing = app.send(TestRequest::default().method(actix_web::http::Method::HEAD).uri("/api/v1/editions/1999"));
    assert_eq!(missing.await.status.as_u16(), 404);
}

#[actix_web::test]
async fn a_405_says_which_methods_the_path_allows() {
    let app = common::spawn().await;
    let reply = app.send(TestRequest::put().uri("/api/v1/events")).await;
    reply.problem(405);
    assert_eq!(reply.header("allow").as_deref(), Some("GET, HEAD, OPTIONS, POST"));
    let reply = app.send(TestRequest::post().uri("/api/v1/events/some-slug")).await;
    reply.problem(405);
    assert_eq!(reply.header("allow").as_deref(), Some("DELETE, GET, HEAD, OPTIONS, PATCH"));
}

#[actix_web::test]
async fn every_answer_carries_the_security_headers() {
    let app = common::spawn().await;
    for path in ["/api/v1/editions", "/api/v1/nowhere", "/docs/"] {
        let reply = app.get(path).await;
        assert_eq!(reply.header("x-content-type-options").as_deref(), Some("nosniff"), "{path}");
        assert_eq!(reply.header("referrer-policy").as_deref(), Some("no-referrer"), "{path}");
        let policy = reply.header("content-security-policy").unwrap_or_default();
        assert!(policy.contains("frame-ancestors 'none'"), "{path}: {policy}");
        assert!(reply.header("strict-transport-security").is_none(), "HSTS is off unless configured");
    }
    let docs = app.get("/docs/").await.header("content-security-policy").unwrap();
    assert!(docs.contains("script-src 'self'") && !docs.contains("http"), "{docs}");
    let https =
        common::spawn_with(|db| mip::config::Settings { hsts_max_age_secs: 31_536_000, ..common::settings(db) });
    let reply = https.await.get("/api/v1/editions").await;
    assert_eq!(reply.header("strict-transport-security").as_deref(), Some("max-age=31536000; includeSubDomains"));
}

/// Generators refuse a document with a dangling `$ref` (a schema that only a parameter names).
#[test]
fn every_reference_of_the_document_resolves() {
    fn refs(value: &serde_json::Value, found: &mut Vec<String>) {
        match value {
            serde_json::Value::Object(map) => {
                if let Some(serde_json::Value::String(target)) = map.get("$ref") {
                    found.push(target.clone());
                }
                map.values().for_each(|inner| refs(inner, found));
            }
            serde_json::Value::Array(items) => items.iter().for_each(|inner| refs(inner, found)),
            _ => {}
        }
    }
    let document = serde_json::to_value(mip::app::openapi()).unwrap();
    let mut found = Vec::new();
    refs(&document, &mut found);
    let dangling: Vec<&String> = found
        .iter()
        .filter(|target| {
            let pointer = target.trim_start_matches('#');
            document.pointer(pointer).is_none()
        })
        .collect();
    assert!(!found.is_empty() && dangling.is_empty(), "{dangling:?}");
}

#[actix_web::test]
async fn an_oversized_uri_or_header_block_is_a_problem_not_a_reset() {
    let app = common::spawn().await;
    let long = format!("/api/v1/events?q={}", "a".repeat(9 * 1024));
    app.get(&long).await.problem(414);
    let big = "b".repeat(20 * 1024);
    let request = TestRequest::get()
        .uri("/api/v1/editions")
        .insert_header(("x-one", big.as_str()))
        .insert_header(("x-two", big.as_str()));
    app.send(request).await.problem(431);
}

#[actix_web::test]
async fn every_list_refuses_an_unknown_parameter_and_accepts_the_cache_buster() {
    let app = common::spawn().await;
    for list in ["/api/v1/labs", "/api/v1/organizers", "/api/v1/editions", "/api/v1/events"] {
        assert_eq!(app.get(&format!("{list}?regoin=53")).await.problem_fields(400), vec!["regoin"], "{list}");
        assert_eq!(app.get(&format!("{list}?_=1732500000")).await.status.as_u16(), 200, "{list}");
    }
    // The short lists answered whole take no parameter at all.
    let admin = app.admin_token().await;
    for list in ["/api/v1/regions", "/api/v1/me/tokens"] {
        assert_eq!(app.get_as(&format!("{list}?limit=500"), &admin).await.problem_fields(400), vec!["limit"], "{list}");
        assert_eq!(app.get_as(&format!("{list}?_=1"), &admin).await.status.as_u16(), 200, "{list}");
    }
    app.post("/api/v1/editions", Some(&admin), common::edition_body(2030)).await;
    let tracks = app.get("/api/v1/editions/2030/tracks?regoin=53").await;
    assert_eq!(tracks.problem_fields(400), vec!["regoin"]);
    for list in ["/api/v1/labs", "/api/v1/organizers"] {
        assert_eq!(app.get(&format!("{list}?region=53&region=32")).await.status.as_u16(), 200, "{list}");
        assert_eq!(app.get(&format!("{list}?region=,,,")).await.problem_fields(400), vec!["region"], "{list}");
    }
}
