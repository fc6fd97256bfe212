"""What a statement says, built from the library's results: the report's rows of one customer
and month, each service's explanation (incidents, merged timeline, exclusions), the dispute
deadlines and the input files' digests.

Nothing here computes a figure: availability, tiers, money, deadlines and working days come from
:func:`~slacalc.computing.report.compute_report` and :func:`~slacalc.computing.explain.explain`;
the statement arranges them (and remembers them as the report's CSV prints them, in
``row.fields``) for the templates.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any

import numpy as np

from slacalc import __version__
from slacalc.computing.explain import Explanation, explain
from slacalc.computing.fields import FIELDS
from slacalc.computing.report import Deadline, ReportRow, Settings, compute_report
from slacalc.dates.instants import from_us, to_us
from slacalc.dates.months import Month
from slacalc.errors import UsageError
from slacalc.reading.cells import CATEGORIES, DOWN_CODES
from slacalc.reading.contracts import ContractBook
from slacalc.reading.files import STDIN
from slacalc.reading.table import NO_END, IncidentTable
from slacalc.terms import rules
from slacalc.terms.deadlines import escalation_at
from slacalc.terms.policy import BASE_MINUS_EXCLUDED, COEFFICIENT, PRESETS_DIR, Policy
from slacalc.writing.statement.messages import Data, Msg

__all__ = [
    "DeadlineLine",
    "IncidentLine",
    "InputFile",
    "Run",
    "ServiceStatement",
    "Statement",
    "Stretch",
    "Window",
    "build_statements",
    "input_file",
]


@dataclass(frozen=True)
class InputFile:
    """One input file as both parties can check it: its role, name, size and SHA-256."""

    role: str  # incidents, contracts, policy, holidays
    name: str
    size: int
    sha256: str


def input_file(role: str, path: str, data: bytes | None = None) -> InputFile:
    """The digest of a file (or of ``data``, the bytes read from standard input)."""
    digest = hashlib.sha256()
    if data is not None:
        digest.update(data)
        size = len(data)
    else:
        size = 0
        with open(path, "rb") as fh:
            while chunk := fh.read(1 << 20):
                digest.update(chunk)
                size += len(chunk)
    return InputFile(role, "<stdin>" if path == STDIN else path, size, digest.hexdigest())


@dataclass(frozen=True)
class Stretch:
    """A stretch of the month at one constant loss: one shaded bar of the timeline."""

    start: int
    end: int
    loss: Fraction
    downtime: Fraction  # loss x length, microseconds


@dataclass(frozen=True)
class Run:
    """A maximal interval of nonzero loss after merging and exclusion, and what it counts."""

    number: int
    start: int
    end: int
    length: int
    downtime: Fraction
    counted: Fraction  # differs from downtime only under outage rules
    incidents: tuple[str, ...]  # the incidents merged into it


@dataclass(frozen=True)
class Window:
    """A maintenance or excluded window inside the month."""

    start: int
    end: int
    category: str


@dataclass(frozen=True)
class IncidentLine:
    """One incident of the service that falls in the month, as read and as counted."""

    ident: str  # the incident id, or the file's line when it has none
    has_id: bool
    category: str
    impact: Fraction | int
    start_text: str
    end_text: str  # empty: ongoing
    counted_start: int
    counted_end: int
    excluded_us: int
    runs: tuple[int, ...]  # the numbers of the intervals it went into
    notes: tuple[Msg, ...]

    @property
    def partial(self) -> bool:
        return self.impact != 1


@dataclass(frozen=True)
class DeadlineLine:
    """A dispute deadline the month opens for the customer, and when it would escalate."""

    deadline: Deadline
    escalation_at: int


@dataclass
class ServiceStatement:
    """One service of the statement: the report's row and the audit trail behind it."""

    row: ReportRow
    stretches: list[Stretch]
    runs: list[Run]
    windows: list[Window]
    incidents: list[IncidentLine]
    outside: int  # the service's incidents that fall outside the month
    formula: list[Msg]

    @property
    def fields(self) -> dict[str, Any]:
        """The row as the report's CSV prints it (``breached`` is ``true``, not True)."""
        return {name: _csv_text(self.row.fields[name]) for name in FIELDS}


