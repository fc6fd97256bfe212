"""The monthly report: per customer, service and month, availability, tier, breach, compensation,
claim window and the dispute deadlines it opens.

:func:`compute_report` is what ``slacalc report`` prints, deadlines included: it picks the months,
prices every key by its contract (or the ``--monthly-fee`` fallback), runs the engine once per
group of keys that share service hours and outage rules, and applies the rules of
:mod:`slacalc.terms.rules` to whole columns. The result keeps its values as arrays; rows, records
and text are built from them on demand, all through the same rule functions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa

from slacalc.computing.engine import Measure, OutageRules, Usage, effective_ends, usage
from slacalc.dates.instants import US_PER_SECOND, format_instant, from_us, to_us
from slacalc.dates.months import Month, MonthGrid
from slacalc.dates.workdays import WorkCalendar
from slacalc.errors import InputError, Problem, UsageError
from slacalc.reading.cells import DOWN_CODES, EVERY_CUSTOMER
from slacalc.reading.contracts import WILDCARD, Contract, ContractBook
from slacalc.reading.table import NO_END, IncidentTable, Key
from slacalc.terms import rules
from slacalc.terms.policy import BASE_MINUS_EXCLUDED, COEFFICIENT, Policy, Tier

# The report's fields, in order: the founding contract's 18, then the policy columns.
FIELDS = (
    "customer_id",
    "service",
    "month",
    "period_seconds",
    "downtime_seconds",
    "excluded_seconds",
    "availability_pct",
    "tier_band",
    "sla_target_pct",
    "breached",
    "coefficient",
    "monthly_fee",
    "compensation",
    "currency",
    "capped",
    "incident_count",
    "compensation_due_at",
    "status",
    "credit_pct",
    "credit_form",
    "claim_opens_at",
    "claim_closes_at",
    "policy",
    "claim_status",
)
# How each field is written: text from the input (guarded in CSV), slacalc's own words,
# numbers (bare in JSON) and booleans.
TEXT, WORD, NUMBER, BOOL = "text", "word", "number", "bool"
KINDS = {
    "customer_id": TEXT,
    "service": TEXT,
    "policy": TEXT,
    "period_seconds": NUMBER,
    "downtime_seconds": NUMBER,
    "excluded_seconds": NUMBER,
    "incident_count": NUMBER,
    "breached": BOOL,
    "capped": BOOL,
}

# A report spans at most this many months: an ongoing incident with --as-of centuries ahead is a
# mistake to point out, not a million rows to compute.
MAX_MONTHS = 1200


@dataclass(frozen=True)
class Settings:
    """Report-wide settings: policy, zone, the moment of truth, calendar, contract fallbacks."""

    policy: Policy
    tz: ZoneInfo
    as_of: int  # epoch microseconds: ongoing incidents end here; later months are provisional
    currency: str = "CNY"
    monthly_fee: Decimal | None = None  # --monthly-fee: for keys without a contract
    sla_target: Tier | None = None  # --sla-target: with --monthly-fee
    calendar: WorkCalendar | None = None  # working days: deadlines, claim windows, service hours

    @cached_property
    def fallback(self) -> Contract | None:
        """The terms of ``--monthly-fee`` and ``--sla-target``, for keys without a contract."""
        if self.monthly_fee is None:
            return None
        tier = self.sla_target or self.policy.default_tier
        return Contract("", "", self.monthly_fee, self.currency, tier, self.policy)

    @cached_property
    def work_calendar(self) -> WorkCalendar:
        return self.calendar if self.calendar is not None else WorkCalendar.create("CN")


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
    keys: list[Key]
    contracts: list[Contract]
    months: list[Month]
    starts: list[int]  # per month: period start and end, epoch microseconds
    ends: list[int]
    cols: dict[str, Any]  # per row (key-major, month-minor): exact values as arrays
    warnings: list[str] = field(default_factory=list)
    losses: list[tuple[int, int, str]] = field(default_factory=list)  # (key, start, reference)

    def __len__(self) -> int:
        return len(self.keys) * len(self.months)

    # --- values -------------------------------------------------------------------------------
    def any_breached(self) -> bool:
        return bool(self.cols["breached"].any()) if len(self) else False

    @cached_property
    def text(self) -> dict[str, Any]:
        """Every field as a pyarrow array: text, or numbers/booleans as :data:`KINDS` says."""
        return _texts(self)

    def records(self) -> list[dict[str, Any]]:
        """One dict per row: the fields in order, seconds and counts as numbers."""
        columns = [_python_values(name, self.text[name]) for name in FIELDS]
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
        places = rules.minor_unit(contract.currency)
        credit = c["credit"][i]
        values = {name: _python_values(name, self.text[name].slice(i, 1))[0] for name in FIELDS}
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
            compensation=rules.from_minor(int(c["units"][i]), places),
            currency=contract.currency,
            capped=bool(c["capped"][i]),
            incident_count=int(c["count"][i]),
            compensation_due=rules.level1_due(self.ends[j]) if breached else None,
            status=values["status"],
            policy=contract.policy,
            credit_pct=None if credit is None else Decimal(credit),
            claim_opens=None if opens < 0 else int(opens),
            claim_closes=None if closes < 0 else int(closes),
            claim_status=values["claim_status"],
            tz=self.settings.tz,
            fields=values,
        )

    def totals(self) -> dict[str, Decimal]:
        """Compensation per currency, in the order currencies first appear."""
        out: dict[str, Decimal] = {}
        n_m = len(self.months)
        units = self.cols["units"]
        for k, contract in enumerate(self.contracts):
            cur = contract.currency
            total = sum(int(u) for u in units[k * n_m : (k + 1) * n_m].tolist())
            out[cur] = out.get(cur, Decimal(0)) + rules.from_minor(total, rules.minor_unit(cur))
        return out

    def breached_counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        n_m = len(self.months)
        breached = self.cols["breached"]
        for k, contract in enumerate(self.contracts):
            n = int(breached[k * n_m : (k + 1) * n_m].sum())
            out[contract.currency] = out.get(contract.currency, 0) + n
        return out

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
                    rules.level1_due(end),
                    tz,
                )
            )
        calendar = self.settings.work_calendar
        for k, start, reference in self.losses:
            opened = from_us(start, tz)
            due = due_at(DisputeLevel.DATA_LOSS, opened, calendar, tz)
            days = tuple(calendar.working_days_after(opened.date(), 5))
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
            c.policy.claim_window is not None and c.policy.claim_window.opens_after_working_days
            for c in self.contracts
        )


# --- computing a report ---------------------------------------------------------------------


def compute_report(
    table: IncidentTable,
    settings: Settings,
    *,
    contracts: ContractBook | None = None,
    months: Sequence[Month] | None = None,
    include: Sequence[Month] = (),
) -> Report:
    """Compute the report for ``months`` (default: every month an incident touches, and the
    months of ``include``)."""
    as_of = settings.as_of
    warnings = _late_ends(table, as_of)
    if include and not months:
        months = sorted({*include, *touched_months(table, settings)})
    grid, wanted = _grid(table, settings, months)
    if grid is None:
        warnings.append(
            "no incident lasts more than zero in any month, and no --month was "
            "given: there is no month to report"
        )
        return Report(settings, [], [], [], [], [], _empty_cols(), warnings)
    table, alias = _customer_wide(table, contracts)
    contract_of = _contracts_of_table(table, settings, contracts)
    groups = _engine_groups(table, contract_of, grid, settings)
    if months is None:
        wanted = sorted({int(c) % len(grid.months) for g in groups for c in g.usage.cells})
    chosen = _row_keys(table, alias, contract_of, groups, wanted, settings, contracts)
    report_months = [grid.months[i] for i in wanted]
    starts = [grid.edges[i] for i in wanted]
    ends = [grid.edges[i + 1] for i in wanted]
    cols = _columns(table, chosen, groups, grid, wanted, settings)
    keys = [key for key, _, _ in chosen]
    report = Report(
        settings, keys, [c for _, c, _ in chosen], report_months, starts, ends, cols, warnings
    )
    report.losses = _data_losses(table, chosen, starts, ends)
    return report


def touched_months(table: IncidentTable, settings: Settings) -> list[Month]:
    """Every month (in the billing zone) that some incident overlaps by more than zero."""
    grid, _ = _grid(table, settings, None)
    if grid is None:
        return []
    result = usage(table, grid.edges, settings.as_of)
    n = len(grid.months)
    return [grid.months[i] for i in np.unique(result.cells % n).tolist()]


def _late_ends(table: IncidentTable, as_of: int) -> list[str]:
    """Closed incidents that end after ``--as-of``: counted only up to it, with a warning."""
    late = np.flatnonzero((table.end != NO_END) & (table.end > as_of))
    if not len(late):
        return []
    at = format_instant(as_of, ZoneInfo("UTC"))
    shown = [f"{table.files[int(table.file[r])]}:{int(table.line[r])}" for r in late[:10].tolist()]
    more = f" and {len(late) - 10} more" if len(late) > 10 else ""
    return [
        f"{len(late)} incident(s) end after --as-of {at} and count only up to it: "
        f"{', '.join(shown)}{more}"
    ]


def _grid(
    table: IncidentTable, settings: Settings, months: Sequence[Month] | None
) -> tuple[MonthGrid | None, list[int]]:
    tz = settings.tz
    if months:
        chosen = sorted(set(months))
        first, last = chosen[0], chosen[-1]
    else:
        ends = effective_ends(table, settings.as_of)
        live = ends > table.start
        if not live.any():
            return None, []
        first = Month.of(int(table.start[live].min()), tz)
        last = Month.of(int(ends[live].max()) - 1, tz)
    span = (last.year - first.year) * 12 + last.month - first.month + 1
    if span > MAX_MONTHS:
        what = "--month" if months else "the incidents (and --as-of for ongoing ones)"
        raise UsageError(
            f"{what} span {span} months ({first}..{last}), more than {MAX_MONTHS}: "
            "check --as-of and the timestamps, or choose months with --month"
        )
    grid = MonthGrid(first, last, tz)
    wanted = [grid.months.index(m) for m in sorted(set(months))] if months else []
    return grid, wanted


def _customer_wide(
    table: IncidentTable, book: ContractBook | None
) -> tuple[IncidentTable, dict[Key, int]]:
    """Rows of customer ``*`` reach every contract of their service.

    A key that has rows of its own gets a copy of its service's ``*`` rows (they must merge with
    its own: never counted twice); a key that has none uses the ``*`` key's results as they are,
    so one regional outage is computed once, not once per customer. Returns the table and, per
    such key, the index of the ``*`` key it uses.
    """
    star = [i for i, (c, _) in enumerate(table.keys) if c == EVERY_CUSTOMER]
    if not star:
        return table, {}
    if book is None:
        first = table.first_row(star[0])
        raise InputError(
            Problem(
                table.files[int(table.file[first])],
                int(table.line[first]),
                "customer '*' (every customer of the service) needs --contracts to know who they "
                "are",
                "customer_id",
                "*",
            )
        )
    own = {key: i for i, key in enumerate(table.keys)}
    alias: dict[Key, int] = {}
    copies = []
    for s in star:
        service = table.keys[s][1]
        star_rows = np.flatnonzero(table.key == s)
        for customer in book.customers_of(service):
            key = (customer, service)
            if key in own:
                copies.append((own[key], star_rows))
            else:
                alias[key] = s
    if not copies:
        return table, alias
    from slacalc.reading.table import concat_tables

    parts = [table]
    for k, rows in copies:
        part = table.take(rows)
        part.keys = [table.keys[k]]
        part.key = np.zeros(len(rows), dtype=np.int64)
        parts.append(part)
    return concat_tables(parts), alias


def _contracts_of_table(
    table: IncidentTable, settings: Settings, book: ContractBook | None
) -> list[Contract | None]:
    """The contract that prices each key of the table (None: no contract and no fallback)."""
    out: list[Contract | None] = []
    for customer, service in table.keys:
        contract = book.find(customer, service) if book is not None else None
        out.append(contract if contract is not None else settings.fallback)
    return out


@dataclass
class _Group:
    """Keys that share service hours and outage rules, and their usage (one engine run)."""

    policy: Policy  # a policy of the group (their hours and rules are the same)
    keys: Any  # table key indices
    local: dict[int, int]  # table key index -> key index in the group's usage
    usage: Usage
    measure: Measure


def _engine_groups(
    table: IncidentTable, contract_of: list[Contract | None], grid: MonthGrid, settings: Settings
) -> list[_Group]:
    signature: dict[Any, list[int]] = {}
    policies: dict[Any, Policy] = {}
    for k, contract in enumerate(contract_of):
        policy = contract.policy if contract is not None else settings.policy
        sig = (policy.service_hours, policy.min_outage_seconds, policy.round_up_seconds)
        signature.setdefault(sig, []).append(k)
        policies.setdefault(sig, policy)
    if not signature:
        sig = (settings.policy.service_hours, 0, 0)
        signature[sig] = []
        policies[sig] = settings.policy
    groups = []
    for sig, keys in signature.items():
        policy = policies[sig]
        measure = _measure(policy, grid, settings)
        rules_ = OutageRules(
            policy.min_outage_seconds * US_PER_SECOND, policy.round_up_seconds * US_PER_SECOND
        )
        sub = table if len(signature) == 1 else table.take(np.flatnonzero(np.isin(table.key, keys)))
        local = (
            {k: i for i, k in enumerate(keys)}
            if len(signature) > 1
            else {k: k for k in range(len(table.keys))}
        )
        if len(signature) > 1:
            local = {table.keys.index(key): i for i, key in enumerate(sub.keys)}
        result = usage(sub, grid.edges, settings.as_of, measure=measure, rules=rules_ or None)
        groups.append(_Group(policy, np.array(keys, dtype=np.int64), local, result, measure))
    return groups


def _measure(policy: Policy, grid: MonthGrid, settings: Settings) -> Measure:
    hours = policy.service_hours
    if hours is None:
        return Measure()
    first = grid.months[0].first_day()
    last = grid.months[-1].next().first_day() - timedelta(days=1)
    return Measure(rules.service_windows(hours, first, last, settings.tz, settings.work_calendar))


def _row_keys(
    table: IncidentTable,
    alias: dict[Key, int],
    contract_of: list[Contract | None],
    groups: list[_Group],
    wanted: list[int],
    settings: Settings,
    book: ContractBook | None,
) -> list[tuple[Key, Contract, int]]:
    """Every key that gets rows, its contract, and the table key whose usage it takes (-1:
    none). Keys with incidents in the reported months need a price; a missing one is an error."""
    n_grid = None
    used = np.zeros(len(table.keys), dtype=bool)
    for g in groups:
        n_grid = g.usage.n_months
        cells = g.usage.cells
        months_of = cells % n_grid
        hit = np.isin(months_of, wanted)
        local_keys = np.unique(cells[hit] // n_grid)
        back = {v: k for k, v in g.local.items()}
        for lk in local_keys.tolist():
            used[back[lk]] = True
    chosen: dict[Key, tuple[Contract, int]] = {}
    problems = []
    covered: set[int] = set()
    for k in np.flatnonzero(used).tolist():
        key = table.keys[k]
        if key[0] == EVERY_CUSTOMER:
            continue
        contract = contract_of[k]
        if contract is None:
            first = table.first_row(k)
            hint = (
                "add it to --contracts or give --monthly-fee"
                if book is not None
                else "give --contracts FILE or --monthly-fee AMOUNT"
            )
            problems.append(
                Problem(
                    table.files[int(table.file[first])],
                    int(table.line[first]),
                    f"no contract for customer '{key[0]}' service '{key[1]}': {hint}",
                    "customer_id",
                    key[0],
                )
            )
            continue
        if contract.is_wildcard:
            covered.add(id(contract))
        chosen[key] = (contract, k)
    if problems:
        raise InputError(problems)
    for key, s in alias.items():
        if used[s] and key not in chosen:
            contract = book.find(*key) if book is not None else None
            if contract is not None:
                if contract.is_wildcard:
                    covered.add(id(contract))
                chosen[key] = (contract, s)
    if book is not None:
        for c in book.contracts:
            if not c.is_wildcard:
                chosen.setdefault((c.customer_id, c.service), (c, -1))
            elif id(c) not in covered:
                chosen.setdefault((c.customer_id, WILDCARD), (c, -1))
    return [(key, c, k) for key, (c, k) in sorted(chosen.items(), key=lambda kv: kv[0])]


def _empty_cols() -> dict[str, Any]:
    z = np.zeros(0, dtype=np.int64)
    return {
        "down": z,
        "den": 1,
        "excluded": z,
        "count": z,
        "period": z,
        "base": z,
        "band": z,
        "breached": z.astype(bool),
        "units": z,
        "capped": z.astype(bool),
        "credit": np.zeros(0, dtype=object),
        "claim_opens": z,
        "claim_closes": z,
        "claim": np.zeros(0, dtype=object),
        "final": z.astype(bool),
        "terms": _Terms.of([]),
    }


def _columns(
    table: IncidentTable,
    chosen: list[tuple[Key, Contract, int]],
    groups: list[_Group],
    grid: MonthGrid,
    wanted: list[int],
    settings: Settings,
) -> dict[str, Any]:
    """Every row's exact values, as arrays (rows key-major, months minor)."""
    n_keys, n_m = len(chosen), len(wanted)
    n = n_keys * n_m
    if n == 0:
        return _empty_cols()
    month_pos = np.array(wanted, dtype=np.int64)
    n_grid = len(grid.months)
    group_of = {}
    for gi, g in enumerate(groups):
        for k in g.local:
            group_of[k] = gi
    # Gather each row's usage from its group's cells.
    down: Any = np.zeros(n, dtype=np.int64)
    den: Any = np.ones(n, dtype=np.int64)
    excluded = np.zeros(n, dtype=np.int64)
    count = np.zeros(n, dtype=np.int64)
    period = np.zeros(n, dtype=np.int64)
    row_group = np.zeros(n_keys, dtype=np.int64)
    for ki, (_, contract, k) in enumerate(chosen):
        if k >= 0:
            row_group[ki] = group_of[k]
        else:
            row_group[ki] = next(
                (
                    gi
                    for gi, g in enumerate(groups)
                    if g.policy.service_hours == contract.policy.service_hours
                ),
                -1,
            )
    for gi, g in enumerate(groups):
        keys_in = np.flatnonzero(row_group == gi)
        starts = np.array(grid.edges[:-1], dtype=np.int64)[month_pos]
        ends = np.array(grid.edges[1:], dtype=np.int64)[month_pos]
        month_len = g.measure.length(starts, ends)
        if not len(keys_in):
            continue
        rows = (keys_in[:, None] * n_m + np.arange(n_m)).reshape(-1)
        period[rows] = np.tile(month_len, len(keys_in))
        local = np.array(
            [g.local.get(chosen[ki][2], -1) for ki in keys_in.tolist()], dtype=np.int64
        )
        cell_ids = np.repeat(local, n_m) * n_grid + np.tile(month_pos, len(keys_in))
        u = g.usage
        pos = np.searchsorted(u.cells, cell_ids)
        pos_c = np.minimum(pos, max(len(u.cells) - 1, 0))
        found = (np.repeat(local, n_m) >= 0) & (len(u.cells) > 0)
        if len(u.cells):
            found &= u.cells[pos_c] == cell_ids
        hit_rows, hit = rows[found], pos_c[found]
        if u.down_num.dtype == object and down.dtype != object:
            down = down.astype(object)
        down[hit_rows] = u.down_num[hit]
        if np.ndim(u.down_den) == 0:
            den[rows] = u.down_den
        else:
            den = den.astype(object)
            den[rows] = 1
            den[hit_rows] = u.down_den[hit]
        excluded[hit_rows] = u.excluded[hit]
        count[hit_rows] = u.count[hit]
    cols: dict[str, Any] = {"down": down, "excluded": excluded, "count": count, "period": period}
    distinct = np.unique(den) if den.dtype != object else None
    cols["den"] = int(distinct[0]) if distinct is not None and len(distinct) == 1 else den
    _price(cols, chosen, n_m, [grid.edges[i + 1] for i in wanted], settings)
    return cols


