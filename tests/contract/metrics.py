"""/metrics as Prometheus reads it: parsed by Prometheus' own Python client parser (the strict
OpenMetrics one), after the other stages have sent their requests.

    python tests/contract/metrics.py BASE_URL     (the server runs with MIP_METRICS_TOKEN)

Checks the families a Grafana board uses (README, "Metrics") with their types, that requests
are labelled by route template and status class, that histogram buckets are cumulative, that the
request counts grew over the run, and that the endpoint refuses a wrong token. Exits 1 on a
failure.
"""

import os
import sys
import urllib.error
import urllib.request

from prometheus_client.openmetrics.parser import text_string_to_metric_families

BASE = sys.argv[1].rstrip("/")
TOKEN = os.environ["MIP_METRICS_TOKEN"]
failed = 0


def check(what, ok, detail=""):
    global failed
    print(f"  {'ok  ' if ok else 'FAIL'}  {what}" + ("" if ok else f": {detail}"))
    failed += 0 if ok else 1
    return ok


def scrape(token=TOKEN):
    request = urllib.request.Request(f"{BASE}/metrics", headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.headers.get("Content-Type", ""), response.read().decode()


try:
    scrape("not-the-token")
    check("a wrong token is refused", False, "answered 200")
except urllib.error.HTTPError as error:
    check("a wrong token is refused with 401 problem+json",
          error.code == 401 and error.headers.get("Content-Type") == "application/problem+json", error.code)

content_type, text = scrape()
check("the content type is OpenMetrics text", content_type.startswith("application/openmetrics-text"), content_type)
families = {family.name: family for family in text_string_to_metric_families(text)}
check("the OpenMetrics parser reads it whole", len(families) > 0, "no family")
expected = {
    "mip_http_requests": "counter",
    "mip_http_request_duration_seconds": "histogram",
    "mip_http_requests_in_flight": "gauge",
    "mip_db_pool_connections": "gauge",
    "mip_db_pool_idle_connections": "gauge",
    "mip_db_pool_max_connections": "gauge",
    "mip_db_pool_waiting": "gauge",
    "mip_db_checkout_wait_seconds": "histogram",
    "mip_blocking_tasks": "gauge",
    "mip_db_errors": "counter",
    "mip_login_failures": "counter",
    "mip_throttled": "counter",
    "mip_build": "info",
}
for name, kind in expected.items():
    family = families.get(name)
    check(f"{name} is a {kind}", family is not None and family.type == kind,
          "missing" if family is None else family.type)

requests = families.get("mip_http_requests")
if requests:
    samples = [s for s in requests.samples if s.name == "mip_http_requests_total"]
    routes = {s.labels["route"] for s in samples}
    check("requests carry route templates, not raw paths",
          "/api/v1/events/{id}" in routes and not any("/api/v1/events/0" in r for r in routes), sorted(routes)[:10])
    check("status is a class", all(s.labels["status"] in {"1xx", "2xx", "3xx", "4xx", "5xx"} for s in samples))
    total = sum(s.value for s in samples)
    check("the run's requests were counted (over 100)", total > 100, total)
    _, again = scrape()
    later = sum(s.value for f in text_string_to_metric_families(again) if f.name == "mip_http_requests"
                for s in f.samples if s.name == "mip_http_requests_total")
    check("the counts grow between scrapes", later > total, f"{total} then {later}")

latency = families.get("mip_http_request_duration_seconds")
if latency:
    series = {}
    for s in latency.samples:
        if s.name.endswith("_bucket"):
            key = (s.labels["method"], s.labels["route"])
            series.setdefault(key, []).append((float(s.labels["le"]), s.value))
    monotonic = all([v for _, v in sorted(b)] == sorted(v for _, v in b) for b in series.values())
    check("histogram buckets are cumulative, ending with +Inf",
          monotonic and all(max(le for le, _ in b) == float("inf") for b in series.values()), len(series))

build = families.get("mip_build")
check("the build says its version", bool(build and build.samples and build.samples[0].labels.get("version")))

print(f"metrics: {'all checks passed' if not failed else f'{failed} failed'}")
sys.exit(1 if failed else 0)