@dataclass
class Statement:
    """A customer's month: every service's row and trail, deadlines, terms and inputs."""

    customer: str
    month: Month
    settings: Settings
    services: list[ServiceStatement]
    deadlines: list[DeadlineLine]
    inputs: list[InputFile]
    warnings: list[str] = field(default_factory=list)
    calendar_years: set[int] = field(default_factory=set)  # whose working days were counted
    version: str = __version__

    @property
    def period(self) -> tuple[int, int]:
        return self.month.bounds(self.settings.tz)

    @property
    def status(self) -> str:
        """``final`` when every row is final, else ``provisional``."""
        return "final" if all(s.row.status == "final" for s in self.services) else "provisional"

    def totals(self) -> dict[str, Decimal]:
        """Compensation per currency, in the order currencies first appear."""
        out: dict[str, Decimal] = {}
        for s in self.services:
            out[s.row.currency] = out.get(s.row.currency, Decimal(0)) + s.row.compensation
        return out

    def policies(self) -> list[tuple[Policy, list[str]]]:
        """Each policy that priced a service, with the services it priced."""
        out: dict[tuple[str, str], tuple[Policy, list[str]]] = {}
        for s in self.services:
            p = s.row.policy
            out.setdefault((p.name, p.origin), (p, []))[1].append(s.row.service)
        return list(out.values())


def build_statements(
    table: IncidentTable,
    settings: Settings,
    *,
    month: Month,
    contracts: ContractBook | None = None,
    customers: Sequence[str] | None = None,
    inputs: Iterable[InputFile] = (),
) -> list[Statement]:
    """The statements of ``customers`` (default: every customer with a row) for ``month``:
    the report's rows and deadlines, and each row explained on the customer's own incidents
    (customer-wide ones included) and contracts."""
    report = compute_report(table, settings, contracts=contracts, months=[month])
    keys_of: dict[str, list[int]] = {}  # one month: a key's row is its index
    for k, (customer, _) in enumerate(report.keys if report.months else []):
        keys_of.setdefault(customer, []).append(k)
    if customers is None:
        customers = list(keys_of)
    missing = [c for c in customers if c not in keys_of]
    if missing:
        known = ", ".join(list(keys_of)[:20]) + (", ..." if len(keys_of) > 20 else "")
        raise UsageError(
            f"no report row for customer '{missing[0]}' in {month} "
            f"(customers with rows: {known or 'none'})"
        )
    given = list(inputs)
    rows_of = _rows_by_customer(table)
    out = []
    for customer in customers:
        # explain sees only the customer's rows and contracts: the same row, far less to compute
        own = table.take(np.concatenate([rows_of.get(customer, _NONE), rows_of.get("*", _NONE)]))
        book = None
        if contracts is not None:
            book = ContractBook([c for c in contracts.contracts if c.customer_id == customer])
        services = [_service(own, settings, report.row(k), month, book) for k in keys_of[customer]]
        deadlines = [
            DeadlineLine(d, _escalation(d)) for d in report.deadlines if d.customer_id == customer
        ]
        files = [*given, *_policy_files((s.row.policy for s in services), given)]
        years = {day.year for line in deadlines for day in line.deadline.working_days}
        if any(s.row.claim_opens is not None for s in services):
            years |= report.calendar_years(deadlines=False)
        out.append(
            Statement(customer, month, settings, services, deadlines, files, report.warnings, years)
        )
    return out


_NONE = np.zeros(0, dtype=np.int64)


def _rows_by_customer(table: IncidentTable) -> dict[str, Any]:
    """Each customer's row indices (``*`` for the customer-wide rows), in read order."""
    customer_of_key = np.asarray(table.key_customer.dictionary_encode().indices, dtype=np.int64)
    names = table.key_customer.dictionary_encode().dictionary.to_pylist()
    code = customer_of_key[table.key] if len(table) else _NONE
    order = np.argsort(code, kind="stable")
    bounds = np.searchsorted(code[order], np.arange(len(names) + 1))
    return {name: order[bounds[i] : bounds[i + 1]] for i, name in enumerate(names)}


