"""What a customer's monthly statement says, as values: the report's rows of the customer and
month, each row's explanation (incidents, merged intervals, exclusions, notes and formula), the
dispute deadlines with their escalation, the totals, the policies and the input files' digests;
and what makes it a finance document: the issuer (:mod:`slacalc.reading.issuer`), the
statement's number (:func:`statement_number`), the customer's display name and the period as
whole days.

:func:`build_statements` computes all of it, with the report's own code (one report of the
customers' month, :func:`~slacalc.computing.explain.month_report`, and one engine pass for the
explanations of all their rows, :func:`~slacalc.computing.explain.explain_rows`);
:mod:`slacalc.writing.statement` only formats the result, in English or Chinese.

    (statement,) = build_statements(table, settings, month=Month(2025, 5), contracts=book,
                                    customers=["acme"])
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, Any

import numpy as np

from slacalc.computing.explain import (
    Explanation,
    MergedWith,
    Note,
    Step,
    explain_rows,
    month_report,
)
from slacalc.computing.report import Deadline, Report, ReportRow
from slacalc.dates.instants import from_us, to_us
from slacalc.dates.months import Month
from slacalc.errors import UsageError
from slacalc.model.cells import CATEGORIES, DOWN_CODES
from slacalc.model.contracts import ContractBook
from slacalc.model.settings import Settings
from slacalc.model.table import NO_END, IncidentTable
from slacalc.reading.files import STDIN
from slacalc.reading.issuer import Issuer
from slacalc.terms.deadlines import escalation_at
from slacalc.terms.policy import PRESETS_DIR, Policy
from slacalc.version import __version__

if TYPE_CHECKING:
    from slacalc.computing.statement_ledger import CreditLine, CreditTotals

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
    "source_files",
    "statement_number",
]


@dataclass(frozen=True)
class InputFile:
    """One input file as both parties can check it: its role, name, size and SHA-256."""

    role: str  # incidents, contracts, policy, holidays, issuer
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


def source_files(
    incidents: Sequence[str],
    *,
    contracts: str | None = None,
    holidays: str | None = None,
    issuer: str | None = None,
    stdin: bytes | None = None,
) -> list[InputFile]:
    """The digests of a run's input files, in the order they were named (the policy files
    are found by :func:`build_statements`)."""
    out = [input_file("incidents", p, stdin if p == STDIN else None) for p in incidents]
    if contracts:
        out.append(input_file("contracts", contracts, stdin if contracts == STDIN else None))
    if holidays:
        out.append(input_file("holidays", holidays))
    if issuer:
        out.append(input_file("issuer", issuer))
    return out


NUMBER_PREFIX = "SLA"
NUMBER_SCHEME = "slacalc-statement-v1"  # part of what is hashed: a new scheme, new numbers
_NOT_SLUG = re.compile(r"[^A-Z0-9]+")


def statement_number(customer: str, month: Month, issuer: Issuer | None = None) -> str:
    """The statement's number: ``SLA-2025-05-ACME-1A2B3C4D``. The same issuer, customer and
    month always give the same number, and no two of them share one.

    ``SLA``, the month, up to 12 letters and digits of the customer id (upper-cased; ``X``
    when it has none), and the first 8 hex digits (upper-case) of the SHA-256 of
    ``slacalc-statement-v1 NUL <issuer key> NUL <customer id> NUL <YYYY-MM>`` in UTF-8, where
    the issuer key is its tax id, else its name, else empty (no issuer). The hash is what tells
    apart ids that read alike (``acme`` and ``ACME``) and issuers."""
    slug = _NOT_SLUG.sub("", customer.upper())[:12] or "X"
    key = issuer.key if issuer is not None else ""
    text = "\x00".join([NUMBER_SCHEME, key, customer, month.text])
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:8].upper()
    return f"{NUMBER_PREFIX}-{month.year:04d}-{month.month:02d}-{slug}-{digest}"


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
    notes: tuple[Note, ...]

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
    notes: tuple[Note, ...]  # of the month: the period, the outage rules
    formula: tuple[Step, ...]
    # what the ledger knows of its credit (statement_ledger.attach_ledger); None: no ledger
    # was read, or the service is met and has no credit
    credit: CreditLine | None = None


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
    issuer: Issuer | None = None  # None: the statement says it has none
    display_name: str | None = None  # the customer's name, beside its id
    ledger: str | None = None  # the ledger read (statement_ledger.attach_ledger); None: none
    credits: list[CreditLine] = field(default_factory=list)  # what the ledger knows, by service
    version: str = __version__

    @property
    def number(self) -> str:
        """The statement's number (:func:`statement_number`)."""
        return statement_number(self.customer, self.month, self.issuer)

    @property
    def period(self) -> tuple[int, int]:
        """The month's instants, ``[start, end)``."""
        return self.month.bounds(self.settings.tz)

    @property
    def days(self) -> tuple[date, date]:
        """The month as whole days, both included: ``(1 May 2025, 31 May 2025)``."""
        first = self.month.first_day()
        return first, self.month.next().first_day() - timedelta(days=1)

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

    def credit_totals(self) -> list[CreditTotals]:
        """With a ledger: per currency, what the statement computes, what the ledger approved
        and what it issued (:func:`~slacalc.computing.statement_ledger.totals`)."""
        from slacalc.computing.statement_ledger import totals

        return totals(self.credits)

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
    issuer: Issuer | None = None,
    display_names: Mapping[str, str] | None = None,
    keep: tuple[Any, Any] | None = None,
    requests: Any = None,
    log: IncidentTable | None = None,
    warnings: list[str] | None = None,
) -> list[Statement]:
    """The statements of ``customers`` (default: every customer with a row) for ``month``:
    the report of their month, on their own rows (customer-wide ones included) and contracts,
    its deadlines, and every row explained (one engine pass for all of them).

    ``issuer``: who issues them (None: each statement says it names no issuer);
    ``display_names``: customer id → the name shown beside it (an id without one, or with an
    empty one, is shown alone). ``log``: the table as read, when ``table`` was made from it
    (zones counted, composites made); ``warnings``: the month's warnings when ``table`` is a
    part of the log (a bucket of customers), said of the whole log."""
    report = month_report(
        table,
        settings,
        month=month,
        contracts=contracts,
        customers=customers,
        keep=keep,
        requests=requests,
        log=log,
    )
    keys_of = _keys_by_customer(report, contracts.composites if contracts is not None else {})
    if customers is None:
        customers = list(keys_of)
    missing = [c for c in customers if c not in keys_of]
    if missing:
        _no_row(missing[0], month, contracts)
    rows = [k for customer in customers for k in keys_of[customer]]
    explained = dict(zip(rows, explain_rows(report, rows), strict=True))
    given = list(inputs)
    deadlines_of: dict[str, list[DeadlineLine]] = {}
    for d in report.deadlines:
        deadlines_of.setdefault(d.customer_id, []).append(DeadlineLine(d, _escalation(d)))
    out = []
    for customer in customers:
        services = [_service(explained[k]) for k in keys_of[customer]]
        deadlines = deadlines_of.get(customer, [])
        files = [*given, *_policy_files((s.row.policy for s in services), given)]
        years = {day.year for line in deadlines for day in line.deadline.working_days}
        if any(s.row.claim_opens is not None for s in services):
            years |= report.calendar_years(deadlines=False)
        out.append(
            Statement(
                customer,
                month,
                settings,
                services,
                deadlines,
                files,
                report.warnings if warnings is None else warnings,
                years,
                issuer=issuer,
                display_name=_display_name(display_names, customer),
            )
        )
    return out


