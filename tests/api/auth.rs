//! Login, per-account throttling, and what an admin route does with every kind of bad token.

use crate::common;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Utc;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use mip::auth::Role;
use serde_json::{Value, json};
use uuid::Uuid;

const EDITIONS: &str = "/api/v1/editions";

fn test_secret() -> String {
    mip::config::Settings::for_tests("").jwt_secret.expect("the test settings sign with a fixed secret")
}

/// Claims as the service issues them for an admin, valid for ten minutes.
/// The admin account the forged tokens speak for: it exists, so each forgery below is refused for
/// what is wrong with the token itself, not because its account is unknown.
const ADMIN_ID: Uuid = Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0001);

fn admin_claims() -> Value {
    let now = Utc::now().timestamp();
    json!({
        "sub": ADMIN_ID,
        "role": "admin",
        "iss": mip::auth::tokens::ISSUER,
        "aud": mip::auth::tokens::AUDIENCE,
        "iat": now,
        "exp": now + 600,
    })
}

async fn spawn_with_admin() -> common::TestApp {
    use diesel::prelude::*;
    use mip::schema::accounts;
    let app = common::spawn().await;
    diesel::insert_into(accounts::table)
        .values((
            accounts::id.eq(ADMIN_ID),
            accounts::email.eq("forged-admin@mip.example"),
            accounts::password_hash.eq("not a hash: this account never logs in"),
            accounts::role.eq("admin"),
        ))
        .execute(&mut app.db.conn())
        .unwrap();
    app
}

fn sign(claims: &Value, secret: &str) -> String {
    jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &EncodingKey::from_secret(secret.as_bytes())).unwrap()
}

/// The problem body without what differs from one request to the next.
fn without_request_id(mut problem: Value) -> Value {
    problem.as_object_mut().unwrap().remove("request_id");
    problem
}

#[actix_web::test]
async fn login_returns_a_jwt_for_the_account() {
    let app = common::spawn().await;
    let hash = mip::auth::password::hash(common::PASSWORD).unwrap();
    let account = mip::auth::repo::create(&mut app.db.conn(), "Admin@MIP.example", &hash, Role::Admin, None).unwrap();

    let reply = app.login("admin@mip.example", common::PASSWORD).await;
    assert_eq!(reply.status.as_u16(), 200, "{}", String::from_utf8_lossy(&reply.body));
    let body = reply.json();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    assert!(body["refresh_token"].as_str().is_some_and(|t| t.len() >= 32));

    let token = body["access_token"].as_str().unwrap();
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_issuer(&["mip"]);
    validation.set_audience(&["mip-api"]);
    let claims = jsonwebtoken::decode::<Value>(token, &DecodingKey::from_secret(test_secret().as_bytes()), &validation)
        .expect("an HS256 JWT signed with the service's secret")
        .claims;
    assert_eq!(claims["sub"], json!(account.id));
    assert_eq!(claims["role"], "admin");
    assert_eq!(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(), 900);

    let created = app.post(EDITIONS, Some(token), common::edition_body(2030)).await;
    assert_eq!(created.status.as_u16(), 201, "the token opens admin routes");
}

#[actix_web::test]
async fn an_organizer_token_names_its_organizer() {
    let app = common::spawn().await;
    let organizer = app.create_organizer("Ville de Rennes");
    let token = app.account_token("agent@rennes.example", Role::Organizer, Some(organizer)).await;
    let payload = token.split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    assert_eq!(claims["role"], "organizer");
    assert_eq!(claims["org"], json!(organizer));
}

#[actix_web::test]
async fn wrong_password_and_unknown_email_get_the_same_401() {
    let app = common::spawn().await;
    app.admin_token().await;
    let hash = mip::auth::password::hash(common::PASSWORD).unwrap();
    mip::auth::repo::create(&mut app.db.conn(), "known@mip.example", &hash, Role::Admin, None).unwrap();

    let wrong_password = app.login("known@mip.example", "not the password").await;
    let unknown_email = app.login("nobody@mip.example", "not the password").await;
    wrong_password.problem(401);
    unknown_email.problem(401);
    assert_eq!(wrong_password.header("www-authenticate"), unknown_email.header("www-authenticate"));
    assert_eq!(without_request_id(wrong_password.json()), without_request_id(unknown_email.json()));
    assert!(!String::from_utf8_lossy(&wrong_password.body).contains("known@mip.example"));
}

#[actix_web::test]
async fn logins_are_throttled_per_account_after_repeated_failures() {
    let app = common::spawn_with(|db| {
        let mut settings = common::settings(db);
        settings.login_max_failures = 3;
        settings.login_window_secs = 600;
        settings
    })
    .await;
    let hash = mip::auth::password::hash(common::PASSWORD).unwrap();
    for email in ["target@mip.example", "bystander@mip.example"] {
        mip::auth::repo::create(&mut app.db.conn(), email, &hash, Role::Admin, None).unwrap();
    }

    for attempt in 1..=3 {
        let reply = app.login("target@mip.example", &format!("guess {attempt}")).await;
        reply.problem(401);
    }
    let throttled = app.login("target@mip.example", "guess 4").await;
    let problem = throttled.problem(429);
    assert_eq!(problem["type"], "urn:mip:problem:rate-limited");
    let retry_after: u64 = throttled.header("retry-after").expect("Retry-After").parse().unwrap();
    assert!((1..=600).contains(&retry_after), "{retry_after}");

    // Even the right password waits: the throttle is per account, not per guess.
    app.login("TARGET@mip.example", common::PASSWORD).await.problem(429);
    // Other accounts are not affected.
    assert_eq!(app.login("bystander@mip.example", common::PASSWORD).await.status.as_u16(), 200);
}

