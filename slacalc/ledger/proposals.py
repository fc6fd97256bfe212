"""What a post proposes: one :class:`Proposal` per report row, with its evidence.

Rows come from a run of :func:`slacalc.report` (in memory) or from a report file as
``slacalc report -f csv|json`` writes it (``--from-report``). Both are read the same way, from
the report's fields as text; a run adds the incidents behind each row, taken from the
report's own incident table (:attr:`KeyPlan.table`: the log as the engine counted it, the
customer-wide ``*`` rows merged into the keys they reach): the outage and data-loss rows of
the row's key that overlap its month by more than zero, the rows ``incident_count`` counts.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from slacalc.computing.fields import FIELDS
from slacalc.dates.instants import parse_datetime, to_us
from slacalc.dates.months import Month
from slacalc.errors import InputError, Problem, UsageError, printable
from slacalc.ledger.credits import CASH, FORMS, parse_form
from slacalc.terms import money
from slacalc.terms.policy import Policy, load_policy

# The fields a report file must have for a post (the rest are kept as evidence when present).
NEEDED = (
    "customer_id",
    "service",
    "month",
    "breached",
    "monthly_fee",
    "compensation",
    "currency",
    "capped",
    "compensation_due_at",
    "status",
    "credit_form",
    "claim_opens_at",
    "claim_closes_at",
    "policy",
)
# Fields that depend on --as-of alone, not on what was owed: left out of a credit's fingerprint.
VOLATILE = ("claim_status",)


@dataclass
class Proposal:
    """One report row as the ledger reads it."""

    customer_id: str
    service: str
    month: str
    breached: bool
    compensation: Decimal
    currency: str
    monthly_fee: Decimal
    capped: bool
    report_status: str  # final or provisional
    policy_name: str
    policy: Policy | None  # None: a report file's policy the ledger could not load
    credit_form: str
    due_us: int | None
    due_at: str
    claim_opens_us: int | None
    claim_opens_at: str
    claim_closes_us: int | None
    claim_closes_at: str
    row: dict[str, Any]  # the report row's fields, as the report's JSON has them
    incidents: list[str] | None = None  # None: not known (a post from a report file)
    line: int | None = None  # the report file's line, for messages

    @property
    def auto_approve(self) -> bool:
        """Whether the credit is approved with no claim: its policy has no claim window."""
        if self.policy is not None:
            return self.policy.claim_window is None
        return not self.claim_closes_at

    @property
    def places(self) -> int:
        return money.minor_unit(self.currency)


@dataclass
class Post:
    """Everything one post proposes, and what it was computed from."""

    proposals: list[Proposal]
    inputs: list[dict[str, Any]]  # each input file: its name and SHA-256
    source: str  # "incidents" or "report"
    warnings: list[str] = field(default_factory=list)


def file_sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def input_digests(paths: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """``(role, path)`` pairs as evidence: each file's name, role and SHA-256."""
    out = []
    for role, path in paths:
        if path == "-":
            raise UsageError(
                "a ledger post keeps the SHA-256 of every input: give a file, not standard input"
            )
        out.append({"role": role, "file": path, "sha256": file_sha256(path)})
    return out


# --- from a run --------------------------------------------------------------------------------


def from_run(run: Any, inputs: list[dict[str, Any]]) -> Post:
    """The proposals of a run in memory: its rows, each with its incidents and policy."""
    report = run.report
    records = report.records()
    n_m = len(report.months)
    incidents = _incidents_by_row(report, run.settings.as_of)
    proposals = []
    for i, rec in enumerate(records):
        k = i // n_m if n_m else 0
        proposal = _proposal(rec, report.contracts[k].policy, run.settings.tz, "report", None)
        proposal.incidents = incidents[i]
        proposals.append(proposal)
    return Post(proposals, inputs, "incidents", list(run.warnings))


