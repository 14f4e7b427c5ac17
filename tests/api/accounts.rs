//! Sessions (refresh, logout), API tokens for scripts, and the limits on login and register.

use crate::common::{self, register, registration};

use std::time::{Duration, Instant};

use actix_web::test::TestRequest;
use diesel::prelude::*;
use mip::auth::Role;
use serde_json::{Value, json};

fn bearer(body: &Value) -> String {
    body["access_token"].as_str().unwrap().to_string()
}

#[actix_web::test]
async fn a_refresh_token_rotates_and_works_once() {
    let app = common::spawn().await;
    let session = register(&app, "a@x.example").await;
    let first = session["refresh_token"].as_str().unwrap();
    let rotated = app.post("/api/v1/auth/refresh", None, json!({"refresh_token": first})).await;
    assert_eq!(rotated.status.as_u16(), 200);
    let rotated = rotated.json();
    let second = rotated["refresh_token"].as_str().unwrap();
    assert_ne!(first, second);
    assert_eq!(app.get_as("/api/v1/me", &bearer(&rotated)).await.json()["email"], "a@x.example");
    // The second one works once too.
    let third = app.post("/api/v1/auth/refresh", None, json!({"refresh_token": second})).await.json();
    assert!(third["refresh_token"].is_string());
}

#[actix_web::test]
async fn reusing_a_refresh_token_revokes_the_whole_chain() {
    let app = common::spawn().await;
    let session = register(&app, "a@x.example").await;
    let stolen = session["refresh_token"].as_str().unwrap();
    let legit = app.post("/api/v1/auth/refresh", None, json!({"refresh_token": stolen})).await.json();
    // The thief replays the old token: refused, and the legitimate successor dies with it.
    app.post("/api/v1/auth/refresh", None, json!({"refresh_token": stolen})).await.problem(401);
    app.post("/api/v1/auth/refresh", None, json!({"refresh_token": legit["refresh_token"]})).await.problem(401);
    // Another login is a separate chain and still works.
    let other = app.login("a@x.example", common::PASSWORD).await.json();
    let next = app.post("/api/v1/auth/refresh", None, json!({"refresh_token": other["refresh_token"]})).await;
    assert_eq!(next.status.as_u16(), 200);
}

#[actix_web::test]
async fn logout_ends_the_session_and_is_idempotent() {
    let app = common::spawn().await;
    let session = register(&app, "a@x.example").await;
    let refresh = session["refresh_token"].clone();
    assert_eq!(app.post("/api/v1/auth/logout", None, json!({"refresh_token": refresh})).await.status.as_u16(), 204);
    assert_eq!(app.post("/api/v1/auth/logout", None, json!({"refresh_token": refresh})).await.status.as_u16(), 204);
    app.post("/api/v1/auth/refresh", None, json!({"refresh_token": refresh})).await.problem(401);
    app.post("/api/v1/auth/refresh", None, json!({"refresh_token": "made-up"})).await.problem(401);
}

#[actix_web::test]
async fn access_tokens_expire_within_the_hour() {
    let app = common::spawn().await;
    let session = register(&app, "a@x.example").await;
    let expires_in = session["expires_in"].as_u64().unwrap();
    assert!(expires_in > 0 && expires_in <= 3600);
    let too_long = mip::config::Settings { access_token_ttl_secs: 7200, ..common::settings(&app.db) };
    assert!(too_long.validated(false).unwrap_err().contains("MIP_ACCESS_TOKEN_TTL"));
}

#[actix_web::test]
async fn an_api_token_is_shown_once_and_works_with_its_scopes() {
    let app = common::spawn().await;
    let session = bearer(&register(&app, "a@x.example").await);
    let created =
        app.post("/api/v1/me/tokens", Some(&session), json!({"name": "agenda sync", "scopes": ["events:write"]})).await;
    assert_eq!(created.status.as_u16(), 201);
    let created = created.json();
    let token = created["token"].as_str().unwrap();
    assert_eq!(created["scopes"], json!(["events:write"]));

    let me = app.get_as("/api/v1/me", token).await.json();
    assert_eq!(me["auth_method"], "api_token");
    assert_eq!(me["scopes"], json!(["events:write"]));

    let page = app.get_as("/api/v1/me/tokens", &session).await.json();
    assert_eq!(page["total"], 1);
    assert!(page["next_cursor"].is_null());
    let listed = &page["data"];
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert!(listed[0].get("token").is_none(), "the secret is never listed");
    assert!(listed[0]["last_used_at"].is_string(), "its use was recorded");
}

