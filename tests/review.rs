//! Defects found in review of accounts, organizers and events: one test each, named after the
//! behaviour that was wrong.

mod common;

use actix_web::test::TestRequest;
use chrono::{Duration, Utc};
use mip::auth::Role;
use serde_json::{Value, json};
use uuid::Uuid;

/// A complete onsite event in Rennes (department 35, region deduced), fifteen days from now.
fn event_body(title: &str) -> Value {
    let day = (Utc::now() + Duration::days(15)).date_naive();
    json!({
        "edition": 2030,
        "title": title,
        "format": "workshop",
        "mode": "onsite",
        "sessions": [{"starts_at": format!("{day}T14:00"), "ends_at": format!("{day}T17:00")}],
        "venue": {"name": "Ti-Lab", "postal_code": "35000", "city": "Rennes", "department": "35"},
    })
}

struct World<S> {
    app: common::TestApp<S>,
    admin: String,
    /// A member of organizer A (verified).
    member: String,
    organizer: Uuid,
    /// A member of organizer B (unverified).
    other: String,
    other_organizer: Uuid,
}

async fn world() -> World<
    impl actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>,
        Error = actix_web::Error,
    >,
> {
    let app = common::spawn().await;
    let admin = app.admin_token().await;
    let reply = app.post("/api/v1/editions", Some(&admin), common::open_edition_body(2030)).await;
    assert_eq!(reply.status.as_u16(), 201, "{}", String::from_utf8_lossy(&reply.body));
    let organizer = app.create_organizer("Ti-Lab");
    app.post(&format!("/api/v1/organizers/{organizer}/verify"), Some(&admin), json!({})).await;
    let member = app.account_token("member@ti-lab.example", Role::Organizer, Some(organizer)).await;
    let other_organizer = app.create_organizer("Mairie de Lille");
    let other = app.account_token("member@lille.example", Role::Organizer, Some(other_organizer)).await;
    World { app, admin, member, organizer, other, other_organizer }
}

/// Creates an event as the member of A and returns its path.
macro_rules! created {
    ($world:expr, $body:expr) => {{
        let reply = $world.app.post("/api/v1/events", Some(&$world.member), $body).await;
        assert_eq!(reply.status.as_u16(), 201, "{}", String::from_utf8_lossy(&reply.body));
        format!("/api/v1/events/{}", reply.json()["id"].as_str().unwrap())
    }};
}

/// Creates, submits and publishes an event; returns its path.
macro_rules! published {
    ($world:expr, $title:expr) => {{
        let path = created!($world, event_body($title));
        let submitted = $world.app.post(&format!("{path}/submit"), Some(&$world.member), json!({})).await;
        assert_eq!(submitted.status.as_u16(), 200, "{}", String::from_utf8_lossy(&submitted.body));
        let published = $world.app.post(&format!("{path}/publish"), Some(&$world.admin), json!({})).await;
        assert_eq!(published.status.as_u16(), 200, "{}", String::from_utf8_lossy(&published.body));
        path
    }};
}

async fn api_token<S, B>(app: &common::TestApp<S>, session: &str, scopes: Value) -> Value
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let reply = app.post("/api/v1/me/tokens", Some(session), json!({"name": "script", "scopes": scopes})).await;
    assert_eq!(reply.status.as_u16(), 201, "{}", String::from_utf8_lossy(&reply.body));
    reply.json()
}

// --- Accounts and API tokens -------------------------------------------------------------------

#[actix_web::test]
async fn an_admins_api_token_cannot_verify_organizers_or_write_editions_whatever_its_scopes() {
    let w = world().await;
    let token = api_token(&w.app, &w.admin, json!(["reports:read", "events:write", "imports:write"])).await;
    let token = token["token"].as_str().unwrap();
    let verify = format!("/api/v1/organizers/{}/verify", w.other_organizer);
    w.app.post(&verify, Some(token), json!({})).await.problem(403);
    w.app.post("/api/v1/editions", Some(token), common::edition_body(2031)).await.problem(403);
    w.app.get_as("/api/v1/editions/2031", &w.admin).await.problem(404);
    // Still unverified; the admin's login session does it.
    w.app.get(&format!("/api/v1/organizers/{}", w.other_organizer)).await.problem(404);
    assert_eq!(w.app.post(&verify, Some(&w.admin), json!({})).await.status.as_u16(), 200);
}

