#!/usr/bin/env python3
"""A frontend's and an organiser's journey through the API, with the Python client generated
from the served OpenAPI document (openapi-python-client) and nothing else: no hand-written
JSON, no raw HTTP. Every value sent is built with the generated models, enums from their wire
values (`EventFormat("webinar")`), and every answer is read through the generated parser.

    python workflow.py BASE_URL        # the generated package `mip_client` on PYTHONPATH

Each step checks status codes and values. A step that fails is reported with the reason (for
a parser or model error, where in the generated code it broke) and the steps that need its
result are skipped; the others still run, so one run shows every break it can reach. Exits 1
when any step failed or was skipped.
"""

from __future__ import annotations

import datetime as dt
import inspect
import os
import secrets
import sys
import traceback
from typing import Any, Callable

PASSWORD = "demo-password-2026"
ADMIN = "admin@mip.example"
YEAR = 2031  # an edition whose referencing window the workflow opens now

results: list[tuple[str, str, str]] = []  # (step, "ok" | "FAILED" | "skipped", detail)


class Failure(Exception):
    pass


def where(error: BaseException) -> str:
    """The innermost frame of the generated package (or of this script) an error came from."""
    frames = traceback.extract_tb(error.__traceback__)
    mine = [f for f in frames if "mip_client" in f.filename]
    mine = mine or [f for f in frames if f.filename == __file__] or frames
    if not mine:
        return ""
    frame = mine[-1]
    path = frame.filename
    if "mip_client" in path:
        path = "mip_client" + path.split("mip_client", 1)[1]
    else:
        path = os.path.basename(path)
    return f" [at {path}:{frame.lineno} in {frame.name}]"


def step(name: str, needs: tuple[Any, ...] = ()) -> Callable[[Callable[[], Any]], Any]:
    """Runs the decorated function now; its value (None on failure) is what later steps need."""

    def run(body: Callable[[], Any]) -> Any:
        if any(n is None for n in needs):
            results.append((name, "skipped", "an earlier step it needs failed"))
            print(f"  skip  {name}", flush=True)
            return None
        try:
            value = body()
        except Failure as failure:
            results.append((name, "FAILED", str(failure)))
        except Exception as error:  # a parser, model or client error of the generated code
            results.append((name, "FAILED", f"{type(error).__name__}: {error}{where(error)}"))
        else:
            results.append((name, "ok", ""))
            print(f"  ok    {name}", flush=True)
            return value if value is not None else True
        print(f"  FAIL  {name}: {results[-1][2]}", flush=True)
        return None

    return run


def note_failure(name: str, detail: str) -> None:
    results.append((name, "FAILED", detail))
    print(f"  FAIL  {name}: {detail}", flush=True)


def expect(response: Any, status: int, kind: type, what: str) -> Any:
    """The parsed body of `response`, which must have `status` and parse as `kind`."""
    if response.status_code != status:
        body = response.content[:400].decode("utf-8", "replace")
        raise Failure(f"{what}: expected {status}, got {int(response.status_code)}: {body}")
    if not isinstance(response.parsed, kind):
        raise Failure(
            f"{what}: {status} parsed as {type(response.parsed).__name__}, expected {kind.__name__}"
        )
    return response.parsed


def check(condition: bool, message: str) -> None:
    if not condition:
        raise Failure(message)


def etag_of(response: Any, what: str) -> str:
    etag = response.headers.get("etag")
    check(bool(etag), f"{what}: no ETag header in the answer")
    return etag


