"""The monthly report: per customer, service and month, availability, tier, breach, compensation,
claim window and the dispute deadlines it opens.

:func:`compute_report` is what ``slacalc report`` prints, deadlines included. It picks the
months, plans which keys get rows (:mod:`~slacalc.computing.keys`), takes each row's downtime from
its engine group, prices whole columns (:mod:`~slacalc.computing.pricing`); the result keeps
its values as arrays, and rows, records and text (:mod:`~slacalc.computing.fields`) are built
from them on demand.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from fractions import Fraction
from functools import cached_property, partial
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa

from slacalc import speed
from slacalc.computing.engine import effective_ends
from slacalc.computing.fields import (
    FIELDS,
    KINDS,
    NUMBER,
    TEXT,
    FieldTexts,
    field_texts,
    python_values,
)
from slacalc.computing.keys import KeyPlan, customer_wide, plan_keys, reaches_nobody
from slacalc.computing.pricing import Terms, price
from slacalc.dates.instants import NO_INSTANT, format_instant, from_us, to_us
from slacalc.dates.months import Month, MonthGrid, check_span, touched
from slacalc.model.cells import DOWN_CODES
from slacalc.model.contracts import Contract, ContractBook
from slacalc.model.settings import Settings
from slacalc.model.table import NO_END, IncidentTable, Key, keys_added, with_keys
from slacalc.terms import deadlines, money
from slacalc.terms.policy import BASE_MINUS_EXCLUDED, Policy, Tier

TEXT_PIECE_ROWS = 1 << 17  # report rows formatted at a time, by default

__all__ = [
    "FIELDS",
    "KINDS",
    "NUMBER",
    "TEXT",
    "Deadline",
    "Report",
    "ReportRow",
    "Settings",
    "compute_report",
    "touched_months",
]

SPANNED = "the incidents (and --as-of for ongoing ones)"  # what spans the months of a log
NO_MONTH = (
    "no incident lasts more than zero in any month, and no --month was given: there is no "
    "month to report"
)


@dataclass(frozen=True)
class Deadline:
    """A settlement deadline the report opens: level 1 per breached row, level 2 per data loss."""

    level: int
    category: str
    customer_id: str
    service: str
    reference: str  # the month (level 1) or the incident id / file:line (level 2)
    opened_at: int
    due_at: int
    tz: ZoneInfo
    working_days: tuple[date, ...] = ()

    def sort_key(self) -> tuple:
        """A total order: due date, level, customer, service, reference."""
        return (
            self.due_at,
            self.level,
            self.customer_id,
            self.service,
            self.reference,
            self.opened_at,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "level": self.level,
            "category": self.category,
            "customer_id": self.customer_id,
            "service": self.service,
            "reference": self.reference,
            "opened_at": format_instant(self.opened_at, self.tz),
            "due_at": format_instant(self.due_at, self.tz),
        }


@dataclass(frozen=True)
class ReportRow:
    """One (customer, service, month) of the report: exact values and the fields as printed."""

    customer_id: str
    service: str
    month: Month
    period_start: int  # epoch microseconds
    period_end: int
    period_us: int  # the time the month counts (service time under service hours)
    downtime_us: Fraction
    excluded_us: int
    tier_band: str
    tier: Tier
    breached: bool
    monthly_fee: Decimal
    compensation: Decimal  # rounded to the currency's minor unit
    currency: str
    capped: bool
    incident_count: int
    compensation_due: int | None
    status: str
    policy: Policy
    credit_pct: Decimal | None
    claim_opens: int | None
    claim_closes: int | None
    claim_status: str
    tz: ZoneInfo
    fields: dict[str, Any] = field(repr=False)

    @property
    def base_us(self) -> int:
        """The denominator of availability: the period, or less its excluded time."""
        if self.policy.availability_base == BASE_MINUS_EXCLUDED:
            return self.period_us - self.excluded_us
        return self.period_us

    @property
    def availability(self) -> Fraction:
        """Exactly ``1 - downtime / base``."""
        base = self.base_us
        return Fraction(1) if base == 0 else 1 - Fraction(self.downtime_us) / base

    def to_dict(self) -> dict[str, Any]:
        """The report's fields, in order: numbers for seconds and counts, text for the rest."""
        return dict(self.fields)