#[actix_web::test]
async fn a_revoked_api_token_is_refused_at_once() {
    let app = common::spawn().await;
    let session = bearer(&register(&app, "a@x.example").await);
    let created = app
        .post("/api/v1/me/tokens", Some(&session), json!({"name": "script", "scopes": ["imports:write"]}))
        .await
        .json();
    let token = created["token"].as_str().unwrap();
    assert_eq!(app.get_as("/api/v1/me", token).await.status.as_u16(), 200);
    let id = created["id"].as_str().unwrap();
    assert_eq!(app.delete(&format!("/api/v1/me/tokens/{id}"), Some(&session)).await.status.as_u16(), 204);
    app.get_as("/api/v1/me", token).await.problem(401);
    assert_eq!(app.get_as("/api/v1/me/tokens", &session).await.json()["data"], json!([]));
}

#[actix_web::test]
async fn an_expired_api_token_is_refused() {
    let app = common::spawn().await;
    let session = bearer(&register(&app, "a@x.example").await);
    let created = app
        .post("/api/v1/me/tokens", Some(&session), json!({"name": "script", "scopes": ["reports:read"]}))
        .await
        .json();
    let id: uuid::Uuid = created["id"].as_str().unwrap().parse().unwrap();
    // The record says expired (the JWT itself would still be within its `exp`).
    use mip::schema::api_tokens;
    diesel::update(api_tokens::table.find(id))
        .set(api_tokens::expires_at.eq(chrono::Utc::now() - chrono::Duration::seconds(1)))
        .execute(&mut app.db.conn())
        .unwrap();
    app.get_as("/api/v1/me", created["token"].as_str().unwrap()).await.problem(401);
}

#[actix_web::test]
async fn api_token_rules_are_checked() {
    let app = common::spawn().await;
    let session = bearer(&register(&app, "a@x.example").await);
    let in_days = |days: i64| (chrono::Utc::now() + chrono::Duration::days(days)).to_rfc3339();
    let cases = [
        (json!({"name": "x", "scopes": ["events:delete"]}), 400, "scopes[0]"),
        (json!({"name": "x", "scopes": []}), 422, "scopes"),
        (json!({"name": "", "scopes": ["events:write"]}), 422, "name"),
        (json!({"name": "   ", "scopes": ["events:write"]}), 422, "name"),
        (json!({"name": "x", "scopes": ["events:write"], "expires_at": in_days(-1)}), 422, "expires_at"),
        (json!({"name": "x", "scopes": ["events:write"], "expires_at": in_days(400)}), 422, "expires_at"),
    ];
    for (body, status, field) in cases {
        let reply = app.post("/api/v1/me/tokens", Some(&session), body.clone()).await;
        assert_eq!(reply.problem_fields(status), vec![field], "{body}");
    }
}

#[actix_web::test]
async fn an_api_token_cannot_manage_accounts() {
    let app = common::spawn().await;
    let registered = register(&app, "a@x.example").await;
    let session = bearer(&registered);
    let organizer = registered["account"]["organizer"]["id"].as_str().unwrap().to_string();
    let token = app
        .post("/api/v1/me/tokens", Some(&session), json!({"name": "s", "scopes": ["events:write", "imports:write"]}))
        .await
        .json()["token"]
        .as_str()
        .unwrap()
        .to_string();
    app.post("/api/v1/me/tokens", Some(&token), json!({"name": "child", "scopes": ["events:write"]}))
        .await
        .problem(403);
    app.get_as("/api/v1/me/tokens", &token).await.problem(403);
    app.post(&format!("/api/v1/organizers/{organizer}/members"), Some(&token), json!({"email": "b@x.example"}))
        .await
        .problem(403);
    app.patch(&format!("/api/v1/organizers/{organizer}"), Some(&token), json!({"name": "Renamed"})).await.problem(403);
}

