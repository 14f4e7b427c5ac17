//! Shared test harness: every test gets its own database, cloned from a migrated template,
//! and talks to the real `App` from `mip::app::build_app`.

use std::sync::OnceLock;

use actix_http::Request;
use actix_service::ServiceExt;
use actix_service::boxed::{self, BoxService};
use actix_web::dev::ServiceResponse;
use actix_web::http::StatusCode;
use actix_web::http::header::HeaderMap;
use actix_web::{test, web};
use diesel::prelude::*;
use mip::app::build_app;
use mip::auth::Role;
use mip::config::Settings;
use mip::state::AppState;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// Everything the service logs while the tests run, at every level (one global subscriber for
/// the whole binary: a thread-local one misses events whose callsites other threads registered).
#[derive(Clone, Default)]
pub struct CapturedLogs(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for CapturedLogs {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl CapturedLogs {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

pub fn captured_logs() -> CapturedLogs {
    static LOGS: OnceLock<CapturedLogs> = OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = CapturedLogs::default();
        let writer = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::set_global_default(subscriber).unwrap();
        logs
    })
    .clone()
}

/// The server the test databases live on (trust auth on localhost in dev and CI).
/// The server the test databases are made on: `MIP_TEST_SERVER_URL`, else the default address
/// when something answers there, else a private cluster (zero setup: a machine with PostgreSQL's
/// programs and no server), started once and left running for the next run
/// (`<temp>/mip-test-postgres-<uid>`; `pg_ctl -D <that folder>/data stop` stops it).
pub fn server_url() -> String {
    use mip::db::private_cluster::{self, NO_POSTGRESQL, PrivateCluster};
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| {
        if let Ok(url) = std::env::var("MIP_TEST_SERVER_URL") {
            return url;
        }
        let default = std::env::var("MIP_TEST_DEFAULT_SERVER_URL")
            .unwrap_or_else(|_| "postgres://postgres@localhost:5432".into());
        if private_cluster::answers(&default) {
            return default;
        }
        let programs = private_cluster::find_programs().expect(NO_POSTGRESQL);
        let cluster = PrivateCluster::start(programs, &private_cluster::user_dir("mip-test-postgres"), false)
            .unwrap_or_else(|e| panic!("cannot start a private PostgreSQL for the tests: {e}"));
        eprintln!("tests: nothing answers at {default}; using the private PostgreSQL in {}", cluster.dir().display());
        cluster.url("").trim_end_matches('/').to_string()
    })
    .clone()
}

/// The template's name changes whenever a migration does, so a stale template is never used.
fn template_name() -> String {
    let mut hasher = Sha256::new();
    let mut entries: Vec<_> =
        std::fs::read_dir("migrations").expect("migrations/").flatten().map(|e| e.path()).collect();
    entries.sort();
    for dir in entries {
        for file in ["up.sql", "down.sql"] {
            hasher.update(dir.join(file).to_string_lossy().as_bytes());
            hasher.update(std::fs::read(dir.join(file)).unwrap_or_default());
        }
    }
    format!("mip_test_template_{}", &hex::encode(hasher.finalize())[..16])
}

fn admin_connection() -> PgConnection {
    PgConnection::establish(&format!("{}/postgres", server_url()))
        .expect("PostgreSQL must be running for the tests (see README)")
}

/// Builds the template once per machine; test processes running at once wait on an advisory lock.
fn template() -> &'static str {
    static TEMPLATE: OnceLock<String> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let name = template_name();
        let mut conn = admin_connection();
        diesel::sql_query("SELECT pg_advisory_lock(727274)").execute(&mut conn).unwrap();
        #[derive(QueryableByName)]
        struct Count {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let exists = diesel::sql_query(format!("SELECT count(*) AS n FROM pg_database WHERE datname = '{name}'"))
            .get_result::<Count>(&mut conn)
            .unwrap()
            .n
            > 0;
        if !exists {
            diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut conn).unwrap();
            let mut template_conn = PgConnection::establish(&format!("{}/{name}", server_url())).unwrap();
            mip::db::migrate(&mut template_conn).unwrap();
            drop(template_conn);
            diesel::sql_query(format!("ALTER DATABASE {name} WITH IS_TEMPLATE true")).execute(&mut conn).unwrap();
        }
        diesel::sql_query("SELECT pg_advisory_unlock(727274)").execute(&mut conn).unwrap();
        name
    })
}

