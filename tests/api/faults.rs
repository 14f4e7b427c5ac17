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

/// Holds `table` locked from another session until the returned sender is dropped or sent to.
fn hold_table_lock(url: String, table: &'static str) -> (std::sync::mpsc::Sender<()>, std::thread::JoinHandle<()>) {
    let (held, release) = (std::sync::mpsc::channel(), std::sync::mpsc::channel::<()>());
    let holder = std::thread::spawn(move || {
        let mut conn = PgConnection::establish(&url).unwrap();
        conn.batch_execute(&format!("BEGIN; LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")).unwrap();
        held.0.send(()).unwrap();
        let _ = release.1.recv();
        conn.batch_execute("ROLLBACK").unwrap();
    });
    held.1.recv().unwrap();
    (release.0, holder)
}

/// A write whose answer cannot be read back (here a table only the answer reads is stuck) is
/// answered 503 and saves nothing: the answer is built inside the write's transaction, before
/// the commit, so a client is never told "failed" about a write that was kept.
#[actix_web::test]
async fn a_created_edition_whose_answer_fails_is_not_kept() {
    let app = common::spawn_with(|db| Settings { db_lock_timeout_ms: 300, ..common::settings(db) }).await;
    let admin = app.admin_token().await;
    // The edition's answer lists its tracks; creating one writes no track.
    let (release, holder) = hold_table_lock(app.db.url.clone(), "tracks");
    let reply = app.post("/api/v1/editions", Some(&admin), common::edition_body(2031)).await;
    release.send(()).unwrap();
    holder.join().unwrap();

    assert_eq!(reply.problem(503)["status"], 503);
    assert!(reply.header("retry-after").is_some());
    assert_eq!(app.get("/api/v1/editions/2031").await.status.as_u16(), 404, "the write went with its answer");
    let retried = app.post("/api/v1/editions", Some(&admin), common::edition_body(2031)).await;
    assert_eq!(retried.status.as_u16(), 201, "a retry succeeds: {}", String::from_utf8_lossy(&retried.body));
}

#[actix_web::test]
async fn a_created_lab_whose_answer_fails_is_not_kept() {
    let app = common::spawn_with(|db| Settings { db_lock_timeout_ms: 300, ..common::settings(db) }).await;
    let admin = app.admin_token().await;
    // The lab's answer carries its yearly figures; creating one writes none.
    let (release, holder) = hold_table_lock(app.db.url.clone(), "lab_figures");
    let reply = app.post("/api/v1/labs", Some(&admin), common::lab_body("answer-lab", "53")).await;
    release.send(()).unwrap();
    holder.join().unwrap();

    assert_eq!(reply.problem(503)["status"], 503);
    assert_eq!(app.get("/api/v1/labs/answer-lab").await.status.as_u16(), 404, "the write went with its answer");
    let retried = app.post("/api/v1/labs", Some(&admin), common::lab_body("answer-lab", "53")).await;
    assert_eq!(retried.status.as_u16(), 201, "a retry succeeds: {}", String::from_utf8_lossy(&retried.body));
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

/// PostgreSQL's server programs (`initdb`, `pg_ctl`), from `pg_config` or Debian's folders.
fn postgres_bin() -> std::path::PathBuf {
    if let Ok(out) = std::process::Command::new("pg_config").arg("--bindir").output()
        && out.status.success()
    {
        let dir = std::path::PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if dir.join("pg_ctl").exists() {
            return dir;
        }
    }
    let mut found: Vec<_> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|dirs| dirs.flatten().map(|d| d.path().join("bin")).filter(|d| d.join("pg_ctl").exists()).collect())
        .unwrap_or_default();
    found.sort();
    found.pop().expect("PostgreSQL's server programs (initdb, pg_ctl) are needed by this test")
}

/// A PostgreSQL cluster of the test's own, which it may stop and restart.
struct PrivateCluster {
    bin: std::path::PathBuf,
    dir: std::path::PathBuf,
    port: u16,
}

impl PrivateCluster {
    /// PostgreSQL refuses to run as root: as root, its programs run as the `postgres` user.
    fn command(&self, program: &str) -> std::process::Command {
        let program = self.bin.join(program);
        if running_as_root() {
            let mut command = std::process::Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(program);
            command
        } else {
            std::process::Command::new(program)
        }
    }