@dataclass
class _Terms:
    """The distinct contract terms of a report's keys, as arrays (a key's terms: ``of_key``)."""

    contracts: list[Contract]  # one per distinct terms
    of_key: Any  # per key: index into contracts
    fee_num: Any  # object arrays of Python integers, per terms
    fee_den: Any
    places: Any  # int64 per terms
    policies: list[Policy]
    policy: Any  # per terms: index into policies
    tier: Any  # per terms: index of the committed tier in its policy's tiers

    @classmethod
    def of(cls, chosen: list[tuple[Key, Contract, int]]) -> _Terms:
        index: dict[int, int] = {}
        contracts: list[Contract] = []
        of_key = np.empty(len(chosen), dtype=np.int64)
        for ki, (_, contract, _) in enumerate(chosen):
            i = index.get(id(contract))
            if i is None:
                i = index[id(contract)] = len(contracts)
                contracts.append(contract)
            of_key[ki] = i
        policies: list[Policy] = []
        pindex: dict[int, int] = {}
        for c in contracts:
            pindex.setdefault(id(c.policy), len(policies))
            if len(policies) < len(pindex):
                policies.append(c.policy)
        fees = [rules.ratio(c.monthly_fee) for c in contracts]
        return cls(
            contracts,
            of_key,
            np.array([f[0] for f in fees], dtype=object),
            np.array([f[1] for f in fees], dtype=object),
            np.array([rules.minor_unit(c.currency) for c in contracts], dtype=np.int64),
            policies,
            np.array([pindex[id(c.policy)] for c in contracts], dtype=np.int64),
            np.array([c.policy.tiers.index(c.tier) for c in contracts], dtype=np.int64),
        )