@dataclass
class Report:
    """The rows of a report (as columns), the deadlines they open and what to warn about."""

    settings: Settings
    plan: KeyPlan  # the keys (sorted), their contracts and cell totals
    months: list[Month]
    starts: list[int]  # per month: period start and end, epoch microseconds
    ends: list[int]
    cols: dict[str, Any]  # per row (key-major, month-minor): exact values as arrays
    warnings: list[str] = field(default_factory=list)
    requests: Any = None  # the request counts of error-rate keys (explain's detail), or None
    composites: dict = field(default_factory=dict)  # (customer, service) -> its Composite

    def __len__(self) -> int:
        return len(self.plan) * len(self.months)

    @property
    def keys(self) -> list[Key]:
        """The report's keys, ``(customer_id, service)``, sorted."""
        return self.plan.keys

    @cached_property
    def contracts(self) -> list[Contract]:
        """The contract of each key."""
        return [self.plan.contracts[i] for i in self.plan.contract.tolist()]

    # --- values -------------------------------------------------------------------------------
    def any_breached(self) -> bool:
        return bool(self.cols["breached"].any()) if len(self) else False

    def text_parts(self, size: int | None = None) -> list[Callable[[], dict[str, Any]]]:
        """The text of every field in pieces: a function per piece, so a writer can format
        pieces in parallel and write them in order. Pieces of ``size`` rows each (the last
        may be shorter: a store's batches), or by default of one size of at most
        :data:`TEXT_PIECE_ROWS`, as many as keep the threads even."""
        texts = FieldTexts(self)
        n = len(self)
        if size is None:
            bounds = speed.even_pieces(n, TEXT_PIECE_ROWS)
        else:
            bounds = [(lo, min(lo + size, n)) for lo in range(0, n, size)]
        return [partial(texts.chunk, lo, hi) for lo, hi in bounds]

    @cached_property
    def text(self) -> dict[str, Any]:
        """Every field as a pyarrow array: text, or numbers/booleans as :data:`KINDS` says."""
        return field_texts(self)

    def records(self) -> list[dict[str, Any]]:
        """One dict per row: the fields in order, seconds and counts as numbers."""
        columns = [python_values(name, self.text[name]) for name in FIELDS]
        return [dict(zip(FIELDS, values, strict=True)) for values in zip(*columns, strict=True)]

    @cached_property
    def rows(self) -> list[ReportRow]:
        """The rows as objects (built on first use: a large CSV report never needs them)."""
        return [self.row(i) for i in range(len(self))]

    def row(self, i: int) -> ReportRow:
        c, n_m = self.cols, len(self.months)
        k, j = divmod(i, n_m)
        contract = self.contracts[k]
        den = c["den"] if np.ndim(c["den"]) == 0 else c["den"][i]
        breached = bool(c["breached"][i])
        places = money.minor_unit(contract.currency)
        credit = int(c["credit"][i])
        values = {name: python_values(name, self.text[name].slice(i, 1))[0] for name in FIELDS}
        opens, closes = c["claim_opens"][i], c["claim_closes"][i]
        return ReportRow(
            customer_id=self.keys[k][0],
            service=self.keys[k][1],
            month=self.months[j],
            period_start=self.starts[j],
            period_end=self.ends[j],
            period_us=int(c["period"][i]),
            downtime_us=Fraction(int(c["down"][i]), int(den)),
            excluded_us=int(c["excluded"][i]),
            tier_band=values["tier_band"],
            tier=contract.tier,
            breached=breached,
            monthly_fee=contract.monthly_fee,
            compensation=money.from_minor(int(c["units"][i]), places),
            currency=contract.currency,
            capped=bool(c["capped"][i]),
            incident_count=int(c["count"][i]),
            compensation_due=deadlines.level1_due(self.ends[j]) if breached else None,
            status=values["status"],
            policy=contract.policy,
            credit_pct=None if credit < 0 else c["credits"][credit],
            claim_opens=None if opens == NO_INSTANT else int(opens),
            claim_closes=None if closes == NO_INSTANT else int(closes),
            claim_status=values["claim_status"],
            tz=self.settings.tz,
            fields=values,
        )

    def _per_currency(self, values: Any) -> dict[str, int]:
        """``values`` (one per row) summed per currency, currencies in order of appearance."""
        terms: Terms = self.cols["terms"]
        n_m = len(self.months)
        if not len(self):
            return {}
        key_sums = np.asarray(values).reshape(-1, n_m).sum(axis=1)
        out: dict[str, int] = {}
        for k, total in zip(terms.of_key.tolist(), key_sums.tolist(), strict=True):
            cur = terms.contracts[k].currency
            out[cur] = out.get(cur, 0) + int(total)
        return out

    def totals(self) -> dict[str, Decimal]:
        """Compensation per currency, in the order currencies first appear."""
        return {
            cur: money.from_minor(units, money.minor_unit(cur))
            for cur, units in self._per_currency(self.cols["units"]).items()
        }

    def breached_counts(self) -> dict[str, int]:
        """Breached rows per currency."""
        return self._per_currency(self.cols["breached"].astype(np.int64))

    @cached_property
    def losses(self) -> list[tuple[int, int, str]]:
        """``(key, start, reference)`` of every data loss that starts in a reported month: found
        when the deadlines are first asked for (a CSV report never needs them)."""
        return _data_losses(self.plan, self.starts, self.ends)

    @cached_property
    def deadlines(self) -> list[Deadline]:
        """Level 1 for every breached row (72 h after its period), level 2 for every data loss
        that starts in a reported month (5 working days after its start day), in due order."""
        from slacalc.terms.deadlines import DisputeLevel, due_at

        tz, n_m = self.settings.tz, len(self.months)
        out = []
        for i in np.flatnonzero(self.cols["breached"]).tolist():
            k, j = divmod(i, n_m)
            end = self.ends[j]
            out.append(
                Deadline(
                    1,
                    "sla_breach",
                    *self.keys[k],
                    self.months[j].text,
                    end,
                    deadlines.level1_due(end),
                    tz,
                )
            )
        calendar = self.settings.work_calendar
        for k, start, reference in self.losses:
            opened = from_us(start, tz)
            due = due_at(DisputeLevel.DATA_LOSS, opened, calendar, tz)
            count = DisputeLevel.DATA_LOSS.working_days or 0
            days = tuple(calendar.working_days_after(opened.date(), count))
            out.append(
                Deadline(2, "data_loss", *self.keys[k], reference, start, to_us(due), tz, days)
            )
        out.sort(key=Deadline.sort_key)
        return out

    def calendar_years(self, *, deadlines: bool = True) -> set[int]:
        """The years whose working days the report's claim windows (and, with ``deadlines``,
        its dispute deadlines) counted."""
        years: set[int] = set()
        if deadlines:
            for d in self.deadlines:
                years.update(day.year for day in d.working_days)
        if self.claims_count_working_days:
            for m in self.months:
                years.add(m.next().year)
        return years

    @property
    def claims_count_working_days(self) -> bool:
        return any(
            p.claim_window is not None and p.claim_window.opens_after_working_days
            for p in self.cols["terms"].policies  # the policies of the rows' contracts
        )