/// A database of its own for one test, dropped when the test ends (by the instance that made
/// it: a second instance on it only borrows it).
pub struct TestDb {
    pub name: String,
    pub url: String,
    owner: bool,
}

impl TestDb {
    pub fn new() -> Self {
        let template = template();
        let name = format!("mip_test_{}", Uuid::now_v7().simple());
        diesel::sql_query(format!("CREATE DATABASE {name} TEMPLATE {template}"))
            .execute(&mut admin_connection())
            .unwrap();
        TestDb { url: format!("{}/{name}", server_url()), name, owner: true }
    }

    pub fn conn(&self) -> PgConnection {
        PgConnection::establish(&self.url).unwrap()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if !self.owner {
            return;
        }
        let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name))
            .execute(&mut admin_connection());
    }
}

/// Another writer: runs `update` in a transaction on a connection of its own and commits only
/// once some other session waits on the lock it holds, as a concurrent write that commits
/// first does. Returns once the lock is held; join the handle after the racing request.
pub fn concurrent_writer(url: &str, update: &'static str) -> std::thread::JoinHandle<()> {
    #[derive(QueryableByName)]
    struct Waiting {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let url = url.to_string();
    let (locked, row_locked) = std::sync::mpsc::channel();
    let writer = std::thread::spawn(move || {
        let mut conn = PgConnection::establish(&url).unwrap();
        conn.transaction::<_, diesel::result::Error, _>(|conn| {
            diesel::sql_query(update).execute(conn)?;
            locked.send(()).unwrap();
            let waiting = "SELECT count(*) AS n FROM pg_stat_activity \
                           WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()";
            // Polls for a condition (another session blocked on this lock), with a bound.
            for _ in 0..10_000 {
                if diesel::sql_query(waiting).get_result::<Waiting>(conn)?.n > 0 {
                    return Ok(());
                }
                std::thread::yield_now();
            }
            panic!("nobody waited on the lock");
        })
        .unwrap();
    });
    row_locked.recv().unwrap();
    writer
}

/// A response, read whole.
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: web::Bytes,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers.get(name).and_then(|v| v.to_str().ok()).map(String::from)
    }

    /// Asserts a problem+json answer with this status, and returns it.
    pub fn problem(&self, status: u16) -> Value {
        assert_eq!(self.status.as_u16(), status, "body: {}", String::from_utf8_lossy(&self.body));
        assert_eq!(self.header("content-type").as_deref(), Some("application/problem+json"));
        let problem = self.json();
        assert_eq!(problem["status"], status);
        assert!(problem["type"].as_str().is_some_and(|t| t.starts_with("urn:mip:problem:")));
        assert!(problem["title"].is_string() && problem["detail"].is_string());
        problem
    }

    /// The fields named in a problem's `errors`.
    pub fn problem_fields(&self, status: u16) -> Vec<String> {
        let problem = self.problem(status);
        problem["errors"]
            .as_array()
            .map(|errors| errors.iter().map(|e| e["field"].as_str().unwrap_or("").to_string()).collect())
            .unwrap_or_default()
    }
}

/// The real `App`, its state and its database. The service is boxed so that fixtures and
/// helpers can name the type without repeating actix's generic bounds.
pub struct TestApp {
    pub db: TestDb,
    pub state: web::Data<AppState>,
    pub service: BoxService<Request, ServiceResponse, actix_web::Error>,
}

pub const PASSWORD: &str = "correct horse battery staple";

pub fn settings(db: &TestDb) -> Settings {
    Settings::for_tests(&db.url)
}

pub async fn spawn() -> TestApp {
    spawn_with(settings).await
}

pub async fn spawn_with(configure: impl FnOnce(&TestDb) -> Settings) -> TestApp {
    let db = TestDb::new();
    let settings = configure(&db);
    let pool = mip::db::pool(&db.url, settings.db_pool_size, settings.db_limits()).unwrap();
    let state = web::Data::new(AppState::new(pool, settings).unwrap());
    let service = test::init_service(build_app(state.clone())).await;
    let service = boxed::service(service.map(ServiceResponse::map_into_boxed_body));
    TestApp { db, state, service }
}

