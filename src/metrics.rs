//! The service's metrics, in the Prometheus text format (`GET /metrics`), with the
//! `prometheus-client` crate. One registry per process: each instance is scraped on its own
//! and Prometheus sums them.
//!
//! What is measured where: requests (count, latency per route template and status class, in
//! flight) by the middleware below; database work (checkout wait, work queued on the blocking
//! pool, errors by kind) by `db` and `error`; logins (failures, throttles) by `auth`; the pool's
//! connections when scraped.

use std::sync::OnceLock;
use std::sync::atomic::AtomicI64;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    /// The route template (`/api/v1/events/{id}`), never the raw path: bounded cardinality.
    route: String,
    /// `2xx`, `3xx`, `4xx`, `5xx`.
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    kind: String,
}

/// The kinds `mip_db_errors_total` counts (see `error::error_kind`, and `pool_timeout`).
pub const DATABASE_ERROR_KINDS: [&str; 8] = [
    "unique_violation",
    "foreign_key_violation",
    "check_violation",
    "serialization_failure",
    "connection_lost",
    "timeout",
    "pool_timeout",
    "other",
];

/// The limits `mip_throttled_total` counts: per address (per instance), and per account or
/// organizer in the database (`auth::throttle::Action`).
pub const THROTTLE_KINDS: [&str; 4] = ["address", "login", "register", "invite"];

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

fn latency_histogram() -> Histogram {
    // 1 ms to about 33 s.
    Histogram::new(exponential_buckets(0.001, 2.0, 16))
}

pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: HistogramFamily<RouteLabels>,
    in_flight: Gauge<i64, AtomicI64>,
    pool_connections: Gauge<i64, AtomicI64>,
    pool_idle: Gauge<i64, AtomicI64>,
    pool_max: Gauge<i64, AtomicI64>,
    pool_waiting: Gauge<i64, AtomicI64>,
    checkout_wait: Histogram,
    blocking: Gauge<i64, AtomicI64>,
    db_errors: Family<KindLabels, Counter>,
    login_failures: Counter,
    throttled: Family<KindLabels, Counter>,
}

impl Metrics {
    fn new() -> Metrics {
        let mut registry = Registry::with_prefix("mip");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by route template and status class",
            requests.clone(),
        );
        let latency = HistogramFamily::<RouteLabels>::new_with_constructor(latency_histogram as fn() -> Histogram);
        registry.register(
            "http_request_duration_seconds",
            "Time to answer a request, by route template",
            latency.clone(),
        );
        let in_flight = Gauge::default();
        registry.register("http_requests_in_flight", "Requests being answered now", in_flight.clone());
        let pool_connections = Gauge::default();
        registry.register(
            "db_pool_connections",
            "Database connections the pool holds (idle or in use)",
            pool_connections.clone(),
        );
        let pool_idle = Gauge::default();
        registry.register("db_pool_idle_connections", "Pooled connections not in use", pool_idle.clone());
        let pool_max = Gauge::default();
        registry.register(
            "db_pool_max_connections",
            "The most connections the pool opens (MIP_DB_POOL_SIZE)",
            pool_max.clone(),
        );
        let pool_waiting = Gauge::default();
        registry.register("db_pool_waiting", "Database work waiting for a pooled connection now", pool_waiting.clone());
        let checkout_wait = latency_histogram();
        registry.register(
            "db_checkout_wait_seconds",
            "Time spent waiting for a pooled connection",
            checkout_wait.clone(),
        );
        let blocking = Gauge::default();
        registry.register(
            "blocking_tasks",
            "Database work and password hashing queued or running on the blocking thread pool",
            blocking.clone(),
        );
        let db_errors = Family::<KindLabels, Counter>::default();
        registry.register("db_errors", "Database errors, by kind", db_errors.clone());
        let login_failures = Counter::default();
        registry.register("login_failures", "Logins refused for a wrong email or password", login_failures.clone());
        let throttled = Family::<KindLabels, Counter>::default();
        registry.register(
            "throttled",
            "Requests refused with 429, by limit (account: too many failures; address: too many requests)",
            throttled.clone(),
        );
        // Every kind shows from the start, at 0: a dashboard's rate() needs the series to exist.
        for kind in DATABASE_ERROR_KINDS {
            db_errors.get_or_create(&KindLabels { kind: kind.to_string() }).get();
        }
        for kind in THROTTLE_KINDS {
            throttled.get_or_create(&KindLabels { kind: kind.to_string() }).get();
        }
        let build = Info::new(vec![("version", env!("CARGO_PKG_VERSION"))]);
        registry.register("build", "The running build", build);
        Metrics {
            registry,
            requests,
            latency,
            in_flight,
            pool_connections,
            pool_idle,
            pool_max,
            pool_waiting,
            checkout_wait,
            blocking,
            db_errors,
            login_failures,
            throttled,
        }
    }
}

