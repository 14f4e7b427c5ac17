//! `AppState`: what every handler may need, shared by all workers. It lives apart from the
//! router (`app.rs`), so the domains import the state, never the file that imports them.

use std::sync::Arc;

use crate::auth::tokens::JwtKeys;
use crate::clock::Clock;
use crate::config::Settings;
use crate::db::DbPool;
use crate::geo::repo::Geography;
use crate::http::rate_limit::AddressLimiter;

pub struct AppState {
    /// The primary: every write, and every read of a caller with credentials.
    pub pool: DbPool,
    /// A streaming replica for public reads (`DATABASE_READ_URL`), if there is one.
    pub replica: Option<crate::db::Replica>,
    pub settings: Arc<Settings>,
    pub keys: Arc<JwtKeys>,
    /// Per-address limit on login and register (per instance, see `http::rate_limit`).
    pub auth_limiter: Arc<AddressLimiter>,
    /// The INSEE regions and departments: written by a migration, read once at start.
    pub geo: Arc<Geography>,
    /// What "now" is: the system clock, or a clock the tests move.
    pub clock: Clock,
}

impl AppState {
    /// Builds the state, reading the reference data once (one connection from the pool).
    pub fn new(pool: DbPool, settings: Settings) -> Result<Self, String> {
        let geo = {
            let mut conn = pool.get().map_err(|e| format!("cannot connect to the database: {e}"))?;
            Geography::load(&mut conn).map_err(|e| format!("cannot read the INSEE reference tables: {e}"))?
        };
        Ok(Self::from_parts(pool, settings, Arc::new(geo), Clock::system()))
    }

    /// The state around parts already made (tests share a clock or build on a broken pool).
    pub fn from_parts(pool: DbPool, settings: Settings, geo: Arc<Geography>, clock: Clock) -> Self {
        let keys = JwtKeys::new(settings.jwt_secret.as_deref().unwrap_or_default());
        let auth_limiter = AddressLimiter::new(settings.auth_rate_per_minute, settings.trust_forwarded);
        // Opened lazily: a replica that is down neither delays the start nor fails a request
        // (`db::run` falls back to the primary).
        let replica = settings
            .database_read_url
            .as_deref()
            .map(|url| crate::db::Replica::new(url, settings.db_pool_size, settings.db_limits()));
        AppState {
            pool,
            replica,
            settings: Arc::new(settings),
            keys: Arc::new(keys),
            auth_limiter: Arc::new(auth_limiter),
            geo,
            clock,
        }
    }
}
