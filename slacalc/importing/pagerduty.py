"""PagerDuty incidents: the REST API v2 JSON and the incident CSV export.

JSON: ``GET /incidents`` as ``{"incidents": [...]}``; each incident's ``created_at`` to its
``resolved_at`` (or ongoing while its status is not ``resolved``), on ``service.summary``, with
the impact the map gives its priority (``priority.summary``) or else its urgency; 1 otherwise.

CSV: the incidents report export, whose header names the incident (``id``), when it was
created (``created_on``, or ``created_at`` in the Analytics export) and resolved (``resolved_on``
/ ``resolved_at``, empty while open), the service (``service_name``), ``urgency`` and, where
present, ``priority_name``. Headers match case-insensitively, spaces and underscores alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from slacalc.errors import Problem
from slacalc.importing.importer import Context, Importer, Parsed
from slacalc.importing.reading import (
    MISSING,
    JsonProblems,
    SourceFile,
    csv_rows,
    decode_text,
    loads_json,
    normalise_header,
    parse_timestamp_lenient,
)
from slacalc.importing.rows import OUTAGE, SourceRow

STATUSES = ("triggered", "acknowledged", "resolved")

# Columns of the CSV exports: each slacalc need and the header names that carry it.
COLUMNS: dict[str, tuple[str, ...]] = {
    "id": ("id", "incident_id"),
    "number": ("incident_number",),
    "start": ("created_on", "created_at"),
    "end": ("resolved_on", "resolved_at"),
    "service": ("service_name",),
    "urgency": ("urgency",),
    "priority": ("priority_name", "priority"),
    "status": ("status",),
}
REQUIRED = ("start", "end", "service")


@dataclass(frozen=True)
class _Read:
    row: SourceRow
    updated_at: datetime | None
    where: str  # "file: $.incidents[3]" or "file:12", for a conflict message


def parse(files: Sequence[SourceFile], ctx: Context) -> Parsed:
    """Rows of every incident; an incident seen twice is taken from its newest copy."""
    parsed = Parsed()
    by_id: dict[str, _Read] = {}
    for src in files:
        text = decode_text(src, parsed.problems)
        if text is None:
            continue
        if text.lstrip().startswith(("{", "[")):
            reads = _parse_json(src, text, parsed.problems)
        else:
            reads = _parse_csv(src, text, ctx, parsed.problems)
        for read in reads:
            kept = by_id.get(read.row.incident_id)
            by_id[read.row.incident_id] = read if kept is None else _newer(kept, read, parsed)
    parsed.rows.extend(r.row for r in by_id.values())
    return parsed


def _newer(a: _Read, b: _Read, parsed: Parsed) -> _Read:
    """Of two copies of one incident: the later ``updated_at``, else the resolved one."""
    if (a.row.start, a.row.end) == (b.row.start, b.row.end):
        return b
    if a.updated_at is not None and b.updated_at is not None and a.updated_at != b.updated_at:
        return a if a.updated_at > b.updated_at else b
    if (a.row.end is None) != (b.row.end is None):
        return a if b.row.end is None else b
    parsed.problems.append(
        Problem(
            b.row.file,
            None,
            f"incident {b.row.incident_id} appears twice with different times "
            f"({a.where} and {b.where}); keep one export of it",
        )
    )
    return b


def _parse_json(src: SourceFile, text: str, problems: list[Problem]) -> list[_Read]:
    try:
        doc = loads_json(text)
    except ValueError as exc:
        problems.append(Problem(src.name, None, f"not JSON: {exc}"))
        return []
    found = JsonProblems(src.name)
    if isinstance(doc, dict) and "incidents" in doc:
        items, base = doc["incidents"], "$.incidents"
    elif isinstance(doc, list):
        items, base = doc, "$"
    else:
        found.add("$", "expected PagerDuty incidents: an object with 'incidents' (GET /incidents)")
        problems.extend(found.found)
        return []
    reads: list[_Read] = []
    if not isinstance(items, list):
        found.add(base, "expected a list", items)
        items = []
    for i, raw in enumerate(items):
        path = f"{base}[{i}]"
        if not isinstance(raw, dict):
            found.add(path, "expected an incident object", raw)
            continue
        read = _json_incident(raw, path, found, src.name)
        if read is not None:
            reads.append(read)
    problems.extend(found.found)
    return reads


def _json_incident(raw: dict[str, Any], path: str, found: JsonProblems, file: str) -> _Read | None:
    before = len(found.found)
    incident_id = found.field(raw, "id", path)
    status = found.field(raw, "status", path)
    if status is not MISSING and status not in STATUSES:
        found.add(f"{path}.status", f"unknown status (known: {', '.join(STATUSES)})", status)
    start = found.timestamp(raw, "created_at", path)
    end = found.timestamp(raw, "resolved_at", path, required=False)
    updated_at = found.timestamp(raw, "updated_at", path, required=False)
    service = found.field(raw, "service", path, dict)
    service_name = MISSING
    if isinstance(service, dict):
        service_name = found.field(service, "summary", f"{path}.service")
    urgency = found.field(raw, "urgency", path, required=False, nullable=True)
    priority = found.field(raw, "priority", path, dict, required=False, nullable=True)
    priority_name = None
    if isinstance(priority, dict):
        priority_name = found.field(priority, "summary", f"{path}.priority")
    if len(found.found) > before:
        return None
    if status == "resolved":
        if end is None:
            found.add(f"{path}.resolved_at", "the incident is resolved but has no resolved_at")
            return None
        if end < start:
            found.add(
                f"{path}.resolved_at",
                f"ends before it starts (created_at is {raw['created_at']})",
                raw["resolved_at"],
            )
            return None
    else:
        end = None  # triggered or acknowledged: still open, whatever else the record says
    row = SourceRow(
        start=start,
        end=end,
        source_name=service_name,
        incident_id=incident_id,
        category=OUTAGE,
        file=file,
        impact_keys=tuple(k for k in (priority_name, urgency) if k),
        path=path,
    )
    return _Read(row, updated_at, f"{file}: {path}")


def _parse_csv(src: SourceFile, text: str, ctx: Context, problems: list[Problem]) -> list[_Read]:
    rows = csv_rows(src, text, problems, reads=[n for names in COLUMNS.values() for n in names])
    first = next(rows, None)
    if first is None:
        problems.append(Problem(src.name, 1, "empty file: expected a header row"))
        return []
    header_line, header = first
    names = [normalise_header(h) for h in header]
    col: dict[str, int | None] = {}
    for need, aliases in COLUMNS.items():
        col[need] = next((names.index(a) for a in aliases if a in names), None)
    missing = [n for n in REQUIRED if col[n] is None]
    if col["id"] is None and col["number"] is None:
        missing.insert(0, "id")
    if missing:
        problems.append(
            Problem(
                src.name,
                header_line,
                "not a PagerDuty incident export: no column "
                + ", ".join("/".join(COLUMNS[n]) for n in missing),
            )
        )
        return []

    def cell(cells: list[str], need: str) -> str:
        i = col[need]
        return cells[i].strip() if i is not None and i < len(cells) else ""

    reads: list[_Read] = []
    for line, cells in rows:
        before = len(problems)

        def bad(need: str, message: str, value: str | None = None, line: int = line) -> None:
            column = header[col[need]].strip() if col[need] is not None else need
            problems.append(Problem(src.name, line, message, column=column, value=value))

        incident_id = cell(cells, "id") or cell(cells, "number")
        if not incident_id:
            bad("id" if col["id"] is not None else "number", "missing incident id")
        service = cell(cells, "service")
        if not service:
            bad("service", "missing service name")
        status = cell(cells, "status").lower()
        times: dict[str, datetime | None] = {}
        for need in ("start", "end"):
            value = cell(cells, need)
            if not value:
                times[need] = None
                if need == "start":
                    bad(need, "missing timestamp")
                continue
            try:
                times[need] = parse_timestamp_lenient(value, ctx.tz)
            except ValueError as exc:
                bad(need, str(exc), value)
        start, end = times.get("start"), times.get("end")
        if status and status not in STATUSES:
            bad("status", f"unknown status (known: {', '.join(STATUSES)})", status)
        elif status == "resolved" and end is None and "end" in times:
            bad("end", "the incident is resolved but has no resolution time")
        elif status and status != "resolved":
            end = None  # still open, whatever the resolution column says
        if start is not None and end is not None and end < start:
            bad("end", "ends before it starts", cell(cells, "end"))
        if len(problems) > before or start is None:
            continue
        keys = tuple(k for k in (cell(cells, "priority"), cell(cells, "urgency")) if k)
        row = SourceRow(
            start=start,
            end=end,
            source_name=service,
            incident_id=incident_id,
            category=OUTAGE,
            file=src.name,
            impact_keys=keys,
            line=line,
        )
        reads.append(_Read(row, None, f"{src.name}:{line}"))
    return reads


IMPORTER = Importer(
    name="pagerduty",
    summary='PagerDuty incidents: REST API v2 JSON ({"incidents": [...]}) or the CSV export',
    parse=parse,
)