#[actix_web::test]
async fn a_successful_login_resets_the_failure_count() {
    let app = common::spawn_with(|db| {
        let mut settings = common::settings(db);
        settings.login_max_failures = 2;
        settings
    })
    .await;
    let hash = mip::auth::password::hash(common::PASSWORD).unwrap();
    mip::auth::repo::create(&mut app.db.conn(), "agent@mip.example", &hash, Role::Admin, None).unwrap();

    app.login("agent@mip.example", "typo").await.problem(401);
    assert_eq!(app.login("agent@mip.example", common::PASSWORD).await.status.as_u16(), 200);
    app.login("agent@mip.example", "typo again").await.problem(401);
    assert_eq!(app.login("agent@mip.example", common::PASSWORD).await.status.as_u16(), 200);
}

/// An argon2id hash of `password` that takes at least `at_least` to verify (as after raising
/// the cost parameters): what a burst of logins costs, made long enough to measure.
fn costly_hash(password: &str, at_least: std::time::Duration) -> String {
    use argon2::password_hash::rand_core::OsRng;
    use argon2::password_hash::{PasswordHasher, SaltString};
    use argon2::{Algorithm, Argon2, Params, Version};
    let argon2 = |passes: u32| {
        let params = Params::new(Params::DEFAULT_M_COST, passes, 1, None).unwrap();
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
    };
    let salt = SaltString::generate(&mut OsRng);
    // The fastest of a few runs: other tests running at once only ever slow a run down.
    let per_pass = (0..3)
        .map(|_| {
            let started = std::time::Instant::now();
            argon2(2).hash_password(password.as_bytes(), &salt).unwrap();
            started.elapsed() / 2
        })
        .min()
        .unwrap()
        .as_nanos()
        .max(1);
    let passes = u32::try_from(at_least.as_nanos() / per_pass + 1).unwrap();
    argon2(passes).hash_password(password.as_bytes(), &salt).unwrap().to_string()
}

#[actix_web::test]
async fn a_burst_of_logins_does_not_starve_other_requests_of_connections() {
    use std::time::Duration;
    let app = common::spawn_with(|db| mip::config::Settings { db_pool_size: 2, ..common::settings(db) }).await;
    // Six logins of ~1.5 s each: more than the pool's 5 s checkout timeout, had they held
    // the two connections while verifying.
    let hash = costly_hash(common::PASSWORD, Duration::from_millis(1500));
    mip::auth::repo::create(&mut app.db.conn(), "busy@mip.example", &hash, Role::Admin, None).unwrap();
    let app = &app;
    let logins = futures_util::future::join_all((0..6).map(|_| app.login("busy@mip.example", common::PASSWORD)));
    // The reads arrive once the logins are under way.
    let reads = futures_util::future::join_all((1..=3).map(|n| async move {
        actix_web::rt::time::sleep(Duration::from_millis(300 * n)).await;
        app.get(EDITIONS).await
    }));
    let (logins, reads) = futures_util::join!(logins, reads);
    let read_statuses: Vec<u16> = reads.iter().map(|r| r.status.as_u16()).collect();
    assert_eq!(read_statuses, [200, 200, 200]);
    // The logins themselves are served (or throttled: six at once exceed five attempts).
    let login_statuses: Vec<u16> = logins.iter().map(|r| r.status.as_u16()).collect();
    assert!(login_statuses.iter().all(|s| [200, 429].contains(s)), "{login_statuses:?}");
    assert!(login_statuses.contains(&200), "{login_statuses:?}");
}

/// POSTs a valid edition with this `Authorization` header value (or none).
async fn create_edition_with(app: &common::TestApp, authorization: Option<&str>) -> common::Reply {
    let headers: Vec<(&str, &str)> = authorization.map(|value| vec![("authorization", value)]).unwrap_or_default();
    app.json_with("POST", EDITIONS, None, &headers, common::edition_body(2030)).await
}

/// Asserts a 401 problem that asks for a bearer token, and that nothing was written.
async fn assert_refused(app: &common::TestApp, authorization: Option<&str>) {
    let reply = create_edition_with(app, authorization).await;
    reply.problem(401);
    assert_eq!(reply.header("www-authenticate").as_deref(), Some("Bearer"));
    app.get("/api/v1/editions/2030").await.problem(404);
}

#[actix_web::test]
async fn a_forged_admin_token_signed_with_the_right_secret_is_accepted() {
    // The control for the forgeries below: they differ from this one in one thing each.
    let app = spawn_with_admin().await;
    let token = sign(&admin_claims(), &test_secret());
    let reply = create_edition_with(&app, Some(&format!("Bearer {token}"))).await;
    assert_eq!(reply.status.as_u16(), 201, "{}", String::from_utf8_lossy(&reply.body));
}

