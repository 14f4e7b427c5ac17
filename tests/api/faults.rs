//! The database misbehaving: a request never waits on it for longer than the documented bounds,
//! and answers 503 with `Retry-After` instead of hanging or failing with a 500.

use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use mip::config::Settings;
use serde_json::json;

use crate::common;

#[actix_web::test]
async fn a_write_stuck_behind_a_lock_answers_503_with_retry_after_within_the_lock_timeout() {
    let app = common::spawn_with(|db| Settings { db_lock_timeout_ms: 300, ..common::settings(db) }).await;
    let admin = app.admin_token().await;
    assert_eq!(app.post("/api/v1/labs", Some(&admin), common::lab_body("ti-lab", "53")).await.status.as_u16(), 201);

    // Another session holds the lab's row (a stuck transaction, a long migration).
    let url = app.db.url.clone();
    let (held, release) = (std::sync::mpsc::channel(), std::sync::mpsc::channel::<()>());
    let holder = std::thread::spawn(move || {
        let mut conn = PgConnection::establish(&url).unwrap();
        conn.batch_execute("BEGIN; SELECT 1 FROM labs FOR UPDATE").unwrap();
        held.0.send(()).unwrap();
        release.1.recv().unwrap();
        conn.batch_execute("ROLLBACK").unwrap();
    });
    held.1.recv().unwrap();

    let started = Instant::now();
    let stuck = app.patch("/api/v1/labs/ti-lab", Some(&admin), json!({"name": "Ti-Lab"})).await;
    let waited = started.elapsed();
    let problem = stuck.problem(503);
    assert_eq!(problem["status"], 503);
    assert_eq!(stuck.header("retry-after").as_deref(), Some("2"));
    assert!(waited < Duration::from_secs(3), "gave up after the lock timeout, not {waited:?}");

    release.0.send(()).unwrap();
    holder.join().unwrap();
    let later = app.patch("/api/v1/labs/ti-lab", Some(&admin), json!({"name": "Ti-Lab"})).await;
    assert_eq!(later.status.as_u16(), 200, "nothing was left half done: {}", String::from_utf8_lossy(&later.body));
}

#[actix_web::test]
async fn every_pooled_connection_carries_the_timeouts() {
    #[derive(QueryableByName)]
    struct Setting {
        #[diesel(sql_type = diesel::sql_types::Text)]
        statement_timeout: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        lock_timeout: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        idle: String,
    }
    let app = common::spawn_with(|db| Settings { db_statement_timeout_ms: 4_000, ..common::settings(db) }).await;
    let mut conn = app.state.pool.get().unwrap();
    let setting: Setting = diesel::sql_query(
        "SELECT current_setting('statement_timeout') AS statement_timeout, current_setting('lock_timeout') AS lock_timeout, \
         current_setting('idle_in_transaction_session_timeout') AS idle",
    )
    .get_result(&mut conn)
    .unwrap();
    assert_eq!(
        (setting.statement_timeout.as_str(), setting.lock_timeout.as_str(), setting.idle.as_str()),
        ("4s", "3s", "30s")
    );
}

#[actix_web::test]
async fn a_body_that_stalls_is_answered_408_within_the_body_timeout() {
    use futures_util::stream::{self, StreamExt};

    let app = common::spawn_with(|db| Settings { body_timeout_ms: 200, ..common::settings(db) }).await;
    let admin = app.admin_token().await;
    // The first bytes of a lab, then nothing: a client that went quiet (or a slowloris).
    let first = stream::once(async {
        Ok::<_, actix_web::error::PayloadError>(actix_web::web::Bytes::from_static(b"{\"slug\":"))
    });
    let stalled = first.chain(stream::pending()).boxed_local();
    let request = actix_web::test::TestRequest::post()
        .uri("/api/v1/labs")
        .insert_header(("content-type", "application/json"))
        .insert_header(("authorization", format!("Bearer {admin}")))
        .to_request();
    let (request, _) = request.replace_payload(actix_http::Payload::Stream { payload: stalled });
    let started = Instant::now();
    let response = actix_web::test::call_service(&app.service, request).await;
    assert_eq!(response.status().as_u16(), 408);
    assert_eq!(response.headers().get("connection").map(|v| v.to_str().unwrap()), Some("close"));
    assert!(started.elapsed() < Duration::from_secs(3), "answered after the body timeout");
    let problem: serde_json::Value = actix_web::test::read_body_json(response).await;
    assert_eq!(problem["errors"][0]["field"], "body");
    assert_eq!(app.get("/api/v1/labs").await.json()["total"], 0, "nothing was created");
}

/// A free TCP port on the loopback address.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Waits (bounded) for the server to accept connections.
fn wait_until_listening(port: u16) {
    for _ in 0..200 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("the server did not start listening");
}

#[test]
fn on_sigterm_the_server_finishes_the_request_in_flight_and_exits_0() {
    use std::io::{Read, Write};

    let db = common::TestDb::new();
    let port = free_port();
    let mut server = std::process::Command::new(env!("CARGO_BIN_EXE_mip"))
        .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .env("DATABASE_URL", &db.url)
        .env("MIP_JWT_SECRET", "a-secret-for-the-shutdown-test-of-32-bytes")
        .env("MIP_LOG", "warn")
        .spawn()
        .unwrap();
    wait_until_listening(port);

    // A request whose body is still arriving when the signal comes.
    let body = br#"{"email": "nobody@mip.example", "password": "not-the-password"}"#;
    let (first, rest) = body.split_at(10);
    let mut client = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    client.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    write!(
        client,
        "POST /api/v1/auth/login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .unwrap();
    client.write_all(first).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let terminated = std::process::Command::new("kill").args(["-TERM", &server.id().to_string()]).status().unwrap();
    assert!(terminated.success());
    std::thread::sleep(Duration::from_millis(300));
    client.write_all(rest).unwrap();
    let mut answer = String::new();
    let _ = client.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 401"), "the request in flight got its answer: {answer}");

    let started = Instant::now();
    let status = loop {
        if let Some(status) = server.try_wait().unwrap() {
            break status;
        }
        assert!(started.elapsed() < Duration::from_secs(25), "the server did not stop");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "exit status {status}");
}