def _price(
    cols: dict[str, Any],
    chosen: list[tuple[Key, Contract, int]],
    n_m: int,
    ends: list[int],
    settings: Settings,
) -> None:
    """Bands, breaches, prices, caps, minimum credits and claim windows of every row."""
    terms = _Terms.of(chosen)
    n = len(chosen) * n_m
    down, den, period, excluded = cols["down"], cols["den"], cols["period"], cols["excluded"]
    row_terms = np.repeat(terms.of_key, n_m)
    row_policy = terms.policy[row_terms]
    row_tier = terms.tier[row_terms]
    band = np.zeros(n, dtype=np.int64)
    met = np.zeros(n, dtype=bool)
    base = period.copy()
    for pi, policy in enumerate(terms.policies):
        rows = np.flatnonzero(row_policy == pi) if len(terms.policies) > 1 else np.arange(n)
        if policy.availability_base == BASE_MINUS_EXCLUDED:
            base[rows] = period[rows] - excluded[rows]
        d, b = down[rows], base[rows]
        dd = den if np.ndim(den) == 0 else den[rows]
        band[rows] = rules.band_positions(d, dd, b, policy.targets)
        for t, tier in enumerate(policy.tiers):
            sel = row_tier[rows] == t
            if sel.any():
                met[rows[sel]] = np.asarray(
                    rules.meets(d[sel], dd if np.ndim(dd) == 0 else dd[sel], b[sel], tier.ratio),
                    dtype=bool,
                )
    breached = ~met & (base > 0)
    units = np.zeros(n, dtype=object)
    capped = np.zeros(n, dtype=bool)
    credit = np.full(n, None, dtype=object)
    hit = np.flatnonzero(breached)
    for pi, policy in enumerate(terms.policies):
        sel = hit[row_policy[hit] == pi] if len(terms.policies) > 1 else hit
        if len(sel):
            _price_rows(policy, terms, sel, row_terms[sel], down, den, base, units, capped, credit)
    cols.update(band=band, breached=breached, units=units, capped=capped, credit=credit, base=base)
    _claims(cols, terms, n_m, ends, settings)


