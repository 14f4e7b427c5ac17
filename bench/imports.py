#!/usr/bin/env python3
"""The import benchmark: 10,000 events imported in one request (a CSV as a spreadsheet saves
it), beside a plain `COPY` of the same rows into the events table, in the same run.

    python3 bench/imports.py              # 10,000 rows, 3 rounds
    python3 bench/imports.py --rows 2000

Each round registers a fresh organizer and imports the file as its member (atomic, every row
created: events, sessions, a history entry each, the import's report), then imports the same
file again (every row `unchanged`). The baseline is `COPY events (...) FROM STDIN` of the same
rows, timed by PostgreSQL (`\\timing`), in a transaction rolled back. Prints medians and the
ratio import rate / COPY rate; writes bench/out/imports-<rows>.md. Needs cargo and psql.
Standard library only.
"""

import argparse
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
import uuid
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
DEPARTMENTS = [("35", "35000", "Rennes"), ("59", "59000", "Lille"), ("69", "69001", "Lyon"), ("13", "13001", "Marseille")]
FORMATS = ["workshop", "webinar", "conference", "round_table", "training"]


def run(command, **kwargs):
    return subprocess.run(command, check=True, text=True, capture_output=True, **kwargs)


def call(base, method, path, token=None, body=None, content_type="application/json"):
    data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", content_type)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def month():
    """The month of the bench edition: ten days from now, for forty days."""
    start = date.today() + timedelta(days=10)
    return start, start + timedelta(days=30)


def csv_rows(rows):
    start, _ = month()
    lines = ["external_id;title;summary;format;mode;starts_at;ends_at;venue_name;postal_code;city;department;online_url;tags"]
    for n in range(rows):
        day = (start + timedelta(days=n % 25)).strftime("%d/%m/%Y")
        department, postal, city = DEPARTMENTS[n % len(DEPARTMENTS)]
        online = n % 3 == 0
        lines.append(";".join([
            f"bench-{n}", f"Atelier numéro {n} : services publics et usagers", "Deux heures pour tester un parcours.",
            FORMATS[n % len(FORMATS)], "online" if online else "onsite", f"{day} 14:00", f"{day} 16:00",
            "" if online else "Salle du conseil", "" if online else postal, "" if online else city,
            "" if online else department, f"https://visio.example.fr/{n}" if online else "", "usagers | design",
        ]))
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def copy_rows(rows, organizer, account, year):
    """The same events as COPY text, with the columns the import fills."""
    start, _ = month()
    out = []
    for n in range(rows):
        day = start + timedelta(days=n % 25)
        starts = datetime(day.year, day.month, day.day, 13, 0, tzinfo=timezone.utc)
        department, postal, city = DEPARTMENTS[n % len(DEPARTMENTS)]
        online = n % 3 == 0
        region = {"35": "53", "59": "32", "69": "84", "13": "93"}[department]
        nul = "\\N"
        out.append("\t".join([
            str(uuid.uuid4()), f"atelier-numero-{n}-{year}-{uuid.uuid4().hex[:6]}", str(year), str(organizer),
            f"Atelier numéro {n} : services publics et usagers", "Deux heures pour tester un parcours.",
            FORMATS[n % len(FORMATS)], "online" if online else "onsite", "everyone", "Europe/Paris",
            starts.isoformat(), (starts + timedelta(hours=2)).isoformat(),
            nul if online else "Salle du conseil", nul if online else postal, nul if online else city,
            nul if online else region, nul if online else department,
            f"https://visio.example.fr/{n}" if online else nul, "{usagers,design}", f"copy-{n:05d}", str(account),
        ]))
    return "\n".join(out) + "\n"