#[actix_web::test]
async fn an_api_token_cannot_read_the_members_of_its_organizer() {
    let w = world().await;
    let token = api_token(&w.app, &w.member, json!(["reports:read"])).await;
    let members = format!("/api/v1/organizers/{}/members", w.organizer);
    w.app.get_as(&members, token["token"].as_str().unwrap()).await.problem(403);
    assert_eq!(w.app.get_as(&members, &w.member).await.status.as_u16(), 200);
}

#[actix_web::test]
async fn each_scope_of_an_api_token_is_stored_once() {
    let w = world().await;
    let token = api_token(&w.app, &w.member, json!(["events:write", "reports:read", "events:write"])).await;
    assert_eq!(token["scopes"], json!(["events:write", "reports:read"]));
    let listed = w.app.get_as("/api/v1/me/tokens", &w.member).await.json();
    assert_eq!(listed["data"][0]["scopes"], json!(["events:write", "reports:read"]));
}

#[actix_web::test]
async fn concurrent_failed_logins_cannot_outrun_the_per_account_limit() {
    let app = common::spawn_with(|db| mip::config::Settings { login_max_failures: 3, ..common::settings(db) }).await;
    app.account_token("target@x.example", Role::Admin, None).await;
    let attempts =
        (0..8).map(|i| app.login("target@x.example", if i % 2 == 0 { "guess number one" } else { "guess number two" }));
    let replies = futures_util::future::join_all(attempts).await;
    let statuses: Vec<u16> = replies.iter().map(|r| r.status.as_u16()).collect();
    assert!(statuses.iter().all(|s| [401, 429].contains(s)), "{statuses:?}");
    let guessed = statuses.iter().filter(|s| **s == 401).count();
    assert!(guessed <= 3, "{guessed} passwords were tried against a limit of 3: {statuses:?}");
}

#[actix_web::test]
async fn the_per_address_limit_reads_the_address_the_proxy_appended_not_the_one_the_client_wrote() {
    let app = common::spawn_with(|db| mip::config::Settings {
        auth_rate_per_minute: 2,
        trust_forwarded: true,
        ..common::settings(db)
    })
    .await;
    // Behind a proxy that appends the peer it saw (nginx, HAProxy, cloud load balancers), the
    // client controls everything before the last entry, and all of `Forwarded`.
    let login = |spoofed: usize| {
        TestRequest::post()
            .uri("/api/v1/auth/login")
            .insert_header(("x-forwarded-for", format!("198.51.100.{spoofed}, 203.0.113.7")))
            .insert_header(("forwarded", format!("for=192.0.2.{spoofed}")))
            .set_json(json!({"email": "nobody@x.example", "password": "whatever it is"}))
    };
    for spoofed in 0..2 {
        assert_eq!(app.send(login(spoofed)).await.status.as_u16(), 401);
    }
    app.send(login(2)).await.problem(429);
    // Another client behind the same proxy has its own quota.
    let other = TestRequest::post()
        .uri("/api/v1/auth/login")
        .insert_header(("x-forwarded-for", "203.0.113.8"))
        .set_json(json!({"email": "nobody@x.example", "password": "whatever it is"}));
    assert_eq!(app.send(other).await.status.as_u16(), 401);
}

#[actix_web::test]
async fn answers_carrying_tokens_are_never_stored_by_caches() {
    let app = common::spawn().await;
    let registration = json!({
        "email": "a@x.example",
        "password": common::PASSWORD,
        "organizer": {"name": "Mairie", "kind": "local_authority", "department": "35"},
    });
    let registered = app.post("/api/v1/auth/register", None, registration).await;
    assert_eq!(registered.status.as_u16(), 201);
    let login = app.login("a@x.example", common::PASSWORD).await;
    let refresh_token = login.json()["refresh_token"].as_str().unwrap().to_string();
    let refreshed = app.post("/api/v1/auth/refresh", None, json!({"refresh_token": refresh_token})).await;
    assert_eq!(refreshed.status.as_u16(), 200);
    let access = login.json()["access_token"].as_str().unwrap().to_string();
    let organizer = registered.json()["account"]["organizer"]["id"].as_str().unwrap().to_string();
    let invitation = app
        .post(&format!("/api/v1/organizers/{organizer}/members"), Some(&access), json!({"email": "b@x.example"}))
        .await;
    let accepted = app
        .post(
            "/api/v1/auth/invitations/accept",
            None,
            json!({"token": invitation.json()["token"], "password": "another long password"}),
        )
        .await;
    assert_eq!(accepted.status.as_u16(), 201);
    for (name, reply) in [("register", registered), ("login", login), ("refresh", refreshed), ("accept", accepted)] {
        let cache_control = reply.header("cache-control").unwrap_or_default();
        assert!(cache_control.contains("no-store"), "{name}: cache-control `{cache_control}`");
    }
}

