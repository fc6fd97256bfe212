"""Checking input files before the month-end run: every problem, and what looks suspicious.

The files are read by the report's own readers and rules; the suspicious-row checks work on
whole columns, so a million-row log is validated in about the time its report takes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import tzinfo
from typing import Any

import numpy as np
import pyarrow.compute as pc

from slacalc.computing.engine import effective_ends, sorted_distinct
from slacalc.dates.instants import US_PER_SECOND, format_instant
from slacalc.dates.months import Month
from slacalc.errors import InputError, Problem
from slacalc.model.cells import CATEGORIES, DOWN_CODES, EVERY_CUSTOMER, EXCLUSION_CODES
from slacalc.model.contracts import ContractBook, policies_of
from slacalc.model.table import NO_END, IncidentTable
from slacalc.reading import collect_incidents
from slacalc.reading.contracts import read_contracts
from slacalc.terms.policy import Policy
from slacalc.writing.times import duration

LONG_INCIDENT_US = 31 * 86400 * US_PER_SECOND
FIELDS = ("severity", "code", "file", "line", "column", "value", "message")


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
        """The JSON document: every problem and warning as an object (see :meth:`records`)."""
        return {
            "ok": self.ok,
            "problems": [p.to_dict("error") for p in self.problems],
            "warnings": [w.to_dict("warning") for w in self.warnings],
            "summary": self.summary,
        }

    def records(self) -> list[dict[str, Any]]:
        """One record per problem and warning, errors first: ``severity, code, file, line,
        column, value, message`` (None where there is none: empty in CSV, null in JSON)."""
        return [p.to_dict("error") for p in self.problems] + [
            w.to_dict("warning") for w in self.warnings
        ]


def validate(
    paths: Sequence[str],
    *,
    tz: tzinfo,
    as_of: int,
    contracts: str | None = None,
    policy: Policy,
    currency: str,
    fmt: str | None = None,
    deployments: str | None = None,
    requests: Sequence[str] = (),
) -> Validation:
    """Read the files with the report's own readers and rules; collect, never stop early.
    ``deployments`` and ``requests`` are checked too: their own problems, a request window
    that crosses its policy's interval, and (under a ``[redundancy]`` policy) zone incidents
    where the customer is not deployed."""
    result = Validation()
    table, problems = collect_incidents(paths, tz, fmt=fmt)
    result.problems.extend(problems)
    book = None
    if contracts:
        try:
            book = read_contracts(contracts, policy=policy, default_currency=currency)
        except InputError as exc:
            result.problems.extend(exc.problems)
    result.problems.extend(_customer_wide_problems(table, book, contracts is not None))
    result.warnings.extend(_warnings(table, book, as_of, tz))
    policies = [policy, *policies_of(book)]
    if deployments:
        result.warnings.extend(_deployments(deployments, table, policies, as_of, tz, result))
    if requests:
        _requests(requests, policies, tz, result)
    result.summary = _summary(table, book, paths, tz, as_of)
    return result


def _deployments(
    path: str, table: IncidentTable, policies: list[Policy], as_of: int, tz: tzinfo, result: Any
) -> list[Problem]:
    """The deployments file's problems (into ``result``), and the warnings of zone incidents
    where their customer is not deployed, under the first ``[redundancy]`` rule given."""
    from slacalc.computing.redundancy import key_incidents
    from slacalc.reading.deployments import read_deployments

    try:
        deployed = read_deployments(path, tz)
    except InputError as exc:
        result.problems.extend(exc.problems)
        return []
    rules = [p.redundancy for p in policies if p.redundancy is not None]
    if not rules or table.zone is None:
        return []
    _, trace = key_incidents(table, deployed, rules[0], as_of=as_of)
    return trace.notes()


def _requests(paths: Sequence[str], policies: list[Policy], tz: tzinfo, result: Any) -> None:
    """The request counts' problems, and the windows that cross their interval (of the first
    policy that measures error rates), into ``result``."""
    from slacalc.computing.error_rate import interval_problems
    from slacalc.reading.requests import read_requests

    try:
        counts = read_requests(paths, tz)
    except InputError as exc:
        result.problems.extend(exc.problems)
        return
    measures = [p.measure for p in policies if p.measure is not None]
    if measures:
        result.problems.extend(interval_problems(counts, measures[0]))


def _customer_wide_problems(
    table: IncidentTable, book: ContractBook | None, given: bool
) -> list[Problem]:
    """Rows of customer ``*`` need a contracts file, as the report does (unless the file given
    could not be read: its own problems say why)."""
    if given:
        return []
    star = [k for k, (c, _) in enumerate(table.keys) if c == EVERY_CUSTOMER]
    if not star:
        return []
    first = table.first_row(star[0])
    return [
        Problem(
            table.files[int(table.file[first])],
            int(table.line[first]),
            "customer '*' (every customer of the service) needs --contracts to know who they are",
            "customer_id",
            "*",
        )
    ]


def _warnings(
    table: IncidentTable, book: ContractBook | None, as_of: int, tz: tzinfo
) -> list[Problem]:
    found: list[tuple[int, Problem]] = []

    def note(rows: Any, message: Any, kind: str) -> None:
        for r in np.asarray(rows).tolist():
            text = message(r) if callable(message) else message
            found.append(
                (
                    r,
                    Problem(
                        table.files[int(table.file[r])],
                        int(table.line[r]) or None,
                        "warning: " + text,
                        kind=kind,
                    ),
                )
            )

    n = len(table)
    if n == 0:
        return []
    _duplicate_ids(table, note)
    ongoing = table.end == NO_END
    at = format_instant(as_of, tz)
    note(
        np.flatnonzero(ongoing & (table.start < as_of)),
        f"no end: counted as ongoing up to --as-of {at}",
        "ongoing",
    )
    note(
        np.flatnonzero(ongoing & (table.start >= as_of)),
        f"no end: counted as ongoing up to --as-of {at} (it starts after that, so it counts "
        "nothing)",
        "starts_after_as_of",
    )
    closed = ~ongoing
    note(
        np.flatnonzero(closed & (table.end > as_of)),
        f"ends after --as-of {at}: it counts only up to --as-of",
        "ends_after_as_of",
    )
    note(
        np.flatnonzero(closed & (table.end == table.start)),
        "starts and ends at the same instant: it counts no downtime",
        "zero_length",
    )
    long = np.flatnonzero(closed & (table.end - table.start > LONG_INCIDENT_US))
    note(
        long,
        lambda r: (
            f"lasts {duration(int(table.end[r] - table.start[r]))}, longer than a "
            "month: check its end"
        ),
        "longer_than_a_month",
    )
    _maintenance_overlaps(table, as_of, note)
    if book is not None and table.n_keys:
        # every key's contract looked up at once (as the report does), then only the keys
        # with none, or a customer '*', one by one
        missing = book.lookup(table.key_customer, table.key_service, table.key_words) < 0
        star = np.asarray(pc.equal(table.key_customer, EVERY_CUSTOMER), dtype=bool)
        for k in np.flatnonzero(missing | star).tolist():
            customer, service = table.key_customer[k].as_py(), table.key_service[k].as_py()
            if customer == EVERY_CUSTOMER:
                if not book.customers_of(service):
                    note(
                        [table.first_row(k)],
                        f"customer '*' rows of service '{service}' reach "
                        "no contract: no customer has that service",
                        "star_reaches_no_contract",
                    )
                continue
            if book.find(customer, service) is None:
                note(
                    [table.first_row(k)],
                    f"no contract for customer '{customer}' service "
                    f"'{service}': report will need --monthly-fee for it",
                    "no_contract",
                )
    found.sort(key=lambda item: (int(table.file[item[0]]), int(table.line[item[0]]), item[0]))
    return [p for _, p in found]


def _duplicate_ids(table: IncidentTable, note: Any) -> None:
    """An incident id that appears again within its key."""
    ids = pc.utf8_trim_whitespace(pc.fill_null(table.incident_id, ""))
    present = np.asarray(pc.greater(pc.utf8_length(ids), 0))
    if not present.any():
        return
    codes = np.asarray(ids.dictionary_encode().indices, dtype=np.int64)
    pair = table.key * (int(codes.max()) + 1) + codes
    rows = np.flatnonzero(present)
    _, first, inverse = np.unique(pair[rows], return_index=True, return_inverse=True)
    first_row = rows[first][inverse.reshape(-1)]
    again = rows[first_row != rows]
    first_of = dict(zip(again.tolist(), first_row[first_row != rows].tolist(), strict=True))
    note(
        again,
        lambda r: (
            f"incident_id '{ids[r].as_py()}' appears again (first on line "
            f"{int(table.line[first_of[r]])})"
        ),
        "duplicate_id",
    )


def _maintenance_overlaps(table: IncidentTable, as_of: int, note: Any) -> None:
    """Outage rows that overlap a maintenance/excluded window of the same key, each with the
    first such window (by start) named."""
    end = effective_ends(table, as_of)
    real = end > table.start
    w = np.flatnonzero(np.isin(table.category, EXCLUSION_CODES) & real)
    d = np.flatnonzero(np.isin(table.category, DOWN_CODES) & real)
    if not len(w) or not len(d):
        return
    w = w[np.lexsort((table.start[w], table.key[w]))]
    # Times as dense ranks, so (key, time) pairs fit one int64 sort key.
    times = sorted_distinct(np.concatenate([table.start[w], end[w], table.start[d], end[d]]))
    span = len(times) + 1

    def rank(x: Any) -> Any:
        return np.searchsorted(times, x)

    wk = table.key[w]
    ws, we = rank(table.start[w]), rank(end[w])
    # Running max of the windows' ends within each key: lifted by key, one running max does
    # every key, and it never decreases, so it can be searched.
    reach = np.maximum.accumulate(wk * span + we)
    dk = table.key[d]
    before_end = np.searchsorted(wk * span + ws, dk * span + rank(end[d]), side="left")
    first_reaching = np.searchsorted(reach, dk * span + rank(table.start[d]), side="right")
    hit = (first_reaching < before_end) & (first_reaching < len(w))
    hit &= wk[np.minimum(first_reaching, len(w) - 1)] == dk
    window_of = dict(zip(d[hit].tolist(), w[first_reaching[hit]].tolist(), strict=True))

    def message(r: int) -> str:
        win = window_of[r]
        ident = (table.incident_id[win].as_py() or "").strip() or "no id"
        return (
            f"overlaps the {CATEGORIES[int(table.category[win])]} window on line "
            f"{int(table.line[win])} ({ident}): that overlap is not downtime"
        )

    note(d[hit], message, "overlaps_exclusion")


def _summary(
    table: IncidentTable,
    book: ContractBook | None,
    paths: Sequence[str],
    tz: tzinfo,
    as_of: int,
) -> dict[str, Any]:
    end = effective_ends(table, as_of)
    live = end > table.start
    months: list[str] = []
    if live.any():
        first = Month.of(int(table.start[live].min()), tz)
        last = Month.of(int(end[live].max()) - 1, tz)
        months = _touched(table, live, end, first, last, tz)
    n = len(table)
    summary: dict[str, Any] = {
        "files": len(paths),
        "rows": n,
        "keys": len(table.keys),
        "customers": len({c for c, _ in table.keys}),
        "services": len({s for _, s in table.keys}),
        "months": months,
        "ongoing": int((table.end == NO_END).sum()),
        "first_start": format_instant(int(table.start.min()), tz) if n else None,
        "last_end": format_instant(int(end.max()), tz) if n else None,
    }
    if book is not None:
        summary["contracts"] = len(book)
    return summary


def _touched(
    table: IncidentTable, live: Any, end: Any, first: Month, last: Month, tz: tzinfo
) -> list[str]:
    from slacalc.dates.months import MAX_MONTHS, MonthGrid, months_between, touched

    if months_between(first, last) > MAX_MONTHS:  # report refuses it: name the ends only
        return [first.text, last.text]
    grid = MonthGrid(first, last, tz)
    edges = np.array(grid.edges, dtype=np.int64)
    a, b = touched(edges, table.start[live], end[live])
    hit = np.zeros(len(grid.months), dtype=bool)
    for k in range(int((b - a).max()) + 1 if len(a) else 0):
        sel = b - a >= k
        hit[a[sel] + k] = True
    return [grid.months[i].text for i in np.flatnonzero(hit).tolist()]
