"""What an export takes from the ledger: which credits need a billing document, their stable
idempotency keys, and the billing system's ids from the map. Pure, apart from :func:`select`
and :func:`record`, which read and write the ledger.

An export item is one billing document to make: a credit's approved amount (``kind``
``credit``), or a positive adjustment of a credit already issued (``kind`` ``adjustment``).
Its key is derived from the system, the credit, the kind, the adjustment's number and the
amount in minor units: the same ledger exported twice gives the same keys, a changed amount a
new one.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Any

from slacalc.errors import UsageError
from slacalc.ledger import credits as cr
from slacalc.terms import money

CREDIT, ADJUSTMENT = "credit", "adjustment"
EXPORTED, DOCUMENTED = "exported", "documented"  # the events an export and an import write
# The states whose approved amount a billing document can carry.
EXPORTABLE = (cr.APPROVED, cr.ISSUED, cr.APPLIED)


@dataclass(frozen=True)
class Item:
    """One billing document to make, with everything a system's layout needs."""

    system: str
    key: str
    kind: str  # credit | adjustment
    adjustment: int | None  # the adjustment's number (its seq), for kind adjustment
    credit_id: str
    customer_id: str
    service: str
    month: str
    status: str
    currency: str
    places: int  # the currency's ISO 4217 decimals, as the ledger keeps its minor units
    amount: Decimal  # exact, with the currency's decimals
    minor: int  # the amount in ISO minor units
    form: str
    extension_days: int | None
    grant: str
    voucher_expires: str
    effective: date  # the export's day (--as-of in the ledger's zone)
    effective_s: int  # --as-of in epoch seconds
    account_id: str = ""
    invoice_id: str = ""
    charge_id: str = ""
    wallet_id: str = ""

    @property
    def description(self) -> str:
        """What the document says it is, in one line."""
        text = f"SLA credit {self.credit_id} ({self.service}, {self.month})"
        if self.kind == ADJUSTMENT:
            text += f", adjustment {self.adjustment}"
        if self.form == cr.EXTENSION and self.extension_days:
            text += f": {self.extension_days} days of service added"
        elif self.form == cr.GRANT and self.grant:
            text += f": {self.grant} granted"
        elif self.form == cr.VOUCHER:
            text += ": voucher" + (
                f" expiring {self.voucher_expires}" if self.voucher_expires else ""
            )
        return text


def idempotency_key(
    system: str, credit_id: str, kind: str, adjustment: int | None, currency: str, minor: int
) -> str:
    """A stable key for one document: the same inputs give the same key, another amount
    another key. ``slacalc_`` and 32 hex digits (fits every system's limit, 255 at Stripe)."""
    text = "\0".join((system, credit_id, kind, str(adjustment or 0), currency, str(minor)))
    return "slacalc_" + hashlib.sha256(text.encode()).hexdigest()[:32]


def scaled(amount: Decimal, places: int, *, what: str) -> int:
    """``amount`` in units of ``10**-places``, exactly; a UsageError when it has more decimals
    than the system takes (nothing is rounded on the way to a bill)."""
    units = amount.scaleb(places)
    if units != units.to_integral_value():
        raise UsageError(f"{what}: {amount:f} has more decimals than the system's {places}")
    return int(units)


