"""The audit trail of report rows: every incident as read, clipped, merged and excluded, the
month's stretches of constant loss, what applied to each, and the formula with its numbers.

The figures are the report's: an explanation is built from a :class:`Report` of the month
(:func:`month_report`, on the explained customers' own rows and contracts) and the engine's
segments of the explained keys, one engine pass for all of them (:func:`explain_rows`).

Nothing here writes a sentence. What explain says is values: a :class:`Note` (of an incident, a
merged interval or the month) and a :class:`Step` (of the formula) are a stable ``code`` and
typed parameters (exact ``int``/``Fraction``/``Decimal`` numbers, instants in epoch
microseconds, categories and statuses as words), as frictionless-py's errors are a ``type`` and
fields. Renderers say them: the explain table and JSON (:mod:`slacalc.writing.explain_view`),
the statement in English and Chinese (:mod:`slacalc.writing.statement`). Parameter names carry
their unit: ``*_us`` is microseconds, ``*_at`` an instant.

    >>> Clipped().to_dict()
    {'code': 'clipped'}
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from datetime import tzinfo
from decimal import Decimal
from fractions import Fraction
from typing import Any, ClassVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from slacalc import speed
from slacalc.computing.engine import Measure, Segments, cell_totals, effective_ends
from slacalc.computing.report import Report, ReportRow, compute_report
from slacalc.dates.instants import US_PER_SECOND, format_instant
from slacalc.dates.months import Month
from slacalc.errors import UsageError
from slacalc.model.cells import CATEGORIES, DOWN_CODES, EVERY_CUSTOMER
from slacalc.model.contracts import ContractBook
from slacalc.model.settings import Settings
from slacalc.model.table import NO_END, IncidentTable
from slacalc.terms import deadlines, money, numbers
from slacalc.terms.outages import OutageRules
from slacalc.terms.policy import BASE_MINUS_EXCLUDED, COEFFICIENT

__all__ = [
    "Explanation",
    "Note",
    "Run",
    "Step",
    "explain",
    "explain_rows",
    "formula",
    "month_report",
]


# --- what explain says, as values ------------------------------------------------------------


@dataclass(frozen=True)
class Said:
    """A fact as a value: a stable ``code`` and its parameters (the dataclass fields)."""

    code: ClassVar[str]
    key: ClassVar[str] = "code"  # the code's name in JSON

    def params(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def to_dict(self, tz: tzinfo | None = None) -> dict[str, Any]:
        """``{code: ..., params...}`` for JSON: microseconds (``*_us``) as ``*_seconds``,
        instants (``*_at``) as ISO 8601 in ``tz``, Decimals and exact fractions as strings
        (a fraction without a finite decimal form as ``n/d``)."""
        out: dict[str, Any] = {self.key: self.code}
        for name, value in self.params().items():
            out.update(_json_param(name, value, tz))
        return out


def _json_param(name: str, value: Any, tz: tzinfo | None) -> dict[str, Any]:
    if name.endswith("_us"):
        return {name[:-3] + "_seconds": None if value is None else numbers.seconds(value)}
    if name.endswith("_at"):
        if value is None or tz is None:
            return {name: value}
        return {name: format_instant(value, tz)}
    if isinstance(value, bool) or value is None or isinstance(value, int | str):
        return {name: value}
    if isinstance(value, Decimal):
        return {name: f"{value:f}"}
    if isinstance(value, Fraction):
        return {name: numbers.share(value)}
    if isinstance(value, tuple):
        return {name: list(value)}
    raise TypeError(f"{name}: {type(value).__name__} has no JSON form")


class Note(Said):
    """What applied to an incident, a merged interval or the month as a whole."""

    TYPES: ClassVar[dict[str, type[Note]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        Note.TYPES[cls.code] = cls


class Step(Said):
    """One step of the formula, with its exact numbers."""

    key: ClassVar[str] = "step"
    TYPES: ClassVar[dict[str, type[Step]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        Step.TYPES[cls.code] = cls


# notes of an incident


@dataclass(frozen=True)
class CustomerWide(Note):
    """A row of customer ``*``: it reaches every contract of its service."""

    code = "customer_wide"


@dataclass(frozen=True)
class Ongoing(Note):
    """No end: counted up to ``--as-of``."""

    code = "ongoing"
    as_of_at: int


@dataclass(frozen=True)
class EndsAfterAsOf(Note):
    """Ends after ``--as-of``: counted up to it."""

    code = "ends_after_as_of"
    as_of_at: int


@dataclass(frozen=True)
class OutsideMonth(Note):
    """No part of it falls in the month."""

    code = "outside_month"


@dataclass(frozen=True)
class Clipped(Note):
    """It starts before the month or ends after it: only its part inside counts."""

    code = "clipped"


@dataclass(frozen=True)
class NotDowntime(Note):
    """A maintenance or excluded window: it takes time out, it is not downtime."""

    code = "not_downtime"
    category: str


@dataclass(frozen=True)
class PartlyExcluded(Note):
    """Part of it is inside maintenance or excluded time, which does not count (how much is
    the incident's excluded time, beside its notes)."""

    code = "partly_excluded"


@dataclass(frozen=True)
class FullyExcluded(Note):
    """All of it (in the month) is inside maintenance or excluded time."""

    code = "fully_excluded"


@dataclass(frozen=True)
class LargerImpact(Note):
    """A partial impact where the month has a larger one: where they overlap, the largest
    counts."""

    code = "larger_impact"
    impact: Fraction | int
    largest: Fraction | int


@dataclass(frozen=True)
class MergedWith(Note):
    """Its merged intervals hold these other incidents too (by id, or ``file:line``)."""

    code = "merged_with"
    incidents: tuple[str, ...]


# notes of a merged interval (and of the incidents in it)


@dataclass(frozen=True)
class RuleIgnored(Note):
    """The outage rules count this interval 0 (it is too short)."""

    code = "rule_ignored"
    run: int  # the interval's number in the month, from 1
    downtime_us: Fraction


@dataclass(frozen=True)
class RuleRounded(Note):
    """The outage rules round this interval up."""

    code = "rule_rounded"
    run: int
    downtime_us: Fraction
    counted_us: Fraction


# notes of the month


@dataclass(frozen=True)
class ServiceHours(Note):
    """The period is the service time of the month under the policy's service hours."""

    code = "service_hours"
    days: str  # all, working, mon-fri
    start: str  # HH:MM, local
    end: str  # HH:MM, 24:00 for the end of the day
    period_us: int


@dataclass(frozen=True)
class OutageRulesApplied(Note):
    """The policy's outage rules, and what they made of the month's merged intervals."""

    code = "outage_rules"
    min_outage_seconds: int
    round_up_seconds: int
    intervals: int
    ignored: int
    downtime_us: Fraction  # before the rules
    counted_us: Fraction  # the row's downtime


@dataclass(frozen=True)
class RoundedPastMonth(Note):
    """Rounding up came to more than the month can count: downtime stops at the month's time
    less excluded time."""

    code = "rounded_past_month"
    rounded_us: Fraction
    counted_us: Fraction


@dataclass(frozen=True)
class ZoneDown(Note):
    """A zone the key runs in was down (``loss`` 0: in maintenance) inside the month, by an
    incident (a key counted by zones: a policy's ``[redundancy]``)."""

    code = "zone_down"
    zone: str
    start_at: int
    end_at: int
    loss: Fraction
    incident: str


@dataclass(frozen=True)
class RuleFired(Note):
    """The redundancy rule held: the key was down at ``loss`` (or, ``excluded``, in excluded
    time) from ``start_at`` to ``end_at``; ``dropped``: a period shorter than the rule's
    minimum, which counts 0."""

    code = "rule_fired"
    rule: str
    start_at: int
    end_at: int
    loss: Fraction
    excluded: bool
    dropped: bool


@dataclass(frozen=True)
class ErrorRateMonth(Note):
    """The month was measured by error rate: its request counts, and the mean error rate
    whose equivalent downtime the formula counts (no incident timeline: requests have none).
    The rate is rounded up to 8 decimals (its exact fraction may run to thousands of digits)."""

    code = "error_rate_month"
    interval_seconds: int
    intervals: int
    partial: int
    with_requests: int
    with_errors: int
    total: int
    failed: int
    mean_error_rate_pct: str


@dataclass(frozen=True)
class WeightedComposite(Note):
    """A weighted composite's month: its availability is the weighted mean of its parts'
    (each as its own report row has it, 100 % for a part with no row), shown truncated to 8
    decimals; the formula counts the equivalent downtime."""

    code = "weighted_composite"
    parts: tuple[str, ...]
    weights: tuple[str, ...]
    availabilities: tuple[str, ...]  # percent, truncated to 8 decimals


def zone_notes(trace: dict[str, Any], start: int, end: int) -> tuple[Note, ...]:
    """A key's zones down and the periods its rule made of them (``ZoneTrace.of_key``), those
    inside the month ``start`` .. ``end``, clipped to it."""
    if not trace or trace.get("rule") is None:
        return ()
    out: list[Note] = []
    for zone, a, b, loss, incident in trace["zones_down"]:
        if b > start and a < end:
            out.append(ZoneDown(zone, max(a, start), min(b, end), Fraction(loss), incident))
    rule = trace["rule"].text()
    fired: list[RuleFired] = []
    for a, b, loss, excluded, dropped in sorted(trace["periods"]):
        if b <= start or a >= end:
            continue
        now = RuleFired(rule, max(a, start), min(b, end), Fraction(loss), excluded, dropped)
        last = fired[-1] if fired else None
        if (
            last
            and last.end_at == now.start_at
            and (last.loss, last.excluded, last.dropped)
            == (
                now.loss,
                now.excluded,
                now.dropped,
            )
        ):
            fired[-1] = replace(last, end_at=now.end_at)  # one stretch, told once
        else:
            fired.append(now)
    return (*out, *fired)


# steps of the formula


@dataclass(frozen=True)
class Availability(Step):
    """``availability = 1 - downtime / base``; the base is the period, or the period less
    excluded time (``excluded_us`` is None when it is the period)."""

    code = "availability"
    downtime_us: Fraction
    period_us: int
    excluded_us: int | None
    availability: Fraction
    shown_pct: Decimal  # as the report prints it: truncated to 4 decimals


@dataclass(frozen=True)
class TargetMet(Step):
    """The availability reaches the committed target: ``band`` is the tier band it reaches,
    as the report prints it; ``target`` the target, percent."""

    code = "target_met"
    band: str  # the tier band the availability reaches, as the report prints it
    target: Decimal  # the committed target, percent


@dataclass(frozen=True)
class TargetBreached(Step):
    """The availability is below the committed target: a breach."""

    code = "target_breached"
    band: str
    target: Decimal


@dataclass(frozen=True)
class NoCompensation(Step):
    """The target is met: nothing is owed."""

    code = "no_compensation"


@dataclass(frozen=True)
class PriceByCoefficient(Step):
    """``downtime / base x fee x coefficient``, exact before rounding."""

    code = "price_coefficient"
    downtime_us: Fraction
    period_us: int
    excluded_us: int | None
    fee: Decimal
    currency: str
    coefficient: Decimal
    amount: Fraction


@dataclass(frozen=True)
class PriceByBand(Step):
    """Availability below ``below`` % earns ``credit_pct`` % of the fee, exact before rounding."""

    code = "price_credit"
    below: Decimal
    credit_pct: Decimal
    fee: Decimal
    currency: str
    amount: Fraction


@dataclass(frozen=True)
class NoBand(Step):
    """Breached, but no band of the tier covers the availability: nothing is owed."""

    code = "no_band"


@dataclass(frozen=True)
class Cap(Step):
    """The cap, ``cap_pct`` % of the fee, applies."""

    code = "cap"
    cap_pct: Decimal
    fee: Decimal
    currency: str
    cap: Fraction


@dataclass(frozen=True)
class BelowMinCredit(Step):
    """The credit is below the policy's minimum: none is issued."""

    code = "min_credit"
    min_credit: Decimal
    currency: str


@dataclass(frozen=True)
class Rounded(Step):
    """Rounded half-up to the currency's minor unit: the amount owed."""

    code = "rounded"
    places: int
    amount: Decimal
    currency: str
    credit_form: str  # cash, voucher


@dataclass(frozen=True)
class Due(Step):
    """When the compensation is due (the 72-hour rule from the month's end)."""

    code = "due"
    due_at: int
    hours: int


@dataclass(frozen=True)
class ClaimWindowStep(Step):
    """When the customer may claim, and where the claim stands at ``--as-of``."""

    code = "claim_window"
    opens_at: int
    closes_at: int | None  # None: never
    status: str  # not_open, open, claim_expired, below_min_credit


NO_NOTES: tuple[Note, ...] = ()


# --- an explanation ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    """A maximal interval of nonzero loss in the month, after merging and exclusion."""

    number: int  # from 1, in time order
    start: int
    end: int
    length: int  # counted length (service time under service hours), microseconds
    downtime: Fraction  # loss x length, microseconds
    counted: Fraction  # what the outage rules make of it (the downtime without rules)
    incidents: tuple[int, ...]  # the rows of the explanation's table merged into it
    notes: tuple[Note, ...]


@dataclass
class Explanation:
    """Everything behind one report row (incidents and segments as arrays: a key may have a
    million of them)."""

    row: ReportRow
    settings: Settings
    table: IncidentTable  # the key's incidents (customer-wide ones included), in time order
    clipped_start: Any  # per incident: the part inside the month, -1 when outside
    clipped_end: Any
    excluded_us: Any  # per incident: its time inside the month removed by exclusions
    notes: list[tuple[Note, ...]]  # per incident
    segments: Segments  # the month's stretches of constant loss, exclusions included
    runs: list[Run]
    month_notes: tuple[Note, ...]  # the period, the outage rules
    formula: tuple[Step, ...]

    @property
    def exclusions(self) -> list[tuple[int, int]]:
        """The union of exclusion windows inside the month."""
        s = self.segments
        out: list[tuple[int, int]] = []
        for a, b in zip(s.start[s.excluded].tolist(), s.end[s.excluded].tolist(), strict=True):
            if out and out[-1][1] == a:
                out[-1] = (out[-1][0], b)
            else:
                out.append((a, b))
        return out

    def timeline(self) -> list[tuple[int, int, Fraction, Fraction]]:
        """The merged downtime timeline: ``(start, end, loss, downtime)`` per stretch."""
        s = self.segments
        down = ~s.excluded
        return [
            (a, b, Fraction(int(v), s.den), Fraction(int(v), s.den) * int(n))
            for a, b, v, n in zip(
                s.start[down].tolist(),
                s.end[down].tolist(),
                s.loss_num[down].tolist(),
                s.length[down].tolist(),
                strict=True,
            )
        ]

    def stretch_runs(self) -> list[int]:
        """The number of the run each stretch of :meth:`timeline` belongs to."""
        s = self.segments
        ids = s.run[~s.excluded]
        return (np.searchsorted(np.unique(ids), ids) + 1).tolist()

    def to_dict(self) -> dict[str, Any]:
        """The explanation for JSON: the row, incidents, timeline, exclusions, runs, and the
        notes and formula as ``{code, params}`` values (see :meth:`Said.to_dict`)."""
        tz = self.settings.tz
        t = self.table
        incidents = []
        for i in range(len(t)):
            inc = t.incident(i)
            cs, ce = int(self.clipped_start[i]), int(self.clipped_end[i])
            incidents.append(
                {
                    "incident_id": inc.incident_id,
                    "file": inc.source,
                    "line": inc.line,
                    "category": inc.category,
                    "impact": numbers.share(inc.impact),
                    "start": inc.start_text,
                    "end": inc.end_text,
                    "clipped_start": "" if cs < 0 else format_instant(cs, tz),
                    "clipped_end": "" if cs < 0 else format_instant(ce, tz),
                    "excluded_seconds": numbers.seconds(int(self.excluded_us[i])),
                    "notes": [n.to_dict(tz) for n in self.notes[i]],
                }
            )
        return {
            "row": self.row.to_dict(),
            "incidents": incidents,
            "timeline": [
                {
                    "start": format_instant(s, tz),
                    "end": format_instant(e, tz),
                    "loss": numbers.share(loss),
                    "downtime_seconds": numbers.seconds(d),
                    "run": run,
                }
                for (s, e, loss, d), run in zip(self.timeline(), self.stretch_runs(), strict=True)
            ],
            "exclusions": [
                {
                    "start": format_instant(s, tz),
                    "end": format_instant(e, tz),
                    "seconds": numbers.seconds(e - s),
                }
                for s, e in self.exclusions
            ],
            "runs": [
                {
                    "run": r.number,
                    "start": format_instant(r.start, tz),
                    "end": format_instant(r.end, tz),
                    "length_seconds": numbers.seconds(r.length),
                    "downtime_seconds": numbers.seconds(r.downtime),
                    "counted_seconds": numbers.seconds(r.counted),
                    "notes": [n.to_dict(tz) for n in r.notes],
                }
                for r in self.runs
            ],
            "notes": [n.to_dict(tz) for n in self.month_notes],
            "formula": [s.to_dict(tz) for s in self.formula],
        }


# --- explaining ----------------------------------------------------------------------------------


def explain(
    table: IncidentTable,
    settings: Settings,
    *,
    customer: str,
    service: str | None,
    month: Month,
    contracts: ContractBook | None = None,
    zones: Any = None,
    keep: tuple[Any, Any] | None = None,
    requests: Any = None,
) -> Explanation:
    """Explain the report row of (customer, service, month); ``zones``, the trace of a run
    that counted zones (:class:`~slacalc.computing.redundancy.ZoneTrace`), adds the key's zones
    down and when its rule held."""
    kept = (
        []
        if keep is None
        else [
            svc
            for cust, svc in zip(keep[0].to_pylist(), keep[1].to_pylist(), strict=True)
            if cust == customer
        ]
    )
    services = sorted({svc for (cust, svc) in table.keys if cust == customer} | set(kept))
    if service is None:
        if len(services) > 1:
            raise UsageError(
                f"customer '{customer}' has incidents on several services "
                f"({', '.join(services)}): choose one with --service"
            )
        service = services[0] if services else "*"
    key = (customer, service)
    report = month_report(
        table,
        settings,
        month=month,
        contracts=contracts,
        customers=[customer],
        service=service,
        touched=True,
        keep=keep,
        requests=requests,
    )
    if key not in report.keys:
        known = ", ".join(f"{c}/{s}" for c, s in sorted(table.keys)[:20]) or "none"
        raise UsageError(
            f"no report row for customer '{customer}' service '{service}' in {month} "
            f"(keys with incidents: {known})"
        )
    k, j = report.keys.index(key), report.months.index(month)
    (ex,) = explain_rows(report, [k * len(report.months) + j])
    if zones is not None:
        extra = zone_notes(zones.of_key(key), report.starts[j], report.ends[j])
        if extra:
            ex = replace(ex, month_notes=(*ex.month_notes, *extra))
    return ex


def month_report(
    table: IncidentTable,
    settings: Settings,
    *,
    month: Month,
    contracts: ContractBook | None = None,
    customers: Sequence[str] | None = None,
    service: str | None = None,
    touched: bool = False,
    keep: tuple[Any, Any] | None = None,
    requests: Any = None,
    log: IncidentTable | None = None,
) -> Report:
    """The report of ``month`` for ``customers`` (default: everyone, and ``log``, the table
    as read when ``table`` was made from it, for the warnings), computed on their own
    rows, the customer-wide rows that reach them and their own contracts (only ``service``'s
    rows, when given): their rows are the report's rows of them, far less to compute.

    Without contracts, customer-wide rows reach nobody: a statement (``service`` None) keeps
    them, so that the report says they need contracts; one explained key leaves them out.

    ``touched`` adds the other months the rows touch, as ``slacalc report`` without ``--month``
    computes them: a key then has a row in ``month`` even when its incidents are in others."""
    months: dict[str, Any] = {"include": [month]} if touched else {"months": [month]}
    if customers is None:
        return compute_report(
            table, settings, contracts=contracts, keep=keep, requests=requests, log=log, **months
        )
    if keep is not None:  # the kept keys of these customers (and service) only
        mine = pc.is_in(keep[0], value_set=pa.array(sorted(set(customers)), pa.string()))
        if service is not None:
            mine = pc.and_(mine, pc.equal(keep[1], service))
        keep = (keep[0].filter(mine), keep[1].filter(mine))
    wanted = pa.array(sorted(set(customers)), pa.string())
    book = None
    services = None if service is None else [service]
    if contracts is not None:
        chosen = set(wanted.to_pylist())
        composites = {k: c for k, c in contracts.composites.items() if k[0] in chosen}
        book = ContractBook(
            [c for c in contracts.contracts if c.customer_id in chosen], composites=composites
        )
        for (_, name), composite in composites.items():
            if service == name and composite.kind == "weighted":  # its parts' rows make it
                services = [service, *composite.parts]
    own = np.asarray(pc.is_in(table.key_customer, value_set=wanted), dtype=bool)
    star = np.asarray(pc.equal(table.key_customer, EVERY_CUSTOMER), dtype=bool)
    if services is not None:
        same = np.asarray(
            pc.is_in(table.key_service, value_set=pa.array(services, pa.string())), dtype=bool
        )
        own &= same
        star &= same
    if book is not None:
        services = set(table.key_service.filter(pa.array(star)).to_pylist())
        covered = pa.array([svc for svc in services if book.customers_of(svc)], pa.string())
        star &= np.asarray(pc.is_in(table.key_service, value_set=covered), dtype=bool)
    elif service is not None:
        star[:] = False
    rows = np.flatnonzero((own | star)[table.key])
    if requests is not None:  # these customers' request counts (and service's) only
        mine = np.asarray(pc.is_in(requests.key_customer, value_set=wanted), dtype=bool)
        if service is not None:
            mine &= np.asarray(pc.equal(requests.key_service, service), dtype=bool)
        requests = requests.take(np.flatnonzero(mine[requests.key]))
    return compute_report(
        table.take(rows), settings, contracts=book, keep=keep, requests=requests, **months
    )


def explain_rows(report: Report, rows: Sequence[int]) -> list[Explanation]:
    """The explanations of the report's rows ``rows``, with the engine's segments of their
    keys: the report's own when it kept them, else one engine pass (per engine group of keys,
    as the report groups them, and per month) for all of the rows' keys."""
    plan, n_m = report.plan, len(report.months)
    # (group, month): table key -> its number in the group's cell totals
    wanted: dict[tuple[int, int], dict[int, int]] = {}
    for i in rows:
        k, j = divmod(i, n_m)
        if _timeline(plan, k):
            wanted.setdefault((int(plan.group[k]), j), {})[int(plan.source[k])] = int(plan.local[k])
    passes = {(g, j): _segments(report, g, j, keys) for (g, j), keys in wanted.items()}
    incidents = _Incidents(plan.table)
    out = []
    for i in rows:
        k, j = divmod(i, n_m)
        source = int(plan.source[k])
        if _timeline(plan, k):
            seg = passes[int(plan.group[k]), j].of(source)
        else:  # a key without incidents in the month (a contract's, or one whose incidents
            # did not count): any it has are outside it
            source = source if source >= 0 else plan.table.key_index(report.keys[k])
            seg = _no_segments()
        table, is_star = incidents.of(source)
        ex = _explanation(report.row(i), report.settings, table, is_star, seg)
        measured = plan.groups[int(plan.group[k])].policy.measure
        if measured is not None:
            ex = replace(ex, month_notes=(*ex.month_notes, _error_rate(report, k, j, measured)))
        composite = report.composites.get(report.keys[k])
        if composite is not None and composite.kind == "weighted":
            ex = replace(ex, month_notes=(*ex.month_notes, _weighted(report, k, j, composite)))
        out.append(ex)
    return out


def _weighted(report: Report, k: int, j: int, composite: Any) -> Note:
    """The parts' availabilities behind a weighted composite's month."""
    customer = report.keys[k][0]
    index = {key: i for i, key in enumerate(report.keys)}
    n_m = len(report.months)
    shown = []
    for part in composite.parts:
        pk = index.get((customer, part))
        value = report.row(pk * n_m + j).availability if pk is not None else Fraction(1)
        scaled = value * 100 * 10**8
        whole = scaled.numerator // scaled.denominator
        shown.append(f"{whole // 10**8}.{whole % 10**8:08d}")
    weights = tuple(str(Decimal(w.numerator) / Decimal(w.denominator)) for w in composite.weights)
    return WeightedComposite(tuple(composite.parts), weights, tuple(shown))


def _timeline(plan: Any, k: int) -> bool:
    """Whether report key ``k`` has an engine timeline: incidents of its own that the engine
    counted (not a key without rows, nor one measured by error rate)."""
    return bool(
        plan.source[k] >= 0
        and plan.local[k] >= 0
        and plan.groups[int(plan.group[k])].policy.measure is None
    )


def _error_rate(report: Report, k: int, j: int, measure: Any) -> Note:
    """The request counts behind an error-rate key's month (none read: every interval empty)."""
    from slacalc.computing.error_rate import request_totals

    customer, service = report.keys[k]
    edges = [report.starts[j], report.ends[j]]
    requests = report.requests
    counted = None
    if requests is not None:
        mine = np.asarray(pc.equal(requests.key_customer, customer), dtype=bool) & np.asarray(
            pc.equal(requests.key_service, service), dtype=bool
        )
        rows = np.flatnonzero(mine[requests.key])
        if len(rows):
            cells = request_totals(requests.take(rows), edges, measure)
            counted = cells.detail(0) if len(cells.totals.cells) else None
    if counted is None:
        size = measure.interval_us  # the intervals the month overlaps, all without requests
        n = (edges[1] - 1) // size - edges[0] // size + 1
        return ErrorRateMonth(measure.interval_seconds, n, 0, 0, 0, 0, 0, "0")
    return ErrorRateMonth(
        measure.interval_seconds,
        counted.intervals,
        counted.partial,
        counted.with_requests,
        counted.with_errors,
        counted.total,
        counted.failed,
        counted.error_rate_pct(),
    )


class _Incidents:
    """The rows of each key of a table in time order, and which are customer-wide."""

    def __init__(self, table: IncidentTable) -> None:
        self.table = table
        self.order = np.argsort(table.key, kind="stable")
        self.bounds = np.searchsorted(table.key[self.order], np.arange(table.n_keys + 1))
        # customer-wide rows: read as customer '*', or copied to a customer (a copy keeps the
        # file and line it was read at)
        self.place = table.file.astype(np.int64) << 40 | table.line
        star = np.asarray(pc.equal(table.key_customer, EVERY_CUSTOMER), dtype=bool)
        self.star_places = np.unique(self.place[star[table.key]]) if len(table) else self.place

    def of(self, key: int) -> tuple[IncidentTable, Any]:
        if key < 0:
            return IncidentTable.empty(), np.zeros(0, dtype=bool)
        t = self.table
        rows = self.order[self.bounds[key] : self.bounds[key + 1]]
        rows = rows[np.lexsort((t.line[rows], t.start[rows]))]
        return t.take(rows), np.isin(self.place[rows], self.star_places)


@dataclass
class _Pass:
    """The segments of some keys in one month, in (key, time) order."""

    segments: Segments
    key_of: dict[int, int]  # the plan's table key -> its key number in the segments

    def of(self, source: int) -> Segments:
        s = self.segments
        k = self.key_of[source]
        return _sliced(s, slice(*np.searchsorted(s.key, [k, k + 1]).tolist()))


def _sliced(s: Segments, sel: Any) -> Segments:
    return Segments(
        s.key[sel],
        s.month[sel],
        s.start[sel],
        s.end[sel],
        s.loss_num[sel],
        s.den,
        s.excluded[sel],
        s.run[sel],
        s.counted,
        s.length[sel],
    )


def _segments(report: Report, g: int, j: int, keys: dict[int, int]) -> _Pass:
    """The segments of the plan's table keys ``keys`` (each with its key number in the engine
    group's cell totals) in the report's month ``j``: those the report kept, or one engine pass."""
    plan, settings = report.plan, report.settings
    group = plan.groups[g]
    start, end = report.starts[j], report.ends[j]
    kept = group.totals.segments if group.totals is not None else None
    if kept is not None:
        return _Pass(_sliced(kept, (kept.start >= start) & (kept.start < end)), keys)
    rows = np.flatnonzero(np.isin(plan.table.key, list(keys)))
    sub = plan.table.take(rows)
    # take() numbers the keys in order of first appearance
    first = np.unique(plan.table.key[rows], return_index=True)
    key_of = dict(zip(first[0].tolist(), sub.key[first[1]].tolist(), strict=True))
    policy = group.policy
    result = cell_totals(
        sub,
        [start, end],
        settings.as_of,
        measure=group.measure,
        rules=OutageRules(
            policy.min_outage_seconds * US_PER_SECOND, policy.round_up_seconds * US_PER_SECOND
        )
        or None,
        keep_segments=True,
    )
    assert result.segments is not None
    return _Pass(result.segments, key_of)


def _no_segments() -> Segments:
    z = np.zeros(0, dtype=np.int64)
    return Segments(z, z, z, z, z, 1, z.astype(bool), z, None, z)


def _explanation(
    row: ReportRow, settings: Settings, table: IncidentTable, is_star: Any, seg: Segments
) -> Explanation:
    lo, hi = row.period_start, row.period_end
    cs, ce, excluded, notes = _traces(table, lo, hi, settings.as_of, seg, is_star)
    runs = _runs(table, cs, ce, seg, row)
    return Explanation(
        row,
        settings,
        table,
        cs,
        ce,
        excluded,
        notes,
        seg,
        runs,
        _month_notes(row, runs),
        tuple(formula(row)),
    )


def _traces(
    table: IncidentTable, lo: int, hi: int, as_of: int, seg: Segments, is_star: Any
) -> tuple[Any, Any, Any, list[tuple[Note, ...]]]:
    """Per incident: its part inside the month, its time removed by exclusions, its notes.

    The notes are worked out as flags on whole columns; incidents with the same flags share
    one tuple of notes (a key may have a million incidents, and a few kinds of them)."""
    end = effective_ends(table, as_of)
    cs = np.maximum(table.start, lo)
    ce = np.minimum(end, hi)
    inside = ce > cs
    cs = np.where(inside, cs, -1)
    ce = np.where(inside, ce, -1)
    ex = seg.excluded
    ex_s, ex_e = seg.start[ex], seg.end[ex]
    covered = Measure(np.stack([ex_s, ex_e], axis=1)) if len(ex_s) else None
    down = np.isin(table.category, DOWN_CODES)
    removed = np.zeros(len(table), dtype=np.int64)
    if covered is not None:
        removed = np.where(inside & down, covered.length(np.maximum(cs, lo), np.maximum(ce, lo)), 0)
    top_loss = Fraction(int(seg.loss_num.max()), seg.den) if len(seg) else Fraction(0)
    smaller = np.array([v != 1 and top_loss > v for v in table.impacts] or [False], dtype=bool)
    ongoing = table.end == NO_END
    clipped = inside & ((cs > table.start) | (ce < end))
    flags = (
        np.asarray(is_star, dtype=np.int64) * _STAR
        | np.where(ongoing, _ONGOING, 0)
        | np.where(~ongoing & (table.end > as_of), _LATE, 0)
        | np.where(inside, 0, _OUTSIDE)
        | np.where(clipped, _CLIPPED, 0)
        | np.where(inside & ~down, _NOT_DOWN | table.category.astype(np.int64) << _SHIFT, 0)
        | np.where(inside & down & (removed > 0), _EXCLUDED, 0)
        | np.where(inside & down & (removed > 0) & (removed == ce - cs), _WHOLLY, 0)
        | np.where(inside & down & smaller[table.impact], _LARGER, 0)
    )
    # a larger impact is the incident's own: keep its impact apart
    flags |= np.where(flags & _LARGER, table.impact.astype(np.int64) << (_SHIFT + 8), 0)
    kinds, which = np.unique(flags, return_inverse=True)
    said = [_notes_of(int(f), as_of, table.impacts, top_loss) for f in kinds.tolist()]
    return cs, ce, removed, [said[i] for i in which.tolist()]


_STAR, _ONGOING, _LATE, _OUTSIDE, _CLIPPED = 1, 2, 4, 8, 16
_NOT_DOWN, _EXCLUDED, _WHOLLY, _LARGER = 32, 64, 128, 256
_SHIFT = 16  # the category, then the impact, above the flags


def _notes_of(flags: int, as_of: int, impacts: list, top_loss: Fraction) -> tuple[Note, ...]:
    """The notes of incidents with these flags (see :func:`_traces`), in the order they read."""
    out: list[Note] = []
    if flags & _STAR:
        out.append(CustomerWide())
    if flags & _ONGOING:
        out.append(Ongoing(as_of))
    elif flags & _LATE:
        out.append(EndsAfterAsOf(as_of))
    if flags & _OUTSIDE:
        return (*out, OutsideMonth())
    if flags & _CLIPPED:
        out.append(Clipped())
    if flags & _NOT_DOWN:
        out.append(NotDowntime(CATEGORIES[flags >> _SHIFT & 0xFF]))
    if flags & _EXCLUDED:
        out.append(FullyExcluded() if flags & _WHOLLY else PartlyExcluded())
    if flags & _LARGER:
        out.append(LargerImpact(impacts[flags >> (_SHIFT + 8)], top_loss))
    return tuple(out) if out else NO_NOTES


def _runs(table: IncidentTable, cs: Any, ce: Any, seg: Segments, row: ReportRow) -> list[Run]:
    """The month's maximal intervals of nonzero loss (the engine numbers them), their downtime
    before and after the outage rules, and the incidents merged into each."""
    down = np.flatnonzero(~seg.excluded)
    if not len(down):
        return []
    ids = seg.run[down]
    distinct, first, count = np.unique(ids, return_index=True, return_counts=True)
    which = np.searchsorted(distinct, ids)
    n = len(distinct)
    length = speed.sums_at(which, seg.length[down], n)
    weighted = speed.sums_at(which, speed.product(seg.loss_num[down], seg.length[down]), n)
    starts = seg.start[down][first].tolist()
    ends = seg.end[down][first + count - 1].tolist()
    # the incidents in each interval: the intervals are disjoint and in time order, so those an
    # incident overlaps are consecutive
    inc = np.flatnonzero(np.isin(table.category, DOWN_CODES) & (cs >= 0))
    lo = np.searchsorted(np.asarray(ends), cs[inc], side="right")
    hi = np.searchsorted(np.asarray(starts), ce[inc], side="left")
    spans = np.maximum(hi - lo, 0)
    run_of = (
        np.repeat(lo, spans)
        + np.arange(int(spans.sum()))
        - np.repeat(np.cumsum(spans) - spans, spans)
    )
    by_run = np.argsort(run_of, kind="stable")
    members = np.split(np.repeat(inc, spans)[by_run], np.searchsorted(run_of[by_run], range(1, n)))
    rules_apply = row.policy.has_outage_rules and seg.counted is not None
    out = []
    for x, r in enumerate(distinct.tolist()):
        downtime = Fraction(int(weighted[x]), seg.den)
        counted = seg.run_counted(r) if rules_apply else downtime
        notes: tuple[Note, ...] = NO_NOTES
        if counted != downtime:
            notes = (
                RuleIgnored(x + 1, downtime)
                if counted == 0
                else RuleRounded(x + 1, downtime, counted),
            )
        out.append(
            Run(
                x + 1,
                starts[x],
                ends[x],
                int(length[x]),
                downtime,
                counted,
                tuple(members[x].tolist()),
                notes,
            )
        )
    return out


def _month_notes(row: ReportRow, runs: list[Run]) -> tuple[Note, ...]:
    """What applied to the month as a whole: service hours, the outage rules."""
    policy = row.policy
    out: list[Note] = []
    hours = policy.service_hours
    if hours is not None:
        end = "24:00" if hours.end_of_day else hours.end.strftime("%H:%M")
        out.append(ServiceHours(hours.days, hours.start.strftime("%H:%M"), end, row.period_us))
    if policy.has_outage_rules:
        raw = sum((r.downtime for r in runs), Fraction(0))
        rounded = sum((r.counted for r in runs), Fraction(0))
        ignored = sum(1 for r in runs if r.counted == 0 and r.downtime != 0)
        out.append(
            OutageRulesApplied(
                policy.min_outage_seconds,
                policy.round_up_seconds,
                len(runs),
                ignored,
                raw,
                row.downtime_us,
            )
        )
        if rounded > row.downtime_us:
            out.append(RoundedPastMonth(rounded, row.downtime_us))
    return tuple(out)


def formula(row: ReportRow) -> list[Step]:
    """The availability, tier and compensation of a report row, a step at a time, with the
    exact numbers behind the report's figures (the one place the formula is written out)."""
    policy, cur = row.policy, row.currency
    excluded = row.excluded_us if policy.availability_base == BASE_MINUS_EXCLUDED else None
    steps: list[Step] = [
        Availability(
            row.downtime_us,
            row.period_us,
            excluded,
            row.availability,
            Decimal(row.fields["availability_pct"]),
        ),
        (TargetBreached if row.breached else TargetMet)(row.tier_band, row.tier.target),
    ]
    if not row.breached:
        steps.append(NoCompensation())
        return steps
    fee = numbers.ratio(row.monthly_fee)
    if policy.mode == COEFFICIENT:
        d = numbers.ratio(row.downtime_us)
        coefficient = row.tier.coefficient or Decimal(0)
        x, m, t = money.coefficient_price(d[0], d[1], row.base_us, fee, numbers.ratio(coefficient))
        steps.append(
            PriceByCoefficient(
                row.downtime_us,
                row.period_us,
                excluded,
                row.monthly_fee,
                cur,
                coefficient,
                Fraction(x * m, t),
            )
        )
    else:
        pct = row.credit_pct
        if pct is None:
            steps.append(NoBand())
            return steps
        band = next(b for b in reversed(row.tier.bands) if b.credit_pct == pct)
        x, m, t = money.credit_price(fee, numbers.ratio(pct))
        steps.append(PriceByBand(band.below, pct, row.monthly_fee, cur, Fraction(x * m, t)))
    if row.capped:
        cap = Fraction(*money.cap_of(fee, numbers.ratio(policy.cap_pct)))
        steps.append(Cap(policy.cap_pct, row.monthly_fee, cur, cap))
    if policy.min_credit and row.compensation == 0:
        steps.append(BelowMinCredit(policy.min_credit, cur))
    steps.append(Rounded(money.minor_unit(cur), row.compensation, cur, policy.credit_form))
    if row.compensation_due is not None:
        steps.append(Due(row.compensation_due, deadlines.LEVEL1_HOURS))
    if row.claim_opens is not None:
        steps.append(ClaimWindowStep(row.claim_opens, row.claim_closes, row.claim_status))
    return steps