def main(base_url: str) -> int:
    print(f"workflow against {base_url} with the generated client")
    try:
        from mip_client import AuthenticatedClient, Client
        from mip_client.api.auth import login, register
        from mip_client.api.editions import create_edition
        from mip_client.api.events import (
            create_event,
            get_event,
            list_events,
            publish_event,
            submit_event,
            update_event,
        )
        from mip_client.api.imports import get_import, import_events
        from mip_client.types import File
        from mip_client.api.organizers import verify_organizer
        from mip_client.models import (
            Audience,
            EditionForm,
            EditionOut,
            EventForm,
            EventFormat,
            EventMode,
            Facet,
            EventOut,
            ImportReport,
            ImportUpload,
            EventPage,
            EventPatch,
            LoginForm,
            OrganizerForm,
            OrganizerKind,
            OrganizerOut,
            Phase,
            Problem,
            Publication,
            RegisteredOut,
            RegisterForm,
            Role,
            SessionForm,
            TokenResponse,
            TransitionForm,
        )
    except Exception as error:
        print(f"FAILED: the generated client lacks what the workflow uses: {error!r}")
        print("1 failed")
        return 1

    # Undocumented statuses raise errors.UnexpectedStatus instead of passing unnoticed.
    public = Client(base_url=base_url, raise_on_unexpected_status=True, timeout=30.0)

    undocumented: set[str] = set()

    def with_if_match(operation: Any, client: Any, etag: str, name: str) -> tuple[Any, dict[str, str]]:
        """Writes take `If-Match` (the API's rule): as the operation's documented header parameter,
        or else, recorded once as a failure, as a header set on the generated client."""
        if "if_match" in inspect.signature(operation.sync_detailed).parameters:
            return client, {"if_match": etag}
        if name not in undocumented:
            undocumented.add(name)
            note_failure(
                f"{name} documents If-Match",
                f"`If-Match` is not a header parameter of `{name}` in the document, so a generated "
                "client cannot send it; sent through Client.with_headers instead",
            )
        return client.with_headers({"If-Match": etag}), {}

    # --- The public programme ----------------------------------------------------------

    @step("list events: edition=2021, format=webinar,workshop, facets=region,format")
    def filtered() -> Any:
        wanted = {EventFormat("webinar"), EventFormat("workshop")}
        response = list_events.sync_detailed(
            client=public,
            edition=[2021],
            format_=[EventFormat("webinar"), EventFormat("workshop")],
            facets=[Facet("region"), Facet("format")],
            limit=100,
        )
        page = expect(response, 200, EventPage, "GET /events")
        check(page.total > 0 and len(page.data) == page.total, f"expected every match on one page, got {len(page.data)} of {page.total}")
        for event in page.data:
            check(event.edition == 2021, f"{event.slug}: edition {event.edition}, filtered on 2021")
            check(event.format_ in wanted, f"{event.slug}: format {event.format_!r}, filtered on webinar,workshop")
            check(event.publication == Publication("published"), f"{event.slug}: anonymous caller sees a {event.publication} event")
        check(page.facets is not None, "facets asked for, none returned")
        for facet in ("region", "format"):
            check(facet in page.facets.additional_keys, f"facet `{facet}` missing: {page.facets.additional_keys}")
        formats = {count.value for count in page.facets["format"]}
        check(formats <= {"webinar", "workshop"}, f"format facet beyond the filter: {formats}")
        regions = [c for c in page.facets["region"] if isinstance(c.value, str)]
        check(bool(regions), "no region facet value")
        return regions[0]

    @step("list events: the region filter matches the region facet count", needs=(filtered,))
    def by_region() -> Any:
        facet = filtered
        response = list_events.sync_detailed(
            client=public,
            edition=[2021],
            format_=[EventFormat("webinar"), EventFormat("workshop")],
            region=[facet.value],
            limit=100,
        )
        page = expect(response, 200, EventPage, f"GET /events?region={facet.value}")
        check(page.total == facet.count, f"region {facet.value}: facet said {facet.count}, filter found {page.total}")
        for event in page.data:
            region = event.venue.region.code if event.venue and event.venue.region else None
            check(region == facet.value, f"{event.slug}: region {region}, filtered on {facet.value}")
        return page

    @step("list events: follow next_cursor with limit=5")
    def paged() -> Any:
        seen: list[str] = []
        cursor: Any = None
        total = None
        for _ in range(50):
            kwargs = {"cursor": cursor} if cursor else {}
            page = expect(list_events.sync_detailed(client=public, limit=5, **kwargs), 200, EventPage, "GET /events?limit=5")
            check(len(page.data) <= 5, f"limit=5 answered {len(page.data)} events")
            total = page.total if total is None else total
            check(page.total == total, f"total changed between pages: {total} then {page.total}")
            seen += [event.slug for event in page.data]
            cursor = page.next_cursor if isinstance(page.next_cursor, str) else None
            if not cursor:
                break
        check(len(seen) == total, f"walked {len(seen)} events over the pages, total says {total}")
        check(len(set(seen)) == len(seen), "a page repeated an event")
        check(total >= 21, f"the demo has 21 published events, total is {total}")
        return seen

    @step("get one event by slug", needs=(paged,))
    def one() -> Any:
        slug = paged[0]
        response = get_event.sync_detailed(slug, client=public)
        event = expect(response, 200, EventOut, f"GET /events/{slug}")
        check(event.slug == slug, f"asked for {slug}, got {event.slug}")
        etag_of(response, f"GET /events/{slug}")
        check(isinstance(event.format_, EventFormat), f"format is {event.format_!r}")
        return event

    # --- An admin opens an edition ------------------------------------------------------

    @step("admin logs in")
    def admin() -> Any:
        response = login.sync_detailed(client=public, body=LoginForm(email=ADMIN, password=PASSWORD))
        token = expect(response, 200, TokenResponse, "POST /auth/login")
        check(token.token_type.lower() == "bearer", f"token_type {token.token_type}")
        return AuthenticatedClient(base_url=base_url, token=token.access_token, raise_on_unexpected_status=True, timeout=30.0)

    @step(f"admin creates edition {YEAR} with referencing open now", needs=(admin,))
    def edition() -> Any:
        now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
        form = EditionForm(
            year=YEAR,
            number=YEAR - 2013,
            title=f"Mois de l'innovation publique {YEAR}",
            starts_on=dt.date(YEAR, 11, 1),
            ends_on=dt.date(YEAR, 11, 30),
            referencing_opens_at=now - dt.timedelta(hours=1),
            referencing_closes_at=dt.datetime(YEAR, 10, 15, tzinfo=dt.timezone.utc),
            theme="Contract tests",
        )
        created = expect(create_edition.sync_detailed(client=admin, body=form), 201, EditionOut, "POST /editions")
        check(created.year == YEAR, f"created year {created.year}")
        check(created.referencing_open is True, "referencing_open is false although the window is open")
        check(created.phase == Phase("referencing"), f"phase {created.phase!r}, expected referencing")
        return created

    # --- A new organiser references an event --------------------------------------------

    @step("an organiser registers")
    def organiser() -> Any:
        email = f"contract-{secrets.token_hex(4)}@collectivite.example"
        form = RegisterForm(
            email=email,
            password="contract-" + secrets.token_hex(8),
            organizer=OrganizerForm(
                name=f"Commune de Contrat {secrets.token_hex(2)}",
                kind=OrganizerKind("local_authority"),
                department="35",
            ),
        )
        registered = expect(register.sync_detailed(client=public, body=form), 201, RegisteredOut, "POST /auth/register")
        check(registered.account.email == email, f"account email {registered.account.email}")
        check(registered.account.role == Role("organizer"), f"role {registered.account.role!r}")
        organizer = registered.account.organizer
        check(isinstance(organizer, OrganizerOut), "the new account has no organizer")
        check(organizer.kind == OrganizerKind("local_authority"), f"organizer kind {organizer.kind!r}")
        client = AuthenticatedClient(base_url=base_url, token=registered.access_token, raise_on_unexpected_status=True, timeout=30.0)
        return client, organizer

    @step(f"organiser creates a draft event in {YEAR}", needs=(organiser, edition))
    def draft() -> Any:
        client, _ = organiser
        form = EventForm(
            edition=YEAR,
            title="Atelier contrat : des clients générés qui marchent",
            format_=EventFormat("webinar"),
            mode=EventMode("online"),
            audience=Audience("public_agents"),
            online_url="https://visio.collectivite.example/contrat",
            sessions=[SessionForm(starts_at=f"{YEAR}-11-04T10:00:00+01:00", ends_at=f"{YEAR}-11-04T11:30:00+01:00")],
            tags=["contrat", "openapi"],
            summary="Vérifie que les clients générés depuis le document OpenAPI fonctionnent.",
        )
        response = create_event.sync_detailed(client=client, body=form)
        event = expect(response, 201, EventOut, "POST /events")
        check(event.publication == Publication("draft"), f"publication {event.publication!r}, expected draft")
        check(event.format_ == EventFormat("webinar"), f"format {event.format_!r}")
        check(event.mode == EventMode("online") and event.audience == Audience("public_agents"), f"mode {event.mode!r}, audience {event.audience!r}")
        check(event.edition == YEAR, f"edition {event.edition}")
        return event, etag_of(response, "POST /events")

    @step("organiser patches the draft with If-Match (merge patch)", needs=(organiser, draft))
    def patched() -> Any:
        client, _ = organiser
        event, etag = draft
        patch = EventPatch(title="Atelier contrat : clients générés, types vérifiés", tags=["contrat", "openapi", "typescript"])
        client, extra = with_if_match(update_event, client, etag, "update_event")
        response = update_event.sync_detailed(str(event.id), client=client, body=patch, **extra)
        updated = expect(response, 200, EventOut, "PATCH /events/{id}")
        check(updated.title == "Atelier contrat : clients générés, types vérifiés", f"title {updated.title!r} after the patch")
        check(updated.tags == ["contrat", "openapi", "typescript"], f"tags {updated.tags!r} after the patch")
        check(updated.summary == event.summary, "a field absent from the patch changed")
        check(updated.version > event.version, f"version {event.version} -> {updated.version}")
        new_etag = etag_of(response, "PATCH /events/{id}")
        check(new_etag != etag, "the ETag did not change with the version")
        return updated, new_etag, etag

    @step("a stale If-Match is refused with 412", needs=(organiser, draft, patched))
    def stale() -> Any:
        client, _ = organiser
        event, _, old_etag = patched
        client, extra = with_if_match(update_event, client, old_etag, "update_event")
        response = update_event.sync_detailed(str(event.id), client=client, body=EventPatch(title="Perdu"), **extra)
        expect(response, 412, Problem, "PATCH /events/{id} with a stale If-Match")

    @step("organiser submits the event", needs=(organiser, patched))
    def submitted() -> Any:
        client, _ = organiser
        event, etag, _ = patched
        client, extra = with_if_match(submit_event, client, etag, "submit_event")
        try:  # the body is optional: a client leaves it out
            response = submit_event.sync_detailed(str(event.id), client=client, **extra)
        except Exception as error:  # recorded, then the workflow goes on with an empty form
            note_failure(
                "submit_event without its optional body",
                f"{type(error).__name__}: {error}{where(error)}; retried with body=TransitionForm()",
            )
            response = submit_event.sync_detailed(str(event.id), client=client, body=TransitionForm(), **extra)
        out = expect(response, 200, EventOut, "POST /events/{id}/submit")
        check(out.publication == Publication("submitted"), f"publication {out.publication!r}, expected submitted")
        return out, etag_of(response, "POST /events/{id}/submit")

    @step("admin verifies the organiser", needs=(admin, organiser))
    def verified() -> Any:
        _, organizer = organiser
        response = verify_organizer.sync_detailed(str(organizer.id), client=admin)
        out = expect(response, 200, OrganizerOut, "POST /organizers/{id}/verify")
        check(out.verified is True, "verified is not true after verification")
        return out

    @step("admin publishes the event", needs=(admin, submitted))
    def published() -> Any:
        event, etag = submitted
        client, extra = with_if_match(publish_event, admin, etag, "publish_event")
        response = publish_event.sync_detailed(str(event.id), client=client, **extra)
        out = expect(response, 200, EventOut, "POST /events/{id}/publish")
        check(out.publication == Publication("published"), f"publication {out.publication!r}, expected published")
        return out

    @step(f"the event is in GET /events?edition={YEAR}", needs=(published,))
    def listed() -> Any:
        response = list_events.sync_detailed(client=public, edition=[YEAR], limit=100)
        page = expect(response, 200, EventPage, f"GET /events?edition={YEAR}")
        ids = [e.id for e in page.data]
        check(published.id in ids, f"{published.slug} not among the {page.total} events of {YEAR}")
        found = page.data[ids.index(published.id)]
        check(found.format_ == EventFormat("webinar") and found.title == published.title, "listed event differs from the published one")
        return page

    @step("organiser uploads two events as a JSON file, with an Idempotency-Key, and reads the report again", needs=(organiser, edition))
    def imported() -> Any:
        client, _ = organiser
        forms = [
            EventForm(
                edition=YEAR,
                external_id=f"contrat-{n}",
                title=f"Import contrat numéro {n}",
                format_=EventFormat("workshop"),
                mode=EventMode("online"),
                online_url=f"https://visio.collectivite.example/import-{n}",
                sessions=[SessionForm(starts_at=f"{YEAR}-11-0{n + 5}T10:00", ends_at=f"{YEAR}-11-0{n + 5}T12:00")],
            )
            for n in (1, 2)
        ]
        key = secrets.token_hex(16)
        import io
        import json

        def upload() -> Any:
            rows = json.dumps([form.to_dict() for form in forms]).encode()
            return ImportUpload(file=File(payload=io.BytesIO(rows), file_name="events.json", mime_type="application/json"))

        response = import_events.sync_detailed(client=client, body=upload(), idempotency_key=key)
        report = expect(response, 200, ImportReport, "POST /imports/events")
        check(report.summary.created == 2 and report.summary.failed == 0, f"summary {report.summary.to_dict()}")
        check(report.saved, "the import was not saved")
        again = import_events.sync_detailed(client=client, body=upload(), idempotency_key=key)
        replayed = expect(again, 200, ImportReport, "POST /imports/events (replayed)")
        check(replayed.id == report.id, "the retry was imported again instead of replayed")
        stored = expect(get_import.sync_detailed(report.id, client=client), 200, ImportReport, "GET /imports/{id}")
        check(stored.summary.created == 2, f"stored summary {stored.summary.to_dict()}")
        return report

    failed = sum(1 for _, outcome, _ in results if outcome == "FAILED")
    skipped = sum(1 for _, outcome, _ in results if outcome == "skipped")
    passed = len(results) - failed - skipped
    print()
    for name, outcome, detail in results:
        if outcome != "ok":
            print(f"{outcome}: {name}" + (f"\n    {detail}" if detail else ""))
    print(f"workflow: {passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed or skipped else 0


if __name__ == "__main__":
    url = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("MIP_CONTRACT_URL", "")
    if not url:
        sys.exit("usage: workflow.py BASE_URL (e.g. http://127.0.0.1:8080)")
    sys.exit(main(url.rstrip("/")))
