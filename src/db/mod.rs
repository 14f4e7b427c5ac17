//! Connection pool, embedded migrations, and the one helper that runs diesel off the executor.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::r2d2::{ConnectionManager, Pool, PooledConnection, R2D2Connection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::error::ApiError;

pub mod private_cluster;
pub mod sql;

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

pub type DbPool = Pool<ConnectionManager<PgConnection>>;
pub type DbConn = PooledConnection<ConnectionManager<PgConnection>>;

tokio::task_local! {
    /// The replica, inside a public read (see [`public_reads`]).
    static REPLICA: Replica;
}

/// A streaming replica for public reads: its pool, and when this instance last failed to use
/// it (in seconds since the epoch). For [`REPLICA_REST`] after that, public reads go to the
/// primary, so that a replica that is down costs one request a short wait, not every request.
/// A hint about this instance's own connections, never something that decides an answer.
#[derive(Clone)]
pub struct Replica {
    pub pool: DbPool,
    down_since: std::sync::Arc<AtomicI64>,
}

impl Replica {
    /// Opened lazily: a replica that is down neither delays the start nor fails a request
    /// ([`run`] falls back to the primary); a checkout gives up after a second.
    pub fn new(database_url: &str, max_size: u32, limits: Limits) -> Replica {
        let pool = Pool::builder()
            .max_size(max_size)
            .min_idle(Some(0))
            .test_on_check_out(false)
            .connection_timeout(Duration::from_secs(1))
            .connection_customizer(Box::new(SessionLimits(limits)))
            .build_unchecked(ConnectionManager::<PgConnection>::new(with_keepalives(database_url)));
        Replica { pool, down_since: std::sync::Arc::new(AtomicI64::new(0)) }
    }

    fn resting(&self) -> bool {
        now_secs() - self.down_since.load(Ordering::Relaxed) < REPLICA_REST
    }

    fn rest(&self) {
        self.down_since.store(now_secs(), Ordering::Relaxed);
        tracing::warn!("the replica cannot be reached: public reads use the primary for {REPLICA_REST} s");
    }
}

const REPLICA_REST: i64 = 30;

/// Runs a request's handling so that its [`run`]s read from `replica`: for GET and HEAD
/// requests without credentials (the public, who may see a replica's slight lag), never for a
/// writer, who must read its own writes.
pub async fn public_reads<F: Future>(replica: Replica, future: F) -> F::Output {
    REPLICA.scope(replica, future).await
}

/// The replica this request's public reads go to, if it is one: for work that outlives its
/// handler (a streamed body, read a chunk at a time after the handler returned), which runs
/// under [`public_reads`] again so that every chunk reads from the same database.
pub fn current_replica() -> Option<Replica> {
    REPLICA.try_with(Clone::clone).ok()
}

/// Runs blocking diesel work on actix's blocking thread pool, pool checkout included: on `pool`
/// (the primary), or on the replica inside a public read ([`public_reads`]), falling back to
/// the primary when the replica cannot be reached.
pub async fn run<T, F>(pool: &DbPool, work: F) -> Result<T, ApiError>
where
    F: FnOnce(&mut PgConnection) -> Result<T, ApiError> + Send + 'static,
    T: Send + 'static,
{
    let replica = REPLICA.try_with(Clone::clone).ok().filter(|replica| !replica.resting());
    run_on(pool.clone(), replica, work).await
}

/// Like [`run`], on the primary whatever the request (the readiness check).
pub async fn run_on_primary<T, F>(pool: &DbPool, work: F) -> Result<T, ApiError>
where
    F: FnOnce(&mut PgConnection) -> Result<T, ApiError> + Send + 'static,
    T: Send + 'static,
{
    run_on(pool.clone(), None, work).await
}

