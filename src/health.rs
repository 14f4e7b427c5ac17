//! Liveness and readiness probes.

use actix_web::{HttpResponse, get, web};
use diesel::RunQueryDsl;
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{ApiResult, Problem};
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct Health {
    #[schema(example = "ok")]
    pub status: &'static str,
}

/// The process is up.
#[utoipa::path(tag = "operations", responses((status = 200, description = "Alive", body = Health)))]
#[get("/health/live")]
pub async fn live() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: "ok" })
}

/// The process can serve: the database answers.
#[utoipa::path(
    tag = "operations",
    responses(
        (status = 200, description = "Ready", body = Health),
        (status = 503, description = "The database does not answer", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/health/ready")]
pub async fn ready(state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    crate::db::run_on_primary(&state.pool, |conn| {
        diesel::sql_query("SELECT 1").execute(conn).map_err(|_| crate::error::ApiError::Unavailable)?;
        Ok(())
    })
    .await?;
    Ok(HttpResponse::Ok().json(Health { status: "ok" }))
}

/// The service's metrics in the Prometheus text format: requests per route template and status
/// class, latency histograms, requests in flight, the database pool (connections, idle, waiting,
/// time waiting), work on the blocking pool, database errors by kind, login failures and
/// throttles, and the build.
///
/// Off (404) unless `MIP_METRICS_TOKEN` is set; then it asks for that token as a bearer token.
#[utoipa::path(
    tag = "operations",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The metrics (OpenMetrics text, which Prometheus reads)", body = String, content_type = "application/openmetrics-text"),
        (status = 401, description = "Not the metrics token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Metrics are off (no MIP_METRICS_TOKEN)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/metrics")]
pub async fn metrics(state: web::Data<AppState>, request: actix_web::HttpRequest) -> ApiResult<HttpResponse> {
    use sha2::{Digest, Sha256};
    let Some(expected) = &state.settings.metrics_token else {
        return Err(crate::error::ApiError::NotFound("`/metrics` (set MIP_METRICS_TOKEN to turn it on)".into()));
    };
    let given = request
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .unwrap_or_default();
    // Digests compared, so that the time taken says nothing about the token.
    if Sha256::digest(given.as_bytes()) != Sha256::digest(expected.as_bytes()) {
        return Err(crate::error::ApiError::Unauthorized(
            "`/metrics` needs the metrics token (MIP_METRICS_TOKEN)".into(),
        ));
    }
    let pool = state.pool.state();
    let body = crate::metrics::render(crate::metrics::PoolState {
        connections: pool.connections,
        idle: pool.idle_connections,
        max: state.pool.max_size(),
    })
    .map_err(crate::error::ApiError::internal)?;
    Ok(HttpResponse::Ok()
        .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
        .insert_header(("cache-control", "no-store"))
        .body(body))
}