def copy_ms(server, name, text):
    path = OUT / "copy-rows.tsv"
    path.write_text(text)
    columns = ("id, slug, edition_year, organizer_id, title, summary, format, mode, audience, timezone, starts_at, "
               "ends_at, venue_name, venue_postal_code, venue_city, region_code, department_code, online_url, tags, "
               "external_id, created_by")
    script = f"\\timing on\nBEGIN;\n\\copy events ({columns}) FROM '{path}'\nROLLBACK;\n"
    output = run(["psql", f"{server}/{name}", "-v", "ON_ERROR_STOP=1"], input=script).stdout
    times = [float(t) for t in re.findall(r"Time: ([\d.]+) ms", output)]
    return times[1]  # BEGIN, COPY, ROLLBACK


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--server", default=os.environ.get("MIP_BENCH_SERVER", "postgres://postgres@localhost:5432"))
    parser.add_argument("--port", type=int, default=18090)
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    run(["cargo", "build", "--release", "--quiet"], cwd=ROOT)
    binary = str(ROOT / "target" / "release" / "mip")
    name = "mip_bench_imports"
    run(["psql", f"{args.server}/postgres", "-qc", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"])
    env = dict(os.environ, DATABASE_URL=f"{args.server}/{name}", MIP_JWT_SECRET="bench-secret-that-is-at-least-32-bytes",
               MIP_LOG=os.environ.get("MIP_BENCH_LOG", "warn"), MIP_IMPORT_MAX_ROWS=str(max(args.rows, 10_000)), MIP_AUTH_RATE_PER_MINUTE="1000")
    run([binary, "migrate"], env=env)
    run([binary, "admin", "create", "--email", "admin@bench.example", "--password-stdin"], env=env,
        input="bench-admin-password-long-enough\n")
    api = subprocess.Popen([binary, "serve", "--bind", f"127.0.0.1:{args.port}"], env=env)
    base = f"http://127.0.0.1:{args.port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{base}/health/ready", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        status, login = call(base, "POST", "/api/v1/auth/login",
                             body={"email": "admin@bench.example", "password": "bench-admin-password-long-enough"})
        admin = login["access_token"]
        start, end = month()
        now = datetime.now(timezone.utc)
        year = 2031
        status, body = call(base, "POST", "/api/v1/editions", admin, {
            "year": year, "number": year - 2013, "title": f"Mois de l'innovation publique {year}",
            "starts_on": start.isoformat(), "ends_on": end.isoformat(),
            "referencing_opens_at": (now - timedelta(days=1)).isoformat(),
            "referencing_closes_at": (now + timedelta(days=20)).isoformat(),
        })
        assert status == 201, body
        payload = csv_rows(args.rows)
        imports, replays, copies = [], [], []
        for round_ in range(args.rounds):
            email = f"member-{round_}-{uuid.uuid4().hex[:8]}@bench.example"
            status, registered = call(base, "POST", "/api/v1/auth/register", body={
                "email": email, "password": "bench-member-password-long", "organizer": {"name": f"Préfecture {round_}", "kind": "deconcentrated_service"},
            })
            assert status == 201, registered
            member = registered["access_token"]
            organizer, account = registered["account"]["organizer"]["id"], registered["account"]["id"]
            started = time.monotonic()
            status, report = call(base, "POST", "/api/v1/imports/events", member, payload, "text/csv")
            imports.append(time.monotonic() - started)
            assert status == 200 and report["summary"]["created"] == args.rows, (status, str(report)[:2000])
            started = time.monotonic()
            status, report = call(base, "POST", "/api/v1/imports/events", member, payload, "text/csv")
            replays.append(time.monotonic() - started)
            assert status == 200 and report["summary"]["unchanged"] == args.rows, (status, str(report)[:500])
            copies.append(copy_ms(args.server, name, copy_rows(args.rows, organizer, account, year)) / 1000)
            print(f"   round {round_ + 1}: import {imports[-1]:.2f} s, again (unchanged) {replays[-1]:.2f} s, COPY {copies[-1]:.3f} s")
    finally:
        api.send_signal(signal.SIGTERM)
        api.wait(timeout=30)
    imported, replayed, copied = (statistics.median(x) for x in (imports, replays, copies))
    table = (
        f"{args.rows:,} rows (CSV, `;`, dates dd/mm/yyyy), {args.rounds} rounds, medians; release build, 2 cores\n\n"
        "| what | seconds | rows/s | rate / COPY |\n|---|---:|---:|---:|\n"
        f"| import (all created) | {imported:.2f} | {args.rows / imported:,.0f} | {copied / imported:.2f} |\n"
        f"| import again (all unchanged) | {replayed:.2f} | {args.rows / replayed:,.0f} | {copied / replayed:.2f} |\n"
        f"| `COPY` into events (baseline) | {copied:.3f} | {args.rows / copied:,.0f} | 1.00 |\n"
    )
    (OUT / f"imports-{args.rows}.md").write_text(table)
    print()
    print(table)


if __name__ == "__main__":
    sys.exit(main())
