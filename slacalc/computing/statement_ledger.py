"""What the compensation ledger knows of a statement's credits, as values.

A statement made with a ledger (``slacalc statement --ledger PATH|URL``) shows, beside each
service's compensation, the ledger's credit for that customer, service and month: its id and
status (claimed with its reference and date, approved in full or in part, denied with its
reason, issued with its document number, applied, expired), what the ledger's caps cut, its
adjustments and its form; a breached service the ledger has no credit for is "not yet
posted". :func:`attach_ledger` reads the ledger (read-only: nothing is migrated, expired or
written) and :func:`credit_lines` builds the lines; the writers only format them.

    statements = attach_ledger(statements, "ledger.db")
    for line in statements[0].credits:
        print(line.service, line.credit.status if line.credit else "not yet posted")
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Any

from slacalc.dates.instants import parse_instant

# A statement (slacalc.computing.statements.Statement) by its role here: that module imports
# this one for the credit lines it holds, so this one names it without importing it.
Statement = Any

__all__ = [
    "Adjustment",
    "CreditLine",
    "CreditTotals",
    "LedgerCredit",
    "attach_ledger",
    "credit_lines",
    "read_ledger",
]

# The states whose approved amount is owed, and those that are paid (as slacalc.ledger.credits
# names them; the ledger's package is imported only when a ledger is read).
APPROVED_STATES = ("approved", "issued", "applied")
PAID_STATES = ("issued", "applied")


@dataclass(frozen=True)
class Adjustment:
    """A change to a credit already issued: the difference, the amounts around it, and why."""

    at: int | None
    delta: Decimal
    before: Decimal
    after: Decimal
    reason: str


@dataclass(frozen=True)
class LedgerCredit:
    """One credit as the ledger holds it. ``record`` is the credit as ``slacalc ledger list``
    writes it (every field as text): the page's machine-readable values."""

    record: dict[str, str]
    status: str
    since: int | None  # when it reached its status (the event that moved it there)
    claimed_at: int | None
    voucher_expires: date | None
    adjustments: tuple[Adjustment, ...]

    @property
    def credit_id(self) -> str:
        return self.record["credit_id"]

    @property
    def currency(self) -> str:
        return self.record["currency"]

    def _money(self, name: str) -> Decimal:
        return _decimal(self.record.get(name, ""))

    @property
    def computed(self) -> Decimal:
        """What the report computed when the credit was posted."""
        return self._money("computed")

    @property
    def cut(self) -> Decimal:
        """What the ledger's caps cut from it (``cut_by`` names them)."""
        return self._money("cut")

    @property
    def cut_by(self) -> tuple[str, ...]:
        return tuple(self.record.get("cut_by", "").split())

    @property
    def amount(self) -> Decimal:
        """What is owed after the caps."""
        return self._money("amount")

    @property
    def approved(self) -> Decimal:
        """The approved amount: what the credit pays once approved, issued or applied; 0
        before approval, once denied or expired."""
        if self.status not in APPROVED_STATES:
            return Decimal(0)
        return self._money("approved") if self.record.get("approved") else self.amount

    @property
    def partial(self) -> bool:
        """Approved for less than what is owed."""
        return bool(self.record.get("approved")) and self._money("approved") < self.amount

    @property
    def issued(self) -> Decimal:
        """What was issued: the approved amount with its adjustments, once issued or applied."""
        return self._money("net") if self.status in PAID_STATES else Decimal(0)

    @property
    def adjusted(self) -> Decimal:
        return self._money("adjusted")

    @property
    def form(self) -> str:
        return self.record["form"]

    @property
    def extension_days(self) -> int | None:
        text = str(self.record.get("extension_days", ""))
        return int(text) if text.isdigit() else None

    @property
    def grant(self) -> str:
        return self.record.get("grant", "")


@dataclass(frozen=True)
class CreditLine:
    """A service's compensation beside what the ledger knows of it: ``credit`` None, the
    ledger has no credit for it (not yet posted)."""

    service: str
    currency: str
    computed: Decimal  # the statement's compensation (the ledger's, for a credit without a row)
    credit: LedgerCredit | None
    has_row: bool = True  # False: a credit of the month for a service the statement has no row of

    @property
    def posted(self) -> bool:
        return self.credit is not None

    @property
    def differs(self) -> bool:
        """The ledger last found another amount than the statement computes: the month
        changed since it was last posted (post it again). What it last found is the computed
        amount, or, once issued and adjusted, the last adjustment's amount (with the cut)."""
        c = self.credit
        if c is None or not self.has_row:
            return False
        found = c.adjustments[-1].after + c.cut if c.adjustments else c.computed
        return c.currency != self.currency or found != self.computed

    @property
    def approved(self) -> Decimal:
        return self.credit.approved if self.credit is not None else Decimal(0)

    @property
    def issued(self) -> Decimal:
        return self.credit.issued if self.credit is not None else Decimal(0)


@dataclass(frozen=True)
class CreditTotals:
    """One currency's credits on a statement: computed, approved and issued."""

    currency: str
    computed: Decimal
    approved: Decimal
    issued: Decimal


