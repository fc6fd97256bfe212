"""Atlassian Statuspage: per-component intervals from the status changes of incident updates.

Reads the public ``/api/v2/incidents.json`` (an object with ``incidents``), its
``scheduled-maintenances.json`` / ``summary.json`` siblings (``scheduled_maintenances``) and the
Manage API's plain list of incidents. Each update's ``affected_components`` entries say that a
component went from ``old_status`` to ``new_status`` at the update's time (``display_at``, the
time shown on the page, else ``created_at``). Statuspage's own uptime counts major-outage
minutes in full and partial-outage minutes at 30 %; those are the default impacts here.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from fractions import Fraction
from typing import Any

from slacalc.errors import Problem
from slacalc.importing.importer import Context, Importer, Parsed
from slacalc.importing.reading import (
    MISSING,
    JsonProblems,
    SourceFile,
    decode_text,
    loads_json,
)
from slacalc.importing.rows import MAINTENANCE, OUTAGE, SourceRow

OPERATIONAL = "operational"
UNDER_MAINTENANCE = "under_maintenance"
DEFAULT_IMPACT = {
    "major_outage": Fraction(1),
    "partial_outage": Fraction(3, 10),
    "degraded_performance": Fraction(0),  # 0: no row unless the map gives it an impact
}
COMPONENT_STATUSES = (OPERATIONAL, *DEFAULT_IMPACT, UNDER_MAINTENANCE)
INCIDENT_STATUSES = ("investigating", "identified", "monitoring", "resolved", "postmortem")
MAINTENANCE_STATUSES = ("scheduled", "in_progress", "verifying", "completed")
CLOSING = frozenset({"resolved", "postmortem", "completed"})
_NEVER = datetime.min.replace(tzinfo=UTC)  # older than any updated_at


@dataclass(frozen=True)
class _Change:
    code: str
    name: str
    old: str
    new: str


@dataclass(frozen=True)
class _Update:
    at: datetime
    created: datetime
    id: str
    status: str
    changes: tuple[_Change, ...] | None  # None: affected_components null, nothing changes


@dataclass
class _Open:
    status: str
    since: datetime
    update_id: str
    name: str


@dataclass
class _Incident:
    """One version of an incident: the rows read from it and where it is."""

    file: str
    path: str  # $.incidents[3]
    order: int  # its place among the versions of the import, to choose among equals
    updated_at: datetime | None = None
    rows: list[SourceRow] = field(default_factory=list)

    @property
    def content(self) -> Counter[tuple[Any, ...]]:
        """What the import takes from it: its intervals, whatever file they are in."""
        return Counter(
            (
                r.start,
                r.end,
                r.source_name,
                r.incident_id,
                r.category,
                r.impact_keys,
                r.default_impact,
            )
            for r in self.rows
        )

    @property
    def place(self) -> str:
        return f"{self.file}: {self.path}"


def parse(files: Sequence[SourceFile], ctx: Context) -> Parsed:
    """Rows of every incident. Versions of one incident (one id, in several files or twice in
    one) never merge: identical ones are one, different ones are told apart by ``updated_at``
    (the later wins, with a warning), and differing ones that ``updated_at`` cannot order are
    an error naming both. The result never depends on the order of the files.
    """
    parsed = Parsed()
    versions: dict[str, list[_Incident]] = {}
    seen = 0
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
        for path, raw in _incidents(doc, found):
            read = _read_incident(raw, path, found, src.name)
            if read is None:
                continue
            incident_id, incident = read
            incident.order = seen
            seen += 1
            versions.setdefault(incident_id, []).append(incident)
        parsed.problems.extend(found.found)
    for incident_id, copies in versions.items():
        chosen = _one_version(incident_id, copies, parsed)
        if chosen is not None:
            parsed.rows.extend(chosen.rows)
    return parsed


def _one_version(incident_id: str, copies: list[_Incident], parsed: Parsed) -> _Incident | None:
    """The version of an incident to take, by the rule of ``parse``; None after an error."""
    # Identical versions are one: each content stands for itself by its newest copy (the
    # first by file name among equals), so the files' order never decides.
    groups: list[list[_Incident]] = []
    for copy in sorted(copies, key=lambda c: (c.file, c.order)):
        group = next((g for g in groups if g[0].content == copy.content), None)
        if group is None:
            groups.append([copy])
        else:
            group.append(copy)
    distinct = [max(g, key=lambda c: c.updated_at or _NEVER) for g in groups]
    if len(distinct) == 1:
        return distinct[0]
    dated = sorted((c for c in distinct if c.updated_at is not None), key=_updated)
    if len(dated) == len(distinct) and dated[-1].updated_at != dated[-2].updated_at:
        newest = dated[-1]
        for older in dated[:-1]:
            parsed.warnings.append(
                Problem(
                    newest.file,
                    None,
                    f"{newest.path}: incident {incident_id} is also at {older.place} with other "
                    f"content; this version is taken, updated later (updated_at "
                    f"{_shown(newest.updated_at)}, the other {_shown(older.updated_at)})",
                )
            )
        return newest
    # The two that cannot be told apart: one without updated_at, or the newest two.
    undated = [c for c in distinct if c.updated_at is None]
    pair = (undated + dated[::-1])[:2]
    first, second = sorted(pair, key=lambda c: (c.file, c.order))
    why = (
        "and no updated_at to tell which is newer"
        if first.updated_at is None or second.updated_at is None
        else f"and the same updated_at ({_shown(first.updated_at)})"
    )
    parsed.problems.append(
        Problem(
            second.file,
            None,
            f"{second.path}: incident {incident_id} is also at {first.place} with other "
            f"content {why}: keep one version of it",
        )
    )
    return None


def _updated(copy: _Incident) -> datetime:
    assert copy.updated_at is not None
    return copy.updated_at


def _shown(moment: datetime | None) -> str:
    return "none" if moment is None else moment.isoformat()


def _incidents(doc: Any, found: JsonProblems) -> Iterator[tuple[str, dict[str, Any]]]:
    lists: list[tuple[str, Any]] = []
    if isinstance(doc, list):
        lists.append(("$", doc))
    elif isinstance(doc, dict) and ("incidents" in doc or "scheduled_maintenances" in doc):
        for key in ("incidents", "scheduled_maintenances"):
            if key in doc:
                lists.append((f"$.{key}", doc[key]))
    else:
        found.add(
            "$",
            "expected Statuspage incidents: an object with 'incidents' (/api/v2/incidents.json) "
            "or 'scheduled_maintenances', or the Manage API's list of incidents",
        )
        return
    for path, items in lists:
        if not isinstance(items, list):
            found.add(path, "expected a list", items)
            continue
        for i, item in enumerate(items):
            if isinstance(item, dict):
                yield f"{path}[{i}]", item
            else:
                found.add(f"{path}[{i}]", "expected an incident object", item)


def _read_incident(
    raw: dict[str, Any], path: str, found: JsonProblems, file: str
) -> tuple[str, _Incident] | None:
    before = len(found.found)
    incident_id = found.field(raw, "id", path)
    status = found.field(raw, "status", path)
    if status is not MISSING and status not in INCIDENT_STATUSES + MAINTENANCE_STATUSES:
        found.add(
            f"{path}.status",
            "unknown incident status (known: "
            f"{', '.join(INCIDENT_STATUSES + MAINTENANCE_STATUSES)})",
            status,
        )
    resolved_at = found.timestamp(raw, "resolved_at", path, required=False)
    updated_at = found.timestamp(raw, "updated_at", path, required=False)
    scheduled_for = found.timestamp(raw, "scheduled_for", path, required=False)
    scheduled_until = found.timestamp(raw, "scheduled_until", path, required=False)
    raw_updates = found.field(raw, "incident_updates", path, list)
    found.field(raw, "components", path, list, required=False, nullable=True)

    updates: list[_Update] = []
    if raw_updates is not MISSING:
        for i, item in enumerate(raw_updates):
            update = _read_update(item, f"{path}.incident_updates[{i}]", found)
            if update is not None:
                updates.append(update)
    if len(found.found) > before:
        return None

    incident = _Incident(file=file, path=path, order=0, updated_at=updated_at)
    intervals = _walk(updates, status, resolved_at, raw, path, found)
    if intervals is None:
        return None
    for interval, until in intervals:
        if until is not None and until <= interval.since:
            continue  # a status that lasted no time
        is_maintenance = interval.status == UNDER_MAINTENANCE
        incident.rows.append(
            SourceRow(
                start=interval.since,
                end=until,
                source_name=interval.name,
                incident_id=f"{incident_id}/{interval.update_id}",
                category=MAINTENANCE if is_maintenance else OUTAGE,
                file=file,
                path=path,
                impact_keys=() if is_maintenance else (interval.status,),
                default_impact=Fraction(1) if is_maintenance else DEFAULT_IMPACT[interval.status],
            )
        )

    maintenance = (
        status in MAINTENANCE_STATUSES
        or scheduled_for is not None
        or raw.get("impact") == "maintenance"
    )
    if maintenance and scheduled_for is not None and scheduled_until is not None:
        windows = _scheduled(raw, path, found, file, incident_id, scheduled_for, scheduled_until)
        if windows is None:
            return None
        incident.rows.extend(windows)
    return incident_id, incident


def _walk(
    updates: list[_Update],
    status: str,
    resolved_at: datetime | None,
    raw: dict[str, Any],
    path: str,
    found: JsonProblems,
) -> list[tuple[_Open, datetime | None]] | None:
    """Each component's statuses, in time order, with when each ended (None: still on)."""
    closed = status in CLOSING
    updates = sorted(updates, key=lambda u: (u.at, u.created, u.id))
    last_closing = max((i for i, u in enumerate(updates) if u.status in CLOSING), default=None)
    status_of: dict[str, str] = {}
    open_: dict[str, _Open] = {}
    done: list[tuple[_Open, datetime | None]] = []
    for index, update in enumerate(updates):
        for change in update.changes or ():
            current = status_of.get(change.code)
            if current is None:
                # First mention: the component was in old_status when this update was posted.
                current = status_of[change.code] = change.old
                if change.old != OPERATIONAL:
                    open_[change.code] = _Open(change.old, update.at, update.id, change.name)
            if change.new != current:
                if change.code in open_:
                    done.append((open_.pop(change.code), update.at))
                if change.new != OPERATIONAL:
                    open_[change.code] = _Open(change.new, update.at, update.id, change.name)
                status_of[change.code] = change.new
        if update.status in CLOSING:
            # Resolving ends every component's trouble, whatever its last status said; the
            # final resolution is the incident's resolved_at when it has one.
            end = update.at
            if closed and index == last_closing and resolved_at is not None:
                end = resolved_at
            if _ends_before(open_, end, f"{path}.resolved_at", found, raw.get("resolved_at")):
                return None
            for code in list(open_):
                done.append((open_.pop(code), end))
                status_of[code] = OPERATIONAL
    if open_ and closed:
        if resolved_at is None:
            found.add(
                f"{path}.resolved_at",
                f"the incident is {status} but has no resolved_at, and components are still "
                f"not operational: {', '.join(sorted(o.name for o in open_.values()))}",
            )
            return None
        if _ends_before(open_, resolved_at, f"{path}.resolved_at", found, raw["resolved_at"]):
            return None
    done.extend((interval, resolved_at if closed else None) for interval in open_.values())
    return done