async fn run_on<T, F>(primary: DbPool, replica: Option<Replica>, work: F) -> Result<T, ApiError>
where
    F: FnOnce(&mut PgConnection) -> Result<T, ApiError> + Send + 'static,
    T: Send + 'static,
{
    let task = crate::metrics::BlockingTask::start();
    // The request's span and context go along, so log lines written there name the request.
    actix_web::web::block(crate::telemetry::carry(move || {
        let _task = task;
        let (mut conn, used_replica) = match replica {
            Some(replica) => match checkout(&replica.pool) {
                Ok(conn) => (conn, Some(replica)),
                Err(_) => {
                    replica.rest();
                    (checkout(&primary)?, None)
                }
            },
            None => (checkout(&primary)?, None),
        };
        let result = work(&mut conn);
        if result.is_err() && conn.is_broken() {
            match used_replica {
                Some(replica) => replica.rest(),
                None => note_connection_lost(),
            }
        }
        result
    }))
    .await?
}

/// When this process last found a pooled connection broken (the database restarted, or a
/// network cut it), in seconds since the epoch. Connections pooled before are likely broken
/// too: for [`SUSPICION`] after such a loss, each is checked before use and replaced if dead,
/// so that one request, not one per pooled connection, pays for a restart with a 503. A hint
/// about this process's own connections, never something that decides an answer.
static LAST_LOSS: AtomicI64 = AtomicI64::new(0);
const SUSPICION: i64 = 60;

fn now_secs() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

fn note_connection_lost() {
    LAST_LOSS.store(now_secs(), Ordering::Relaxed);
    tracing::warn!("a pooled database connection was found broken; checking the others before use");
}

/// A pooled connection; while connections are suspect, one that answers a trivial query (an
/// empty one: a single round trip), trying as many as the pool holds.
fn checkout(pool: &DbPool) -> Result<DbConn, ApiError> {
    use diesel::connection::SimpleConnection;
    let _waiting = crate::metrics::Checkout::start();
    let suspect = now_secs() - LAST_LOSS.load(Ordering::Relaxed) < SUSPICION;
    let attempts = if suspect { pool.max_size() + 1 } else { 1 };
    for _ in 1..attempts {
        let mut conn = pool.get()?;
        if conn.batch_execute("").is_ok() {
            return Ok(conn);
        }
        // Returned broken, r2d2 drops it rather than pooling it again.
    }
    Ok(pool.get()?)
}

/// Like [`run`], inside one transaction.
pub async fn transaction<T, F>(pool: &DbPool, work: F) -> Result<T, ApiError>
where
    F: FnOnce(&mut PgConnection) -> Result<T, ApiError> + Send + 'static,
    T: Send + 'static,
{
    run(pool, move |conn| conn.transaction(work)).await
}

/// How long the database may take before a request gives up with a 503.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Longest a statement runs.
    pub statement_timeout: Duration,
    /// Longest a statement waits for a lock another transaction holds.
    pub lock_timeout: Duration,
}

/// Longest a transaction may sit idle between statements: a request that stalls inside one must
/// not hold its locks for longer.
const IDLE_IN_TRANSACTION_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a checkout waits for a free connection (then 503 with `Retry-After`).
pub const CHECKOUT_TIMEOUT: Duration = Duration::from_secs(5);

/// Sets every new connection's timeouts, so that no request waits on the database for longer
/// than documented, whatever the database or the network does.
#[derive(Debug)]
struct SessionLimits(Limits);

impl diesel::r2d2::CustomizeConnection<PgConnection, diesel::r2d2::Error> for SessionLimits {
    fn on_acquire(&self, conn: &mut PgConnection) -> Result<(), diesel::r2d2::Error> {
        use diesel::connection::SimpleConnection;
        let Limits { statement_timeout, lock_timeout } = self.0;
        conn.batch_execute(&format!(
            "SET statement_timeout = {}; SET lock_timeout = {}; SET idle_in_transaction_session_timeout = {}",
            statement_timeout.as_millis(),
            lock_timeout.as_millis(),
            IDLE_IN_TRANSACTION_TIMEOUT.as_millis()
        ))
        .map_err(diesel::r2d2::Error::QueryError)
    }
}

