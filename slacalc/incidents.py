"""The incident log: CSV rows read into typed, validated incidents."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import tzinfo
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import NamedTuple

from slacalc.csvread import open_csv
from slacalc.errors import InputError, Problem
from slacalc.timeparse import InstantParser

OUTAGE = "outage"
DATA_LOSS = "data_loss"
MAINTENANCE = "maintenance"
EXCLUDED = "excluded"
DOWN_CATEGORIES = frozenset({OUTAGE, DATA_LOSS})
CATEGORIES = (OUTAGE, DATA_LOSS, MAINTENANCE, EXCLUDED)

COLUMNS = ("start", "end", "customer_id", "service", "incident_id", "category", "impact")

Key = tuple[str, str]
# A progress hook: (file name, bytes read, bytes in the file).
Progress = Callable[[str, int, int], None]


class Incident(NamedTuple):
    """One row of an incident log. Instants are microseconds since the epoch (UTC)."""

    start: int
    end: int | None  # None: still ongoing, counted up to --as-of
    customer_id: str
    service: str
    incident_id: str
    category: str
    impact: Fraction | int  # share of the service lost, 0 < impact <= 1
    source: str
    line: int
    start_text: str
    end_text: str

    @property
    def key(self) -> Key:
        return (self.customer_id, self.service)

    @property
    def is_down(self) -> bool:
        return self.category in DOWN_CATEGORIES

    def end_at(self, as_of: int) -> int:
        """The end, or ``as_of`` for an ongoing incident (never before its start)."""
        if self.end is not None:
            return self.end
        return max(self.start, as_of)


class IncidentLog:
    """Incidents grouped by (customer_id, service), in the order they were read."""

    def __init__(self, incidents: Iterable[Incident] = ()) -> None:
        self.by_key: dict[Key, list[Incident]] = {}
        for inc in incidents:
            self.add(inc)

    def add(self, inc: Incident) -> None:
        self.by_key.setdefault(inc.key, []).append(inc)

    def __len__(self) -> int:
        return sum(len(v) for v in self.by_key.values())

    def __iter__(self):
        for incidents in self.by_key.values():
            yield from incidents

    # --- the log protocol compute_report uses (shared with columnar.ColumnarLog) ---
    def span(self, as_of: int) -> tuple[int, int] | None:
        """The first start and last end of the incidents that last more than zero, or None."""
        lo = hi = None
        for incidents in self.by_key.values():
            for inc in incidents:
                s, e = inc.start, inc.end_at(as_of)
                if e > s:
                    if lo is None or s < lo:
                        lo = s
                    if hi is None or e > hi:
                        hi = e
        return None if lo is None else (lo, hi)  # type: ignore[return-value]

    def usage(self, grid, as_of: int):  # -> dict[Key, dict[int, MonthUsage]]
        """Per key, ``engine.key_usage`` of its incidents."""
        from slacalc.engine import key_usage

        return {key: key_usage(incs, grid, as_of) for key, incs in self.by_key.items()}

    def first_incident(self, key: Key) -> Incident:
        return self.by_key[key][0]

    def incidents_of(self, category: str) -> list[Incident]:
        return [inc for inc in self if inc.category == category]


def parse_impact(text: str) -> Fraction | int:
    """``0.3``, ``30%`` or empty (1). Exact; ValueError unless 0 < impact <= 1."""
    raw = text.strip()
    if not raw:
        return 1
    pct = raw.endswith("%")
    try:
        value = Decimal(raw[:-1].strip() if pct else raw)
    except InvalidOperation:
        raise ValueError("expected a share 0 < impact <= 1, such as 0.3 or 30%") from None
    if not value.is_finite():
        raise ValueError("expected a share 0 < impact <= 1, such as 0.3 or 30%")
    share = Fraction(value) / (100 if pct else 1)
    if not 0 < share <= 1:
        raise ValueError("impact must be greater than 0 and at most 1 (100%)")
    return 1 if share == 1 else share


def parse_category(text: str) -> str:
    raw = text.strip().lower()
    if not raw:
        return OUTAGE
    if raw not in CATEGORIES:
        raise ValueError(f"expected one of {', '.join(CATEGORIES)}")
    return raw


def read_incidents(
    paths: Iterable[str], tz: tzinfo, *, keep_text: bool = False, progress: Progress | None = None
) -> IncidentLog:
    """Read one or more incident logs; every bad cell is collected, then raised as InputError.

    ``keep_text`` keeps each row's timestamps as written (for audit trails); the report does
    not need them and saves the memory.
    """
    log, problems = collect_incidents(paths, tz, keep_text=keep_text, progress=progress)
    if problems:
        raise InputError(problems)
    return log


def collect_incidents(
    paths: Iterable[str], tz: tzinfo, *, keep_text: bool = False, progress: Progress | None = None
) -> tuple[IncidentLog, list[Problem]]:
    """Read what can be read: the good rows, and every problem of the bad rows and files."""
    log = IncidentLog()
    problems: list[Problem] = []
    for path in paths:
        try:
            _read_one(path, tz, log, problems, keep_text, progress)
        except InputError as exc:  # a file-level problem: missing, binary, no header
            problems.extend(exc.problems)
    return log, problems


def _read_one(
    path: str,
    tz: tzinfo,
    log: IncidentLog,
    problems: list[Problem],
    keep_text: bool,
    progress: Progress | None,
) -> None:
    f = open_csv(path, required=("start",), known=COLUMNS)
    if progress is not None:
        f.on_progress = lambda done, total: progress(f.name, done, total)
    name = f.name
    width = len(f.header)
    # An absent column reads the empty cell appended after the row's own cells.
    col = {c: (width if (i := f.column(c)) is None else i) for c in COLUMNS}
    i_start, i_end = col["start"], col["end"]
    i_cust, i_svc, i_id = col["customer_id"], col["service"], col["incident_id"]
    i_cat, i_imp = col["category"], col["impact"]
    instant = InstantParser(tz)
    # One key tuple (and one string object per customer and service) for all rows of a key.
    keys: dict[tuple[str, str], Key] = {}
    impacts: dict[str, Fraction | int] = {}
    categories: dict[str, str] = {}
    by_key = log.by_key
    pad = [""] * (width + 1)

    for line, cells in f.rows():
        n = len(cells)
        if n != width:
            if n > width and any(c.strip() for c in cells[width:]):
                problems.append(
                    Problem(name, line, f"row has {n} cells but the header has {width}")
                )
                continue
            cells = (cells + pad)[:width]
        cells.append("")
        bad = False
        start_text = cells[i_start]
        try:
            start = instant(start_text)
        except (ValueError, OverflowError) as exc:
            problems.append(Problem(name, line, str(exc), "start", start_text))
            bad = True
        end_text = cells[i_end]
        end: int | None = None
        if end_text:
            try:
                end = instant(end_text)
            except (ValueError, OverflowError) as exc:
                if end_text.strip():
                    problems.append(Problem(name, line, str(exc), "end", end_text))
                    bad = True
        cat_text = cells[i_cat]
        category = categories.get(cat_text)
        if category is None:
            try:
                category = categories[cat_text] = parse_category(cat_text)
            except ValueError as exc:
                problems.append(Problem(name, line, str(exc), "category", cat_text))
                bad = True
        imp_text = cells[i_imp]
        impact = impacts.get(imp_text)
        if impact is None:
            try:
                impact = impacts[imp_text] = parse_impact(imp_text)
            except ValueError as exc:
                problems.append(Problem(name, line, str(exc), "impact", imp_text))
                bad = True
        if bad:
            continue
        if end is not None and end < start:
            problems.append(
                Problem(name, line, f"ends before it starts (start '{start_text.strip()}')",
                        "end", end_text)
            )  # fmt: skip
            continue
        raw = (cells[i_cust], cells[i_svc])
        key = keys.get(raw)
        if key is None:
            key = keys[raw] = (raw[0].strip(), raw[1].strip())
        incidents = by_key.get(key)
        if incidents is None:
            incidents = by_key[key] = []
        incidents.append(
            Incident(
                start,
                end,
                key[0],
                key[1],
                cells[i_id].strip(),
                category,  # type: ignore[arg-type]
                impact,  # type: ignore[arg-type]
                name,
                line,
                start_text.strip() if keep_text else "",
                end_text.strip() if keep_text else "",
            )
        )
