//! `/metrics`: off without a token, behind its token otherwise, in the OpenMetrics text format,
//! counting requests by route template (never the raw path), login failures and throttles.
//! The registry is the process's, shared by tests that run at once: counts are compared before
//! and after, and only ever expected to grow. A real Prometheus parser (Python's
//! `prometheus_client`) reads the same text in the contract stage (`tests/contract/metrics.py`).

use mip::auth::Role;

use crate::common::{self, TestApp};

const TOKEN: &str = "metrics-token-for-the-tests";

async fn with_metrics() -> TestApp {
    common::spawn_with(|db| mip::config::Settings {
        metrics_token: Some(TOKEN.into()),
        login_max_failures: 2,
        ..common::settings(db)
    })
    .await
}

async fn scrape(app: &TestApp) -> String {
    let reply = app.get_as("/metrics", TOKEN).await;
    assert_eq!(reply.status.as_u16(), 200, "{}", String::from_utf8_lossy(&reply.body));
    assert_eq!(
        reply.header("content-type").as_deref(),
        Some("application/openmetrics-text; version=1.0.0; charset=utf-8")
    );
    assert_eq!(reply.header("cache-control").as_deref(), Some("no-store"));
    String::from_utf8(reply.body.to_vec()).unwrap()
}

/// The value of one sample, `name{labels}` as written (0 when absent).
fn sample(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|line| line.strip_prefix(series).and_then(|rest| rest.strip_prefix(' ')))
        .map_or(0.0, |value| value.trim().parse().unwrap())
}

#[actix_web::test]
async fn metrics_are_off_without_a_token_and_behind_it_otherwise() {
    let app = common::spawn().await;
    app.get("/metrics").await.problem(404);
    let app = with_metrics().await;
    app.get("/metrics").await.problem(401);
    app.get_as("/metrics", "not-the-metrics-token").await.problem(401);
    let text = scrape(&app).await;
    assert!(text.contains("# TYPE mip_http_requests counter"));
    assert!(text.contains("# TYPE mip_http_request_duration_seconds histogram"));
    assert!(text.contains("mip_build_info{version=\""));
    assert!(text.ends_with("# EOF\n"));
    for gauge in [
        "mip_db_pool_connections",
        "mip_db_pool_idle_connections",
        "mip_db_pool_max_connections",
        "mip_db_pool_waiting",
        "mip_blocking_tasks",
        "mip_http_requests_in_flight",
    ] {
        assert!(text.contains(&format!("# TYPE {gauge} gauge")), "{gauge}");
    }
    assert_eq!(sample(&text, "mip_db_pool_max_connections"), 4.0, "the tests' pool size");
    let too_short = mip::config::Settings { metrics_token: Some("short".into()), ..common::settings(&app.db) };
    assert!(too_short.validated(false).unwrap_err().contains("MIP_METRICS_TOKEN"));
}

#[actix_web::test]
async fn requests_are_counted_and_timed_by_route_template_and_status_class() {
    let app = with_metrics().await;
    let found = "mip_http_requests_total{method=\"GET\",route=\"/api/v1/events/{id}\",status=\"4xx\"}";
    let timed = "mip_http_request_duration_seconds_count{method=\"GET\",route=\"/api/v1/events/{id}\"}";
    let before = scrape(&app).await;
    for slug in ["a-slug-nobody-has-1", "a-slug-nobody-has-2", "a-slug-nobody-has-3"] {
        app.get(&format!("/api/v1/events/{slug}")).await.problem(404);
    }
    app.get("/no/such/route").await.problem(404);
    let odd = actix_web::test::TestRequest::default()
        .method(actix_web::http::Method::from_bytes(b"FROB123").unwrap())
        .uri("/health/live");
    app.send(odd).await;
    let after = scrape(&app).await;
    assert!(sample(&after, found) >= sample(&before, found) + 3.0, "{after}");
    assert!(sample(&after, timed) >= sample(&before, timed) + 3.0);
    assert!(!after.contains("a-slug-nobody-has"), "the raw path never becomes a label");
    assert!(!after.contains("/no/such/route"));
    assert!(after.contains("route=\"unmatched\""));
    assert!(!after.contains("FROB123") && after.contains("method=\"other\""), "methods are a bounded set");
    assert_eq!(app.get_with("/metrics", &[("authorization", &format!("bearer {TOKEN}"))]).await.status.as_u16(), 200);
    let buckets: Vec<f64> = after
        .lines()
        .filter(|l| {
            l.starts_with("mip_http_request_duration_seconds_bucket{")
                && l.contains("method=\"GET\"")
                && l.contains("route=\"/api/v1/events/{id}\"")
        })
        .map(|l| l.rsplit(' ').next().unwrap().parse().unwrap())
        .collect();
    assert!(buckets.len() > 10 && buckets.windows(2).all(|w| w[0] <= w[1]), "cumulative buckets: {buckets:?}");
}

#[actix_web::test]
async fn login_failures_and_throttles_are_counted() {
    let app = with_metrics().await;
    app.account_token("counted@metrics.example", Role::Organizer, Some(app.create_organizer("Compté"))).await;
    let (failures, throttled) = ("mip_login_failures_total", "mip_throttled_total{kind=\"login\"}");
    let before = scrape(&app).await;
    for _ in 0..2 {
        assert_eq!(app.login("counted@metrics.example", "wrong password!").await.status.as_u16(), 401);
    }
    assert_eq!(app.login("counted@metrics.example", "wrong password!").await.status.as_u16(), 429);
    let after = scrape(&app).await;
    assert!(sample(&after, failures) >= sample(&before, failures) + 2.0, "{after}");
    assert!(sample(&after, throttled) >= sample(&before, throttled) + 1.0, "{after}");
}

#[actix_web::test]
async fn settings_for_links_and_connections_are_checked_at_start() {
    let app = common::spawn().await;
    let base = || common::settings(&app.db);
    let refused = |settings: mip::config::Settings| settings.validated(false).unwrap_err();
    assert!(
        refused(mip::config::Settings { public_url: Some("not a url".into()), ..base() }).contains("MIP_PUBLIC_URL")
    );
    assert!(
        refused(mip::config::Settings { public_url: Some("ftp://files.example".into()), ..base() })
            .contains("MIP_PUBLIC_URL")
    );
    assert!(
        refused(mip::config::Settings { event_page_url: "https://site.example/events".into(), ..base() })
            .contains("MIP_EVENT_PAGE_URL")
    );
    assert!(refused(mip::config::Settings { max_connections: 0, ..base() }).contains("MIP_MAX_CONNECTIONS"));
    assert!(refused(mip::config::Settings { workers: Some(0), ..base() }).contains("MIP_WORKERS"));
    let trimmed = mip::config::Settings { public_url: Some("https://api.example.fr/".into()), ..base() }
        .validated(false)
        .unwrap();
    assert_eq!(trimmed.public_url.as_deref(), Some("https://api.example.fr"));
}