# --- computing a report ---------------------------------------------------------------------


def compute_report(
    table: IncidentTable,
    settings: Settings,
    *,
    contracts: ContractBook | None = None,
    months: Sequence[Month] | None = None,
    include: Sequence[Month] = (),
    whole: bool = True,
    requests: Any = None,
    keep: tuple[Any, Any] | None = None,
    log: IncidentTable | None = None,
) -> Report:
    """Compute the report for ``months`` (default: every month an incident touches, and the
    months of ``include``).

    ``whole=False`` says ``table`` is one part of a log (a bucket of customers, a Spark group)
    whose months are given: the warnings that speak of the whole log (late ends, customer-wide
    rows that reach nobody) are then the caller's to give, once. ``requests`` (a
    :class:`~slacalc.reading.requests.RequestTable`) are the request counts of the keys whose
    policy measures error rates: their keys join the table's, their months the report's.
    ``keep`` (customers, services: string arrays): keys reported even with no row left (keys
    whose zone incidents never met their redundancy rule: they had incidents, none counted).
    ``log``: the table as read, when ``table`` was made from it (zones counted, composites
    made): the warning of incidents that end after --as-of speaks of its rows."""
    kept = None  # where the kept keys are among the table's
    if keep is not None and len(keep[0]):
        table, kept = keys_added(table, *keep)
    if requests is not None and len(requests):
        table = with_keys(table, requests.key_customer, requests.key_service)
    else:
        requests = None
    facts = LogFacts()
    if whole:
        facts.add_late(log if log is not None else table, settings.as_of)
    if include and not months:
        months = sorted({*include, *touched_months(table, settings)})
    grid, wanted = _grid(table, settings, months, requests)
    if grid is None:
        customer_wide(table, contracts)  # customer '*' rows need contracts, months or not
        warnings = facts.warnings(settings.as_of, months=False)
        plan = _empty_plan(table)
        return Report(settings, plan, [], [], [], _columns(plan, grid, [], settings), warnings)
    plan, wanted = plan_keys(
        table,
        settings=settings,
        book=contracts,
        grid=grid,
        wanted=wanted if months else None,
        nobody=facts.nobody if whole else None,
        requests=requests,
        keep=kept,
    )
    warnings = facts.warnings(settings.as_of, months=True)
    starts = [grid.edges[i] for i in wanted]
    ends = [grid.edges[i + 1] for i in wanted]
    return Report(
        settings,
        plan,
        [grid.months[i] for i in wanted],
        starts,
        ends,
        _columns(plan, grid, wanted, settings, contracts),
        warnings,
        requests,
        dict(contracts.composites) if contracts is not None else {},
    )