def _escalation(deadline: Deadline) -> int:
    tz = deadline.tz
    return to_us(escalation_at(from_us(deadline.opened_at, tz), tz))


def _policy_files(policies: Iterable[Policy], given: list[InputFile]) -> list[InputFile]:
    """The policy files (presets included) of ``policies``, once each."""
    seen = {f.name for f in given}
    out = []
    for p in policies:
        path = str(PRESETS_DIR / f"{p.name}.toml") if p.origin == "preset" else p.origin
        shown = f"{p.name} (preset)" if p.origin == "preset" else path
        if p.origin == "built-in" or shown in seen or not os.path.isfile(path):
            continue
        seen.add(shown)
        found = input_file("policy", path)
        out.append(InputFile("policy", shown, found.size, found.sha256))
    return out


def _service(
    table: IncidentTable,
    settings: Settings,
    row: ReportRow,
    month: Month,
    contracts: ContractBook | None,
) -> ServiceStatement:
    ex = explain(
        table,
        settings,
        customer=row.customer_id,
        service=row.service,
        month=month,
        contracts=contracts,
    )
    runs = _runs(ex)
    lines, outside = _incidents(ex, runs)
    return ServiceStatement(
        row=row,
        stretches=_stretches(ex),
        runs=runs,
        windows=_windows(ex),
        incidents=lines,
        outside=outside,
        formula=_formula(ex, row),
    )


def _stretches(ex: Explanation) -> list[Stretch]:
    """The engine's timeline with touching stretches of the same loss joined: one bar for what
    a reader sees as one stretch (the engine splits where any incident starts or ends)."""
    out: list[Stretch] = []
    for start, end, loss, down in ex.timeline():
        if not loss:
            continue
        if out and out[-1].end == start and out[-1].loss == loss:
            last = out[-1]
            out[-1] = Stretch(last.start, end, loss, last.downtime + down)
        else:
            out.append(Stretch(start, end, loss, down))
    return out


def _runs(ex: Explanation) -> list[Run]:
    t = ex.table
    down = np.isin(t.category, DOWN_CODES) & (ex.clipped_start >= 0)
    idx = np.flatnonzero(down)
    cs, ce = ex.clipped_start[idx], ex.clipped_end[idx]
    names = _idents(ex, idx)
    out = []
    for n, (start, end, length, downtime, counted) in enumerate(ex.runs(), 1):
        inside = (cs < end) & (ce > start)
        merged = tuple(names[j][0] for j in np.flatnonzero(inside).tolist())
        out.append(Run(n, start, end, length, downtime, counted, merged))
    return out


def _idents(ex: Explanation, rows: Any) -> list[tuple[str, bool]]:
    """Each incident's id, or where it was read (``file:line``) when it has none."""
    t = ex.table
    ids = t.incident_id.take(rows).to_pylist() if len(rows) else []
    out = []
    for r, ident in zip(rows.tolist(), ids, strict=True):
        ident = (ident or "").strip()
        where = t.where(r)
        out.append((ident, True) if ident else (where, False))
    return out


def _windows(ex: Explanation) -> list[Window]:
    """Each maintenance or excluded incident's part of the month (the engine's union of them is
    :attr:`Explanation.exclusions`; a window keeps its category for the reader)."""
    t = ex.table
    sel = np.flatnonzero(~np.isin(t.category, DOWN_CODES) & (ex.clipped_start >= 0))
    return [
        Window(int(ex.clipped_start[i]), int(ex.clipped_end[i]), CATEGORIES[int(t.category[i])])
        for i in sel.tolist()
    ]