def select(
    ledger: Any,
    *,
    system: str,
    statuses: list[str] | None,
    customers: list[str] | None,
    months: list[str] | None,
    as_of: int,
) -> tuple[list[Item], list[str]]:
    """The documents to make, in month, customer, service order, and warnings.

    By default: every ``approved`` credit (until its document id comes back through
    ``ledger import-ids``), and every positive adjustment of an ``issued`` or ``applied``
    credit that has no document yet. ``statuses`` (approved, issued, applied) chooses whose
    approved amounts are exported instead; adjustments follow the issued and applied ones."""
    from slacalc.dates.instants import from_us

    given = list(statuses or [])
    wrong = [s for s in given if s not in EXPORTABLE]
    if wrong:
        raise UsageError(
            f"--status {wrong[0]}: a {wrong[0]} credit has no billing document to make "
            f"(export: {', '.join(EXPORTABLE)})"
        )
    base = set(given or [cr.APPROVED])
    adjusted = set(given or cr.PAID_STATES) & set(cr.PAID_STATES)
    where, params = [], []
    for column, values in (("customer_id", customers), ("month", months)):
        if values:
            where.append(f"{column} IN ({', '.join('?' for _ in values)})")
            params += values
    sql = "SELECT * FROM credits" + (" WHERE " + " AND ".join(where) if where else "")
    rows = ledger.db.rows(sql + " ORDER BY month, customer_id, service", params)
    moment = from_us(as_of, ledger.tz)
    day, seconds = moment.date(), as_of // 1_000_000
    documented = _documented_adjustments(ledger)
    items, warnings = [], []
    for row in rows:
        common = {
            "system": system,
            "credit_id": row["id"],
            "customer_id": row["customer_id"],
            "service": row["service"],
            "month": row["month"],
            "status": row["status"],
            "currency": row["currency"],
            "places": money.minor_unit(row["currency"]),
            "form": row["form"],
            "extension_days": row["extension_days"],
            "grant": row["grant_detail"] or "",
            "voucher_expires": row["voucher_expires"] or "",
            "effective": day,
            "effective_s": seconds,
        }
        if row["status"] in base and row["approved_minor"]:
            items.append(_item(common, CREDIT, None, Decimal(row["approved"])))
        if row["status"] not in adjusted:
            continue
        for adj in ledger.db.rows(
            "SELECT seq, delta, delta_minor FROM adjustments WHERE credit_id = ? ORDER BY seq",
            (row["id"],),
        ):
            if adj["seq"] in documented:
                continue
            if adj["delta_minor"] < 0:
                warnings.append(
                    f"credit '{row['id']}': adjustment {adj['seq']} lowers it by "
                    f"{adj['delta'].lstrip('-')} {row['currency']}: that is a debit to the "
                    "customer, not a credit document; not exported"
                )
                continue
            if adj["delta_minor"]:
                items.append(_item(common, ADJUSTMENT, adj["seq"], Decimal(adj["delta"])))
    return items, warnings


def _item(common: dict[str, Any], kind: str, seq: int | None, amount: Decimal) -> Item:
    places = common["places"]
    minor = scaled(amount, places, what=f"credit '{common['credit_id']}'")
    key = idempotency_key(
        common["system"], common["credit_id"], kind, seq, common["currency"], minor
    )
    return Item(key=key, kind=kind, adjustment=seq, amount=amount, minor=minor, **common)


def _documented_adjustments(ledger: Any) -> set[int]:
    """The adjustments (their seq) whose document id came back through ``import-ids``."""
    out = set()
    for row in ledger.db.rows("SELECT detail FROM events WHERE what = ?", (DOCUMENTED,)):
        detail = json.loads(row["detail"] or "{}")
        if detail.get("adjustment") is not None:
            out.add(int(detail["adjustment"]))
    return out


def with_ids(items: list[Item], mapping: Any) -> list[Item]:
    """Each item with the billing system's ids from the map (``--map``); without a row for its
    customer the customer id is the account id and no invoice is referenced."""
    out = []
    for item in items:
        found = mapping.lookup(item.customer_id, item.month) if mapping is not None else None
        if found is None:
            out.append(replace(item, account_id=item.customer_id))
            continue
        out.append(
            replace(
                item,
                account_id=found.account_id or item.customer_id,
                invoice_id=found.invoice_id,
                charge_id=found.charge_id,
                wallet_id=found.wallet_id,
            )
        )
    return out


def record(ledger: Any, items: list[Item], *, as_of: int) -> int:
    """One ``exported`` event per item whose key the ledger has not recorded yet (system,
    key, kind, amount), in one transaction; how many were new. Exporting again is silent."""
    with ledger.transaction():
        known = exported_keys(ledger)
        new = 0
        for item in items:
            if item.key in known:
                continue
            ledger.note(
                item.credit_id,
                EXPORTED,
                amount=f"{item.amount:f}",
                reason=f"exported to {item.system} as {item.kind}"
                + (f" {item.adjustment}" if item.adjustment else "")
                + f" (idempotency key {item.key})",
                detail={
                    "system": item.system,
                    "idempotency_key": item.key,
                    "kind": item.kind,
                    "adjustment": item.adjustment,
                    "amount": f"{item.amount:f}",
                    "currency": item.currency,
                },
            )
            known[item.key] = {"credit_id": item.credit_id}
            new += 1
    return new


def exported_keys(ledger: Any) -> dict[str, dict[str, Any]]:
    """Every key an export recorded: its event's detail, with the credit's id."""
    out: dict[str, dict[str, Any]] = {}
    for row in ledger.db.rows(
        "SELECT credit_id, detail FROM events WHERE what = ? ORDER BY seq", (EXPORTED,)
    ):
        detail = json.loads(row["detail"] or "{}")
        if "idempotency_key" in detail:
            out.setdefault(detail["idempotency_key"], {**detail, "credit_id": row["credit_id"]})
    return out