def _price_rows(
    policy: Policy,
    terms: _Terms,
    rows: Any,
    row_terms: Any,
    down: Any,
    den: Any,
    base: Any,
    units: Any,
    capped: Any,
    credit: Any,
) -> None:
    """Price breached rows of one policy: coefficient formula or band credit, cap, minimum."""
    fee = (terms.fee_num[row_terms], terms.fee_den[row_terms])
    places = terms.places[row_terms]
    d = np.asarray(down[rows]).astype(object)
    dd = den if np.ndim(den) == 0 else np.asarray(den[rows]).astype(object)
    b = np.asarray(base[rows]).astype(object)
    if policy.mode == COEFFICIENT:
        coef = [rules.ratio(c.tier.coefficient or 0) for c in terms.contracts]
        cn = np.array([x[0] for x in coef], dtype=object)[row_terms]
        cd = np.array([x[1] for x in coef], dtype=object)[row_terms]
        num, price_den = rules.coefficient_price(d, dd, b, fee, (cn, cd))
    else:
        pct = _band_credit(policy, terms.tier[row_terms], d, dd, b)
        credit[rows] = pct
        ratios = [rules.ratio(p if p is not None else 0) for p in pct.tolist()]
        pn = np.array([r[0] for r in ratios], dtype=object)
        pd = np.array([r[1] for r in ratios], dtype=object)
        num, price_den = rules.credit_price(fee, (pn, pd))
    u, cap = rules.capped_units(num, price_den, fee, rules.ratio(policy.cap_pct), places)
    if policy.min_credit:
        floor = np.array([rules.minor_units(policy.min_credit, p) for p in range(5)], dtype=object)[
            places
        ]
        below = u < floor
        u = np.where(below, 0, u)
        cap = np.where(below, False, cap)
    units[rows] = u
    capped[rows] = np.asarray(cap, dtype=bool)


