//! Per-client-address request limits (the `governor` crate's GCRA), for the endpoints that
//! attackers hammer: login and register.
//!
//! These counters are per instance, on purpose: they only blunt floods from one address.
//! What must hold across instances (failed logins per account) is counted in PostgreSQL.

use std::net::IpAddr;
use std::num::NonZeroU32;

use actix_web::HttpRequest;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

use crate::error::ApiError;

/// Past this many remembered addresses, idle ones are forgotten.
const FORGET_IDLE_AFTER_KEYS: usize = 10_000;

pub struct AddressLimiter {
    limiter: DefaultKeyedRateLimiter<IpAddr>,
    trust_forwarded: bool,
}

impl AddressLimiter {
    /// `per_minute` requests per address, with bursts of the same size.
    /// `trust_forwarded`: read the client address from the last `X-Forwarded-For` entry, the
    /// one the proxy in front appended (only behind such a proxy; otherwise anyone could pick
    /// their own address).
    pub fn new(per_minute: u32, trust_forwarded: bool) -> Self {
        let per_minute = NonZeroU32::new(per_minute.max(1)).unwrap_or(NonZeroU32::MIN);
        AddressLimiter { limiter: DefaultKeyedRateLimiter::keyed(Quota::per_minute(per_minute)), trust_forwarded }
    }

    fn client_address(&self, request: &HttpRequest) -> Option<IpAddr> {
        let info = request.connection_info();
        let forwarded = if self.trust_forwarded { last_forwarded_for(request) } else { None };
        let raw = match forwarded {
            Some(address) => address,
            None => info.peer_addr()?.to_string(),
        };
        parse_address(&raw)
    }

    /// 429 with `Retry-After` once the caller's address has used its quota.
    pub fn check(&self, request: &HttpRequest) -> Result<(), ApiError> {
        // A request with no address (unix socket, tests) is not limited per address.
        let Some(address) = self.client_address(request) else { return Ok(()) };
        if self.limiter.len() > FORGET_IDLE_AFTER_KEYS {
            self.limiter.retain_recent();
        }
        self.limiter.check_key(&address).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            crate::metrics::throttled("address");
            ApiError::TooManyRequests { retry_after_secs: wait.as_secs().max(1) }
        })
    }
}

/// The address the trusted proxy saw: the last `X-Forwarded-For` entry. Everything before it
/// (and any `Forwarded` header) came from the client, which picks whatever it likes there;
/// actix's `realip_remote_addr` reads the first entry and would hand every request a new quota.
fn last_forwarded_for(request: &HttpRequest) -> Option<String> {
    request
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .rfind(|entry| !entry.is_empty())
        .map(String::from)
}

fn parse_address(raw: &str) -> Option<IpAddr> {
    raw.parse::<IpAddr>().ok().or_else(|| raw.parse::<std::net::SocketAddr>().ok().map(|s| s.ip()))
}
