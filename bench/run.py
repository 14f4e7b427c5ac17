#!/usr/bin/env python3
"""The discovery and reports benchmark: seed a realistic data set, start the release build, drive load over
HTTP with wrk, and run the same SQL with pgbench at the same concurrency (the limit we aim at).

    python3 bench/run.py                      # 100,000 events
    python3 bench/run.py --events 1000000     # the large variant
    python3 bench/run.py --reseed             # rebuild the data set

Prints, per scenario, requests/s and p50/p99 latency of the API and of pgbench, and the ratio
API / pgbench; writes the same table to bench/out/results-<events>.md. Needs: cargo, psql,
pgbench and wrk (Debian: apt-get install postgresql-client wrk). Standard library only.
"""

import argparse
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
OUT = BENCH / "out"

# What a programme site asks most, and one page each. `pgbench` runs the statements the API
# issues for the same request (bench/sql/<name>.sql), with the same concurrency.
SCENARIOS = [
    ("filtered_page", "/api/v1/events?edition=2025&region=84&format=workshop,webinar,conference&limit=20"),
    ("full_text", "/api/v1/events?q=participation%20citoyenne&edition=2025&limit=20"),
    ("facets", "/api/v1/events?edition=2025&mode=onsite&facets=region,format,track,mode,audience,organizer_kind&limit=20"),
    ("by_slug", None),  # random published events, see bench/by_slug.lua
    # Reports: an edition in figures with every breakdown and the previous edition, whole and for a region.
    ("edition_report", "/api/v1/reports/editions/2025"),
    ("edition_report_region", "/api/v1/reports/editions/2025?region=84"),
    # Feeds: an edition's programme as a calendar (500 events, one VEVENT per session), fetched
    # whole and revalidated by a subscriber whose copy is current (If-None-Match: 304).
    ("feed_ics", "/api/v1/feeds/events.ics?edition=2025"),
    ("feed_ics_304", "/api/v1/feeds/events.ics?edition=2025"),
]

# Scenarios that revalidate: wrk sends the ETag the first answer carried.
REVALIDATING = {"feed_ics_304"}


def run(command, **kwargs):
    return subprocess.run(command, check=True, text=True, capture_output=True, **kwargs)


def need(tool):
    if shutil.which(tool) is None:
        sys.exit(f"bench: `{tool}` is not installed (Debian: apt-get install postgresql-client wrk)")


def database_exists(server, name):
    out = run(["psql", f"{server}/postgres", "-Atc", f"SELECT 1 FROM pg_database WHERE datname = '{name}'"]).stdout
    return out.strip() == "1"