def _band_credit(policy: Policy, tier_of: Any, d: Any, dd: Any, b: Any) -> Any:
    """The credit % of the lowest band each row's availability falls under (None: none)."""
    out = np.full(len(d), None, dtype=object)
    for t, tier in enumerate(policy.tiers):
        sel = np.flatnonzero(tier_of == t)
        if not len(sel):
            continue
        for band in tier.bands:  # highest 'below' first: the lowest that applies wins
            under = ~np.asarray(
                rules.meets(d[sel], dd if np.ndim(dd) == 0 else dd[sel], b[sel], band.below_ratio),
                dtype=bool,
            )
            out[sel[under]] = band.credit_pct
    return out


def _claims(
    cols: dict[str, Any], terms: _Terms, n_m: int, ends: list[int], settings: Settings
) -> None:
    """Claim window and status of every breached row; provisional or final of every row."""
    n = len(terms.of_key) * n_m
    tz, as_of = settings.tz, settings.as_of
    opens = np.full(n, -1, dtype=np.int64)
    closes = np.full(n, -1, dtype=np.int64)
    claim = np.full(n, "", dtype=object)
    breached, units = cols["breached"], cols["units"]
    hit = np.flatnonzero(breached)
    row_policy = terms.policy[np.repeat(terms.of_key, n_m)][hit]
    month = hit % n_m
    for pi, policy in enumerate(terms.policies):
        for j, end in enumerate(ends):
            sel = hit[(row_policy == pi) & (month == j)]
            if not len(sel):
                continue
            o, c = rules.claim_bounds(
                policy.claim_window, from_us(end, tz).date(), tz, settings.work_calendar
            )
            opens[sel] = o
            closes[sel] = -1 if c is None else c
            claim[sel] = rules.claim_status(o, c, as_of)
            if policy.min_credit:
                zero = sel[np.asarray(units[sel] == 0, dtype=bool)]
                claim[zero] = rules.BELOW_MIN_CREDIT
    final = np.tile(
        np.asarray(rules.period_final(np.array(ends, dtype=np.int64), as_of)), len(terms.of_key)
    )
    cols.update(claim_opens=opens, claim_closes=closes, claim=claim, final=final, terms=terms)


