//! Settings from the environment (and flags), validated once at start-up.

use std::time::Duration;

use clap::Args;

pub const DEFAULT_DATABASE_URL: &str = "postgres://postgres@localhost:5432/mip";
pub const MIN_JWT_SECRET_BYTES: usize = 32;
/// Where the programme site shows an event, unless `MIP_EVENT_PAGE_URL` says otherwise.
pub const DEFAULT_EVENT_PAGE_URL: &str =
    "https://www.modernisation.gouv.fr/mois-de-linnovation-publique/programme/{slug}";

/// The largest export chunk: beyond it a chunk's query and its memory stop being small.
pub const MAX_EXPORT_CHUNK_ROWS: i64 = 10_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// Everything the service reads from its environment.
#[derive(Debug, Clone, Args)]
pub struct Settings {
    /// PostgreSQL URL; the database is created when it does not exist.
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL, hide_env_values = true, global = true)]
    pub database_url: String,

    /// A streaming replica for public reads: GET and HEAD requests without an `Authorization`
    /// header read from it; everything else (writes, and every read of a caller with a token, so
    /// that writers read their own writes) uses `DATABASE_URL`. Unset: everything uses the primary.
    #[arg(long, env = "DATABASE_READ_URL", hide_env_values = true, global = true)]
    pub database_read_url: Option<String>,

    /// Secret that signs the JWTs (at least 32 bytes). With `serve --demo` a random one is made.
    #[arg(long, env = "MIP_JWT_SECRET", hide_env_values = true, global = true)]
    pub jwt_secret: Option<String>,

    /// Largest number of pooled database connections.
    #[arg(long, env = "MIP_DB_POOL_SIZE", default_value_t = 16, global = true)]
    pub db_pool_size: u32,

    /// Longest a database statement may run, in milliseconds: past it, the request answers 503
    /// with `Retry-After` instead of holding its connection (a stuck server, a stalled network).
    #[arg(long, env = "MIP_DB_STATEMENT_TIMEOUT", default_value_t = 10_000, global = true)]
    pub db_statement_timeout_ms: u64,

    /// Longest a statement may wait for a row another transaction holds, in milliseconds
    /// (then 503 with `Retry-After`).
    #[arg(long, env = "MIP_DB_LOCK_TIMEOUT", default_value_t = 3_000, global = true)]
    pub db_lock_timeout_ms: u64,

    /// Worker threads answering requests (default: one per core).
    #[arg(long, env = "MIP_WORKERS", global = true)]
    pub workers: Option<usize>,

    /// Most client connections open at once, over all workers; past it, new connections wait in
    /// the kernel's backlog until one closes.
    #[arg(long, env = "MIP_MAX_CONNECTIONS", default_value_t = 4096, global = true)]
    pub max_connections: usize,

    /// Longest a request body may take to arrive, whole, in milliseconds: a client that stalls
    /// its body gets a 408 and the connection is closed.
    #[arg(long, env = "MIP_BODY_TIMEOUT", default_value_t = 10_000, global = true)]
    pub body_timeout_ms: u64,

    /// Largest import body, in bytes (a `413` past it); also the most memory an import's body
    /// takes while it is read.
    #[arg(long, env = "MIP_IMPORT_MAX_BYTES", default_value_t = 16 * 1024 * 1024, global = true)]
    pub import_max_bytes: usize,

    /// Most rows one import may hold (a `413` past it).
    #[arg(long, env = "MIP_IMPORT_MAX_ROWS", default_value_t = 10_000, global = true)]
    pub import_max_rows: usize,

    /// Lifetime of access tokens, in seconds (at most one hour).
    #[arg(long, env = "MIP_ACCESS_TOKEN_TTL", default_value_t = 900, global = true)]
    pub access_token_ttl_secs: u64,

    /// Lifetime of refresh tokens, in seconds.
    #[arg(long, env = "MIP_REFRESH_TOKEN_TTL", default_value_t = 30 * 24 * 3600, global = true)]
    pub refresh_token_ttl_secs: u64,

    /// Failed logins allowed per account within the throttling window.
    #[arg(long, env = "MIP_LOGIN_MAX_FAILURES", default_value_t = 5, global = true)]
    pub login_max_failures: i64,

    /// Length of the per-account throttling window, in seconds.
    #[arg(long, env = "MIP_LOGIN_WINDOW", default_value_t = 900, global = true)]
    pub login_window_secs: u64,

    /// Invitations an organizer may send per hour (counted in the database, for all instances).
    #[arg(long, env = "MIP_INVITATIONS_PER_HOUR", default_value_t = 20, global = true)]
    pub invitations_per_hour: i64,

    /// Login and register requests allowed per client address per minute (per instance).
    #[arg(long, env = "MIP_AUTH_RATE_PER_MINUTE", default_value_t = 30, global = true)]
    pub auth_rate_per_minute: u32,

    /// Read the client address from the last `X-Forwarded-For` entry, the one the proxy in front
    /// appended (only behind such a proxy: otherwise clients pick their own address).
    #[arg(long, env = "MIP_TRUST_FORWARDED", default_value_t = false, global = true)]
    pub trust_forwarded: bool,

    /// `Strict-Transport-Security` max-age in seconds, for a service reached over HTTPS only
    /// (0: not sent, the default, since TLS usually ends at a proxy that may set it itself).
    #[arg(long, env = "MIP_HSTS_MAX_AGE", default_value_t = 0, global = true)]
    pub hsts_max_age_secs: u64,

    /// The address the public reaches this service at (`https://api.example.fr`), for the
    /// absolute links of feeds and embeds. Unset: read from each request's `Host` (and, with
    /// `MIP_TRUST_FORWARDED`, `X-Forwarded-Proto`/`X-Forwarded-Host`).
    #[arg(long, env = "MIP_PUBLIC_URL", global = true)]
    pub public_url: Option<String>,

    /// The page of an event on the programme site: `{slug}` is replaced by the event's slug.
    /// Feeds and embeds link each event there.
    #[arg(long, env = "MIP_EVENT_PAGE_URL", default_value = DEFAULT_EVENT_PAGE_URL, global = true)]
    pub event_page_url: String,

    /// The bearer token `GET /metrics` asks for (at least 16 bytes). Unset: `/metrics` is off
    /// (404), so that nothing about the service's traffic is public by default.
    #[arg(long, env = "MIP_METRICS_TOKEN", hide_env_values = true, global = true)]
    pub metrics_token: Option<String>,

    /// `false` leaves out the metrics middleware (to measure what it costs).
    #[arg(long, env = "MIP_METRICS", default_value_t = true, action = clap::ArgAction::Set, global = true)]
    pub metrics: bool,

    /// Rows an export reads per database round trip (`GET /exports/events.*`): each chunk is one
    /// short query on a pooled connection, so a slow download never holds a connection; the
    /// server holds about one chunk per export in memory.
    #[arg(long, env = "MIP_EXPORT_CHUNK_ROWS", default_value_t = 500, global = true)]
    pub export_chunk_rows: i64,

    /// Log filter (`info`, `mip=debug,actix_web=info`); `RUST_LOG` works too.
    #[arg(long, env = "MIP_LOG", default_value = "info", global = true)]
    pub log: String,

    /// Log format: `json` (one object per line) or `text`.
    #[arg(long, env = "MIP_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,
}