def _incidents_by_row(report: Any, as_of: int) -> list[list[str]]:
    """Per report row, the ids of the incidents it counted (``FILE:LINE`` for a row without
    an id), in the order they were read."""
    import numpy as np

    from slacalc.computing.engine import effective_ends
    from slacalc.model.cells import DOWN_CODES

    plan, n_m = report.plan, len(report.months)
    table = plan.table
    out: list[list[str]] = [[] for _ in range(len(report))]
    if not len(table) or not n_m:
        return out
    ends = effective_ends(table, as_of)
    down = np.isin(table.category, DOWN_CODES)
    order = np.argsort(table.key, kind="stable")
    bounds = np.searchsorted(table.key[order], np.arange(table.n_keys + 1))
    ids = table.incident_id
    for k, source in enumerate(np.asarray(plan.source).tolist()):
        if source < 0:
            continue
        rows = order[bounds[source] : bounds[source + 1]]
        rows = rows[down[rows]]
        for j in range(n_m):
            lo, hi = report.starts[j], report.ends[j]
            hit = rows[
                (table.start[rows] < hi) & (ends[rows] > lo) & (ends[rows] > table.start[rows])
            ]
            out[k * n_m + j] = [_incident_name(table, ids, int(r)) for r in hit]
    return out


def _incident_name(table: Any, ids: Any, row: int) -> str:
    name = ids[row].as_py() or ""
    if name:
        return name
    return f"{table.files[int(table.file[row])]}:{int(table.line[row])}"


# --- from a report file ----------------------------------------------------------------------


def from_report_file(
    path: str, *, tz: ZoneInfo, policy: Policy | None, inputs: list[dict[str, Any]]
) -> Post:
    """The proposals of a report written by ``slacalc report -f csv|json``: every bad row is a
    ``FILE:LINE`` problem (exit 1). The policy of each row is ``policy`` (``--policy`` when
    given), else the built-in or preset its ``policy`` column names; a policy the ledger cannot
    load (a file's) prices no ledger cap, and a warning says so."""
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        raise InputError(Problem(path, None, f"cannot read: {exc.strerror}")) from None
    text = data.decode("utf-8-sig", errors="replace")
    records = _json_records(path, text) if text.lstrip().startswith("[") else _csv(path, text)
    problems: list[Problem] = []
    proposals: list[Proposal] = []
    unknown: set[str] = set()
    cache: dict[str, Policy | None] = {}
    for line, rec in records:
        missing = [f for f in NEEDED if f not in rec]
        if missing:
            problems.append(Problem(path, line, f"missing field(s): {', '.join(missing)}"))
            if len(problems) > 50:
                break
            continue
        name = str(rec["policy"] or "")
        pol = policy
        if pol is None:
            if name not in cache:
                try:
                    cache[name] = load_policy(name) if name else None
                except UsageError:
                    cache[name] = None
            pol = cache[name]
            if pol is None and name:
                unknown.add(name)
        try:
            proposals.append(_proposal(rec, pol, tz, path, line))
        except InputError as exc:
            problems.extend(exc.problems)
    if problems:
        raise InputError(problems)
    warnings = [
        f"policy '{printable(n)}' of {printable(path)} is not a built-in or preset: its ledger "
        "caps are not applied (give --policy FILE)"
        for n in sorted(unknown)
    ]
    return Post(proposals, inputs, "report", warnings)


def _json_records(path: str, text: str) -> list[tuple[int | None, dict[str, Any]]]:
    try:
        data = json.loads(text, parse_float=Decimal)
    except (ValueError, RecursionError) as exc:
        raise InputError(Problem(path, None, f"not a report: not valid JSON ({exc})")) from None
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise InputError(Problem(path, None, "not a report: expected a JSON list of objects"))
    return [(None, {k: "" if v is None else v for k, v in r.items()}) for r in data]