def touched_months(table: IncidentTable, settings: Settings) -> list[Month]:
    """Every month (in the billing zone) that some incident overlaps by more than zero: the
    months :func:`cell_totals` gives cells in. Each incident touches the months from the one holding
    its start to the one holding its last microsecond, so the months of a log are the union of
    the months of its pieces."""
    ends = effective_ends(table, settings.as_of)
    live = ends > table.start
    return _months_of(table.start[live], ends[live], settings)


def request_months(requests: Any, settings: Settings) -> list[Month]:
    """Every month some request window of ``requests`` (a
    :class:`~slacalc.reading.requests.RequestTable`) overlaps: the months its counts give
    cells in."""
    if requests is None or not len(requests):
        return []
    return _months_of(np.asarray(requests.start), np.asarray(requests.end), settings)


def _months_of(start: Any, end: Any, settings: Settings) -> list[Month]:
    """The months that some interval [start, end) (end > start) overlaps."""
    if not len(start):
        return []
    first = Month.of(int(start.min()), settings.tz)
    last = Month.of(int(end.max()) - 1, settings.tz)
    check_span(first, last, SPANNED)
    grid = MonthGrid(first, last, settings.tz)
    edges = np.asarray(grid.edges, dtype=np.int64)
    n = len(grid.months)
    lo, hi = touched(edges, start, end)
    depth = np.cumsum(np.bincount(lo, minlength=n + 1) - np.bincount(hi + 1, minlength=n + 1))
    return [m for m, on in zip(grid.months, (depth[:n] > 0).tolist(), strict=True) if on]