def _data_losses(
    table: IncidentTable,
    chosen: list[tuple[Key, Contract, int]],
    starts: list[int],
    ends: list[int],
) -> list[tuple[int, int, str]]:
    """(report key, start, reference) of every data loss that starts in a reported month."""
    users: dict[int, list[int]] = {}
    for ki, (_, _, k) in enumerate(chosen):
        if k >= 0:
            users.setdefault(k, []).append(ki)
    rows = np.flatnonzero(table.category == DOWN_CODES[1])
    out = []
    for r in rows.tolist():
        start = int(table.start[r])
        if not any(s <= start < e for s, e in zip(starts, ends, strict=True)):
            continue
        for ki in users.get(int(table.key[r]), []):
            inc = table.incident(r)
            ref = inc.incident_id or f"{inc.source}:{inc.line}"
            out.append((ki, start, ref))
    return out


# --- text ------------------------------------------------------------------------------------


def _texts(report: Report) -> dict[str, Any]:
    """Every field of every row as a pyarrow array, through the rule functions."""
    c = report.cols
    n_k, n_m = len(report.keys), len(report.months)
    n = n_k * n_m
    tz = report.settings.tz
    by_key = pa.array(np.repeat(np.arange(n_k), n_m))
    by_month = pa.array(np.tile(np.arange(n_m), n_k))

    def per_key(values: list[str]) -> Any:
        return pa.array(values, pa.string()).take(by_key)

    def per_month(values: list[str]) -> Any:
        return pa.array(values, pa.string()).take(by_month)

    def per_terms(values: list[str]) -> Any:
        return pa.array(values, pa.string()).take(pa.array(terms.of_key)).take(by_key)

    up, total = rules.availability(c["down"], c["den"], c["base"])
    terms: _Terms = c["terms"]
    row_policy = terms.policy[np.repeat(terms.of_key, n_m)] if n else np.zeros(0, np.int64)
    band_text: Any = None
    for pi, policy in enumerate(terms.policies):
        labels = pa.array(rules.band_labels(policy.labels), pa.string()).take(pa.array(c["band"]))
        band_text = (
            labels
            if band_text is None
            else pa.compute.if_else(pa.array(row_policy == pi), labels, band_text)
        )
    if band_text is None:
        band_text = pa.array([], pa.string())
    places = np.repeat(terms.places[terms.of_key], n_m)
    breached = pa.array(c["breached"])
    due = per_month([format_instant(rules.level1_due(e), tz) for e in report.ends])
    empty = pa.array([""] * n, pa.string()) if n else pa.array([], pa.string())

    def instants(values: Any) -> Any:
        uniq, inverse = np.unique(values, return_inverse=True)
        texts = ["" if v < 0 else format_instant(int(v), tz) for v in uniq.tolist()]
        return pa.array(texts, pa.string()).take(pa.array(inverse.reshape(-1)))

    credit = c["credit"]
    return {
        "customer_id": per_key([k[0] for k in report.keys]),
        "service": per_key([k[1] for k in report.keys]),
        "month": per_month([m.text for m in report.months]),
        "period_seconds": rules.seconds_texts(c["period"]),
        "downtime_seconds": rules.seconds_texts(c["down"], c["den"]),
        "excluded_seconds": rules.seconds_texts(c["excluded"]),
        "availability_pct": rules.pct_texts(up, total),
        "tier_band": band_text,
        "sla_target_pct": per_terms([x.tier.label for x in terms.contracts]),
        "breached": breached,
        "coefficient": per_terms(
            [
                "" if x.tier.coefficient is None else rules.format_coefficient(x.tier.coefficient)
                for x in terms.contracts
            ]
        ),
        "monthly_fee": per_terms(
            [rules.format_money(x.monthly_fee, x.currency) for x in terms.contracts]
        ),
        "compensation": rules.money_texts(c["units"], places),
        "currency": per_terms([x.currency for x in terms.contracts]),
        "capped": pa.array(c["capped"]),
        "incident_count": pa.array(c["count"]),
        "compensation_due_at": pa.compute.if_else(breached, due, empty),
        "status": pa.array(
            np.where(c["final"], rules.FINAL, rules.PROVISIONAL).tolist(), pa.string()
        ),
        "credit_pct": pa.array(
            ["" if v is None else rules.format_pct(v) for v in credit.tolist()], pa.string()
        ),
        "credit_form": per_terms([x.policy.credit_form for x in terms.contracts]),
        "claim_opens_at": instants(c["claim_opens"]),
        "claim_closes_at": instants(c["claim_closes"]),
        "policy": per_terms([x.policy.name for x in terms.contracts]),
        "claim_status": pa.array(c["claim"], pa.string()),
    }


def _python_values(name: str, values: Any) -> list[Any]:
    """A field's values as a record holds them: numbers for seconds and counts, bools, text."""
    kind = KINDS.get(name, WORD)
    items = values.to_pylist()
    if kind == NUMBER:
        return [
            v if isinstance(v, int) else (int(v) if "." not in v else Decimal(v)) for v in items
        ]
    return items
