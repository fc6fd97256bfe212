"""Alertmanager and Grafana webhook payloads, one JSON document per line, as a receiver keeps them.

Each payload (Alertmanager ``"version": "4"``, Grafana's ``"version": "1"`` with ``orgId``) has
``alerts[]`` with ``status``, ``labels``, ``startsAt``, ``endsAt`` and ``fingerprint``. The
notifications of one alert, firing and resolved, pair by ``fingerprint`` and ``startsAt``: the
alert is down from ``startsAt`` to the ``endsAt`` of its resolved notification, or still down
(ongoing) while only firing ones were seen. A firing alert's ``endsAt`` is
``0001-01-01T00:00:00Z`` (Alertmanager does not expose an end not reached yet) or a predicted
end, and is not used.

The service, customer and impact value come from labels named in the map's ``[labels]`` table
(defaults: ``service``, none, ``severity``); the impact value goes through ``[impact]``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from slacalc.errors import Problem
from slacalc.importing.importer import Context, Importer, Parsed
from slacalc.importing.mapping import LabelMap
from slacalc.importing.reading import (
    MISSING,
    JsonProblems,
    SourceFile,
    decode_text,
    json_lines,
    loads_json,
)
from slacalc.importing.rows import OUTAGE, SourceRow

VERSIONS = ("4", "1")  # Alertmanager webhook_config, Grafana webhook contact point
STATUSES = ("firing", "resolved")
ZERO_TIME = "0001-01-01T00:00:00Z"


@dataclass
class _Alert:
    incident_id: str
    start: datetime
    end: datetime | None  # the latest endsAt of its resolved notifications
    service: str
    customer: str | None
    severity: str | None
    file: str
    line: int | None  # its first notification: a line of JSON Lines ...
    path: str  # ... and the JSON path there


def parse(files: Sequence[SourceFile], ctx: Context) -> Parsed:
    parsed = Parsed()
    alerts: dict[tuple[str, datetime], _Alert] = {}
    for src in files:
        text = decode_text(src, parsed.problems)
        if text is None:
            continue
        for line, root, payload in _payloads(src, text, parsed.problems):
            found = JsonProblems(src.name, line)
            _read_payload(payload, root, found, ctx.labels, src.name, alerts)
            parsed.problems.extend(found.found)
    for alert in alerts.values():
        parsed.rows.append(
            SourceRow(
                start=alert.start,
                end=alert.end,
                source_name=alert.service,
                incident_id=alert.incident_id,
                category=OUTAGE,
                file=alert.file,
                impact_keys=(alert.severity,) if alert.severity else (),
                customer_name=alert.customer,
                line=alert.line,
                path=alert.path,
            )
        )
    return parsed


def _payloads(
    src: SourceFile, text: str, problems: list[Problem]
) -> list[tuple[int | None, str, Any]]:
    """``(line, JSON path root, payload)`` of each line; a file that is one JSON document (a
    payload, or a list of them) is taken too.
    """
    lines = list(json_lines(text))
    out: list[tuple[int | None, str, Any]] = []
    bad: list[Problem] = []
    for number, line in lines:
        try:
            out.append((number, "$", loads_json(line)))
        except ValueError as exc:
            bad.append(Problem(src.name, number, f"not a JSON document: {exc}", value=line))
    if bad and len(lines) > 1:
        try:
            whole = loads_json(text)
        except ValueError:
            pass
        else:  # one pretty-printed document rather than JSON Lines
            if isinstance(whole, list):
                return [(None, f"$[{i}]", item) for i, item in enumerate(whole)]
            return [(None, "$", whole)]
    problems.extend(bad)
    return out


def _read_payload(
    payload: Any,
    root: str,
    found: JsonProblems,
    labels: LabelMap,
    file: str,
    alerts: dict[tuple[str, datetime], _Alert],
) -> None:
    if not isinstance(payload, dict):
        found.add(root, "expected a webhook payload object", payload)
        return
    version = payload.get("version")
    if version is not None and version not in VERSIONS:
        found.add(
            f"{root}.version",
            'unknown webhook version (Alertmanager sends "4", Grafana "1")',
            version,
        )
        return
    items = found.field(payload, "alerts", root, list)
    if items is MISSING:
        return
    for i, raw in enumerate(items):
        path = f"{root}.alerts[{i}]"
        if not isinstance(raw, dict):
            found.add(path, "expected an alert object", raw)
            continue
        _read_alert(raw, path, found, labels, file, alerts)


def _read_alert(
    raw: dict[str, Any],
    path: str,
    found: JsonProblems,
    labels: LabelMap,
    file: str,
    alerts: dict[tuple[str, datetime], _Alert],
) -> None:
    before = len(found.found)
    status = found.field(raw, "status", path)
    if status is not MISSING and status not in STATUSES:
        found.add(f"{path}.status", "unknown alert status (known: firing, resolved)", status)
    fingerprint = found.field(raw, "fingerprint", path)
    start = found.timestamp(raw, "startsAt", path)
    label_set = found.field(raw, "labels", path, dict)
    ends_text = found.field(raw, "endsAt", path, required=status == "resolved")
    service = customer = severity = None
    if isinstance(label_set, dict):
        service = _label(label_set, labels.service, path, found, required=True)
        if labels.customer_id is not None:
            customer = _label(label_set, labels.customer_id, path, found, required=False)
        severity = _label(label_set, labels.impact, path, found, required=False)
    end = None
    if status == "resolved" and isinstance(ends_text, str):
        if ends_text.strip() == ZERO_TIME:
            found.add(f"{path}.endsAt", "a resolved alert needs a real end time", ends_text)
        else:
            end = found.timestamp(raw, "endsAt", path)
    if len(found.found) > before:
        return
    if raw["startsAt"].strip() == ZERO_TIME:
        found.add(f"{path}.startsAt", "is the zero time: the alert never started", ZERO_TIME)
        return
    if end is not None and end < start:
        found.add(
            f"{path}.endsAt", f"ends before it starts (startsAt is {raw['startsAt']})", ends_text
        )
        return
    key = (fingerprint, start)
    alert = alerts.get(key)
    if alert is None:
        alert = alerts[key] = _Alert(
            incident_id=f"{fingerprint}@{raw['startsAt']}",
            start=start,
            end=None,
            service=service,
            customer=customer,
            severity=severity,
            file=file,
            line=found.line,
            path=path,
        )
    elif status == "resolved":  # the resolved notification's labels are the alert's last word
        alert.service, alert.customer, alert.severity = service, customer, severity
    if end is not None and (alert.end is None or end > alert.end):
        alert.end = end


def _label(
    label_set: dict[str, Any], name: str, path: str, found: JsonProblems, *, required: bool
) -> str | None:
    value = label_set.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            found.add(
                f"{path}.labels",
                f"no label '{name}' to name the service; name the label that does in the "
                f'map: [labels] service = "<label>"',
            )
        return None
    if not isinstance(value, str):
        found.add(f"{path}.labels.{name}", "expected a string", value)
        return None
    return value.strip()


IMPORTER = Importer(
    name="alertmanager",
    summary="Alertmanager / Grafana webhook payloads, one JSON document per line",
    parse=parse,
)