/// The process's metrics.
pub fn metrics() -> &'static Metrics {
    static METRICS: OnceLock<Metrics> = OnceLock::new();
    METRICS.get_or_init(Metrics::new)
}

/// A request being answered: counted until dropped, whether it completes, fails, panics or is
/// cancelled (a client that hangs up), so that the gauge never drifts.
struct InFlight;

impl InFlight {
    fn start() -> InFlight {
        metrics().in_flight.inc();
        InFlight
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        metrics().in_flight.dec();
    }
}

/// The method as a label: the standard ones by name, anything else `other` (a client may send
/// any token as a method, and each would make new series).
fn method_label(method: &actix_web::http::Method) -> &'static str {
    use actix_web::http::Method;
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// Counts and times every request, by the route template it matched.
pub async fn middleware(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody + 'static>, actix_web::Error> {
    let metrics = metrics();
    let started = Instant::now();
    let method = method_label(request.method()).to_string();
    let in_flight = InFlight::start();
    let result = next.call(request).await;
    drop(in_flight);
    let (route, status) = match &result {
        Ok(response) => {
            (response.request().match_pattern().unwrap_or_else(|| "unmatched".to_string()), response.status().as_u16())
        }
        Err(error) => ("unmatched".to_string(), error.as_response_error().status_code().as_u16()),
    };
    let status = format!("{}xx", status / 100);
    metrics.requests.get_or_create(&RequestLabels { method: method.clone(), route: route.clone(), status }).inc();
    metrics.latency.get_or_create(&RouteLabels { method, route }).observe(started.elapsed().as_secs_f64());
    result
}

/// Work that runs on the blocking pool: counted while it is queued or running.
pub struct BlockingTask;

impl BlockingTask {
    pub fn start() -> BlockingTask {
        metrics().blocking.inc();
        BlockingTask
    }
}

impl Drop for BlockingTask {
    fn drop(&mut self) {
        metrics().blocking.dec();
    }
}

/// A wait for a pooled connection: counted while it waits, timed when it ends.
pub struct Checkout(Instant);

impl Checkout {
    pub fn start() -> Checkout {
        metrics().pool_waiting.inc();
        Checkout(Instant::now())
    }
}

impl Drop for Checkout {
    fn drop(&mut self) {
        let metrics = metrics();
        metrics.pool_waiting.dec();
        metrics.checkout_wait.observe(self.0.elapsed().as_secs_f64());
    }
}

pub fn database_error(kind: &str) {
    metrics().db_errors.get_or_create(&KindLabels { kind: kind.to_string() }).inc();
}

pub fn login_failed() {
    metrics().login_failures.inc();
}

pub fn throttled(limit: &str) {
    metrics().throttled.get_or_create(&KindLabels { kind: limit.to_string() }).inc();
}

/// The pool's state when scraped.
pub struct PoolState {
    pub connections: u32,
    pub idle: u32,
    pub max: u32,
}

/// Everything, in the Prometheus text format.
pub fn render(pool: PoolState) -> Result<String, std::fmt::Error> {
    let metrics = metrics();
    metrics.pool_connections.set(pool.connections.into());
    metrics.pool_idle.set(pool.idle.into());
    metrics.pool_max.set(pool.max.into());
    let mut out = String::new();
    prometheus_client::encoding::text::encode(&mut out, &metrics.registry)?;
    Ok(out)
}