@dataclass
class LogFacts:
    """What the warnings of a whole log are made of, gathered however the log is computed (in
    memory, a piece at a time in buckets, from Spark's summaries), and said once, always in the
    same words and order, by :meth:`warnings`."""

    late: int = 0  # closed incidents that end after --as-of
    shown: list[str] = field(default_factory=list)  # where the first ten of them are
    nobody: list[tuple[str, str]] = field(default_factory=list)  # '*' rows reaching no contract

    def add_late(self, table: IncidentTable, as_of: int) -> None:
        """The late ends of ``table`` (a log, or one piece of it)."""
        rows = late_ends(table, as_of)
        self.add_late_count(len(rows), [table.where(r) for r in rows[:SHOWN_LATE].tolist()])

    def add_late_count(self, count: int, shown: Sequence[str]) -> None:
        self.late += count
        self.shown.extend(shown[: SHOWN_LATE - len(self.shown)])

    def warnings(self, as_of: int, *, months: bool) -> list[str]:
        """Late ends first; then, with no month to report, that; else the customer-wide
        services that reach nobody."""
        out = [late_ends_warning(self.late, self.shown, as_of)] if self.late else []
        if not months:
            return [*out, NO_MONTH]
        return [*out, *(reaches_nobody(where, service) for where, service in self.nobody)]


SHOWN_LATE = 10  # late ends named in their warning


def late_ends(table: IncidentTable, as_of: int) -> Any:
    """The rows of closed incidents that end after ``as_of``."""
    return np.flatnonzero((table.end != NO_END) & (table.end > as_of))


def late_ends_warning(count: int, shown: Sequence[str], as_of: int) -> str:
    """The warning for ``count`` incidents that end after ``--as-of``, naming ``shown`` (at most
    ten of them)."""
    at = format_instant(as_of, ZoneInfo("UTC"))
    more = f" and {count - len(shown)} more" if count > len(shown) else ""
    return (
        f"{count} incident(s) end after --as-of {at} and count only up to it: "
        f"{', '.join(shown)}{more}"
    )


def _grid(
    table: IncidentTable, settings: Settings, months: Sequence[Month] | None, requests: Any = None
) -> tuple[MonthGrid | None, list[int]]:
    """The months a report spans: those given, or from the first incident's (or request
    window's) month to the last one's."""
    tz = settings.tz
    if months:
        chosen = sorted(set(months))
        first, last = chosen[0], chosen[-1]
    else:
        ends = effective_ends(table, settings.as_of)
        live = ends > table.start
        spans = [(int(table.start[live].min()), int(ends[live].max()))] if live.any() else []
        if requests is not None:
            spans.append((int(requests.start.min()), int(requests.end.max())))
        if not spans:
            return None, []
        first = Month.of(min(lo for lo, _ in spans), tz)
        last = Month.of(max(hi for _, hi in spans) - 1, tz)
    check_span(first, last, "--month" if months else SPANNED)
    grid = MonthGrid(first, last, tz)
    wanted = [grid.months.index(m) for m in sorted(set(months))] if months else []
    return grid, wanted


def _empty_plan(table: IncidentTable) -> KeyPlan:
    z = np.zeros(0, dtype=np.int64)
    s = pa.array([], pa.string())
    return KeyPlan(s, s, [], z, z, z, z, [], table)