def _incidents(ex: Explanation, runs: list[Run]) -> tuple[list[IncidentLine], int]:
    t = ex.table
    inside = np.flatnonzero(ex.clipped_start >= 0)
    idents = _idents(ex, inside)
    starts = t.start_text.take(inside).to_pylist() if t.start_text is not None else None
    ends = t.end_text.take(inside).to_pylist() if t.end_text is not None else None
    out = []
    for j, i in enumerate(inside.tolist()):
        cs, ce = int(ex.clipped_start[i]), int(ex.clipped_end[i])
        category = CATEGORIES[int(t.category[i])]
        in_runs = tuple(r.number for r in runs if r.start < ce and r.end > cs)
        if int(t.category[i]) not in DOWN_CODES:
            in_runs = ()
        notes = list(note_messages(ex.notes[i]))
        ident = idents[j][0]
        others = sorted({o for r in runs if r.number in in_runs for o in r.incidents} - {ident})
        if others:
            notes.append(Msg("note.merged_with", {"ids": Data(", ".join(others))}))
        if int(t.category[i]) in DOWN_CODES and not in_runs:
            notes.append(Msg("note.fully_excluded"))
        for r in runs:  # what the outage rules made of its interval
            if r.number in in_runs and r.counted != r.downtime:
                key = "note.rule_ignored" if r.counted == 0 else "note.rule_rounded"
                notes.append(Msg(key, {"run": r.number}))
        end_text = ((ends[j] or "").strip() if ends else "") if int(t.end[i]) != NO_END else ""
        start_text = (starts[j] or "").strip() if starts else ""
        out.append(
            IncidentLine(
                ident=ident,
                has_id=idents[j][1],
                category=category,
                impact=t.impacts[int(t.impact[i])],
                start_text=start_text,
                end_text=end_text,
                counted_start=cs,
                counted_end=ce,
                excluded_us=int(ex.excluded_us[i]),
                runs=in_runs,
                notes=tuple(notes),
            )
        )
    return out, len(t) - len(inside)


# explain's notes, phrase by phrase, as catalogue messages (a phrase this list does not know
# is shown as explain wrote it)
_NOTES = {
    "customer-wide (*) incident": "note.customer_wide",
    "ongoing: counted up to --as-of": "note.ongoing",
    "ends after --as-of: counted up to it": "note.ends_after_as_of",
    "outside the month": "note.outside",
    "clipped to the month": "note.clipped",
    "partly inside maintenance/excluded time": "note.partly_excluded",
    "a larger impact may overlap it: the largest counts": "note.larger_impact",
}
_NOT_DOWNTIME = re.compile(r"^(\w+): excluded from downtime$")


def note_messages(note: str) -> list[Msg]:
    """An explain note (``clipped to the month; partly inside ...``) as messages."""
    out = []
    for phrase in filter(None, (p.strip() for p in note.split(";"))):
        if phrase in _NOTES:
            out.append(Msg(_NOTES[phrase]))
        elif (m := _NOT_DOWNTIME.match(phrase)) and m.group(1) in CATEGORIES:
            out.append(Msg("note.not_downtime", {"category": Msg(f"category.{m.group(1)}")}))
        else:
            out.append(Msg("raw", {"text": phrase}))
    return out


# --- the formula, step by step, with the report's own figures --------------------------------


