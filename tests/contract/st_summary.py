#!/usr/bin/env python3
"""One line per distinct schemathesis failure, from its NDJSON report.

    python st_summary.py target/contract/schemathesis/events.ndjson

Failures are grouped by operation, check and what went wrong (the status received, the schema
that was violated, the header or content type at fault); each group shows one request that
provoked it and how often it was seen. The run's pass or fail is schemathesis's own: this
only makes the list short enough to act on.
"""

from __future__ import annotations

import base64
import json
import re
import sys
from collections import OrderedDict
from urllib.parse import urlsplit


def first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def key_and_text(failure: dict, status: int | None) -> tuple[str, str]:
    code, message = failure.get("code", "?"), failure.get("message", "")
    title = failure.get("title", "")
    if code == "ST108":  # response schema: group by the schema that was violated
        where = re.search(r"Schema at (\S+?):", message)
        at = where.group(1) if where else "?"
        return f"{at}|{status}", f"{title} ({status}): {at}: {first_line(message)}"
    if code == "ST103":  # undocumented status: group by the status received
        documented = re.search(r"Documented: (.*)", message)
        return f"{status}", f"{title}: {status} (documented: {documented.group(1) if documented else '?'})"
    text = " ".join(line.strip() for line in message.splitlines() if line.strip())
    return re.sub(r"\d{3,}|'[^']*'|\"[^\"]*\"", "_", text)[:120], f"{title} ({status}): {text[:200]}"


def request_text(request: dict) -> str:
    parts = urlsplit(request.get("uri", ""))
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    text = f"{request.get('method', '?')} {target}"
    body = request.get("body")
    if isinstance(body, dict) and "$base64" in body:
        try:
            raw = base64.b64decode(body["$base64"]).decode("utf-8", "replace")
        except ValueError:
            raw = "<binary>"
        text += f" body={raw}"
    elif isinstance(body, str):
        text += f" body={body}"
    return text if len(text) <= 160 else text[:157] + "..."


def main(path: str) -> int:
    groups: OrderedDict[tuple[str, str, str], dict] = OrderedDict()
    errors: OrderedDict[str, str] = OrderedDict()
    with open(path, encoding="utf-8") as events:
        for line in events:
            event = json.loads(line)
            (kind, data), = event.items()
            if kind == "NonFatalError":
                label = data.get("label", "?")
                errors.setdefault(label, first_line(str(data.get("value", {}).get("message", data))))
            if kind != "ScenarioFinished":
                continue
            recorder = data.get("recorder") or {}
            interactions = recorder.get("interactions") or {}
            for case_id, checks in (recorder.get("checks") or {}).items():
                interaction = interactions.get(case_id) or {}
                response = interaction.get("response") or {}
                status = response.get("status_code")
                for check in checks:
                    if check.get("status") != "failure":
                        continue
                    failure = (check.get("failure_info") or {}).get("failure") or {}
                    operation = failure.get("operation") or recorder.get("label", "?")
                    key, text = key_and_text(failure, status)
                    group = groups.setdefault(
                        (operation, failure.get("code", "?"), key),
                        {"text": text, "request": request_text(interaction.get("request") or {}), "count": 0},
                    )
                    group["count"] += 1
    if not groups and not errors:
        print("schemathesis: no failure")
        return 0
    print(f"schemathesis: {len(groups)} distinct failures")
    for (operation, code, _), group in sorted(groups.items(), key=lambda item: (item[0][0].split(" ", 1)[::-1], item[0][1])):
        print(f"  {operation}  [{code}] {group['text']}")
        print(f"      e.g. {group['request']}" + (f"  (x{group['count']})" if group["count"] > 1 else ""))
    for label, message in errors.items():
        print(f"  {label}  [error] {message}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
