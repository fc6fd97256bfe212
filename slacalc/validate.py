"""Checking input files before the month-end run: every problem, and what looks suspicious."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import tzinfo
from typing import Any

from slacalc.contracts import ContractBook, read_contracts
from slacalc.errors import InputError, Problem
from slacalc.fmt import duration
from slacalc.incidents import DOWN_CATEGORIES, IncidentLog, collect_incidents
from slacalc.policy import Policy
from slacalc.report import touched_months
from slacalc.timeparse import US_PER_SECOND, format_instant

LONG_INCIDENT_US = 31 * 86400 * US_PER_SECOND


@dataclass
class Validation:
    """The outcome of ``validate``: problems make the files unusable, warnings do not."""

    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "problems": [str(p) for p in self.problems],
            "warnings": [str(w) for w in self.warnings],
            "summary": self.summary,
        }


def validate(
    paths: Sequence[str],
    *,
    tz: tzinfo,
    as_of: int,
    contracts: str | None = None,
    policy: Policy,
    currency: str,
) -> Validation:
    """Read the files with the report's own readers and rules; collect, never stop early."""
    result = Validation()
    log, problems = collect_incidents(paths, tz)
    result.problems.extend(problems)
    book = None
    if contracts:
        try:
            book = read_contracts(contracts, policy=policy, default_currency=currency)
        except InputError as exc:
            result.problems.extend(exc.problems)
    result.warnings.extend(_warnings(log, book, as_of, tz))
    result.summary = _summary(log, book, paths, tz, as_of)
    return result


def _warnings(
    log: IncidentLog, book: ContractBook | None, as_of: int, tz: tzinfo
) -> list[Problem]:
    out: list[Problem] = []
    for key, incidents in log.by_key.items():
        first_id: dict[str, int] = {}
        for inc in incidents:
            def note(message: str, inc=inc) -> None:
                out.append(Problem(inc.source, inc.line, "warning: " + message))

            if inc.incident_id:
                seen = first_id.setdefault(inc.incident_id, inc.line)
                if seen != inc.line:
                    note(f"incident_id '{inc.incident_id}' appears again (first on line {seen})")
            if inc.end is None:
                late = " (it starts after that, so it counts nothing)" if inc.start >= as_of else ""
                note(f"no end: counted as ongoing up to --as-of {format_instant(as_of, tz)}{late}")
            elif inc.end == inc.start:
                note("starts and ends at the same instant: it counts no downtime")
            elif inc.end - inc.start > LONG_INCIDENT_US:
                note(
                    f"lasts {duration(inc.end - inc.start)}, longer than a month: check its end"
                )
        out.extend(_maintenance_overlaps(incidents, as_of))
        if book is not None and book.find(*key) is None:
            first = incidents[0]
            out.append(
                Problem(first.source, first.line,
                        f"warning: no contract for customer '{key[0]}' service '{key[1]}': "
                        "report will need --monthly-fee for it")
            )  # fmt: skip
    out.sort(key=lambda p: (p.file, p.line or 0))
    return out


def _maintenance_overlaps(incidents, as_of: int) -> list[Problem]:
    """Outage rows that overlap a maintenance/excluded window of the same key."""
    windows = sorted(
        (inc.start, inc.end_at(as_of), inc) for inc in incidents
        if inc.category not in DOWN_CATEGORIES
    )  # fmt: skip
    if not windows:
        return []
    starts = [w[0] for w in windows]
    out = []
    for inc in incidents:
        if inc.category not in DOWN_CATEGORIES:
            continue
        s, e = inc.start, inc.end_at(as_of)
        for ws, we, win in windows[: bisect_left(starts, e)]:
            if we > s and ws < e:
                out.append(
                    Problem(inc.source, inc.line,
                            f"warning: overlaps the {win.category} window on line {win.line} "
                            f"({win.incident_id or 'no id'}): that overlap is not downtime")
                )  # fmt: skip
                break
    return out


def _summary(
    log: IncidentLog, book: ContractBook | None, paths: Sequence[str], tz: tzinfo, as_of: int
) -> dict[str, Any]:
    incidents = list(log)
    months = touched_months(log, tz, as_of)
    summary: dict[str, Any] = {
        "files": len(paths),
        "rows": len(incidents),
        "keys": len(log.by_key),
        "customers": len({c for c, _ in log.by_key}),
        "services": len({s for _, s in log.by_key}),
        "months": [str(m) for m in months],
        "ongoing": sum(1 for i in incidents if i.end is None),
        "first_start": format_instant(min(i.start for i in incidents), tz) if incidents else "",
        "last_end": (
            format_instant(max(i.end_at(as_of) for i in incidents), tz) if incidents else ""
        ),
    }
    if book is not None:
        summary["contracts"] = len(book)
    return summary