def _scheduled(
    raw: dict[str, Any],
    path: str,
    found: JsonProblems,
    file: str,
    incident_id: str,
    start: datetime,
    end: datetime,
) -> list[SourceRow] | None:
    """The announced window of a scheduled maintenance, for each of its components."""
    if end <= start:
        found.add(
            f"{path}.scheduled_until",
            "ends before it starts (scheduled_until is not after scheduled_for)",
            raw.get("scheduled_until"),
        )
        return None
    rows = []
    for i, component in enumerate(raw.get("components") or ()):
        cpath = f"{path}.components[{i}]"
        if not isinstance(component, dict):
            found.add(cpath, "expected a component object", component)
            return None
        code = found.field(component, "id", cpath)
        name = found.field(component, "name", cpath)
        if code is MISSING or name is MISSING:
            return None
        rows.append(
            SourceRow(
                start=start,
                end=end,
                source_name=name,
                incident_id=f"{incident_id}/{code}",
                category=MAINTENANCE,
                file=file,
                path=path,
            )
        )
    return rows


def _ends_before(
    open_: dict[str, _Open],
    end: datetime,
    where: str,
    found: JsonProblems,
    shown: Any,
) -> bool:
    late = [o for o in open_.values() if o.since > end]
    if late:
        first = min(late, key=lambda o: o.since)
        found.add(
            where,
            f"ends before it starts: the incident is resolved at {end.isoformat()}, before "
            f"update {first.update_id} changed {first.name} at {first.since.isoformat()}",
            shown,
        )
        return True
    return False