// --- HTTP helpers ------------------------------------------------------------------------------

#[actix_web::test]
async fn a_transition_with_a_json_content_type_and_no_body_is_accepted() {
    let w = world().await;
    let path = created!(w, event_body("Sans corps"));
    let request = TestRequest::post()
        .uri(&format!("{path}/submit"))
        .insert_header(("authorization", format!("Bearer {}", w.member)))
        .insert_header(("content-type", "application/json"));
    let reply = w.app.send(request).await;
    assert_eq!(reply.status.as_u16(), 200, "{}", String::from_utf8_lossy(&reply.body));
    assert_eq!(reply.json()["publication"], "submitted");
    // A body of another type is still refused.
    let request = TestRequest::post()
        .uri(&format!("{path}/withdraw"))
        .insert_header(("authorization", format!("Bearer {}", w.member)))
        .insert_header(("content-type", "text/plain"))
        .set_payload("reason=doublon");
    w.app.send(request).await.problem(415);
}

#[actix_web::test]
async fn a_list_does_not_answer_304_to_if_modified_since_after_an_event_left_it() {
    let w = world().await;
    published!(w, "Premier atelier");
    let second = published!(w, "Second atelier");
    let list = format!("/api/v1/organizers/{}/events", w.organizer);
    let before = w.app.get(&list).await;
    assert_eq!(before.json()["total"], 2);
    let last_modified = before.header("last-modified").unwrap();
    // Withdrawing the newest event leaves the older one as the newest row shown.
    let withdrawn = w.app.post(&format!("{second}/withdraw"), Some(&w.member), json!({})).await;
    assert_eq!(withdrawn.status.as_u16(), 200);
    let after = w.app.get_with(&list, &[("if-modified-since", &last_modified)]).await;
    assert_eq!(after.status.as_u16(), 200, "a stale copy listing a withdrawn event was declared current");
    assert_eq!(after.json()["total"], 1);
    // The content ETag still revalidates an unchanged list.
    let etag = after.header("etag").unwrap();
    assert_eq!(w.app.get_with(&list, &[("if-none-match", &etag)]).await.status.as_u16(), 304);
}

#[actix_web::test]
async fn the_public_organizer_list_does_not_answer_304_after_an_organizer_left_a_filter() {
    let w = world().await;
    let admin = &w.admin;
    w.app.post(&format!("/api/v1/organizers/{}/verify", w.other_organizer), Some(admin), json!({})).await;
    // Both in Brittany; the one verified last moves to the Nord.
    for id in [w.organizer, w.other_organizer] {
        let reply = w.app.patch(&format!("/api/v1/organizers/{id}"), Some(admin), json!({"department": "35"})).await;
        assert_eq!(reply.status.as_u16(), 200, "{}", String::from_utf8_lossy(&reply.body));
    }
    let list = "/api/v1/organizers?region=53";
    let before = w.app.get(list).await;
    assert_eq!(before.json()["total"], 2);
    let last_modified = before.header("last-modified").unwrap();
    let path = format!("/api/v1/organizers/{}", w.other_organizer);
    assert_eq!(w.app.patch(&path, Some(admin), json!({"department": "59"})).await.status.as_u16(), 200);
    let after = w.app.get_with(list, &[("if-modified-since", &last_modified)]).await;
    assert_eq!(after.status.as_u16(), 200);
    assert_eq!(after.json()["total"], 1);
}

// --- Events ------------------------------------------------------------------------------------

#[actix_web::test]
async fn moving_the_venue_to_another_department_brings_that_departments_region() {
    let w = world().await;
    let path = created!(w, event_body("Atelier itinérant"));
    let moved = w
        .app
        .patch(&path, Some(&w.member), json!({"venue": {"city": "Lille", "postal_code": "59000", "department": "59"}}))
        .await;
    assert_eq!(moved.status.as_u16(), 200, "{}", String::from_utf8_lossy(&moved.body));
    let moved = moved.json();
    assert_eq!(moved["venue"]["region"], json!({"code": "32", "name": "Hauts-de-France"}));
    assert_eq!(moved["venue"]["department"]["code"], "59");
    // A region the client does write is still checked against the department.
    let wrong = w
        .app
        .patch(&path, Some(&w.member), json!({"venue": {"department": "35", "region": "32", "postal_code": "35000"}}))
        .await;
    assert_eq!(wrong.problem_fields(422), vec!["venue.department"]);
}