#[actix_web::test]
async fn an_organizer_never_sees_or_revokes_another_accounts_tokens() {
    let app = common::spawn().await;
    let mine = bearer(&register(&app, "a@x.example").await);
    let theirs = bearer(&register(&app, "b@x.example").await);
    let their_token = app
        .post("/api/v1/me/tokens", Some(&theirs), json!({"name": "theirs", "scopes": ["events:write"]}))
        .await
        .json();
    assert_eq!(app.get_as("/api/v1/me/tokens", &mine).await.json()["data"], json!([]));
    let id = their_token["id"].as_str().unwrap();
    app.delete(&format!("/api/v1/me/tokens/{id}"), Some(&mine)).await.problem(404);
    assert_eq!(app.get_as("/api/v1/me", their_token["token"].as_str().unwrap()).await.status.as_u16(), 200);
}

#[actix_web::test]
async fn a_disabled_account_loses_access_with_its_unexpired_token() {
    let app = common::spawn().await;
    let session = bearer(&register(&app, "a@x.example").await);
    use mip::schema::accounts;
    diesel::update(accounts::table.filter(accounts::email.eq("a@x.example")))
        .set(accounts::disabled.eq(true))
        .execute(&mut app.db.conn())
        .unwrap();
    app.get_as("/api/v1/me", &session).await.problem(401);
}

fn from_address(request: TestRequest, address: &str) -> TestRequest {
    request.peer_addr(address.parse().unwrap())
}

#[actix_web::test]
async fn login_and_register_are_limited_per_client_address() {
    let app = common::spawn_with(|db| mip::config::Settings { auth_rate_per_minute: 3, ..common::settings(db) }).await;
    let login = |address: &str| {
        from_address(TestRequest::post().uri("/api/v1/auth/login"), address)
            .set_json(json!({"email": "nobody@x.example", "password": "whatever it is"}))
    };
    for _ in 0..3 {
        assert_eq!(app.send(login("203.0.113.7:5000")).await.status.as_u16(), 401);
    }
    let limited = app.send(login("203.0.113.7:5001")).await;
    limited.problem(429);
    assert!(limited.header("retry-after").unwrap().parse::<u64>().unwrap() >= 1);
    // Registering from the same address is limited too; another address is not.
    let register = from_address(TestRequest::post().uri("/api/v1/auth/register"), "203.0.113.7:5002")
        .set_json(registration("c@x.example"));
    app.send(register).await.problem(429);
    assert_eq!(app.send(login("198.51.100.1:5000")).await.status.as_u16(), 401);
}

#[actix_web::test]
async fn repeated_failed_logins_throttle_the_account_from_any_address() {
    let app = common::spawn_with(|db| mip::config::Settings { login_max_failures: 3, ..common::settings(db) }).await;
    register(&app, "a@x.example").await;
    for address in ["203.0.113.1:1", "203.0.113.2:1", "203.0.113.3:1"] {
        let request = from_address(TestRequest::post().uri("/api/v1/auth/login"), address)
            .set_json(json!({"email": "a@x.example", "password": "wrong password!!"}));
        app.send(request).await.problem(401);
    }
    // Even the right password waits now: the account, not the address, is throttled.
    let reply = app.login("A@x.example", common::PASSWORD).await;
    reply.problem(429);
    assert!(reply.header("retry-after").is_some());
    // Another account is not affected.
    register(&app, "b@x.example").await;
    assert_eq!(app.login("b@x.example", common::PASSWORD).await.status.as_u16(), 200);
}

#[actix_web::test]
async fn repeated_registrations_of_one_email_are_throttled() {
    let app = common::spawn_with(|db| mip::config::Settings { login_max_failures: 2, ..common::settings(db) }).await;
    register(&app, "a@x.example").await;
    app.post("/api/v1/auth/register", None, registration("a@x.example")).await.problem(409);
    app.post("/api/v1/auth/register", None, registration("A@X.example")).await.problem(429);
}

#[actix_web::test]
async fn unknown_email_and_wrong_password_answer_alike_in_comparable_time() {
    let app = common::spawn().await;
    register(&app, "a@x.example").await;
    let mut timings = [Vec::new(), Vec::new()];
    let mut bodies = Vec::new();
    for round in 0..3 {
        for (which, email) in ["a@x.example", "nobody@x.example"].into_iter().enumerate() {
            let started = Instant::now();
            let reply = app.login(email, &format!("wrong password {round}")).await;
            timings[which].push(started.elapsed());
            let mut problem = reply.problem(401);
            problem.as_object_mut().unwrap().remove("request_id");
            bodies.push(problem);
        }
    }
    assert!(bodies.windows(2).all(|pair| pair[0] == pair[1]), "{bodies:?}");
    let median = |mut t: Vec<Duration>| {
        t.sort();
        t[1]
    };
    let (wrong_password, unknown_email) = (median(timings[0].clone()), median(timings[1].clone()));
    // Both pay for one argon2 verification; without the dummy hash the unknown email would
    // answer in microseconds, hundreds of times faster.
    assert!(unknown_email * 4 > wrong_password, "unknown {unknown_email:?} vs wrong {wrong_password:?}");
}