def _read_update(raw: Any, path: str, found: JsonProblems) -> _Update | None:
    if not isinstance(raw, dict):
        found.add(path, "expected an incident update object", raw)
        return None
    before = len(found.found)
    update_id = found.field(raw, "id", path)
    status = found.field(raw, "status", path)
    if status is not MISSING and status not in INCIDENT_STATUSES + MAINTENANCE_STATUSES:
        found.add(f"{path}.status", "unknown update status", status)
    created = found.timestamp(raw, "created_at", path)
    display = found.timestamp(raw, "display_at", path, required=False)
    affected = found.field(raw, "affected_components", path, list, required=False, nullable=True)
    changes: list[_Change] | None = None
    if isinstance(affected, list):
        changes = []
        for i, item in enumerate(affected):
            cpath = f"{path}.affected_components[{i}]"
            if not isinstance(item, dict):
                found.add(cpath, "expected an object with code, old_status, new_status", item)
                continue
            code = found.field(item, "code", cpath)
            name = found.field(item, "name", cpath, required=False)
            statuses = []
            for key in ("old_status", "new_status"):
                value = found.field(item, key, cpath)
                if value is not MISSING and value not in COMPONENT_STATUSES:
                    found.add(
                        f"{cpath}.{key}",
                        f"unknown component status (known: {', '.join(COMPONENT_STATUSES)})",
                        value,
                    )
                statuses.append(value)
            if MISSING not in (code, name, *statuses):
                changes.append(_Change(code, name or code, statuses[0], statuses[1]))
    if len(found.found) > before:
        return None
    return _Update(
        at=display or created,
        created=created,
        id=update_id,
        status=status,
        changes=None if changes is None else tuple(changes),
    )


IMPORTER = Importer(
    name="statuspage",
    summary="Atlassian Statuspage incidents.json (public API v2 or the Manage API list)",
    parse=parse,
)
