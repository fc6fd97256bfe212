"""UptimeRobot monitor logs: the API v2 ``getMonitors`` response called with ``logs=1``.

Each ``monitors[].logs[]`` entry has a ``type`` (1 down, 2 up, 98 started, 99 paused), a
``datetime`` in Unix seconds and a ``duration`` in seconds (how long that state lasted; for the
newest entry, so far). Down time becomes an outage, paused time ``excluded``: a paused monitor
saw nothing, so that time is neither up nor down. The newest entry of a monitor that is still
down (``status`` 8 or 9) or still paused (``status`` 0) is ongoing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from slacalc.errors import Problem
from slacalc.importing.importer import Context, Importer, Parsed
from slacalc.importing.reading import MISSING, JsonProblems, SourceFile, decode_text, loads_json
from slacalc.importing.rows import EXCLUDED, OUTAGE, SourceRow

DOWN, UP, STARTED, PAUSED = 1, 2, 98, 99
LOG_TYPES = {DOWN: "down", UP: "up", STARTED: "started", PAUSED: "paused"}
MONITOR_STATUSES = {0: "paused", 1: "not checked yet", 2: "up", 8: "seems down", 9: "down"}
STILL = {DOWN: (8, 9), PAUSED: (0,)}  # monitor statuses that mean the newest entry goes on
# Unix seconds from 1970 to 9999: anything else is not a UptimeRobot datetime.
MAX_SECONDS = 253_402_300_799


@dataclass(frozen=True)
class _Read:
    row: SourceRow
    where: str


def parse(files: Sequence[SourceFile], ctx: Context) -> Parsed:
    """Rows of every monitor's down and paused logs; a log in several files is kept once,
    finished rather than ongoing when one copy is newer than the other."""
    parsed = Parsed()
    by_key: dict[str, _Read] = {}
    for src in files:
        text = decode_text(src, parsed.problems)
        if text is None:
            continue
        try:
            doc = loads_json(text)
        except ValueError as exc:
            parsed.problems.append(Problem(src.name, None, f"not JSON: {exc}"))
            continue
        found = JsonProblems(src.name)
        for read in _read_doc(doc, found, src.name):
            kept = by_key.get(read.row.incident_id)
            if kept is None or kept.row.end == read.row.end or kept.row.end is None:
                by_key[read.row.incident_id] = read
            elif read.row.end is not None:
                found.add(
                    read.where,
                    f"log {read.row.incident_id} also appears in {kept.row.file} at "
                    f"{kept.where} with another duration; keep one export of it",
                )
        parsed.problems.extend(found.found)
    parsed.rows.extend(r.row for r in by_key.values())
    return parsed


def _read_doc(doc: Any, found: JsonProblems, file: str) -> list[_Read]:
    if isinstance(doc, dict) and doc.get("stat") == "fail":
        error = doc.get("error")
        said = error.get("message", error) if isinstance(error, dict) else error
        found.add(
            "$.stat", "the getMonitors call failed: the file holds its error, not monitors", said
        )
        return []
    if not isinstance(doc, dict) or "monitors" not in doc:
        found.add("$", "expected a getMonitors response: an object with 'monitors'")
        return []
    monitors = found.field(doc, "monitors", "$", list)
    if monitors is MISSING:
        return []
    reads: list[_Read] = []
    for i, monitor in enumerate(monitors):
        path = f"$.monitors[{i}]"
        if not isinstance(monitor, dict):
            found.add(path, "expected a monitor object", monitor)
            continue
        reads.extend(_read_monitor(monitor, path, found, file))
    return reads


def _read_monitor(
    monitor: dict[str, Any], path: str, found: JsonProblems, file: str
) -> list[_Read]:
    before = len(found.found)
    monitor_id = found.field(monitor, "id", path, (int, str))
    name = found.field(monitor, "friendly_name", path)
    status = found.field(monitor, "status", path, int)
    if status is not MISSING and status not in MONITOR_STATUSES:
        found.add(f"{path}.status", "unknown monitor status (known: 0, 1, 2, 8, 9)", status)
    if "logs" not in monitor:
        found.add(f"{path}.logs", "missing field: call getMonitors with logs=1")
        return []
    logs = found.field(monitor, "logs", path, list)
    entries: list[tuple[int, int, int, str]] = []  # (datetime, type, duration, path)
    if logs is not MISSING:
        for j, log in enumerate(logs):
            lpath = f"{path}.logs[{j}]"
            if not isinstance(log, dict):
                found.add(lpath, "expected a log object", log)
                continue
            kind = found.field(log, "type", lpath, int)
            when = found.field(log, "datetime", lpath, int)
            duration = found.field(log, "duration", lpath, int)
            if kind is not MISSING and kind not in LOG_TYPES:
                found.add(
                    f"{lpath}.type",
                    "unknown log type (known: 1 down, 2 up, 98 started, 99 paused)",
                    kind,
                )
            if when is not MISSING and not 0 <= when <= MAX_SECONDS:
                found.add(f"{lpath}.datetime", "not a Unix time in seconds", when)
            if duration is not MISSING and not 0 <= duration <= MAX_SECONDS:
                found.add(f"{lpath}.duration", "not a duration in seconds", duration)
            elif MISSING not in (when, duration) and when + duration > MAX_SECONDS:
                found.add(
                    f"{lpath}.duration",
                    f"ends after the year 9999 (datetime {when} + duration {duration} seconds)",
                    duration,
                )
            if MISSING not in (kind, when, duration):
                entries.append((when, kind, duration, lpath))
    if len(found.found) > before:
        return []
    newest = max((e[0] for e in entries), default=None)
    reads: list[_Read] = []
    for when, kind, duration, lpath in entries:
        if kind not in (DOWN, PAUSED):
            continue
        start = datetime.fromtimestamp(when, UTC)
        end: datetime | None = start + timedelta(seconds=duration)
        if when == newest and status in STILL[kind]:
            end = None
        elif duration == 0:
            continue  # a state that lasted no time
        row = SourceRow(
            start=start,
            end=end,
            source_name=name,
            incident_id=f"{monitor_id}@{when}",
            category=OUTAGE if kind == DOWN else EXCLUDED,
            file=file,
            path=lpath,
        )
        reads.append(_Read(row, lpath))
    return reads


IMPORTER = Importer(
    name="uptimerobot",
    summary="UptimeRobot API v2 getMonitors response with logs=1",
    parse=parse,
)