def seed(server, name, events, binary):
    print(f"== seeding {events} events into {name}")
    run(["psql", f"{server}/postgres", "-qc", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"])
    env = dict(os.environ, DATABASE_URL=f"{server}/{name}")
    run([binary, "migrate"], env=env)
    started = time.monotonic()
    run(["psql", f"{server}/{name}", "-q", "-v", f"events={events}", "-f", str(BENCH / "seed.sql")])
    run(["psql", f"{server}/{name}", "-qc", "VACUUM ANALYZE"])
    print(f"   seeded in {time.monotonic() - started:.0f} s")


def start_api(server, name, binary, port, metrics=True):
    env = dict(
        os.environ,
        DATABASE_URL=f"{server}/{name}",
        MIP_JWT_SECRET="bench-secret-that-is-at-least-32-bytes",
        MIP_LOG="warn",
        MIP_DB_POOL_SIZE="16",
        MIP_METRICS="true" if metrics else "false",
    )
    process = subprocess.Popen([binary, "serve", "--bind", f"127.0.0.1:{port}"], env=env)
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health/ready", timeout=1)
            return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    sys.exit("bench: the API did not become ready")


def duration_ms(text):
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk(url, connections, seconds, script=None, events=None, headers=()):
    command = ["wrk", f"-t{min(2, connections)}", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    for header in headers:
        command[1:1] = ["-H", header]
    if script:
        command[1:1] = ["-s", str(script)]
    env = dict(os.environ, BENCH_EVENTS=str(events)) if events else None
    out = run(command, env=env).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = duration_ms(re.search(r"\s50%\s+(\S+)", out).group(1))
    p99 = duration_ms(re.search(r"\s99%\s+(\S+)", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        sys.exit(f"bench: {errors.group(1)} failed responses from {url}\n{out}")
    return rps, p50, p99


def pgbench(server, name, script, connections, seconds, events):
    log_dir = OUT / "pgbench"
    shutil.rmtree(log_dir, ignore_errors=True)
    log_dir.mkdir(parents=True)
    command = [
        "pgbench", "-n", "-M", "prepared", "-c", str(connections), "-j", str(min(2, connections)), "-T", str(seconds),
        "-D", f"events={events}", "-f", str(script), "-l", "--log-prefix", str(log_dir / "tx"), f"{server}/{name}",
    ]
    out = run(command, cwd=log_dir).stdout
    tps = float(re.search(r"tps = ([\d.]+)", out).group(1))
    latencies = []
    for log in log_dir.iterdir():
        latencies.extend(int(line.split()[2]) / 1000.0 for line in log.read_text().splitlines())
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    return tps, statistics.median(latencies), p99


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument(
        "--connections", type=int, default=os.cpu_count() or 2,
        help="concurrent clients (default: one per core; more only queue once the cores are busy)",
    )
    parser.add_argument("--server", default=os.environ.get("MIP_BENCH_SERVER", "postgres://postgres@localhost:5432"))
    parser.add_argument("--port", type=int, default=18080)
    parser.add_argument("--reseed", action="store_true")
    parser.add_argument("--only", help="comma-separated scenario names")
    parser.add_argument(
        "--two-instances", action="store_true",
        help="instead: the cheapest scenarios on one instance, then on two instances of the same database at once",
    )
    parser.add_argument(
        "--metrics-overhead", action="store_true",
        help="instead: the cheapest scenarios against two instances, with and without the metrics middleware, alternately",
    )
    args = parser.parse_args()
    for tool in ("cargo", "psql", "pgbench", "wrk"):
        need(tool)
    OUT.mkdir(exist_ok=True)

    print("== building the release binary")
    subprocess.run(["cargo", "build", "--release", "-q"], cwd=ROOT, check=True)
    binary = str(ROOT / "target" / "release" / "mip")
    name = f"mip_bench_{args.events}"
    if args.reseed or not database_exists(args.server, name):
        seed(args.server, name, args.events, binary)

    if args.metrics_overhead:
        return metrics_overhead(args, name, binary)
    if args.two_instances:
        return two_instances(args, name, binary)

    api = start_api(args.server, name, binary, args.port)
    rows = []
    try:
        for scenario, path in SCENARIOS:
            if args.only and scenario not in args.only.split(","):
                continue
            base = f"http://127.0.0.1:{args.port}"
            if path:
                headers = ()
                if scenario in REVALIDATING:
                    etag = urllib.request.urlopen(base + path, timeout=30).headers["ETag"]
                    headers = (f"If-None-Match: {etag}",)
                wrk(base + path, args.connections, 2, headers=headers)  # warm up
                api_result = wrk(base + path, args.connections, args.seconds, headers=headers)
            else:
                script = BENCH / "by_slug.lua"
                wrk(base, args.connections, 2, script, args.events)
                api_result = wrk(base, args.connections, args.seconds, script, args.events)
            sql_result = pgbench(args.server, name, BENCH / "sql" / f"{scenario}.sql", args.connections, args.seconds, args.events)
            rows.append((scenario, api_result, sql_result))
            print(f"   {scenario}: API {api_result[0]:.0f} req/s, pgbench {sql_result[0]:.0f} tx/s")
    finally:
        api.send_signal(signal.SIGTERM)
        api.wait(timeout=30)

    cpu = next((l.split(":", 1)[1].strip() for l in Path("/proc/cpuinfo").read_text().splitlines() if l.startswith("model name")), "?")
    header = (
        f"{args.events:,} events, {args.connections} connections, {args.seconds} s per run, "
        f"{os.cpu_count()} cores ({cpu}), API and PostgreSQL on the same machine\n\n"
        "| scenario | API req/s | API p50 ms | API p99 ms | pgbench tx/s | pgbench p50 ms | pgbench p99 ms | API / pgbench |\n"
        "|---|---:|---:|---:|---:|---:|---:|---:|\n"
    )
    table = header + "".join(
        f"| {s} | {a[0]:.0f} | {a[1]:.1f} | {a[2]:.1f} | {p[0]:.0f} | {p[1]:.1f} | {p[2]:.1f} | {a[0] / p[0]:.2f} |\n"
        for s, a, p in rows
    )
    (OUT / f"results-{args.events}.md").write_text(table)
    print()
    print(table)


def wrk_command(url, connections, seconds, script=None):
    command = ["wrk", f"-t{min(2, connections)}", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    if script:
        command[1:1] = ["-s", str(script)]
    return command


def two_instances(args, name, binary):
    """One instance driven by all the clients, then two instances on the same database each driven
    by half of them at once (a load balancer's share), alternately, three rounds: the total
    throughput of each setup, medians. On a 2-core machine the second instance shares the same
    cores and PostgreSQL, so this measures the cost of running several, not a speed-up."""
    first = start_api(args.server, name, binary, args.port)
    second = start_api(args.server, name, binary, args.port + 1)
    env = dict(os.environ, BENCH_EVENTS=str(args.events))
    lines = []
    try:
        for scenario, path, script in (
            ("event by slug", None, BENCH / "by_slug.lua"),
            ("filtered page", dict(SCENARIOS)["filtered_page"], None),
        ):
            one, two = [], []
            for _ in range(3):
                base = f"http://127.0.0.1:{args.port}"
                one.append(wrk(base + (path or ""), args.connections, args.seconds, script, args.events)[0])
                half = max(1, args.connections // 2)
                runs = [
                    subprocess.Popen(
                        wrk_command(f"http://127.0.0.1:{port}" + (path or ""), half, args.seconds, script),
                        stdout=subprocess.PIPE, text=True, env=env,
                    )
                    for port in (args.port, args.port + 1)
                ]
                outputs = [run.communicate()[0] for run in runs]
                two.append(sum(float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)) for out in outputs))
            a, b = statistics.median(one), statistics.median(two)
            lines.append(f"| {scenario} | {a:.0f} | {b:.0f} | {b / a:.2f} |")
            print(f"   {scenario}: one instance {a:.0f} req/s, two {b:.0f} req/s")
    finally:
        for api in (first, second):
            api.send_signal(signal.SIGTERM)
            api.wait(timeout=30)
    table = (
        f"{args.events:,} events, {args.connections} clients in all, {args.seconds} s per run, 3 alternating rounds, medians\n\n"
        "| scenario | one instance req/s | two instances req/s (sum) | two / one |\n|---|---:|---:|---:|\n"
        + "\n".join(lines) + "\n"
    )
    (OUT / f"two-instances-{args.events}.md").write_text(table)
    print()
    print(table)


def metrics_overhead(args, name, binary):
    """Throughput with and without the metrics middleware, in one run: two instances on the same
    data, driven alternately (five rounds per scenario), the median of each compared."""
    with_metrics = start_api(args.server, name, binary, args.port, metrics=True)
    without = start_api(args.server, name, binary, args.port + 1, metrics=False)
    lines = []
    try:
        for scenario, path, script in (
            ("event by slug", None, BENCH / "by_slug.lua"),
            ("filtered page", dict(SCENARIOS)["filtered_page"], None),
        ):
            results = {True: [], False: []}
            for _ in range(5):
                for metrics, port in ((True, args.port), (False, args.port + 1)):
                    base = f"http://127.0.0.1:{port}"
                    url = base + path if path else base
                    results[metrics].append(wrk(url, args.connections, args.seconds, script, args.events))
            on = statistics.median(r[0] for r in results[True])
            off = statistics.median(r[0] for r in results[False])
            p99_on = statistics.median(r[2] for r in results[True])
            p99_off = statistics.median(r[2] for r in results[False])
            lines.append(f"| {scenario} | {on:.0f} | {off:.0f} | {on / off:.3f} | {p99_on:.2f} / {p99_off:.2f} |")
            print(f"   {scenario}: {on:.0f} req/s with metrics, {off:.0f} without")
    finally:
        for api in (with_metrics, without):
            api.send_signal(signal.SIGTERM)
            api.wait(timeout=30)
    table = (
        f"{args.events:,} events, {args.connections} connections, {args.seconds} s per run, 5 alternating rounds, medians\n\n"
        "| scenario | req/s with metrics | req/s without | ratio | p99 ms with / without |\n|---|---:|---:|---:|---|\n"
        + "\n".join(lines) + "\n"
    )
    (OUT / f"metrics-overhead-{args.events}.md").write_text(table)
    print()
    print(table)


if __name__ == "__main__":
    main()
