//! No secret reaches the logs: passwords, access and refresh tokens, API tokens.

use crate::common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use serde_json::json;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[actix_web::test]
async fn passwords_and_tokens_never_reach_the_logs() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber =
        tracing_subscriber::fmt().with_max_level(tracing::Level::TRACE).with_writer(move || writer.clone()).finish();
    // Global, in a test binary of its own: a thread-local subscriber misses events whose
    // callsites other threads have already registered.
    tracing::subscriber::set_global_default(subscriber).unwrap();

    let app = common::spawn().await;
    let session = app
        .post(
            "/api/v1/auth/register",
            None,
            json!({"email": "a@x.example", "password": common::PASSWORD,
                   "organizer": {"name": "Mairie", "kind": "local_authority", "department": "35"}}),
        )
        .await
        .json();
    let access = session["access_token"].as_str().unwrap().to_string();
    let refresh = session["refresh_token"].as_str().unwrap().to_string();
    app.login("a@x.example", "a wrong password").await;
    let api_token =
        app.post("/api/v1/me/tokens", Some(&access), json!({"name": "s", "scopes": ["events:write"]})).await.json();
    app.get_as("/api/v1/me", api_token["token"].as_str().unwrap()).await;
    app.get_as("/api/v1/me", "forged.token.value").await;
    app.post("/api/v1/auth/refresh", None, json!({"refresh_token": refresh})).await;

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("served"), "the request log was captured: {logs}");
    for secret in [
        common::PASSWORD,
        "a wrong password",
        &access,
        &refresh,
        api_token["token"].as_str().unwrap(),
        "forged.token.value",
    ] {
        assert!(!logs.contains(secret), "a secret reached the logs");
    }
}