def _columns(
    plan: KeyPlan,
    grid: MonthGrid | None,
    wanted: list[int],
    settings: Settings,
    book: ContractBook | None = None,
) -> dict[str, Any]:
    """Every row's exact values, as arrays (rows key-major, months minor)."""
    n_k, n_m = len(plan), len(wanted)
    n = n_k * n_m
    down: Any = np.zeros(n, dtype=np.int64)
    den: Any = 1
    excluded = np.zeros(n, dtype=np.int64)
    count = np.zeros(n, dtype=np.int64)
    period = np.zeros(n, dtype=np.int64)
    if n:
        assert grid is not None
        month_pos = np.array(wanted, dtype=np.int64)
        n_grid = len(grid.months)
        starts = np.array(grid.edges[:-1], dtype=np.int64)[month_pos]
        ends = np.array(grid.edges[1:], dtype=np.int64)[month_pos]
        dens = []
        for gi, g in enumerate(plan.groups):
            keys_in = np.flatnonzero(plan.group == gi)
            if not len(keys_in):
                continue
            rows = (keys_in[:, None] * n_m + np.arange(n_m)).reshape(-1)
            period[rows] = np.tile(g.measure.length(starts, ends), len(keys_in))
            u = g.totals
            if u is None or not len(u.cells):
                continue
            local = np.repeat(plan.local[keys_in], n_m)
            cell_ids = local * n_grid + np.tile(month_pos, len(keys_in))
            find = _cell_finder(u.cells, cell_ids, local >= 0)
            if u.down_num.dtype == object and down.dtype != object:
                down = down.astype(object)
            fill = partial(_copy_totals, u, find, rows, (down, excluded, count))
            m = len(rows)
            if down.dtype != object and speed.halves(m):  # two halves of the rows side by side
                dens.extend(speed.both(partial(fill, 0, m // 2), partial(fill, m // 2, m)))
            else:
                dens.append(fill(0, m))
        den = _denominators(dens, n)
    cols: dict[str, Any] = {
        "down": down,
        "den": den,
        "excluded": excluded,
        "count": count,
        "period": period,
    }
    terms = Terms.of(plan.contracts, plan.contract)
    if n and book is not None and book.composites:
        weighted_composites(cols, plan, terms, n_m, book.composites)
    cols["terms"] = terms
    price(cols, terms, n_m, [grid.edges[i + 1] for i in wanted] if grid else [], settings)
    return cols


def weighted_composites(
    cols: dict[str, Any], plan: KeyPlan, terms: Terms, n_m: int, composites: dict
) -> None:
    """The rows of every weighted composite, from its parts' rows of the same month:
    availability = sum(w x A_part) / sum(w), each part's availability as its own row has it
    (downtime over its base: the period, less excluded time under a policy that says so; a
    part with no row, or no base, is 100 %). The composite's downtime is the equivalent
    period x (1 - availability), exact; its excluded time 0, its incident count its parts'."""
    from fractions import Fraction

    from slacalc.terms.composite import WEIGHTED
    from slacalc.terms.policy import BASE_MINUS_EXCLUDED

    weighted = {k: c for k, c in composites.items() if c.kind == WEIGHTED}
    if not weighted:
        return
    index = {k: i for i, k in enumerate(plan.keys)}
    policies = [terms.policies[int(p)] for p in terms.policy[terms.of_key]]
    down, den, excluded, count, period = (
        cols["down"],
        cols["den"],
        cols["excluded"],
        cols["count"],
        cols["period"],
    )
    made: dict[int, Fraction] = {}
    for (customer, service), composite in weighted.items():
        k = index.get((customer, service))
        if k is None:
            continue
        total = sum(composite.weights)
        for j in range(n_m):
            unavailable = Fraction(0)
            parts = 0
            for part, weight in zip(composite.parts, composite.weights, strict=True):
                pk = index.get((customer, part))
                if pk is None:
                    continue
                r = pk * n_m + j
                base = int(period[r])
                if policies[pk].availability_base == BASE_MINUS_EXCLUDED:
                    base -= int(excluded[r])
                d = int(den) if np.ndim(den) == 0 else int(den[r])
                if base > 0:
                    unavailable += weight * Fraction(int(down[r]), d * base)
                parts += int(count[r])
            r = k * n_m + j
            made[r] = unavailable / total * int(period[r])
            excluded[r] = 0
            count[r] = parts
    if not made:
        return
    per_row = np.ones(len(down), dtype=object)
    per_row[:] = int(den) if np.ndim(den) == 0 else den
    wide = down.astype(object)
    for r, value in made.items():
        wide[r], per_row[r] = value.numerator, value.denominator
    cols["down"], cols["den"] = wide, per_row  # a denominator per row, as groups may have


def _copy_totals(
    totals: Any, find: Callable[[int, int], Any], rows: Any, into: tuple, lo: int, hi: int
) -> tuple:
    """Copy the cell totals of report rows ``rows[lo:hi]`` into the columns ``into`` (downtime,
    excluded time, count); what :func:`_denominators` needs of them."""
    down, excluded, count = into
    pos = find(lo, hi)
    found = pos >= 0
    hit_rows, hit = rows[lo:hi][found], pos[found]
    down[hit_rows] = totals.down_num[hit]
    excluded[hit_rows] = totals.excluded[hit]
    count[hit_rows] = totals.count[hit]
    return rows[lo:hi], hit_rows, hit, totals.down_den


def _cell_finder(cells: Any, wanted: Any, valid: Any) -> Callable[[int, int], Any]:
    """A function of ``(lo, hi)``: where each of ``wanted[lo:hi]`` is in the sorted ``cells``
    (-1: absent, or not ``valid``), so that ranges of them may be looked up side by side.

    Cell numbers are ``key * months + month``, dense enough that a table indexed by cell number
    (built once) answers each in one step; a sparse grid (few keys over many months) takes a
    binary search.
    """
    ids = np.where(valid, wanted, 0)
    size = max(int(cells[-1]), int(ids.max()) if len(ids) else 0) + 1
    if size <= max(4 * len(wanted), 1 << 20):
        where = np.full(size, -1, dtype=np.int64)
        where[cells] = np.arange(len(cells))

        def find(lo: int, hi: int) -> Any:
            pos = where[ids[lo:hi]]  # (the table spans every id asked: no id past its end)
            pos[~valid[lo:hi]] = -1
            return pos

        return find

    def search(lo: int, hi: int) -> Any:
        part = ids[lo:hi]
        pos = np.minimum(np.searchsorted(cells, part), len(cells) - 1)
        pos[cells[pos] != part] = -1
        pos[~valid[lo:hi]] = -1
        return pos

    return search


def _denominators(parts: list[tuple], n: int) -> Any:
    """One denominator for every row when the groups agree, else one per row."""
    scalars = {int(d) for *_, d in parts if np.ndim(d) == 0}
    if all(np.ndim(d) == 0 for *_, d in parts) and len(scalars) <= 1:
        return scalars.pop() if scalars else 1
    den = np.ones(n, dtype=object)
    for rows, hit_rows, hit, d in parts:
        if np.ndim(d) == 0:
            den[rows] = int(d)
        else:
            den[rows] = 1
            den[hit_rows] = d[hit]
    return den


def _data_losses(plan: KeyPlan, starts: list[int], ends: list[int]) -> list[tuple[int, int, str]]:
    """(report key, start, reference) of every data loss that starts in a reported month."""
    table = plan.table
    rows = np.flatnonzero(table.category == DOWN_CODES[1])
    if not len(rows) or not starts:
        return []
    start = table.start[rows]
    inside = np.zeros(len(rows), dtype=bool)
    for s, e in zip(starts, ends, strict=True):
        inside |= (start >= s) & (start < e)
    rows = rows[inside]
    # The report keys that take each table key's incidents (several for a customer-wide key).
    taking = np.flatnonzero(plan.source >= 0)
    by_source = taking[np.argsort(plan.source[taking], kind="stable")]
    sources = plan.source[by_source]
    lo = np.searchsorted(sources, table.key[rows], side="left")
    hi = np.searchsorted(sources, table.key[rows], side="right")
    ids = table.incident_id.take(pa.array(rows)).to_pylist()
    out = []
    for r, ident, a, b in zip(rows.tolist(), ids, lo.tolist(), hi.tolist(), strict=True):
        ref = (ident or "").strip() or table.where(r)
        for ki in by_source[a:b].tolist():
            out.append((ki, int(table.start[r]), ref))
    return out