impl Settings {
    /// How long the database may take: what every pooled connection is set up with.
    pub fn db_limits(&self) -> crate::db::Limits {
        crate::db::Limits {
            statement_timeout: Duration::from_millis(self.db_statement_timeout_ms),
            lock_timeout: Duration::from_millis(self.db_lock_timeout_ms),
        }
    }

    pub fn access_token_ttl(&self) -> Duration {
        Duration::from_secs(self.access_token_ttl_secs)
    }

    /// Settings for tests and tools: a fixed secret and the default limits.
    pub fn for_tests(database_url: &str) -> Self {
        Settings {
            database_url: database_url.to_string(),
            database_read_url: None,
            jwt_secret: Some("test-secret-that-is-at-least-32-bytes-long!".into()),
            db_pool_size: 4,
            db_statement_timeout_ms: 10_000,
            db_lock_timeout_ms: 3_000,
            body_timeout_ms: 10_000,
            import_max_bytes: 16 * 1024 * 1024,
            import_max_rows: 10_000,
            workers: None,
            max_connections: 4096,
            access_token_ttl_secs: 900,
            refresh_token_ttl_secs: 3600,
            login_max_failures: 5,
            login_window_secs: 900,
            invitations_per_hour: 20,
            auth_rate_per_minute: 1000,
            trust_forwarded: false,
            hsts_max_age_secs: 0,
            public_url: None,
            metrics_token: None,
            metrics: true,
            event_page_url: DEFAULT_EVENT_PAGE_URL.into(),
            export_chunk_rows: 500,
            log: "warn".into(),
            log_format: LogFormat::Text,
        }
    }

    /// Refuses settings the service cannot run safely with. `demo` allows a generated secret.
    pub fn validated(mut self, demo: bool) -> Result<Self, String> {
        if self.access_token_ttl_secs == 0 || self.access_token_ttl_secs > 3600 {
            return Err("MIP_ACCESS_TOKEN_TTL must be between 1 and 3600 seconds".into());
        }
        if self.max_connections == 0 || self.workers == Some(0) {
            return Err("MIP_MAX_CONNECTIONS and MIP_WORKERS must be at least 1".into());
        }
        if !(1..=MAX_EXPORT_CHUNK_ROWS).contains(&self.export_chunk_rows) {
            return Err(format!("MIP_EXPORT_CHUNK_ROWS must be between 1 and {MAX_EXPORT_CHUNK_ROWS}"));
        }
        if self.metrics_token.as_ref().is_some_and(|token| token.len() < 16) {
            return Err("MIP_METRICS_TOKEN must be at least 16 bytes long".into());
        }
        if let Some(public_url) = &self.public_url {
            let parsed = url::Url::parse(public_url).map_err(|e| format!("MIP_PUBLIC_URL is not a URL: {e}"))?;
            if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
                return Err("MIP_PUBLIC_URL must be an http(s) address such as https://api.example.fr".into());
            }
            self.public_url = Some(public_url.trim_end_matches('/').to_string());
        }
        let page = self.event_page_url.replace("{slug}", "slug");
        if !self.event_page_url.contains("{slug}") || url::Url::parse(&page).is_err() {
            return Err("MIP_EVENT_PAGE_URL must be a URL holding `{slug}`".into());
        }
        match &self.jwt_secret {
            Some(secret) if secret.len() >= MIN_JWT_SECRET_BYTES => {}
            _ if demo => {
                self.jwt_secret = Some(demo_secret());
                tracing::warn!("demo mode: using a random JWT secret; tokens will not survive a restart");
            }
            Some(_) => return Err(format!("MIP_JWT_SECRET must be at least {MIN_JWT_SECRET_BYTES} bytes long")),
            None => {
                return Err(format!(
                    "MIP_JWT_SECRET is not set: export a random secret of at least {MIN_JWT_SECRET_BYTES} bytes \
                     (e.g. `export MIP_JWT_SECRET=$(openssl rand -hex 32)`), or run `mip serve --demo`"
                ));
            }
        }
        Ok(self)
    }
}

/// A random secret for demo mode (32 bytes from the OS, hex): tokens die with the process.
fn demo_secret() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}