def _formula(ex: Explanation, row: ReportRow) -> list[Msg]:
    f, policy, cur = {k: _csv_text(v) for k, v in row.fields.items()}, row.policy, row.currency
    steps: list[Msg] = []
    if policy.service_hours is not None:
        steps.append(
            Msg("f.service_hours", {"hours": hours_msg(policy), "period": f["period_seconds"]})
        )
    if policy.has_outage_rules:
        runs = ex.runs()
        raw = sum((r[3] for r in runs), Fraction(0))
        steps.append(
            Msg(
                "f.outage_rules",
                {
                    "runs": len(runs),
                    "ignored": sum(1 for r in runs if r[4] == 0 and r[3] != 0),
                    "raw": rules.seconds(raw),
                    "counted": f["downtime_seconds"],
                },
            )
        )
    base = Msg("f.base", {"period": f["period_seconds"]})
    if policy.availability_base == BASE_MINUS_EXCLUDED:
        base = Msg(
            "f.base_minus_excluded",
            {"period": f["period_seconds"], "excluded": f["excluded_seconds"]},
        )
    steps.append(
        Msg(
            "f.availability",
            {
                "down": f["downtime_seconds"],
                "base": base,
                "exact": _decimal(row.availability * 100, 8),
                "pct": f["availability_pct"],
            },
        )
    )
    verdict = {"band": f["tier_band"], "target": f["sla_target_pct"]}
    steps.append(Msg("f.breached" if row.breached else "f.met", verdict))
    if not row.breached:
        steps.append(Msg("f.no_compensation"))
        return steps
    money = {"fee": f["monthly_fee"], "currency": cur}
    places = rules.minor_unit(cur) + 4
    fee = rules.ratio(row.monthly_fee)
    if policy.mode == COEFFICIENT:
        d = rules.ratio(row.downtime_us)
        x, m, t = rules.coefficient_price(
            d[0], d[1], row.base_us, fee, rules.ratio(row.tier.coefficient or 0)
        )
        steps.append(
            Msg(
                "f.coefficient",
                {
                    **money,
                    "down": f["downtime_seconds"],
                    "base": base,
                    "coefficient": f["coefficient"],
                    "exact": _decimal(Fraction(x * m, t), places),
                },
            )
        )
    else:
        pct = row.credit_pct
        if pct is None:
            steps.append(Msg("f.no_band"))
            return steps
        band = next(b for b in reversed(row.tier.bands) if b.credit_pct == pct)
        x, m, t = rules.credit_price(fee, rules.ratio(pct))
        steps.append(
            Msg(
                "f.credit",
                {
                    **money,
                    "below": rules.format_pct(band.below),
                    "pct": rules.format_pct(pct),
                    "exact": _decimal(Fraction(x * m, t), places),
                },
            )
        )
    if row.capped:
        cap = Fraction(*rules.cap_of(fee, rules.ratio(policy.cap_pct)))
        steps.append(
            Msg(
                "f.cap",
                {**money, "cap": rules.format_pct(policy.cap_pct), "exact": _decimal(cap, places)},
            )
        )
    if policy.min_credit and row.compensation == 0:
        steps.append(
            Msg("f.min_credit", {"min": rules.format_pct(policy.min_credit), "currency": cur})
        )
    steps.append(
        Msg(
            "f.rounded",
            {"places": rules.minor_unit(cur), "amount": f["compensation"], "currency": cur},
        )
    )
    return steps


def hours_msg(policy: Policy) -> Msg:
    """A policy's service hours as a message: ``working days 08:00–20:00``."""
    hours = policy.service_hours
    assert hours is not None
    end = "24:00" if hours.end_of_day else hours.end.strftime("%H:%M")
    return Msg(
        "hours",
        {"days": Msg(f"days.{hours.days}"), "start": hours.start.strftime("%H:%M"), "end": end},
    )


def _decimal(value: Fraction, places: int) -> str:
    """An exact value to ``places`` decimals, truncated, ``...`` marking that more digits
    follow (the text form is :func:`rules.decimal_texts`, the report's own)."""
    scaled = value * 10**places
    whole = scaled.numerator // scaled.denominator
    text = rules.decimal_texts([abs(whole)], places, strip=whole == scaled)[0].as_py()
    text = ("-" if whole < 0 else "") + text
    return text if whole == scaled else text + "…"


def _csv_text(value: Any) -> str:
    """A field value as the report's CSV writes it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def source_files(
    incidents: Sequence[str],
    *,
    contracts: str | None = None,
    holidays: str | None = None,
    stdin: bytes | None = None,
) -> list[InputFile]:
    """The digests of a run's input files, in the order they were named (the policy files
    are found by :func:`build_statements`)."""
    out = [input_file("incidents", p, stdin if p == STDIN else None) for p in incidents]
    if contracts:
        out.append(input_file("contracts", contracts, stdin if contracts == STDIN else None))
    if holidays:
        out.append(input_file("holidays", holidays))
    return out