/// The URL with TCP keepalives asked of libpq (unless the URL sets them): a database host that
/// vanished without closing the connection (a stalled network) is noticed in about a minute
/// instead of the system's two hours.
fn with_keepalives(database_url: &str) -> String {
    if database_url.contains("keepalives") {
        return database_url.to_string();
    }
    let separator = if database_url.contains('?') { '&' } else { '?' };
    format!("{database_url}{separator}keepalives=1&keepalives_idle=30&keepalives_interval=10&keepalives_count=3")
}

/// A pool whose connections are opened lazily, failing fast when the database is gone.
pub fn pool(database_url: &str, max_size: u32, limits: Limits) -> Result<DbPool, String> {
    Pool::builder()
        .max_size(max_size)
        // r2d2 would otherwise run a query on every checkout to test the connection: one more
        // round trip per request. A connection that broke is dropped when it is returned instead.
        .test_on_check_out(false)
        .connection_timeout(CHECKOUT_TIMEOUT)
        .connection_customizer(Box::new(SessionLimits(limits)))
        .build(ConnectionManager::<PgConnection>::new(with_keepalives(database_url)))
        .map_err(|e| format!("cannot connect to the database at {}: {e}", redact(database_url)))
}

/// Creates the database named in the URL when it does not exist yet.
pub fn create_database_if_missing(database_url: &str) -> Result<(), String> {
    if PgConnection::establish(database_url).is_ok() {
        return Ok(());
    }
    let (server_url, name) = split_database_name(database_url)
        .ok_or_else(|| format!("DATABASE_URL has no database name: {}", redact(database_url)))?;
    let mut conn = PgConnection::establish(&format!("{server_url}/postgres")).map_err(|e| {
        format!("cannot reach PostgreSQL at {}: {e} Start PostgreSQL or set DATABASE_URL.", redact(database_url))
    })?;
    let quoted = format!("\"{}\"", name.replace('"', "\"\""));
    diesel::sql_query(format!("CREATE DATABASE {quoted}"))
        .execute(&mut conn)
        .map(|_| tracing::info!(database = %name, "created the database"))
        .or_else(|e| if e.to_string().contains("already exists") { Ok(()) } else { Err(e) })
        .map_err(|e| format!("cannot create database {name}: {e}"))
}

/// Applies the migrations that have not run yet.
pub fn migrate(conn: &mut PgConnection) -> Result<usize, String> {
    let applied = conn.run_pending_migrations(MIGRATIONS).map_err(|e| format!("migration failed: {e}"))?;
    for version in &applied {
        tracing::info!(%version, "applied migration");
    }
    Ok(applied.len())
}

/// `postgres://u@h:5432/name?x` → (`postgres://u@h:5432`, `name`).
pub fn split_database_name(url: &str) -> Option<(String, String)> {
    let without_query = url.split('?').next()?;
    let (server, name) = without_query.rsplit_once('/')?;
    (!name.is_empty() && server.contains("://") && !server.ends_with('/'))
        .then(|| (server.to_string(), name.to_string()))
}

/// The URL without its password, for messages.
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_string(),
    }
}

/// Inserts a row under a slug made free by `free_slug`, trying again with a new one when a
/// concurrent insert took it first (two organizers with one name at the same instant). Each try
/// runs in a savepoint, so a lost race leaves the caller's transaction usable.
pub fn insert_with_free_slug<T>(
    conn: &mut PgConnection,
    slug_constraint: &str,
    free_slug: impl Fn(&mut PgConnection) -> Result<String, ApiError>,
    insert: impl Fn(&mut PgConnection, &str) -> QueryResult<T>,
) -> Result<T, ApiError> {
    use diesel::result::{DatabaseErrorKind, Error};
    // Each lost race frees the next number for one of the losers, so n concurrent creators
    // need up to n tries; more than a handful of identical titles at once is not a real case.
    const ATTEMPTS: usize = 8;
    for attempt in 1..=ATTEMPTS {
        let slug = free_slug(conn)?;
        match conn.transaction(|conn| insert(conn, &slug)) {
            Err(Error::DatabaseError(DatabaseErrorKind::UniqueViolation, info))
                if attempt < ATTEMPTS && info.constraint_name() == Some(slug_constraint) => {}
            other => return Ok(other?),
        }
    }
    unreachable!("the last attempt returns")
}
