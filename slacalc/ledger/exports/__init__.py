"""Billing-system exports of the ledger's credits, and the document ids coming back.

::

    from slacalc.ledger import Ledger
    from slacalc.ledger.exports import export, record

    with Ledger("ledger.db") as ledger:
        done = export(ledger, "stripe", as_of=as_of)      # the items, the text, warnings
        print(done.text, end="")
        record(ledger, done.items, as_of=as_of)            # an ``exported`` event on each

One module per system turns export items (:class:`~slacalc.ledger.exports.core.Item`) into
what that system takes in: API requests as JSON Lines (``stripe``, ``lago``, ``killbill``),
a bulk-import CSV (``chargebee``, ``zuora``) or one UBL 2.1 CreditNote per credit (``ubl``).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from slacalc.errors import UsageError
from slacalc.ledger.exports import chargebee, killbill, lago, stripe, ubl, zuora
from slacalc.ledger.exports.core import Item, record, select, with_ids
from slacalc.writing.csvjson import write_csv

SYSTEMS: dict[str, ModuleType] = {
    "stripe": stripe,
    "lago": lago,
    "killbill": killbill,
    "chargebee": chargebee,
    "zuora": zuora,
    "ubl": ubl,
}

__all__ = ["SYSTEMS", "Export", "export", "record"]


@dataclass
class Export:
    """What an export writes: ``text`` (JSON Lines or CSV), or ``files`` (UBL: name, XML),
    the items it carries, and the warnings (credits left out, and why)."""

    system: str
    items: list[Item]
    text: str = ""
    files: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def export(
    ledger: Any,
    system: str,
    *,
    as_of: int,
    statuses: list[str] | None = None,
    customers: list[str] | None = None,
    months: list[str] | None = None,
    mapping: Any = None,
    issuer: Any = None,
    raw_csv: bool = False,
) -> Export:
    """The documents ``system`` takes in for the credits that need one (see
    :func:`~slacalc.ledger.exports.core.select`), with the map's ids. Reads only."""
    module = SYSTEMS.get(system)
    if module is None:
        raise UsageError(f"--to '{system}': expected one of {', '.join(SYSTEMS)}")
    if module is ubl and issuer is None:
        raise UsageError("--to ubl: a credit note names its supplier: give --issuer FILE")
    found, warnings = select(
        ledger, system=system, statuses=statuses, customers=customers, months=months, as_of=as_of
    )
    items = with_ids(found, mapping)
    done = Export(system, [], warnings=warnings)
    if module.FORMAT == "jsonl":
        from slacalc.ledger.exports.requests import write_lines

        lines = []
        for item in items:
            req, why = module.requests(item)
            if req is None:
                done.warnings.append(why or f"credit '{item.credit_id}': not exported")
                continue
            lines.append(req)
            done.items.append(item)
        buffer = io.StringIO()
        write_lines(lines, buffer)
        done.text = buffer.getvalue()
    elif module.FORMAT == "csv":
        rows = []
        for item in items:
            note = getattr(module, "warning", lambda _: None)(item)
            if note:
                done.warnings.append(note)
            rows.append(module.row(item))
            done.items.append(item)
        buffer = io.StringIO()
        write_csv(rows, module.FIELDS, buffer, text_fields=module.TEXT_FIELDS, raw=raw_csv)
        done.text = buffer.getvalue()
    else:
        done.items = items
        done.files = [(ubl.file_name(i), ubl.document(i, issuer)) for i in items]
    return done