    fn start() -> Self {
        let dir = std::env::temp_dir().join(format!("mip-fault-{}", uuid::Uuid::now_v7().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let cluster = PrivateCluster { bin: postgres_bin(), port: free_port(), dir };
        if running_as_root() {
            assert!(std::process::Command::new("chown").arg("postgres").arg(&cluster.dir).status().unwrap().success());
        }
        let data = cluster.dir.join("data");
        let out = cluster.command("initdb").args(["-A", "trust", "-U", "postgres", "-D"]).arg(&data).output().unwrap();
        assert!(out.status.success(), "initdb: {}", String::from_utf8_lossy(&out.stderr));
        cluster.pg_ctl("start");
        cluster
    }

    fn pg_ctl(&self, action: &str) {
        let options = format!("-p {} -k {} -c listen_addresses=127.0.0.1", self.port, self.dir.display());
        let out = self
            .command("pg_ctl")
            .args([action, "-w", "-m", "fast", "-o", &options, "-l"])
            .arg(self.dir.join("log"))
            .arg("-D")
            .arg(self.dir.join("data"))
            .output()
            .unwrap();
        assert!(out.status.success(), "pg_ctl {action}: {}", String::from_utf8_lossy(&out.stderr));
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/mip", self.port)
    }
}

impl Drop for PrivateCluster {
    fn drop(&mut self) {
        let _ = self.command("pg_ctl").args(["stop", "-m", "immediate", "-D"]).arg(self.dir.join("data")).output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Whether the tests run as root (`id -u`).
fn running_as_root() -> bool {
    std::process::Command::new("id").arg("-u").output().is_ok_and(|out| out.stdout.trim_ascii() == b"0")
}

/// One HTTP/1.1 GET over a fresh connection: the status, the headers, and how long it took.
fn get(port: u16, path: &str) -> (u16, String, Duration) {
    use std::io::{Read, Write};
    let started = Instant::now();
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(stream, "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").unwrap();
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    let status = answer.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    let head = answer.split("\r\n\r\n").next().unwrap_or_default().to_ascii_lowercase();
    (status, head, started.elapsed())
}

#[test]
fn when_postgresql_restarts_or_stops_requests_get_503s_with_retry_after_never_500s_and_recover() {
    let cluster = PrivateCluster::start();
    let port = free_port();
    let mut server = std::process::Command::new(env!("CARGO_BIN_EXE_mip"))
        .args(["serve", "--demo", "--bind", &format!("127.0.0.1:{port}")])
        .env("DATABASE_URL", cluster.url())
        .env("MIP_LOG", "error")
        .env("MIP_DB_POOL_SIZE", "4")
        .spawn()
        .unwrap();
    wait_until_listening(port);
    let page = "/api/v1/events?limit=1";
    for _ in 0..8 {
        assert_eq!(get(port, page).0, 200, "pooled connections are open and used");
    }

    // A restart: every pooled connection is now broken.
    cluster.pg_ctl("restart");
    let mut statuses = Vec::new();
    let started = Instant::now();
    while statuses.last() != Some(&200) {
        let (status, head, took) = get(port, page);
        assert!(took < Duration::from_secs(7), "an answer within the checkout timeout, not after {took:?}");
        assert!(status == 200 || status == 503, "never a 500 after a restart: {status} {head}");
        if status == 503 {
            assert!(head.contains("retry-after: 2"), "{head}");
        }
        statuses.push(status);
        assert!(started.elapsed() < Duration::from_secs(30), "recovered by itself: {statuses:?}");
    }

    eprintln!("after the restart: {statuses:?}");
    let failed = statuses.iter().filter(|status| **status == 503).count();
    assert!(failed <= 1, "one request pays for the restart, the other pooled connections are checked: {statuses:?}");
    // Down: 503 with Retry-After, not ready; back: answers again.
    cluster.pg_ctl("stop");
    let (status, head, took) = get(port, page);
    assert_eq!(status, 503, "{head}");
    assert!(head.contains("retry-after: 2"));
    assert!(took < Duration::from_secs(7), "gave up after the checkout timeout, not {took:?}");
    assert_eq!(get(port, "/health/ready").0, 503);
    cluster.pg_ctl("start");
    let started = Instant::now();
    while get(port, page).0 != 200 {
        assert!(started.elapsed() < Duration::from_secs(30), "recovered once PostgreSQL was back");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(get(port, "/health/ready").0, 200);
    let _ = std::process::Command::new("kill").args(["-TERM", &server.id().to_string()]).status();
    let _ = server.wait();
}

#[test]
fn with_no_database_set_and_none_answering_the_demo_starts_a_private_postgresql_and_stops_it() {
    let dir = std::env::temp_dir().join(format!("mip-zero-{}", uuid::Uuid::now_v7().simple()));
    let port = free_port();
    let closed = format!("postgres://postgres@127.0.0.1:{}/mip", free_port());
    let server = std::process::Command::new(env!("CARGO_BIN_EXE_mip"))
        .args(["serve", "--demo", "--bind", &format!("127.0.0.1:{port}")])
        .env_remove("DATABASE_URL")
        .env("MIP_DEFAULT_DATABASE_URL", &closed)
        .env("MIP_PRIVATE_PG_DIR", &dir)
        .env("MIP_LOG", "info")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Whatever fails below, the server is asked to stop (and so stops its cluster).
    struct Stopped(std::process::Child, std::path::PathBuf);
    impl Drop for Stopped {
        fn drop(&mut self) {
            let _ = std::process::Command::new("kill")
                .args(["-TERM", &self.0.id().to_string()])
                .stderr(std::process::Stdio::null())
                .status();
            let _ = self.0.wait();
            let _ = std::fs::remove_dir_all(&self.1);
        }
    }
    let mut guard = Stopped(server, dir.clone());
    let server = &mut guard.0;
    let started = Instant::now();
    let ready = || std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() && get(port, "/health/ready").0 == 200;
    while !ready() {
        assert!(started.elapsed() < Duration::from_secs(90), "the demo did not come up on a private cluster");
        std::thread::sleep(Duration::from_millis(250));
    }
    let (status, _, _) = get(port, "/api/v1/events?edition=2021&limit=1");
    assert_eq!(status, 200);
    let cluster_port: u16 = std::fs::read_to_string(dir.join("port")).unwrap().trim().parse().unwrap();
    let cluster_url = format!("postgres://postgres@127.0.0.1:{cluster_port}/mip");
    assert!(mip::db::private_cluster::answers(&cluster_url));
    let terminated = std::process::Command::new("kill").args(["-TERM", &server.id().to_string()]).status().unwrap();
    assert!(terminated.success());
    let status = server.wait().unwrap();
    assert!(status.success(), "exit status {status}");
    let mut log = String::new();
    std::io::Read::read_to_string(&mut server.stderr.take().unwrap(), &mut log).unwrap();
    assert!(log.contains("running on a private PostgreSQL"), "{log}");
    assert!(!mip::db::private_cluster::answers(&cluster_url), "the cluster stops with the service");
    let mode = std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&dir).unwrap().permissions());
    assert_eq!(mode & 0o077, 0, "its folder is closed to other users");
    assert!(std::fs::read_to_string(dir.join("data/pg_hba.conf")).unwrap().contains("scram-sha-256"));
}

#[test]
fn with_no_postgresql_at_all_the_demo_says_the_three_ways_out_in_one_line() {
    let empty = std::env::temp_dir().join(format!("mip-no-pg-{}", uuid::Uuid::now_v7().simple()));
    std::fs::create_dir_all(&empty).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_mip"))
        .args(["serve", "--demo", "--bind", &format!("127.0.0.1:{}", free_port())])
        .env_remove("DATABASE_URL")
        .env("MIP_DEFAULT_DATABASE_URL", format!("postgres://postgres@127.0.0.1:{}/mip", free_port()))
        .env("MIP_POSTGRES_PROGRAMS", &empty)
        .env("MIP_LOG", "error")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    for way in ["install PostgreSQL", "docker compose up -d db", "DATABASE_URL"] {
        assert!(lines[0].contains(way), "{stderr}");
    }
    let _ = std::fs::remove_dir(&empty);
}

#[test]
fn past_the_connection_limit_a_new_connection_waits_until_one_closes() {
    use std::io::{Read, Write};
    let port = free_port();
    let db = crate::common::TestDb::new();
    let mut server = std::process::Command::new(env!("CARGO_BIN_EXE_mip"))
        .args(["serve", "--demo", "--bind", &format!("127.0.0.1:{port}")])
        .env("DATABASE_URL", &db.url)
        .env("MIP_WORKERS", "1")
        .env("MIP_MAX_CONNECTIONS", "1")
        .env("MIP_LOG", "error")
        .spawn()
        .unwrap();
    wait_until_listening(port);
    let request = b"GET /health/live HTTP/1.1\r\nHost: localhost\r\n\r\n";
    let read_some = |stream: &mut std::net::TcpStream| {
        let mut buffer = [0u8; 512];
        stream.read(&mut buffer).map(|n| String::from_utf8_lossy(&buffer[..n]).to_string())
    };
    // The one connection allowed, kept open (keep-alive) after its request.
    let mut first = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    first.write_all(request).unwrap();
    assert!(read_some(&mut first).unwrap().starts_with("HTTP/1.1 200"));
    // A second one is not served while the first stays open…
    let mut second = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    second.set_read_timeout(Some(Duration::from_millis(1500))).unwrap();
    second.write_all(request).unwrap();
    assert!(read_some(&mut second).is_err(), "served past the limit");
    // …and is, once it closes.
    drop(first);
    second.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    assert!(read_some(&mut second).unwrap().starts_with("HTTP/1.1 200"));
    let _ = std::process::Command::new("kill").args(["-TERM", &server.id().to_string()]).status();
    let _ = server.wait();
}