#[actix_web::test]
async fn the_admin_command_line_account_logs_in_as_admin() {
    let app = common::spawn().await;
    let token = app.account_token("root@mip.example", Role::Admin, None).await;
    let me = app.get_as("/api/v1/me", &token).await.json();
    assert_eq!(me["role"], "admin");
    assert!(me["organizer"].is_null());
}

#[actix_web::test]
async fn an_admins_api_token_cannot_verify_organizers_or_write_editions_whatever_its_scopes() {
    let w = common::world().await;
    let token = w.api_token(&w.admin, json!(["reports:read", "events:write", "imports:write"])).await;
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
    let w = common::world().await;
    let token = w.api_token(&w.member, json!(["reports:read"])).await;
    let members = format!("/api/v1/organizers/{}/members", w.organizer);
    w.app.get_as(&members, token["token"].as_str().unwrap()).await.problem(403);
    assert_eq!(w.app.get_as(&members, &w.member).await.status.as_u16(), 200);
}

#[actix_web::test]
async fn each_scope_of_an_api_token_is_stored_once() {
    let w = common::world().await;
    let token = w.api_token(&w.member, json!(["events:write", "reports:read", "events:write"])).await;
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
async fn concurrent_token_creations_cannot_outrun_the_limit_of_live_tokens() {
    use mip::auth::api_tokens::MAX_LIVE_TOKENS_PER_ACCOUNT;
    use mip::schema::api_tokens;
    let app = common::spawn_with(|db| mip::config::Settings { db_pool_size: 12, ..common::settings(db) }).await;
    let session = bearer(&register(&app, "a@x.example").await);
    let account: uuid::Uuid = app.get_as("/api/v1/me", &session).await.json()["id"].as_str().unwrap().parse().unwrap();
    // One short of the limit.
    let held: Vec<_> = (1..MAX_LIVE_TOKENS_PER_ACCOUNT)
        .map(|n| {
            (
                api_tokens::id.eq(uuid::Uuid::now_v7()),
                api_tokens::account_id.eq(account),
                api_tokens::name.eq(format!("held {n}")),
                api_tokens::scopes.eq(vec!["events:write".to_string()]),
                api_tokens::expires_at.eq(chrono::Utc::now() + chrono::Duration::days(30)),
            )
        })
        .collect();
    diesel::insert_into(api_tokens::table).values(&held).execute(&mut app.db.conn()).unwrap();

    let creations = (0..30).map(|n| {
        app.post("/api/v1/me/tokens", Some(&session), json!({"name": format!("burst {n}"), "scopes": ["events:write"]}))
    });
    let replies = common::lined_up(&app.db, "api_tokens", futures_util::future::join_all(creations)).await;
    let statuses: Vec<u16> = replies.iter().map(|r| r.status.as_u16()).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 409).count(), 29, "{statuses:?}");
    let live = app.get_as("/api/v1/me/tokens", &session).await.json();
    assert_eq!(live["total"], MAX_LIVE_TOKENS_PER_ACCOUNT);
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

#[actix_web::test]
async fn a_nul_character_in_login_or_registration_is_a_400_naming_the_field() {
    let app = common::spawn().await;
    let login =
        app.post("/api/v1/auth/login", None, json!({"email": "a\u{0}@x.example", "password": "whatever it is"}));
    assert_eq!(login.await.problem_fields(400), vec!["email"]);
    let mut body = registration("b@x.example");
    body["organizer"]["name"] = json!("Mairie\u{0}");
    assert_eq!(app.post("/api/v1/auth/register", None, body).await.problem_fields(400), vec!["organizer.name"]);
    let anonymous = app.get("/api/v1/organizers?q=mairie%00").await;
    assert_eq!(anonymous.problem_fields(400), vec!["q"]);
}
