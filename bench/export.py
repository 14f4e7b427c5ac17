#!/usr/bin/env python3
"""The export benchmark: does a 100,000-event export stream at steady memory?

    python3 bench/export.py                   # the 100,000-event data set of bench/run.py
    python3 bench/export.py --reseed          # rebuild it first

Seeds the data set as bench/run.py does (same database, reused), starts the release build, makes
an admin, then downloads as that admin, one after the other on the same server process:

  1. /api/v1/exports/events.csv and .ndjson filtered to one edition (about 10,000 events),
  2. /api/v1/exports/events.csv, .ndjson and .xlsx of every event (100,000).

For each: rows, bytes, seconds, rows/s, and the server's peak resident memory (VmHWM from
/proc/<pid>/status) before and after. The peak is reset before each download (`5` written to
/proc/<pid>/clear_refs, where allowed), so each peak is that download's own: if the 100,000-row
exports peak about where the 10,000-row ones do, memory is steady (bounded by a chunk, not by
the export).
Writes the table to bench/out/export-<events>.md. Needs cargo and psql; standard library only.
"""

import argparse
import csv
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run as bench  # noqa: E402  (the seeding and the server of bench/run.py)

ADMIN_EMAIL = "bench-admin@mip.example"
ADMIN_PASSWORD = "a long bench password nobody guesses 7f3a"

# (label, path, expected size class)
DOWNLOADS = [
    ("csv, one edition", "/api/v1/exports/events.csv?edition=2022"),
    ("ndjson, one edition", "/api/v1/exports/events.ndjson?edition=2022"),
    ("csv, every event", "/api/v1/exports/events.csv"),
    ("ndjson, every event", "/api/v1/exports/events.ndjson"),
    ("xlsx, every event", "/api/v1/exports/events.xlsx"),
]


def status_kib(pid, field):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def reset_peak(pid):
    """Resets VmHWM to the current RSS (Linux: `5` in clear_refs), so that the next reading is the
    peak of what ran since; returns False where that is not allowed."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def admin_token(server, name, binary, base):
    env = dict(os.environ, DATABASE_URL=f"{server}/{name}", MIP_JWT_SECRET="bench-secret-that-is-at-least-32-bytes")
    created = subprocess.run(
        [binary, "admin", "create", "--email", ADMIN_EMAIL, "--password-stdin"],
        input=ADMIN_PASSWORD, text=True, capture_output=True, env=env,
    )
    if created.returncode != 0 and "already exists" not in created.stderr + created.stdout:
        sys.exit(f"bench: cannot create the admin: {created.stderr}")
    body = json.dumps({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}).encode()
    request = urllib.request.Request(f"{base}/api/v1/auth/login", body, {"content-type": "application/json"})
    return json.load(urllib.request.urlopen(request, timeout=30))["access_token"]


def download(url, token, into):
    """Downloads `url` into the file `into`; returns (bytes, seconds)."""
    request = urllib.request.Request(url, headers={"authorization": f"Bearer {token}"})
    started = time.monotonic()
    size = 0
    with urllib.request.urlopen(request, timeout=600) as response, open(into, "wb") as out:
        while block := response.read(1 << 16):
            size += len(block)
            out.write(block)
    return size, time.monotonic() - started


def count_rows(path, kind):
    if kind == "csv":
        with open(path, newline="", encoding="utf-8") as f:
            return sum(1 for _ in csv.reader(f)) - 1
    if kind == "ndjson":
        with open(path, "rb") as f:
            return sum(1 for _ in f)
    return None  # xlsx: the same rows as the CSV of the same filter


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--server", default=os.environ.get("MIP_BENCH_SERVER", "postgres://postgres@localhost:5432"))
    parser.add_argument("--port", type=int, default=18090)
    parser.add_argument("--reseed", action="store_true")
    args = parser.parse_args()
    for tool in ("cargo", "psql"):
        bench.need(tool)
    bench.OUT.mkdir(exist_ok=True)

    print("== building the release binary")
    subprocess.run(["cargo", "build", "--release", "-q"], cwd=bench.ROOT, check=True)
    binary = str(bench.ROOT / "target" / "release" / "mip")
    name = f"mip_bench_{args.events}"
    if args.reseed or not bench.database_exists(args.server, name):
        bench.seed(args.server, name, args.events, binary)

    api = bench.start_api(args.server, name, binary, args.port)
    base = f"http://127.0.0.1:{args.port}"
    rows = []
    counted = {}  # filter → rows, for the xlsx of a filter already exported as CSV
    try:
        token = admin_token(args.server, name, binary, base)
        started_hwm = status_kib(api.pid, "VmHWM")
        print(f"   server started: peak RSS {started_hwm / 1024:.1f} MiB")
        resettable = False
        for label, path in DOWNLOADS:
            kind = path.split("?")[0].rsplit(".", 1)[1]
            into = bench.OUT / f"export.{kind}"
            resettable = reset_peak(api.pid)
            before = status_kib(api.pid, "VmHWM")
            size, seconds = download(base + path, token, into)
            after, rss = status_kib(api.pid, "VmHWM"), status_kib(api.pid, "VmRSS")
            query = path.partition("?")[2]
            count = count_rows(into, kind)
            count = counted.setdefault(query, count) if count is not None else counted.get(query)
            rate = f"{count / seconds:,.0f}" if count is not None else "–"
            rows.append((label, count, size, seconds, rate, before, after, rss))
            print(f"   {label}: {count if count is not None else '?'} rows, {size / 1e6:.1f} MB in {seconds:.1f} s, "
                  f"peak RSS {before / 1024:.1f} → {after / 1024:.1f} MiB")
            into.unlink()
    finally:
        api.send_signal(signal.SIGTERM)
        api.wait(timeout=30)

    peak = (
        "the peak is reset before each download (clear_refs), so each row's peak is that download's own"
        if resettable else "the peak could not be reset (clear_refs refused): it only grows over the run"
    )
    table = (
        f"{args.events:,} events seeded; one release server (chunks of 500 rows), downloads one after the other, as an admin; "
        f"{os.cpu_count()} cores, API and PostgreSQL on the same machine; peak RSS at start {started_hwm / 1024:.1f} MiB; "
        f"{peak}\n\n"
        "| export | rows | MB | seconds | rows/s | peak RSS before (MiB) | peak RSS after (MiB) | RSS after (MiB) |\n"
        "|---|---:|---:|---:|---:|---:|---:|---:|\n"
        + "".join(
            f"| {label} | {count if count is not None else '–'} | {size / 1e6:.1f} | {seconds:.1f} | {rate} | "
            f"{before / 1024:.1f} | {after / 1024:.1f} | {rss / 1024:.1f} |\n"
            for label, count, size, seconds, rate, before, after, rss in rows
        )
    )
    (bench.OUT / f"export-{args.events}.md").write_text(table)
    print()
    print(table)


if __name__ == "__main__":
    main()