impl TestApp {
    /// A second instance of the service on the same database, as behind a load balancer: its
    /// own pool, its own in-process state (the per-address limiter, the metrics), the same
    /// settings and secret.
    pub async fn another_instance(&self) -> TestApp {
        let settings = (*self.state.settings).clone();
        let db = TestDb { name: self.db.name.clone(), url: self.db.url.clone(), owner: false };
        let pool = mip::db::pool(&db.url, settings.db_pool_size, settings.db_limits()).unwrap();
        let state = web::Data::new(AppState::new(pool, settings).unwrap());
        let service = test::init_service(build_app(state.clone())).await;
        let service = boxed::service(service.map(ServiceResponse::map_into_boxed_body));
        TestApp { db, state, service }
    }

    pub async fn send(&self, request: test::TestRequest) -> Reply {
        let response = test::call_service(&self.service, request.to_request()).await;
        let status = response.status();
        let headers = response.headers().clone();
        let body = test::read_body(response).await;
        Reply { status, headers, body }
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.send(test::TestRequest::get().uri(path)).await
    }

    pub async fn get_as(&self, path: &str, token: &str) -> Reply {
        self.send(test::TestRequest::get().uri(path).insert_header(("authorization", format!("Bearer {token}")))).await
    }

    /// A JSON request with an optional bearer token.
    pub async fn json(&self, method: &str, path: &str, token: Option<&str>, body: Value) -> Reply {
        let mut request = test::TestRequest::default().method(method.parse().unwrap()).uri(path).set_json(body);
        if let Some(token) = token {
            request = request.insert_header(("authorization", format!("Bearer {token}")));
        }
        self.send(request).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Reply {
        self.json("POST", path, token, body).await
    }

    /// A PATCH as a careful client sends it: with `If-Match` holding the current ETag, read
    /// first as `token` sees it. (Tests of `If-Match` itself use `json_with`.)
    pub async fn patch(&self, path: &str, token: Option<&str>, body: Value) -> Reply {
        self.write_current("PATCH", path, token, Some(body)).await
    }

    /// A DELETE with `If-Match` holding the current ETag, as for `patch`.
    pub async fn delete(&self, path: &str, token: Option<&str>) -> Reply {
        self.write_current("DELETE", path, token, None).await
    }

    /// A write with the current ETag in `If-Match` when the resource can be read; without it
    /// otherwise (so that a missing or hidden resource still answers what it answers).
    async fn write_current(&self, method: &str, path: &str, token: Option<&str>, body: Option<Value>) -> Reply {
        // A lab's figures are part of the lab: the lab's ETag guards them.
        let resource = path.find("/figures/").map_or(path, |at| &path[..at]);
        let read = match token {
            Some(token) => self.get_as(resource, token).await,
            None => self.get(resource).await,
        };
        let etag = read.status.is_success().then(|| read.header("etag")).flatten();
        let mut request = test::TestRequest::default().method(method.parse().unwrap()).uri(path);
        if let Some(body) = body {
            request = request.set_json(body);
        }
        if let Some(token) = token {
            request = request.insert_header(("authorization", format!("Bearer {token}")));
        }
        if let Some(etag) = etag {
            request = request.insert_header(("if-match", etag));
        }
        self.send(request).await
    }

    pub async fn login(&self, email: &str, password: &str) -> Reply {
        self.post("/api/v1/auth/login", None, json!({"email": email, "password": password})).await
    }

    /// Creates an account (an organizer account needs its organizer) and returns its access token.
    pub async fn account_token(&self, email: &str, role: Role, organizer: Option<Uuid>) -> String {
        let hash = mip::auth::password::hash(PASSWORD).unwrap();
        mip::auth::repo::create(&mut self.db.conn(), email, &hash, role, organizer).unwrap();
        let reply = self.login(email, PASSWORD).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", String::from_utf8_lossy(&reply.body));
        reply.json()["access_token"].as_str().unwrap().to_string()
    }

    pub async fn admin_token(&self) -> String {
        self.account_token(&format!("admin-{}@mip.example", Uuid::now_v7().simple()), Role::Admin, None).await
    }

    /// Inserts an (unverified) organizer named `name` and returns its id.
    pub fn create_organizer(&self, name: &str) -> Uuid {
        use mip::schema::organizers;
        let id = Uuid::now_v7();
        diesel::insert_into(organizers::table)
            .values((
                organizers::id.eq(id),
                organizers::slug.eq(format!("{}-{}", mip::http::fields::slugify(name), id.simple())),
                organizers::name.eq(name),
                organizers::kind.eq("other"),
                organizers::contact_email.eq(format!("contact-{}@mip.example", id.simple())),
            ))
            .execute(&mut self.db.conn())
            .unwrap();
        id
    }

    /// The access token of a member of a fresh organizer.
    pub async fn organizer_token(&self) -> String {
        let organizer = self.create_organizer("Préfecture de test");
        let email = format!("organizer-{}@mip.example", Uuid::now_v7().simple());
        self.account_token(&email, Role::Organizer, Some(organizer)).await
    }

    /// A JSON request with a bearer token and extra headers (`If-Match`…).
    pub async fn json_with(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
        body: Value,
    ) -> Reply {
        let mut request = test::TestRequest::default().method(method.parse().unwrap()).uri(path).set_json(body);
        if let Some(token) = token {
            request = request.insert_header(("authorization", format!("Bearer {token}")));
        }
        for (name, value) in headers {
            request = request.insert_header((*name, *value));
        }
        self.send(request).await
    }

    /// A PUT with `If-Match` holding the current ETag, as for `patch`.
    pub async fn put(&self, path: &str, token: Option<&str>, body: Value) -> Reply {
        self.write_current("PUT", path, token, Some(body)).await
    }

    /// A GET with extra headers (`If-None-Match`…).
    pub async fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> Reply {
        let mut request = test::TestRequest::get().uri(path);
        for (name, value) in headers {
            request = request.insert_header((*name, *value));
        }
        self.send(request).await
    }
}

/// Runs `requests` while a transaction holds `table` exclusively, and ends it a moment later:
/// the requests that read the table wait for it, then go at once, as in a burst on a busy
/// server (requests this short otherwise rarely overlap in a test).
pub async fn lined_up<F: Future>(db: &TestDb, table: &str, requests: F) -> F::Output {
    let mut holder = db.conn();
    diesel::sql_query("BEGIN").execute(&mut holder).unwrap();
    diesel::sql_query(format!("LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")).execute(&mut holder).unwrap();
    let release = async {
        actix_web::rt::time::sleep(std::time::Duration::from_millis(500)).await;
        diesel::sql_query("COMMIT").execute(&mut holder).unwrap();
    };
    let (output, ()) = futures_util::join!(requests, release);
    output
}

/// A registration: an account and its organizer (a town hall in Ille-et-Vilaine).
pub fn registration(email: &str) -> Value {
    json!({
        "email": email,
        "password": PASSWORD,
        "organizer": {"name": format!("Mairie {email}"), "kind": "local_authority", "department": "35"}
    })
}

/// Registers an organizer; returns the answer (the account, access and refresh tokens).
pub async fn register(app: &TestApp, email: &str) -> Value {
    let reply = app.post("/api/v1/auth/register", None, registration(email)).await;
    assert_eq!(reply.status.as_u16(), 201, "{}", String::from_utf8_lossy(&reply.body));
    reply.json()
}

/// A valid lab body in `region`.
pub fn lab_body(slug: &str, region: &str) -> Value {
    json!({
        "slug": slug,
        "name": format!("Lab {slug}"),
        "region": region,
        "host": "Préfecture de région",
        "website": format!("https://{slug}.example.fr"),
        "founded_year": 2017,
        "description": "Un laboratoire d'innovation territoriale",
    })
}

/// A valid edition body for `year`, with referencing open around now when `open_now`.
pub fn edition_body(year: i32) -> Value {
    json!({
        "year": year,
        "number": year - 2013,
        "title": format!("Mois de l'innovation publique {year}"),
        "theme": "La coproduction",
        "starts_on": format!("{year}-11-02"),
        "ends_on": format!("{year}-11-30"),
        "referencing_opens_at": format!("{year}-09-01T00:00:00+02:00"),
        "referencing_closes_at": format!("{year}-10-29T23:59:59+02:00"),
    })
}

/// An edition whose referencing window is open now, and whose month starts in ten days: what
/// submitting needs, whatever the day the tests run.
pub fn open_edition_body(year: i32) -> Value {
    let today = chrono::Utc::now().date_naive();
    json!({
        "year": year,
        "number": year - 2013,
        "title": format!("Mois de l'innovation publique {year}"),
        "starts_on": today + chrono::Duration::days(10),
        "ends_on": today + chrono::Duration::days(40),
        "referencing_opens_at": chrono::Utc::now() - chrono::Duration::days(1),
        "referencing_closes_at": chrono::Utc::now() + chrono::Duration::days(20),
    })
}

// --- Fixtures shared by the event, organizer and account tests ------------------------------------

/// A complete onsite event in the open edition 2030, fifteen days from now (local Paris time).
pub fn event_body() -> Value {
    let day = (chrono::Utc::now() + chrono::Duration::days(15)).date_naive();
    json!({
        "edition": 2030,
        "title": "Fabriquer un capteur de qualité de l'air",
        "summary": "Un atelier pour fabriquer et programmer son capteur.",
        "format": "workshop",
        "mode": "onsite",
        "audience": "everyone",
        "sessions": [{"starts_at": format!("{day}T14:00"), "ends_at": format!("{day}T17:00")}],
        "venue": {"name": "Ti-Lab", "address": "1 rue de la Préfecture", "postal_code": "35000", "city": "Rennes", "department": "35"},
        "registration": {"required": true, "url": "https://ti-lab.example/inscription", "capacity": 20},
        "tags": ["Données", "air"],
    })
}

/// [`event_body`] under another title.
pub fn titled(title: &str) -> Value {
    with(event_body(), json!({ "title": title }))
}

/// `body` with some top-level fields replaced.
pub fn with(mut body: Value, changes: Value) -> Value {
    for (key, value) in changes.as_object().unwrap() {
        body[key] = value.clone();
    }
    body
}

pub fn id(event: &Value) -> String {
    event["id"].as_str().unwrap().to_string()
}

/// The API path of an event answer.
pub fn path_of(event: &Value) -> String {
    format!("/api/v1/events/{}", id(event))
}

/// The cast of most event tests: an admin, a member of organizer A and a member of organizer B
/// (both unverified), and the edition 2030, open for referencing now.
pub struct World {
    pub app: TestApp,
    pub admin: String,
    /// A member of organizer A.
    pub member: String,
    pub organizer: Uuid,
    /// A member of another organizer, B.
    pub other: String,
    pub other_organizer: Uuid,
}

pub async fn world() -> World {
    world_with(settings).await
}

/// [`world`] on an app with its own settings.
pub async fn world_with(configure: impl FnOnce(&TestDb) -> Settings) -> World {
    let app = spawn_with(configure).await;
    let admin = app.admin_token().await;
    let reply = app.post("/api/v1/editions", Some(&admin), open_edition_body(2030)).await;
    assert_eq!(reply.status.as_u16(), 201, "{}", String::from_utf8_lossy(&reply.body));
    let organizer = app.create_organizer("Ti-Lab");
    let member = app.account_token("member@ti-lab.example", Role::Organizer, Some(organizer)).await;
    let other_organizer = app.create_organizer("Mairie de Lille");
    let other = app.account_token("member@lille.example", Role::Organizer, Some(other_organizer)).await;
    World { app, admin, member, organizer, other, other_organizer }
}

impl World {
    /// Creates a draft as the member of A; returns the event.
    pub async fn create(&self, body: Value) -> Value {
        let reply = self.app.post("/api/v1/events", Some(&self.member), body).await;
        assert_eq!(reply.status.as_u16(), 201, "{}", String::from_utf8_lossy(&reply.body));
        reply.json()
    }