#[actix_web::test]
async fn naming_an_organizer_that_is_not_yours_is_403_whether_or_not_it_exists() {
    let w = world().await;
    let mut body = event_body("Chez les autres");
    body["organizer"] = json!(w.other_organizer.to_string());
    let theirs = w.app.post("/api/v1/events", Some(&w.member), body.clone()).await.problem(403);
    body["organizer"] = json!(Uuid::now_v7().to_string());
    let nobodys = w.app.post("/api/v1/events", Some(&w.member), body.clone()).await.problem(403);
    assert_eq!(theirs["detail"], nobodys["detail"], "the answer tells unverified organizers apart");
    body["organizer"] = json!("mairie-de-lille-ou-pas");
    w.app.post("/api/v1/events", Some(&w.member), body.clone()).await.problem(403);
    // Admins are still told that the organizer does not exist.
    let reply = w.app.post("/api/v1/events", Some(&w.admin), body).await;
    assert_eq!(reply.problem_fields(422), vec!["organizer"]);
}

#[actix_web::test]
async fn rejecting_without_a_reason_is_refused_for_who_asks_before_what_is_missing() {
    let w = world().await;
    let draft = created!(w, event_body("Brouillon"));
    let reject = format!("{draft}/reject");
    w.app.post(&reject, None, json!({})).await.problem(401);
    w.app.post(&reject, Some(&w.member), json!({})).await.problem(403);
    w.app.post(&reject, Some(&w.other), json!({})).await.problem(404);
    w.app.post("/api/v1/events/no-such-event/reject", Some(&w.admin), json!({})).await.problem(404);
    // For an admin, on a submitted event, the missing reason is what is wrong.
    w.app.post(&format!("{draft}/submit"), Some(&w.member), json!({})).await;
    assert_eq!(w.app.post(&reject, Some(&w.admin), json!({})).await.problem_fields(422), vec!["reason"]);
}

#[actix_web::test]
async fn another_organizers_member_is_not_told_that_only_admins_may_withdraw() {
    let w = world().await;
    let path = published!(w, "Publié");
    let refused = w.app.post(&format!("{path}/withdraw"), Some(&w.other), json!({})).await.problem(403);
    let detail = refused["detail"].as_str().unwrap();
    assert!(!detail.contains("only admins"), "{detail}");
    assert_eq!(w.app.get(&path).await.json()["publication"], "published");
}

#[actix_web::test]
async fn a_published_event_sent_back_to_moderation_queues_from_the_change() {
    let w = world().await;
    w.app.patch("/api/v1/editions/2030", Some(&w.admin), json!({"changes_require_review": true})).await;
    let path = published!(w, "Atelier");
    let published = w.app.get(&path).await.json();
    let changed = w.app.patch(&path, Some(&w.member), json!({"title": "Atelier modifié"})).await.json();
    assert_eq!(changed["publication"], "submitted");
    let submitted_at = changed["submitted_at"].as_str().unwrap().parse::<chrono::DateTime<Utc>>().unwrap();
    let published_at = published["published_at"].as_str().unwrap().parse::<chrono::DateTime<Utc>>().unwrap();
    assert!(submitted_at >= published_at, "submitted {submitted_at} before its publication {published_at}");
}

// --- Organizers --------------------------------------------------------------------------------

#[actix_web::test]
async fn clearing_an_organizers_department_keeps_its_region() {
    let w = world().await;
    let path = format!("/api/v1/organizers/{}", w.organizer);
    let placed = w.app.patch(&path, Some(&w.member), json!({"department": "35"})).await.json();
    assert_eq!(placed["region"]["code"], "53");
    let cleared = w.app.patch(&path, Some(&w.member), json!({"department": null})).await;
    assert_eq!(cleared.status.as_u16(), 200, "{}", String::from_utf8_lossy(&cleared.body));
    let cleared = cleared.json();
    assert!(cleared["department"].is_null());
    assert_eq!(cleared["region"], json!({"code": "53", "name": "Bretagne"}), "the region was not asked to change");
}

#[actix_web::test]
async fn a_title_of_spaces_is_no_title() {
    let w = world().await;
    let mut body = event_body("Atelier");
    body["title"] = json!("     ");
    let reply = w.app.post("/api/v1/events", Some(&w.member), body).await;
    assert_eq!(reply.problem_fields(422), vec!["title"]);
    let path = created!(w, event_body("Atelier"));
    let reply = w.app.patch(&path, Some(&w.member), json!({"title": " \t  "})).await;
    assert_eq!(reply.problem_fields(422), vec!["title"]);
}
