#!/usr/bin/env python3
"""The feeds as subscribers see them, read by parsers that owe nothing to the service:
`icalendar` for the calendars, `feedparser` for RSS and Atom, `json` for JSON Feed.

    python feeds.py BASE_URL        # icalendar and feedparser installed (requirements.txt)

The script logs in as the demo admin and creates its own events in edition 2021, all tagged
with a tag of its own (`feeds-<hex>`) that every feed is filtered on, so that it sees nothing
else: a winter session; two sessions on either side of the end of summer time; a session that
starts at 02:30 on 31 October 2021 *after* the clocks went back (a local time that happens
twice); one in La Réunion (another zone); a title and summary full of what iCalendar escapes
(commas, semicolons, a backslash, newlines) and long enough to fold; a cancelled event; one in
another region; and, to stay out of every feed, a withdrawn event and a draft. Then it reads
every feed and checks what a calendar application or a feed reader gets: instants, ids,
titles, escapes, folding, filters, paging and conditional requests.

One line per check (`ok` or `FAIL` with what was seen); the last line is `feeds: N passed,
N failed`. Exits 1 when a check failed. Standard library only, besides the two parsers.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
import secrets
import sys
import time
import traceback
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Callable
from zoneinfo import ZoneInfo

import feedparser
import icalendar

ADMIN = {"email": "admin@mip.example", "password": "demo-password-2026"}
EDITION = 2021
PARIS = ZoneInfo("Europe/Paris")
REUNION = ZoneInfo("Indian/Reunion")
UTC = dt.timezone.utc
UID_DOMAIN = "mois-innovation-publique.fr"
KINDS = ("ics", "rss", "atom", "json")
MIME = {
    "ics": "text/calendar",
    "rss": "application/rss+xml",
    "atom": "application/atom+xml",
    "json": "application/feed+json",
}

BASE = ""
passed = 0
failed: list[str] = []


# --- Reporting ------------------------------------------------------------------------------


class Failure(Exception):
    pass


def check(name: str, condition: Any, detail: Any = "") -> bool:
    global passed
    if condition:
        passed += 1
        print(f"  ok    {name}", flush=True)
    else:
        failed.append(name)
        print(f"  FAIL  {name}: {detail}", flush=True)
    return bool(condition)


def section(title: str) -> Callable[[Callable[[], Any]], Any]:
    """Runs the decorated checks at once; an exception ends that section only, as one failure."""

    def run(body: Callable[[], Any]) -> Any:
        print(f"\n{title}", flush=True)
        try:
            return body()
        except Exception as error:
            line = traceback.extract_tb(error.__traceback__)[-1].lineno
            check(f"{title}: the section ran to its end", False, f"{type(error).__name__}: {error} [line {line}]")
            return None

    return run


def short(value: Any, limit: int = 300) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[:limit] + "…"


# --- HTTP ------------------------------------------------------------------------------------


class Answer:
    def __init__(self, status: int, headers: Any, body: bytes, url: str) -> None:
        self.status, self.headers, self.body, self.url = status, headers, body, url

    def header(self, name: str) -> str:
        return self.headers.get(name) or ""

    def json(self) -> Any:
        return json.loads(self.body)

    def __repr__(self) -> str:
        return f"{self.status} {self.url}: {self.body[:300]!r}"


def http(method: str, path: str, body: Any = None, headers: dict[str, str] | None = None,
         token: str | None = None) -> Answer:
    url = path if path.startswith("http") else BASE + path
    sent = {"Accept": "*/*", **(headers or {})}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        sent.setdefault("Content-Type", "application/json")
    if token:
        sent["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=data, method=method, headers=sent)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return Answer(response.status, response.headers, response.read(), url)
    except urllib.error.HTTPError as error:
        return Answer(error.code, error.headers, error.read(), url)


def expect(answer: Answer, status: int, what: str) -> Answer:
    if answer.status != status:
        raise Failure(f"{what}: expected {status}, got {answer!r}")
    return answer


def feed_url(kind: str, **params: str) -> str:
    return f"{BASE}/api/v1/feeds/events.{kind}?" + urllib.parse.urlencode(params)


# --- Reading the documents -----------------------------------------------------------------------


def vevents(calendar: Any) -> list[Any]:
    return list(calendar.walk("VEVENT"))


TEXT_ESCAPE = re.compile(r"\\([\\;,nN])")


def text(value: Any) -> str:
    """A TEXT value as the calendar means it. icalendar unescapes the properties it knows, but
    keeps the `X-` ones as written (`vUnknown`), although RFC 5545 (3.8.8.2) makes TEXT their
    default type: those are unescaped here as RFC 5545 3.3.11 says."""
    if value is None:
        return ""
    if isinstance(value, icalendar.vText):
        return str(value)
    return TEXT_ESCAPE.sub(lambda m: "\n" if m.group(1) in "nN" else m.group(1), str(value))


def utc(pairs: list[tuple[dt.datetime, dt.datetime]]) -> list[tuple[dt.datetime, dt.datetime]]:
    """Instants to compare: in UTC, since Python never finds an aware time in a fold (the
    second 02:30 of 31 October) equal to one of another zone."""
    return [(a.astimezone(UTC), b.astimezone(UTC)) for a, b in pairs]


def uid_event(uid: str) -> str:
    """The event id of a UID `<event id>-<n>@domain` (or the UID itself when it is not one)."""
    local, _, domain = uid.partition("@")
    event_id, _, number = local.rpartition("-")
    return event_id if domain == UID_DOMAIN and number.isdigit() else uid


def ids_in(kind: str, body: bytes) -> list[str]:
    """The event ids a feed document holds, in its order (each event once)."""
    if kind == "ics":
        ids = [uid_event(str(e.get("UID"))) for e in vevents(icalendar.Calendar.from_ical(body))]
    elif kind == "json":
        ids = [str(item.get("id", "")).removeprefix("urn:uuid:") for item in json.loads(body)["items"]]
    else:
        ids = [str(e.get("id", "")).removeprefix("urn:uuid:") for e in feedparser.parse(body).entries]
    return list(dict.fromkeys(ids))


def next_of(kind: str, body: bytes) -> str | None:
    """Where a feed page says the next page is."""
    if kind == "ics":
        value = icalendar.Calendar.from_ical(body).get("X-MIP-NEXT")
        return str(value) if value else None
    if kind == "json":
        return json.loads(body).get("next_url")
    links = [link.get("href") for link in feedparser.parse(body).feed.get("links", []) if link.get("rel") == "next"]
    return links[0] if links else None


def raw_checks(what: str, raw: bytes) -> None:
    """What RFC 5545 says of the bytes: CRLF line ends, 75-octet lines, folds between characters."""
    check(f"{what}: the document ends with CRLF", raw.endswith(b"\r\n"), short(raw[-20:]))
    lines = raw.split(b"\r\n")[:-1]
    bare = [line for line in lines if b"\n" in line or b"\r" in line]
    check(f"{what}: every line ends with CRLF (no bare LF or CR)", not bare, short(bare[:2]))
    long_lines = [line for line in lines if len(line) > 75]
    check(f"{what}: no physical line exceeds 75 octets", not long_lines,
          f"{len(long_lines)} lines, e.g. {len(long_lines[0])} octets: {long_lines[0]!r}" if long_lines else "")
    broken = []
    for line in lines:
        try:
            line.decode("utf-8")
        except UnicodeDecodeError as error:
            broken.append((line, str(error)))
    check(f"{what}: every physical line is UTF-8 on its own (folds never split a character)", not broken,
          short(broken[:2]))
    check(f"{what}: long lines are folded (continuation lines present)",
          any(line[:1] in (b" ", b"\t") for line in lines), "no folded line")


# --- The events this run makes ------------------------------------------------------------------


def local(clock: str, zone: ZoneInfo = PARIS, fold: int = 0) -> dt.datetime:
    return dt.datetime.fromisoformat(clock).replace(tzinfo=zone, fold=fold)


class Made:
    """An event this run created: its expected sessions (aware, in its zone) and its last state."""

    def __init__(self, key: str, out: dict[str, Any], etag: str,
                 sessions: list[tuple[dt.datetime, dt.datetime]], zone: ZoneInfo):
        self.key, self.out, self.etag, self.sessions, self.zone = key, out, etag, sessions, zone

    @property
    def id(self) -> str:
        return self.out["id"]

    def uids(self) -> list[str]:
        return [f"{self.id}-{n}@{UID_DOMAIN}" for n in range(1, len(self.sessions) + 1)]


def main() -> int:
    global BASE
    BASE = sys.argv[1].rstrip("/") if len(sys.argv) > 1 else ""
    if not BASE:
        sys.exit("usage: feeds.py BASE_URL (e.g. http://127.0.0.1:8080)")
    started = time.monotonic()
    tag = f"feeds-{secrets.token_hex(4)}"
    print(f"feeds against {BASE}, events tagged {tag} (icalendar {icalendar.__version__}, "
          f"feedparser {feedparser.__version__})")

    token = expect(http("POST", "/api/v1/auth/login", ADMIN), 200, "POST /auth/login").json()["access_token"]
    organizers = expect(http("GET", "/api/v1/organizers?verified=true&limit=1"), 200, "GET /organizers").json()
    organizer = organizers["data"][0]

    def transition(made: Made, action: str, body: dict[str, Any] | None = None) -> None:
        answer = expect(
            http("POST", f"/api/v1/events/{made.id}/{action}", body if body is not None else {},
                 {"If-Match": made.etag}, token),
            200, f"POST /events/{{id}}/{action} ({made.key})")
        made.out, made.etag = answer.json(), answer.header("ETag")

    def create(key: str, form: dict[str, Any], sessions: list[tuple[dt.datetime, dt.datetime]],
               zone: ZoneInfo = PARIS, publish: bool = True) -> Made:
        body = {
            "edition": EDITION, "format": "workshop", "mode": "onsite", "audience": "public_agents",
            "organizer": organizer["id"], "tags": [tag],
            "venue": {"name": "Salle du conseil", "city": "Rennes", "department": "35", "postal_code": "35000"},
            **form,
        }
        # Sessions as the API takes them: local times (no offset) in the event's zone, unless
        # the test gives an exact instant.
        body["sessions"] = [
            {"starts_at": start.isoformat() if start.fold else start.strftime("%Y-%m-%dT%H:%M"),
             "ends_at": end.isoformat() if end.fold else end.strftime("%Y-%m-%dT%H:%M")}
            for start, end in sessions
        ]
        answer = expect(http("POST", "/api/v1/events", body, token=token), 201, f"POST /events ({key})")
        made = Made(key, answer.json(), answer.header("ETag"), sessions, zone)
        if publish:
            # Edition 2021's referencing window is long closed: the admin submits past it.
            transition(made, "submit", {"override_referencing_window": True})
            transition(made, "publish")
        return made

    # 1. One winter session (UTC+1).
    winter = create("winter", {
        "title": "Atelier d'hiver : simplifier les démarches",
        "summary": "Une matinée pour simplifier une démarche en ligne.",
    }, [(local("2021-11-18T09:30"), local("2021-11-18T11:00"))])
    # 2. Two sessions either side of the end of summer time (31 October 2021). Every session
    # must overlap the edition (2 to 30 November), so the first one, which starts in summer
    # time (UTC+2), runs until 2 November (winter time).
    dst = create("dst", {
        "title": "Cycle sur l'heure d'été : deux séances",
        "summary": "La première commence en heure d'été, la seconde en heure d'hiver.",
    }, [(local("2021-10-28T09:30"), local("2021-11-02T11:00")),
        (local("2021-11-04T09:30"), local("2021-11-04T11:00"))])
    # 3. A session starting at 02:30 on 31 October 2021 in winter time (UTC+1): the second of
    # the two 02:30s of that night, sent as an exact instant (2021-10-31T02:30:00+01:00).
    fold = create("fold", {
        "title": "Nuit blanche du changement d'heure",
        "summary": "Commence à 2 h 30, après le retour à l'heure d'hiver.",
    }, [(local("2021-10-31T02:30", fold=1), local("2021-11-02T10:00"))])
    # 4. Everything iCalendar escapes, and a long title with accents that must fold.
    awkward_title = ("Données, territoires; réseaux \\ partage\nÉvénement « très » long : "
                     "l'expérimentation réglementée à Saint-Étienne-du-Rouvray, deuxième édition")
    awkward_summary = ("Virgules, points-virgules; barre oblique inverse \\ et retours à la ligne.\n"
                       "Deuxième ligne : « guillemets », apostrophe ’, émoji 🎉.\n\n"
                       "Après une ligne vide, un ;, un \\n littéral.")
    awkward = create("escapes", {
        "title": awkward_title,
        "summary": awkward_summary,
        "description": "Une *description* en Markdown, avec des virgules, des; points-virgules\net \\ des retours.",
        "mode": "hybrid",
        "online_url": "https://visio.example.fr/salle?code=a,b;c",
    }, [(local("2021-11-10T14:00"), local("2021-11-10T16:30"))])
    # 5. Cancelled after publication, with a note: it stays, said cancelled.
    cancel_note = "Intervenant indisponible, désolé ; reporté à 2022"
    cancelled = create("cancelled", {
        "title": "Atelier annulé sur la commande publique",
        "summary": "Il n'aura pas lieu.",
    }, [(local("2021-11-23T09:30"), local("2021-11-23T11:00"))])
    transition(cancelled, "cancel", {"reason": cancel_note})
    # 6. In another region (Auvergne-Rhône-Alpes, 84).
    lyon = create("lyon", {
        "title": "Rencontre lyonnaise de l'innovation",
        "venue": {"name": "Hôtel de ville", "city": "Lyon", "department": "69", "postal_code": "69001"},
    }, [(local("2021-11-16T18:00"), local("2021-11-16T20:00"))])
    # 7. In another zone: La Réunion (region 04), UTC+4 all year.
    reunion = create("reunion", {
        "title": "Atelier réunionnais des services publics",
        "timezone": "Indian/Reunion",
        "venue": {"name": "Médiathèque", "city": "Saint-Denis", "department": "974", "postal_code": "97400"},
    }, [(local("2021-11-09T09:30", REUNION), local("2021-11-09T11:00", REUNION))], zone=REUNION)
    # 8. Withdrawn after publication: it leaves every feed.
    withdrawn = create("withdrawn", {"title": "Atelier retiré du programme"},
                       [(local("2021-11-25T09:30"), local("2021-11-25T11:00"))])
    transition(withdrawn, "withdraw", {"reason": "Doublon"})
    # 9. A draft: not public, in no feed.
    draft = create("draft", {"title": "Brouillon jamais soumis"},
                   [(local("2021-11-19T09:30"), local("2021-11-19T11:00"))], publish=False)

    shown = [winter, dst, fold, awkward, cancelled, lyon, reunion]
    hidden = [withdrawn, draft]
    by_id = {made.id: made for made in shown + hidden}
    total = len(shown)
    print(f"created {len(by_id)} events in {time.monotonic() - started:.1f}s: "
          + ", ".join(f"{m.key}={m.id}" for m in by_id.values()))
    for made in by_id.values():
        made.out = expect(http("GET", f"/api/v1/events/{made.id}", token=token), 200, "GET /events/{id}").json()
        want = {"withdrawn": "withdrawn", "draft": "draft"}.get(made.key, "published")
        if made.out["publication"] != want:
            raise Failure(f"{made.key}: publication {made.out['publication']}, expected {want}")
    if cancelled.out["status"] != "cancelled":
        raise Failure(f"cancelled: status {cancelled.out['status']}, expected cancelled")

    def shown_title(made: Made) -> str:
        return f"Annulé : {made.out['title']}" if made is cancelled else made.out["title"]

    # --- iCalendar ----------------------------------------------------------------------------

    ics_url = feed_url("ics", tag=tag)

    @section(f"iCalendar: GET {ics_url}")
    def ics_checks() -> None:
        first = expect(http("GET", ics_url), 200, "the calendar")
        check("ics: Content-Type text/calendar; charset=utf-8",
              first.header("Content-Type").replace(" ", "").lower() == "text/calendar;charset=utf-8",
              first.header("Content-Type"))
        raw = first.body
        raw_checks("ics", raw)
        calendar = icalendar.Calendar.from_ical(raw)
        check("ics: icalendar.Calendar.from_ical reads it", True)
        check("ics: VERSION 2.0, a PRODID, METHOD PUBLISH",
              (str(calendar.get("VERSION")), bool(calendar.get("PRODID")), str(calendar.get("METHOD")))
              == ("2.0", True, "PUBLISH"), (calendar.get("VERSION"), calendar.get("PRODID"), calendar.get("METHOD")))
        name = text(calendar.get("X-WR-CALNAME"))
        check("ics: X-WR-CALNAME names the calendar", name.startswith("Mois de l'innovation publique"), name)
        check("ics: NAME (RFC 7986) equals X-WR-CALNAME", text(calendar.get("NAME")) == name,
              (calendar.get("NAME"), name))
        check("ics: X-WR-CALDESC equals DESCRIPTION", text(calendar.get("X-WR-CALDESC"))
              == text(calendar.get("DESCRIPTION")) != "", (calendar.get("X-WR-CALDESC"), calendar.get("DESCRIPTION")))
        refresh = calendar.get("REFRESH-INTERVAL")
        check("ics: REFRESH-INTERVAL is a duration",
              isinstance(getattr(refresh, "dt", None), dt.timedelta) and refresh.dt > dt.timedelta(0), refresh)
        check(f"ics: X-MIP-TOTAL counts the {total} published events (cancelled in, withdrawn and draft out)",
              str(calendar.get("X-MIP-TOTAL")) == str(total), calendar.get("X-MIP-TOTAL"))
        check(f"ics: X-Total-Count header is {total}", first.header("X-Total-Count") == str(total),
              first.header("X-Total-Count"))
        check("ics: no X-MIP-NEXT when everything is on the page", calendar.get("X-MIP-NEXT") is None,
              calendar.get("X-MIP-NEXT"))

        zones = {str(z.get("TZID")): z for z in calendar.walk("VTIMEZONE")}
        check("ics: a VTIMEZONE with TZID Europe/Paris is present", "Europe/Paris" in zones, sorted(zones))
        check("ics: one VTIMEZONE per zone the sessions use (Europe/Paris, Indian/Reunion)",
              sorted(zones) == ["Europe/Paris", "Indian/Reunion"] and len(calendar.walk("VTIMEZONE")) == 2,
              [str(z.get("TZID")) for z in calendar.walk("VTIMEZONE")])
        # The VTIMEZONEs' own rules, read by icalendar (not the tz database), must give the
        # legal offsets.
        rules = [("Europe/Paris", "2021-10-28T09:30", 0, 2), ("Europe/Paris", "2021-11-04T09:30", 0, 1),
                 ("Europe/Paris", "2021-03-28T03:30", 0, 2), ("Europe/Paris", "2021-03-28T01:30", 0, 1),
                 ("Europe/Paris", "2021-10-31T02:30", 0, 2), ("Europe/Paris", "2021-10-31T02:30", 1, 1),
                 ("Indian/Reunion", "2021-11-09T09:30", 0, 4)]
        for tzid, clock, fold_, hours in rules:
            if tzid not in zones:
                continue
            at = dt.datetime.fromisoformat(clock).replace(tzinfo=zones[tzid].to_tz(), fold=fold_)
            check(f"ics: the VTIMEZONE {tzid} gives UTC+{hours} at {clock} local"
                  + (" (the second one)" if fold_ else ""),
                  at.utcoffset() == dt.timedelta(hours=hours), at.utcoffset())

        events = vevents(calendar)
        want = {uid: (made, n) for made in shown for n, uid in enumerate(made.uids())}
        uids = [str(e.get("UID")) for e in events]
        check(f"ics: one VEVENT per session ({len(want)})", len(events) == len(want), f"{len(events)} VEVENTs")
        check("ics: UIDs are distinct", len(set(uids)) == len(uids), uids)
        check(f"ics: UIDs are <event id>-<n>@{UID_DOMAIN}, one per session of the published events",
              set(uids) == set(want),
              f"unexpected {sorted(set(uids) - set(want))}, missing {sorted(set(want) - set(uids))}")
        for made in hidden:
            check(f"ics: the {made.key} event is absent",
                  not any(uid_event(u) == made.id for u in uids) and made.out["title"].encode() not in raw, uids)
        order = [by_id[i].key for i in ids_in("ics", raw) if i in by_id]
        latest_first = [m.key for m in sorted(shown, key=lambda m: m.sessions[0][0], reverse=True)]
        check("ics: latest-starting first (the calendar's default order)", order == latest_first,
              f"{order}, expected {latest_first}")

        second = expect(http("GET", ics_url), 200, "the calendar again")

        def fingerprint(body: bytes) -> dict[str, Any]:
            return {str(e.get("UID")): (str(e.get("SUMMARY")), e.decoded("DTSTART"))
                    for e in vevents(icalendar.Calendar.from_ical(body))}

        check("ics: UIDs are stable across two fetches (same UID, same session)",
              fingerprint(second.body) == fingerprint(raw), "they differ")
        check("ics: the same calendar twice is the same bytes", second.body == raw, "bodies differ")

        for event in events:
            uid = str(event.get("UID"))
            if uid not in want:
                continue
            made, index = want[uid]
            label = f"{made.key} session {index + 1}"
            start, end = made.sessions[index]
            for prop, expected in (("DTSTART", start), ("DTEND", end)):
                written = event.get(prop)
                tzid = written.params.get("TZID") if written is not None else None
                if expected.fold:
                    # RFC 5545 3.3.5: a repeated local time means its first occurrence, so the
                    # second one can only be written in UTC.
                    utc_form = written is not None and written.to_ical().decode().endswith("Z")
                    check(f"ics: {label} {prop} (the repeated hour's second run) is written in UTC",
                          tzid is None and utc_form, f"TZID {tzid!r}")
                else:
                    check(f"ics: {label} {prop} has TZID={made.zone.key}", tzid == made.zone.key,
                          f"TZID {tzid!r}")
                value = event.decoded(prop) if written is not None else None
                aware = isinstance(value, dt.datetime) and value.utcoffset() is not None
                if not check(f"ics: {label} {prop} is tz-aware", aware, repr(value)):
                    continue
                wall = value.astimezone(made.zone).replace(tzinfo=None)
                check(f"ics: {label} {prop} is {expected:%Y-%m-%d %H:%M} in {made.zone.key}",
                      wall == expected.replace(tzinfo=None), wall.isoformat())
                instant = expected.astimezone(UTC)
                check(f"ics: {label} {prop} is {instant:%Y-%m-%d %H:%M} UTC",
                      value.astimezone(UTC) == instant,
                      f"{value.astimezone(UTC):%Y-%m-%d %H:%M} UTC, from {written.to_ical().decode()} "
                      f"(TZID={tzid}); the API says {made.out['sessions'][index]}"
                      + ("; RFC 5545 3.3.5: a local time that occurs twice means its first occurrence, so "
                         "the second one must be written in UTC (…Z)" if expected.fold else ""))
            api = made.out["sessions"][index]
            check(f"ics: {label} DTSTART/DTEND are the API's instants ({api['starts_at']} – {api['ends_at']})",
                  utc([(event.decoded("DTSTART"), event.decoded("DTEND"))])
                  == utc([(dt.datetime.fromisoformat(api["starts_at"]), dt.datetime.fromisoformat(api["ends_at"]))]),
                  f"{event.decoded('DTSTART').astimezone(UTC)} – {event.decoded('DTEND').astimezone(UTC)}")
            check(f"ics: {label} SEQUENCE is the event's version ({made.out['version']})",
                  str(event.get("SEQUENCE")) == str(made.out["version"]), event.get("SEQUENCE"))
            status = str(event.get("STATUS"))
            wanted_status = "CANCELLED" if made is cancelled else "CONFIRMED"
            check(f"ics: {label} STATUS is {wanted_status}", status == wanted_status, status)
            stamp = event.decoded("DTSTAMP") if "DTSTAMP" in event else None
            check(f"ics: {label} DTSTAMP is in UTC", isinstance(stamp, dt.datetime)
                  and stamp.utcoffset() == dt.timedelta(0), repr(stamp))
            categories = [str(c) for c in event.get("CATEGORIES").cats] if event.get("CATEGORIES") else []
            check(f"ics: {label} CATEGORIES hold the tag", tag in categories, categories)

        def only(made: Made) -> Any:
            found = [e for e in events if uid_event(str(e.get("UID"))) == made.id]
            if len(found) != 1:
                raise Failure(f"{made.key}: {len(found)} VEVENTs, expected 1")
            return found[0]

        event = only(awkward)
        summary, description = str(event.get("SUMMARY")), str(event.get("DESCRIPTION"))
        check("ics: SUMMARY round-trips the title exactly (commas, semicolons, backslash, newline, accents)",
              summary == awkward.out["title"] == awkward_title, f"{summary!r} vs API {awkward.out['title']!r}")
        check("ics: DESCRIPTION starts with the API's summary exactly, then a blank line",
              description.startswith(awkward.out["summary"] + "\n\n") and awkward.out["summary"] == awkward_summary,
              f"{description!r} vs API {awkward.out['summary']!r}")
        check("ics: DESCRIPTION names the organizer", f"Organisé par {organizer['name']}" in description,
              short(description))
        location = str(event.get("LOCATION") or "")
        check("ics: LOCATION of the hybrid event says the venue and online",
              location == "Salle du conseil, 35000 Rennes (et en ligne)", location)
        conference = event.get("CONFERENCE")
        check("ics: CONFERENCE (a URI) is the online_url, commas and semicolons kept",
              str(conference or "") == awkward.out["online_url"], repr(conference))
        unfolded = raw.replace(b"\r\n ", b"").replace(b"\r\n\t", b"").split(b"\r\n")
        for key, marker in (("SUMMARY", "Saint-"), ("DESCRIPTION", "Virgules")):
            lines = [line for line in unfolded if line.startswith(key.encode() + b":") and marker.encode() in line]
            check(f"ics: raw {key} escapes ',' ';' '\\' and newline as RFC 5545 says",
                  len(lines) == 1 and all(s in lines[0] for s in (b"\\,", b"\\;", b"\\\\", b"\\n")),
                  short(lines))

        event = only(cancelled)
        check('ics: the cancelled event\'s SUMMARY says so ("Annulé : " + title)',
              str(event.get("SUMMARY")) == shown_title(cancelled), str(event.get("SUMMARY")))
        check("ics: the cancelled event's DESCRIPTION starts with its note",
              str(event.get("DESCRIPTION")).startswith(f"ANNULÉ : {cancel_note}\n\n"),
              short(str(event.get("DESCRIPTION"))))
        summaries = sorted(str(e.get("SUMMARY")) for e in events if uid_event(str(e.get("UID"))) == dst.id)
        check('ics: each session of the two-session event is named "(séance n sur 2)"',
              summaries == [f"{dst.out['title']} (séance {n} sur 2)" for n in (1, 2)], summaries)

    @section("iCalendar: one event (/events/{id}.ics)")
    def single() -> None:
        url = f"{BASE}/api/v1/events/{dst.id}.ics"
        answer = expect(http("GET", url), 200, url)
        check("event ics: Content-Type text/calendar", answer.header("Content-Type").startswith("text/calendar"),
              answer.header("Content-Type"))
        raw_checks("event ics", answer.body)
        calendar = icalendar.Calendar.from_ical(answer.body)
        events = vevents(calendar)
        check("event ics: the two-session event gives 2 VEVENTs", len(events) == 2, len(events))
        check("event ics: their UIDs are the feed's", sorted(str(e.get("UID")) for e in events) == dst.uids(),
              [str(e.get("UID")) for e in events])
        starts = sorted(e.decoded("DTSTART").astimezone(UTC) for e in events)
        check("event ics: the sessions start at 07:30 UTC (summer time) and 08:30 UTC (winter time)",
              [s.strftime("%Y-%m-%d %H:%M") for s in starts] == ["2021-10-28 07:30", "2021-11-04 08:30"],
              [s.isoformat() for s in starts])
        check("event ics: a VTIMEZONE Europe/Paris",
              [str(z.get("TZID")) for z in calendar.walk("VTIMEZONE")] == ["Europe/Paris"],
              [str(z.get("TZID")) for z in calendar.walk("VTIMEZONE")])
        check("event ics: Content-Disposition attachment named by the slug",
              answer.header("Content-Disposition") == f'attachment; filename="{dst.out["slug"]}.ics"',
              answer.header("Content-Disposition"))
        by_slug = http("GET", f"{BASE}/api/v1/events/{dst.out['slug']}.ics")
        check("event ics: reachable by slug too, with the same VEVENTs", by_slug.status == 200
              and [e.to_ical() for e in vevents(icalendar.Calendar.from_ical(by_slug.body))]
              == [e.to_ical() for e in events], by_slug)

        awkward_ics = expect(http("GET", f"{BASE}/api/v1/events/{awkward.id}.ics"), 200, "escapes .ics")
        raw_checks("event ics (escapes)", awkward_ics.body)
        calendar = icalendar.Calendar.from_ical(awkward_ics.body)
        check("event ics: X-WR-CALNAME and NAME round-trip the awkward title exactly",
              text(calendar.get("X-WR-CALNAME")) == text(calendar.get("NAME")) == awkward_title,
              (text(calendar.get("X-WR-CALNAME")), text(calendar.get("NAME"))))
        reunion_ics = icalendar.Calendar.from_ical(
            expect(http("GET", f"{BASE}/api/v1/events/{reunion.id}.ics"), 200, "reunion .ics").body)
        starts = [e.decoded("DTSTART") for e in vevents(reunion_ics)]
        check("event ics: the Réunion event has only its own VTIMEZONE and starts at 05:30 UTC",
              [str(z.get("TZID")) for z in reunion_ics.walk("VTIMEZONE")] == ["Indian/Reunion"]
              and [s.astimezone(UTC).strftime("%H:%M") for s in starts] == ["05:30"],
              ([str(z.get("TZID")) for z in reunion_ics.walk("VTIMEZONE")], starts))
        statuses = [str(e.get("STATUS")) for e in vevents(icalendar.Calendar.from_ical(
            expect(http("GET", f"{BASE}/api/v1/events/{cancelled.id}.ics"), 200, "cancelled .ics").body))]
        check("event ics: the cancelled event's own calendar says CANCELLED", statuses == ["CANCELLED"], statuses)
        for made in hidden:
            gone = http("GET", f"{BASE}/api/v1/events/{made.id}.ics")
            check(f"event ics: the {made.key} event answers 404 to the public", gone.status == 404, gone)
        mine = http("GET", f"{BASE}/api/v1/events/{draft.id}.ics", token=token)
        check("event ics: the draft answers 200 to the admin", mine.status == 200, mine)

    # --- JSON Feed ----------------------------------------------------------------------------

    pages: dict[str, str] = {}  # event id -> its page, as the JSON Feed says

    @section("JSON Feed")
    def json_checks() -> None:
        url = feed_url("json", tag=tag)
        answer = expect(http("GET", url), 200, url)
        check("json: Content-Type application/feed+json",
              answer.header("Content-Type").startswith("application/feed+json"), answer.header("Content-Type"))
        document = answer.json()
        check("json: version is https://jsonfeed.org/version/1.1",
              document.get("version") == "https://jsonfeed.org/version/1.1", document.get("version"))
        check("json: a title, and feed_url is this very request",
              bool(document.get("title")) and document.get("feed_url") == url,
              (document.get("title"), document.get("feed_url")))
        check("json: no next_url when everything is on the page", "next_url" not in document, document.get("next_url"))
        check(f"json: _mip.total is {total}", document.get("_mip", {}).get("total") == total, document.get("_mip"))
        items = document.get("items", [])
        ids = [item.get("id") for item in items]
        check("json: item ids are urn:uuid:<event id> of the published events",
              sorted(ids) == sorted(f"urn:uuid:{m.id}" for m in shown), ids)
        check("json: every item has id, url, title, content_text, date_modified",
              all(all(item.get(k) for k in ("id", "url", "title", "content_text", "date_modified")) for item in items),
              [sorted(item) for item in items][:1])
        order = [by_id[i].key for i in ids_in("json", answer.body) if i in by_id]
        newest = [m.key for m in sorted(shown, key=lambda m: m.out["updated_at"], reverse=True)]
        check("json: most recently changed first", order == newest, f"{order}, expected {newest}")
        for item in items:
            made = by_id.get(str(item.get("id", "")).removeprefix("urn:uuid:"))
            if made is None:
                continue
            pages[made.id] = item.get("url", "")
            check(f"json: {made.key} title is exact", item.get("title") == shown_title(made),
                  (item.get("title"), shown_title(made)))
            check(f"json: {made.key} url is an absolute page named by the slug",
                  str(item.get("url", "")).startswith(("http://", "https://")) and made.out["slug"] in item["url"],
                  item.get("url"))
            mip = item.get("_mip", {})
            sessions = [(dt.datetime.fromisoformat(s["starts_at"]), dt.datetime.fromisoformat(s["ends_at"]))
                        for s in mip.get("sessions", [])]
            check(f"json: {made.key} _mip.sessions are the right instants", utc(sessions) == utc(made.sessions),
                  [(a.isoformat(), b.isoformat()) for a, b in sessions])
            check(f"json: {made.key} _mip.event_id, timezone, status",
                  (mip.get("event_id"), mip.get("timezone"), mip.get("status"))
                  == (made.id, made.zone.key, made.out["status"]),
                  {k: mip.get(k) for k in ("event_id", "timezone", "status")})
            check(f"json: {made.key} _mip.calendar_url is its .ics",
                  mip.get("calendar_url") == f"{BASE}/api/v1/events/{made.id}.ics", mip.get("calendar_url"))
        item = next((i for i in items if i.get("id") == f"urn:uuid:{awkward.id}"), {})
        check("json: the summary round-trips exactly", item.get("summary") == awkward_summary, item.get("summary"))
        mip = next((i for i in items if i.get("id") == f"urn:uuid:{dst.id}"), {}).get("_mip", {})
        offsets = [dt.datetime.fromisoformat(s[k]).utcoffset() for s in mip.get("sessions", [])
                   for k in ("starts_at", "ends_at")]
        check("json: the DST event's sessions say +02:00 for the summer start, +01:00 after",
              offsets == [dt.timedelta(hours=h) for h in (2, 1, 1, 1)], offsets)

    # --- RSS and Atom --------------------------------------------------------------------------

    def syndication(kind: str, version: str) -> None:
        url = feed_url(kind, tag=tag)
        answer = expect(http("GET", url), 200, url)
        parsed = feedparser.parse(answer.body)
        check(f"{kind}: Content-Type {MIME[kind]}", answer.header("Content-Type").startswith(MIME[kind]),
              answer.header("Content-Type"))
        check(f"{kind}: feedparser reads it without complaint (bozo false)", not parsed.bozo,
              repr(parsed.get("bozo_exception")))
        check(f"{kind}: feedparser sees {version}", parsed.version == version, parsed.version)
        links = parsed.feed.get("links", [])
        selves = [link.get("href") for link in links if link.get("rel") == "self"]
        check(f"{kind}: the feed links to itself (rel=self)", selves == [url], selves)
        related = [link.get("href") for link in links if link.get("rel") == "related"]
        check(f"{kind}: the feed links to the API's list, filtered the same (rel=related)",
              len(related) == 1 and related[0].startswith(f"{BASE}/api/v1/events?") and f"tag={tag}" in related[0],
              related)
        check(f"{kind}: no rel=next when everything is on the page",
              not any(link.get("rel") == "next" for link in links), links)
        check(f"{kind}: the feed has a title", str(parsed.feed.get("title", "")).startswith(
            "Mois de l'innovation publique"), parsed.feed.get("title"))
        ids = [e.get("id") for e in parsed.entries]
        check(f"{kind}: entry ids are urn:uuid:<event id> of the published events",
              sorted(ids) == sorted(f"urn:uuid:{m.id}" for m in shown), ids)
        for made in hidden:
            check(f"{kind}: the {made.key} event is absent",
                  f"urn:uuid:{made.id}" not in ids and made.out["title"].encode() not in answer.body, ids)
        again = feedparser.parse(expect(http("GET", url), 200, url).body)
        check(f"{kind}: entry ids are stable across two fetches", [e.get("id") for e in again.entries] == ids,
              [e.get("id") for e in again.entries])
        order = [by_id[i].key for i in ids_in(kind, answer.body) if i in by_id]
        newest = [m.key for m in sorted(shown, key=lambda m: m.out["updated_at"], reverse=True)]
        check(f"{kind}: most recently changed first", order == newest, f"{order}, expected {newest}")
        for entry in parsed.entries:
            made = by_id.get(str(entry.get("id", "")).removeprefix("urn:uuid:"))
            if made is None:
                continue
            check(f"{kind}: {made.key} title is exact", entry.get("title") == shown_title(made),
                  (entry.get("title"), shown_title(made)))
            check(f"{kind}: {made.key} links to the event page (the JSON Feed's url)",
                  bool(pages.get(made.id)) and entry.get("link") == pages.get(made.id),
                  (entry.get("link"), pages.get(made.id)))
            if kind == "atom":
                check(f"{kind}: {made.key} has updated, published and the organizer as author",
                      bool(entry.get("updated_parsed")) and bool(entry.get("published_parsed"))
                      and entry.get("author") == organizer["name"], (entry.get("updated"), entry.get("author")))
                enclosures = [e.get("href") for e in entry.get("enclosures", [])]
                check(f"{kind}: {made.key} encloses its .ics", enclosures == [f"{BASE}/api/v1/events/{made.id}.ics"],
                      enclosures)
            else:
                check(f"{kind}: {made.key} has a pubDate and a guid that is no permalink",
                      bool(entry.get("published_parsed")) and entry.get("guidislink") is False,
                      (entry.get("published"), entry.get("guidislink")))
            text = entry.get("summary", "")
            if kind == "rss":
                # An RSS description is HTML: the service escapes the text and marks its lines
                # with <br>; read back as text, it must be the text again.
                check(f"{kind}: {made.key} description is escaped HTML (no markup of its own but <br>)",
                      not re.search(r"<(?!br\s*/?>)", text), text)
                text = html.unescape(re.sub(r"<br\s*/?>\n?", "\n", text))
            if made is awkward:
                check(f"{kind}: {made.key} text holds the API's summary exactly", awkward_summary in text, text)
            if made is cancelled:
                check(f"{kind}: the cancelled entry's text begins with ANNULÉ and its note",
                      text.startswith(f"Annulé : {cancel_note}".upper()), short(text))

    for kind, version in (("rss", "rss20"), ("atom", "atom10")):
        section(f"{kind.upper()} (feedparser)")(lambda kind=kind, version=version: syndication(kind, version))

    # --- Filters, paging, errors -----------------------------------------------------------------

    @section("Filters and paging, every feed")
    def filters() -> None:
        def ids(kind: str, **params: str) -> list[str]:
            answer = expect(http("GET", feed_url(kind, tag=tag, **params)), 200, f"{kind} {params}")
            return ids_in(kind, answer.body)

        everything = sorted(m.id for m in shown)
        for kind in KINDS:
            for region, keys in (("53", ["winter", "dst", "fold", "escapes", "cancelled"]), ("84", ["lyon"]),
                                 ("04", ["reunion"])):
                got = sorted(by_id[i].key if i in by_id else i for i in ids(kind, region=region))
                check(f"{kind}: region={region} keeps {', '.join(sorted(keys))}", got == sorted(keys), got)
            check(f"{kind}: edition=2021 keeps them all", sorted(ids(kind, edition="2021")) == everything, "")
            check(f"{kind}: edition=2022 keeps none", ids(kind, edition="2022") == [], "")
            check(f"{kind}: status=cancelled keeps the cancelled one",
                  ids(kind, status="cancelled") == [cancelled.id], ids(kind, status="cancelled"))

            # Paging: limit=2 and the next links, to the end.
            url: str | None = feed_url(kind, tag=tag, limit="2", sort="starts_at")
            seen: list[str] = []
            count = 0
            while url and count < 10:
                page = expect(http("GET", url), 200, url)
                if kind == "ics" and count == 0:
                    calendar = icalendar.Calendar.from_ical(page.body)
                    wanted = (f"2 des {total} événements publiés qui répondent à ce filtre ; "
                              "la suite est à la page suivante.")
                    check("ics: a partial page says so in DESCRIPTION and X-WR-CALDESC (a ';' escaped and read back)",
                          text(calendar.get("DESCRIPTION")) == text(calendar.get("X-WR-CALDESC")) == wanted,
                          (text(calendar.get("DESCRIPTION")), text(calendar.get("X-WR-CALDESC"))))
                seen += ids_in(kind, page.body)
                url = next_of(kind, page.body)
                count += 1
            by_start = [m.id for m in sorted(shown, key=lambda m: m.sessions[0][0])]
            check(f"{kind}: limit=2&sort=starts_at, next link after next link, gives every event once in order "
                  f"over {-(-total // 2)} pages", seen == by_start and count == -(-total // 2),
                  f"{count} pages: {[by_id[i].key if i in by_id else i for i in seen]}")

        for params, name in (({"format": "nope"}, "format=nope"), ({"limit": "0"}, "limit=0"),
                             ({"limit": "501"}, "limit=501"), ({"region": "99"}, "region=99"),
                             ({"sort": "sideways"}, "sort=sideways"), ({"cursor": "garbage"}, "cursor=garbage"),
                             ({"nope": "1"}, "an unknown parameter")):
            for kind in KINDS:
                answer = http("GET", feed_url(kind, tag=tag, **params))
                check(f"{kind}: {name} answers 400 application/problem+json",
                      answer.status == 400 and answer.header("Content-Type").startswith("application/problem+json"),
                      f"{answer.status} {answer.header('Content-Type')}: {answer.body[:200]!r}")

    @section("An empty feed (a tag nothing has)")
    def empty() -> None:
        for kind in KINDS:
            url = feed_url(kind, tag=f"{tag}-none")
            answer = expect(http("GET", url), 200, url)
            if kind == "ics":
                calendar = icalendar.Calendar.from_ical(answer.body)
                check("ics: empty, it still parses, with X-MIP-TOTAL 0 and no VEVENT",
                      str(calendar.get("X-MIP-TOTAL")) == "0" and not vevents(calendar), answer)
            elif kind == "json":
                document = answer.json()
                check("json: empty, items is [] and _mip.total 0",
                      document.get("items") == [] and document.get("_mip", {}).get("total") == 0, answer)
            else:
                parsed = feedparser.parse(answer.body)
                check(f"{kind}: empty, feedparser reads it (bozo false) with no entry",
                      not parsed.bozo and parsed.entries == [], repr(parsed.get("bozo_exception")))
            again = http("GET", url, headers={"If-None-Match": answer.header("ETag")})
            check(f"{kind}: empty, its ETag answers 304", again.status == 304, again)

    # --- Conditional requests ----------------------------------------------------------------------

    @section("Conditional requests")
    def conditional() -> None:
        urls = {kind: feed_url(kind, tag=tag) for kind in KINDS}
        urls["event ics"] = f"{BASE}/api/v1/events/{winter.id}.ics"
        etags: dict[str, str] = {}
        for kind, url in urls.items():
            first = expect(http("GET", url), 200, url)
            etag, modified = first.header("ETag"), first.header("Last-Modified")
            etags[kind] = etag
            check(f"{kind}: ETag and Last-Modified are sent", etag and modified, (etag, modified))
            check(f"{kind}: Cache-Control lets caches keep it a while", "max-age" in first.header("Cache-Control"),
                  first.header("Cache-Control"))
            if not etag:
                continue
            again = http("GET", url, headers={"If-None-Match": etag})
            check(f"{kind}: If-None-Match: <its ETag> answers 304 with no body, the same ETag",
                  again.status == 304 and again.body == b"" and again.header("ETag") == etag,
                  f"{again!r}, ETag {again.header('ETag')}")
            other = http("GET", url, headers={"If-None-Match": '"something-else"'})
            check(f"{kind}: If-None-Match with another ETag answers 200", other.status == 200, other)

        # A change to one event (its title): every ETag moves, and the calendar tells it.
        before = winter.out["version"]
        new_title = winter.out["title"] + " (nouvelle salle)"
        answer = expect(http("PATCH", f"/api/v1/events/{winter.id}", {"title": new_title},
                             {"If-Match": winter.etag, "Content-Type": "application/merge-patch+json"}, token),
                        200, "PATCH /events/{id}")
        winter.out, winter.etag = answer.json(), answer.header("ETag")
        check("patch: the event's version went up", winter.out["version"] > before, (before, winter.out["version"]))
        for kind, url in urls.items():
            if not etags.get(kind):
                continue
            after = http("GET", url, headers={"If-None-Match": etags[kind]})
            check(f"{kind}: after the change, the old ETag answers 200 with a new ETag",
                  after.status == 200 and after.header("ETag") not in ("", etags[kind]),
                  f"{after.status}, ETag {after.header('ETag')} (was {etags[kind]})")
            if kind == "ics" and after.status == 200:
                found = {str(e.get("UID")): e for e in vevents(icalendar.Calendar.from_ical(after.body))}
                event = found.get(winter.uids()[0])
                check("ics: after the change, same UID, the new SUMMARY, SEQUENCE the new version",
                      event is not None and str(event.get("SUMMARY")) == new_title
                      and str(event.get("SEQUENCE")) == str(winter.out["version"]),
                      None if event is None else (str(event.get("SUMMARY")), event.get("SEQUENCE")))

        # A withdrawal changes the feeds too, although the event then is in none of them.
        etag = expect(http("GET", urls["rss"]), 200, "rss").header("ETag")
        transition(lyon, "withdraw", {"reason": "Fusionné avec un autre"})
        after = http("GET", urls["rss"], headers={"If-None-Match": etag})
        check("rss: after a withdrawal, the old ETag answers 200, without the withdrawn event",
              after.status == 200 and f"urn:uuid:{lyon.id}".encode() not in after.body, after)

    print(f"\n{time.monotonic() - started:.1f}s")
    print(f"feeds: {passed} passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as error:  # setting up failed (a refused event, no server): no checks ran
        detail = str(error) if isinstance(error, Failure) else f"{type(error).__name__}: {error}"
        print(f"FAILED before the checks could run: {detail}")
        print(f"feeds: {passed} passed, {len(failed) + 1} failed")
        sys.exit(1)