    /// Creates, submits (as the member of A) and publishes (as the admin) an event; returns it.
    pub async fn publish(&self, body: Value) -> Value {
        let path = path_of(&self.create(body).await);
        let submitted = self.app.post(&format!("{path}/submit"), Some(&self.member), json!({})).await;
        assert_eq!(submitted.status.as_u16(), 200, "{}", String::from_utf8_lossy(&submitted.body));
        let published = self.app.post(&format!("{path}/publish"), Some(&self.admin), json!({})).await;
        assert_eq!(published.status.as_u16(), 200, "{}", String::from_utf8_lossy(&published.body));
        published.json()
    }

    /// Verifies an organizer, as the admin.
    pub async fn verify(&self, organizer: Uuid) {
        let reply =
            self.app.post(&format!("/api/v1/organizers/{organizer}/verify"), Some(&self.admin), json!({})).await;
        assert_eq!(reply.status.as_u16(), 200, "{}", String::from_utf8_lossy(&reply.body));
    }

    /// An API token of the account behind `session`, with these scopes.
    pub async fn api_token(&self, session: &str, scopes: Value) -> Value {
        let reply =
            self.app.post("/api/v1/me/tokens", Some(session), json!({"name": "script", "scopes": scopes})).await;
        assert_eq!(reply.status.as_u16(), 201, "{}", String::from_utf8_lossy(&reply.body));
        reply.json()
    }
}