def totals(lines: Sequence[CreditLine]) -> list[CreditTotals]:
    """Per currency, in the order currencies first appear: what the statement computes, what
    the ledger approved and what it issued (with adjustments)."""
    out: dict[str, list[Decimal]] = {}
    for line in lines:
        currency = line.credit.currency if line.credit is not None else line.currency
        sums = out.setdefault(currency, [Decimal(0)] * 3)
        if line.credit is None or line.credit.currency == line.currency:
            sums[0] += line.computed
        else:  # posted in another currency: the ledger's own figure counts in its currency
            sums[0] += line.credit.computed
        sums[1] += line.approved
        sums[2] += line.issued
    return [CreditTotals(cur, *sums) for cur, sums in out.items()]


# --- building the lines (pure) ------------------------------------------------------------------


def credit_lines(
    statement: Statement, histories: Sequence[dict[str, Any]], tz: tzinfo
) -> list[CreditLine]:
    """The statement's credit lines: each service's row beside its credit in ``histories``
    (the ledger's :meth:`~slacalc.ledger.Ledger.history` of each credit of the customer and
    month), then the credits of the month whose service has no row on the statement."""
    by_service = {h["service"]: h for h in histories}
    out = []
    for s in statement.services:
        found = by_service.pop(s.row.service, None)
        if found is None and not s.row.breached:
            continue  # met, and nothing in the ledger: no credit to speak of
        credit = None if found is None else ledger_credit(found, tz)
        out.append(CreditLine(s.row.service, s.row.currency, s.row.compensation, credit))
    for service, found in by_service.items():
        credit = ledger_credit(found, tz)
        out.append(CreditLine(service, credit.currency, credit.computed, credit, has_row=False))
    return out


def ledger_credit(history: dict[str, Any], tz: tzinfo) -> LedgerCredit:
    """A credit's history (:meth:`~slacalc.ledger.Ledger.history`) as the statement's values."""
    record = {k: "" if v is None else str(v) for k, v in history.items() if _is_field(k, v)}
    status = record["status"]
    since = None
    for event in history.get("events", []):
        if event.get("to_status") == status and event.get("from_status") != status:
            since = _instant(event.get("at"), tz)
    adjustments = tuple(
        Adjustment(
            at=_instant(a.get("at"), tz),
            delta=_decimal(a.get("delta")),
            before=_decimal(a.get("amount_before")),
            after=_decimal(a.get("amount_after")),
            reason=str(a.get("reason") or ""),
        )
        for a in history.get("adjustments", [])
    )
    return LedgerCredit(
        record=record,
        status=status,
        since=since,
        claimed_at=_instant(record.get("claimed_at"), tz),
        voucher_expires=_date(record.get("voucher_expires", "")),
        adjustments=adjustments,
    )


def _is_field(name: str, value: Any) -> bool:
    return name not in ("evidence", "events", "adjustments", "disputes") and not isinstance(
        value, (dict, list)
    )


def _decimal(text: Any) -> Decimal:
    try:
        return Decimal(str(text)) if text not in (None, "") else Decimal(0)
    except InvalidOperation:
        return Decimal(0)


def _instant(text: Any, tz: tzinfo) -> int | None:
    if not text:
        return None
    try:
        return parse_instant(str(text), tz)
    except (ValueError, OverflowError):
        return None


def _date(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip()) if text.strip() else None
    except ValueError:
        return None  # shown as the ledger holds it


# --- reading the ledger, read-only ---------------------------------------------------------------


def attach_ledger(statements: Sequence[Statement], target: str) -> list[Statement]:
    """The statements with what the ledger at ``target`` (a SQLite file or a
    ``postgresql://`` URL) knows of their credits. The ledger is opened read-only: it is
    never migrated, expired or written, and a ledger that does not exist is an error."""
    if not statements:
        return []
    wanted = sorted({s.customer for s in statements})
    months = sorted({s.month.text for s in statements})
    tz = statements[0].settings.tz
    with read_ledger(target, tz) as ledger:
        found = list(_histories(ledger, wanted, months))
        name = ledger.db.name
    out = []
    for s in statements:
        mine = [h for h in found if h["customer_id"] == s.customer and h["month"] == s.month.text]
        lines = credit_lines(s, mine, tz)
        by_service = {line.service: line for line in lines if line.has_row}
        services = [replace(svc, credit=by_service.get(svc.row.service)) for svc in s.services]
        out.append(replace(s, services=services, ledger=name, credits=lines))
    return out


def _histories(ledger: Any, customers: list[str], months: list[str]) -> Iterator[dict[str, Any]]:
    for record in ledger.credits(customer=customers, month=months):
        yield ledger.history(record["credit_id"])


def read_ledger(target: str, tz: tzinfo | None = None) -> Any:
    """The ledger at ``target``, opened read-only (a context manager): its read methods
    (``credits``, ``history``) work and nothing can write. A missing file, a database that is
    no ledger, or a ledger of another schema version than this slacalc's is a LedgerError
    (exit 1): a statement never makes or migrates a ledger."""
    from slacalc.ledger.store import Ledger  # the store alone: the package's post() runs reports

    return Ledger(target, actor="statement", tz=tz, read_only=True)