#[actix_web::test]
async fn a_well_signed_token_for_an_account_that_does_not_exist_is_401() {
    let app = common::spawn().await; // no account behind ADMIN_ID here
    let token = sign(&admin_claims(), &test_secret());
    assert_refused(&app, Some(&format!("Bearer {token}"))).await;
}

#[actix_web::test]
async fn an_admin_route_without_a_token_is_401() {
    let app = common::spawn().await;
    assert_refused(&app, None).await;
}

#[actix_web::test]
async fn an_authorization_header_that_is_not_bearer_is_401() {
    let app = common::spawn().await;
    assert_refused(&app, Some("Basic YWRtaW46YWRtaW4=")).await;
    assert_refused(&app, Some("Bearer ")).await;
}

#[actix_web::test]
async fn a_garbage_token_is_401() {
    let app = common::spawn().await;
    assert_refused(&app, Some("Bearer not-a-jwt")).await;
    assert_refused(&app, Some("Bearer a.b.c")).await;
}

#[actix_web::test]
async fn a_token_signed_with_another_secret_is_401() {
    let app = spawn_with_admin().await;
    let token = sign(&admin_claims(), "another-secret-that-is-also-32-bytes-long");
    assert_refused(&app, Some(&format!("Bearer {token}"))).await;
}

#[actix_web::test]
async fn a_token_with_a_tampered_payload_is_401() {
    let app = common::spawn().await;
    let organizer = app.organizer_token().await;
    let mut parts: Vec<String> = organizer.split('.').map(String::from).collect();
    let mut claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&parts[1]).unwrap()).unwrap();
    claims["role"] = json!("admin");
    parts[1] = URL_SAFE_NO_PAD.encode(claims.to_string());
    assert_refused(&app, Some(&format!("Bearer {}", parts.join(".")))).await;
}

#[actix_web::test]
async fn an_expired_token_is_401() {
    let app = spawn_with_admin().await;
    let mut claims = admin_claims();
    let now = Utc::now().timestamp();
    claims["iat"] = json!(now - 3600);
    claims["exp"] = json!(now - 120);
    let reply = create_edition_with(&app, Some(&format!("Bearer {}", sign(&claims, &test_secret())))).await;
    let problem = reply.problem(401);
    assert!(problem["detail"].as_str().unwrap().contains("expired"), "{problem}");
}

#[actix_web::test]
async fn an_unsigned_alg_none_token_is_401() {
    let app = spawn_with_admin().await;
    let header = URL_SAFE_NO_PAD.encode(json!({"alg": "none", "typ": "JWT"}).to_string());
    let payload = URL_SAFE_NO_PAD.encode(admin_claims().to_string());
    assert_refused(&app, Some(&format!("Bearer {header}.{payload}."))).await;
    // The same, with the right signature kept: `none` must not switch verification off either.
    let signed = sign(&admin_claims(), &test_secret());
    let signature = signed.rsplit('.').next().unwrap();
    assert_refused(&app, Some(&format!("Bearer {header}.{payload}.{signature}"))).await;
}

#[actix_web::test]
async fn a_token_claiming_another_algorithm_is_401() {
    let app = spawn_with_admin().await;
    let token = jsonwebtoken::encode(
        &Header::new(Algorithm::HS512),
        &admin_claims(),
        &EncodingKey::from_secret(test_secret().as_bytes()),
    )
    .unwrap();
    assert_refused(&app, Some(&format!("Bearer {token}"))).await;
}

#[actix_web::test]
async fn a_token_for_another_audience_is_401() {
    let app = spawn_with_admin().await;
    let mut claims = admin_claims();
    claims["aud"] = json!("another-api");
    assert_refused(&app, Some(&format!("Bearer {}", sign(&claims, &test_secret())))).await;
}

#[actix_web::test]
async fn a_token_from_another_issuer_is_401() {
    let app = spawn_with_admin().await;
    let mut claims = admin_claims();
    claims["iss"] = json!("someone-else");
    assert_refused(&app, Some(&format!("Bearer {}", sign(&claims, &test_secret())))).await;
}

#[actix_web::test]
async fn a_token_missing_a_required_claim_is_401() {
    let app = spawn_with_admin().await;
    for claim in ["exp", "aud", "iss", "sub"] {
        let mut claims = admin_claims();
        claims.as_object_mut().unwrap().remove(claim);
        assert_refused(&app, Some(&format!("Bearer {}", sign(&claims, &test_secret())))).await;
    }
}

#[actix_web::test]
async fn an_organizer_token_on_an_admin_route_is_403() {
    let app = common::spawn().await;
    let token = app.organizer_token().await;
    let reply = create_edition_with(&app, Some(&format!("Bearer {token}"))).await;
    let problem = reply.problem(403);
    assert_eq!(problem["type"], "urn:mip:problem:forbidden");
    app.get("/api/v1/editions/2030").await.problem(404);
}
