//! Two instances of the service on one database answer as one: whatever must hold across
//! requests lives in PostgreSQL. Each test sends some requests to one instance and the rest to
//! the other, as a load balancer would.

use mip::auth::Role;
use serde_json::{Value, json};

use crate::common::{self, register};

fn bearer(body: &Value) -> String {
    body["access_token"].as_str().unwrap().to_string()
}

#[actix_web::test]
async fn login_throttling_counts_failures_on_every_instance() {
    let a = common::spawn_with(|db| mip::config::Settings { login_max_failures: 3, ..common::settings(db) }).await;
    let b = a.another_instance().await;
    a.account_token("shared@instances.example", Role::Organizer, Some(a.create_organizer("Partagé"))).await;
    assert_eq!(a.login("shared@instances.example", "wrong password 1").await.status.as_u16(), 401);
    assert_eq!(b.login("shared@instances.example", "wrong password 2").await.status.as_u16(), 401);
    assert_eq!(a.login("shared@instances.example", "wrong password 3").await.status.as_u16(), 401);
    // The fourth attempt is refused wherever it lands, even with the right password.
    b.login("shared@instances.example", common::PASSWORD).await.problem(429);
    a.login("shared@instances.example", common::PASSWORD).await.problem(429);
}

#[actix_web::test]
async fn a_refresh_token_rotates_once_across_instances_and_a_replay_revokes_the_chain() {
    let a = common::spawn().await;
    let b = a.another_instance().await;
    let session = register(&a, "rotation@instances.example").await;
    let first = session["refresh_token"].as_str().unwrap();
    let rotated = b.post("/api/v1/auth/refresh", None, json!({"refresh_token": first})).await;
    assert_eq!(rotated.status.as_u16(), 200);
    let second = rotated.json()["refresh_token"].as_str().unwrap().to_string();
    // Replayed on the other instance: refused, and the successor dies with it there too.
    a.post("/api/v1/auth/refresh", None, json!({"refresh_token": first})).await.problem(401);
    b.post("/api/v1/auth/refresh", None, json!({"refresh_token": second})).await.problem(401);
}

#[actix_web::test]
async fn an_api_token_revoked_on_one_instance_is_refused_by_the_other_at_once() {
    let a = common::spawn().await;
    let b = a.another_instance().await;
    let session = bearer(&register(&a, "token@instances.example").await);
    let created =
        a.post("/api/v1/me/tokens", Some(&session), json!({"name": "script", "scopes": ["events:write"]})).await.json();
    let token = created["token"].as_str().unwrap();
    assert_eq!(b.get_as("/api/v1/me", token).await.status.as_u16(), 200);
    let id = created["id"].as_str().unwrap();
    assert_eq!(b.delete(&format!("/api/v1/me/tokens/{id}"), Some(&session)).await.status.as_u16(), 204);
    a.get_as("/api/v1/me", token).await.problem(401);
}

#[actix_web::test]
async fn a_feed_validated_by_one_instance_is_current_on_the_other_until_either_changes_it() {
    let w = common::world().await;
    let b = w.app.another_instance().await;
    let event = w.publish(common::event_body()).await;
    let path = "/api/v1/feeds/events.ics";
    let etag = w.app.get(path).await.header("etag").unwrap();
    let other = b.get_with(path, &[("if-none-match", &etag)]).await;
    assert_eq!((other.status.as_u16(), other.header("etag")), (304, Some(etag.clone())));
    // A change written through the other instance makes the copy stale on the first.
    let cancel = format!("/api/v1/events/{}/cancel", event["id"].as_str().unwrap());
    assert_eq!(b.post(&cancel, Some(&w.member), json!({})).await.status.as_u16(), 200);
    assert_eq!(w.app.get_with(path, &[("if-none-match", &etag)]).await.status.as_u16(), 200);
}

#[actix_web::test]
async fn the_same_title_referenced_at_once_on_two_instances_gets_two_slugs() {
    let w = common::world().await;
    let b = w.app.another_instance().await;
    let body = common::titled("Atelier partagé entre deux instances");
    let (first, second) = futures_util::join!(
        w.app.post("/api/v1/events", Some(&w.member), body.clone()),
        b.post("/api/v1/events", Some(&w.member), body.clone())
    );
    assert_eq!((first.status.as_u16(), second.status.as_u16()), (201, 201));
    assert_ne!(first.json()["slug"], second.json()["slug"]);
}