def _display_name(names: Mapping[str, str] | None, customer: str) -> str | None:
    name = (names or {}).get(customer)
    return name.strip() or None if isinstance(name, str) else None


def _keys_by_customer(report: Report, composites: Mapping | None = None) -> dict[str, list[int]]:
    """Each customer's report keys (one month: a key's row is its index), its composite
    services first (a composite's parts follow it as services of their own)."""
    out: dict[str, list[int]] = {}
    keys = report.keys if report.months else []
    for k, (customer, _) in enumerate(keys):
        out.setdefault(customer, []).append(k)
    if composites:
        for mine in out.values():
            mine.sort(key=lambda k: keys[k] not in composites)  # stable: sorted within each
    return out


def _no_row(customer: str, month: Month, contracts: ContractBook | None) -> None:
    """The usage error for a customer without a row: no incident of theirs touches the month
    and no contract names them (the log read may hold only the customers asked for, so
    others are not listed)."""
    why = "no incident of it touches the month" + (
        " and no contract names it" if contracts is not None else " (and no --contracts given)"
    )
    raise UsageError(f"no report row for customer '{customer}' in {month}: {why}")


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


def _service(ex: Explanation) -> ServiceStatement:
    idents = _idents(ex.table)
    runs = [
        Run(
            r.number,
            r.start,
            r.end,
            r.length,
            r.downtime,
            r.counted,
            tuple(idents[i][0] for i in r.incidents),
        )
        for r in ex.runs
    ]
    return ServiceStatement(
        row=ex.row,
        stretches=_stretches(ex),
        runs=runs,
        windows=_windows(ex),
        incidents=_incidents(ex, idents),
        outside=int(np.count_nonzero(ex.clipped_start < 0)),
        notes=ex.month_notes,
        formula=ex.formula,
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


def _idents(t: IncidentTable) -> list[tuple[str, bool]]:
    """Each incident's id, or where it was read (``file:line``) when it has none."""
    out = []
    for r, ident in enumerate(t.incident_id.to_pylist()):
        ident = (ident or "").strip()
        out.append((ident, True) if ident else (t.where(r), False))
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


def _incidents(ex: Explanation, idents: list[tuple[str, bool]]) -> list[IncidentLine]:
    """The incidents inside the month, each with explain's notes, then whom it was merged with
    and what the outage rules made of its intervals."""
    t = ex.table
    inside = np.flatnonzero(ex.clipped_start >= 0)
    starts = t.start_text.take(inside).to_pylist() if t.start_text is not None else None
    ends = t.end_text.take(inside).to_pylist() if t.end_text is not None else None
    runs_of: dict[int, list[int]] = {}
    for r in ex.runs:
        for i in r.incidents:
            runs_of.setdefault(i, []).append(r.number - 1)
    out = []
    for j, i in enumerate(inside.tolist()):
        mine = runs_of.get(i, [])
        notes = list(ex.notes[i])
        ident = idents[i][0]
        others = sorted({idents[o][0] for x in mine for o in ex.runs[x].incidents} - {ident})
        if others:
            notes.append(MergedWith(tuple(others)))
        for x in mine:  # what the outage rules made of its intervals
            notes.extend(ex.runs[x].notes)
        end_text = ((ends[j] or "").strip() if ends else "") if int(t.end[i]) != NO_END else ""
        out.append(
            IncidentLine(
                ident=ident,
                has_id=idents[i][1],
                category=CATEGORIES[int(t.category[i])],
                impact=t.impacts[int(t.impact[i])],
                start_text=(starts[j] or "").strip() if starts else "",
                end_text=end_text,
                counted_start=int(ex.clipped_start[i]),
                counted_end=int(ex.clipped_end[i]),
                excluded_us=int(ex.excluded_us[i]),
                runs=tuple(ex.runs[x].number for x in mine),
                notes=tuple(notes),
            )
        )
    return out