def _csv(path: str, text: str) -> list[tuple[int | None, dict[str, Any]]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise InputError(Problem(path, None, "not a report: the file is empty")) from None
    names = [h.strip().lower() for h in header]
    if "customer_id" not in names:
        raise InputError(
            Problem(path, 1, "not a report: no customer_id column (write it with -f csv)")
        )
    out = []
    for cells in reader:
        if not any(c.strip() for c in cells):
            continue
        line = reader.line_num
        out.append((line, {n: _unguarded(c) for n, c in zip(names, cells, strict=False)}))
    return out


def _unguarded(cell: str) -> str:
    """A report CSV's cell as its value: the formula guard (a leading ``'``) taken off."""
    if len(cell) > 1 and cell[0] == "'" and cell[1] in "=+-@\t\r":
        return cell[1:]
    return cell


# --- one row --------------------------------------------------------------------------------


def _proposal(
    rec: dict[str, Any], policy: Policy | None, tz: ZoneInfo, where: str, line: int | None
) -> Proposal:
    problems: list[Problem] = []

    def bad(column: str, message: str) -> None:
        problems.append(Problem(where, line, message, column, str(rec.get(column, ""))))

    def text(column: str) -> str:
        return str(rec.get(column, "") or "")

    try:
        currency = money.parse_currency(text("currency"))
    except ValueError as exc:
        bad("currency", str(exc))
        currency = "XXX"
    amounts = {}
    for column in ("compensation", "monthly_fee"):
        try:
            amounts[column] = money.parse_amount(text(column))
        except ValueError as exc:
            bad(column, str(exc))
            amounts[column] = Decimal(0)
    flags = {}
    for column in ("breached", "capped"):
        value = rec.get(column)
        if isinstance(value, bool):
            flags[column] = value
        elif text(column).lower() in ("true", "false"):
            flags[column] = text(column).lower() == "true"
        else:
            bad(column, "expected true or false")
            flags[column] = False
    try:
        Month.parse(text("month"))
    except ValueError as exc:
        bad("month", str(exc))
    if text("status") not in ("final", "provisional"):
        bad("status", "expected final or provisional")
    form = CASH
    if text("credit_form"):
        try:
            form = parse_form(text("credit_form"))
        except UsageError:
            bad("credit_form", f"expected one of {', '.join(FORMS)} (or refund, read as cash)")
    instants = {}
    for column in ("compensation_due_at", "claim_opens_at", "claim_closes_at"):
        try:
            instants[column] = to_us(parse_datetime(text(column), tz)) if text(column) else None
        except (ValueError, OverflowError) as exc:
            bad(column, str(exc))
            instants[column] = None
    if problems:
        raise InputError(problems)
    row = {f: rec[f] for f in FIELDS if f in rec}
    return Proposal(
        customer_id=text("customer_id"),
        service=text("service"),
        month=text("month"),
        breached=flags["breached"],
        compensation=money.to_money(amounts["compensation"], currency),
        currency=currency,
        monthly_fee=amounts["monthly_fee"],
        capped=flags["capped"],
        report_status=text("status"),
        policy_name=text("policy") or (policy.name if policy else ""),
        policy=policy,
        credit_form=form,  # the policy's: the credit's own form is set at approve or issue
        due_us=instants["compensation_due_at"],
        due_at=text("compensation_due_at"),
        claim_opens_us=instants["claim_opens_at"],
        claim_opens_at=text("claim_opens_at"),
        claim_closes_us=instants["claim_closes_at"],
        claim_closes_at=text("claim_closes_at"),
        row={k: _text(v) for k, v in row.items()},
        line=line,
    )


def _text(value: Any) -> str:
    """A report field as its CSV text: the same row read from a run, a CSV or a JSON report
    is the same evidence."""
    if value is None:
        return ""
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return f"{value:f}"
    return str(value)


def fingerprint(p: Proposal, amount: Decimal, cut_by: tuple[str, ...]) -> str:
    """What a post found for a key and month, hashed: the same inputs give the same print,
    and a re-post that finds the same print changes nothing."""
    row = {k: v for k, v in p.row.items() if k not in VOLATILE}
    body = {
        "row": row,
        "incidents": p.incidents,
        "policy": p.policy_name,
        "amount": f"{amount:f}",
        "cut_by": list(cut_by),
    }
    text = json.dumps(body, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
