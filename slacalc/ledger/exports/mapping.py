"""``--map FILE``: slacalc's customers (and, optionally, months) to a billing system's ids.

A CSV with a header line; ``customer_id`` is required, every other column optional::

    customer_id,month,account_id,invoice_id,charge_id,wallet_id
    acme,,cus_Q1acme,,,
    acme,2025-05,cus_Q1acme,in_1PQacme05,il_1PQacme05,
    globex,,7f3c9a2e-7b1d-4c51-9d0e-1f2a3b4c5d6e,,,

- ``account_id``: the customer or account in the billing system (Stripe ``cus_...``, Lago's
  ``external_customer_id``, Kill Bill's ``accountId``, Chargebee's customer id, Zuora's account
  number). Default: slacalc's customer id.
- ``invoice_id``: the invoice the credit refers to (a credit note then, with a
  ``BillingReference`` in UBL). Empty: no invoice (a balance credit).
- ``charge_id``: the invoice line the credit is against: Stripe's invoice line item, Lago's
  ``fee_id``, Zuora's product rate plan charge.
- ``wallet_id``: Lago's wallet, for a credit with no invoice (a wallet top-up).

A row with a ``month`` (YYYY-MM) applies to that month's credits, one without to all the
customer's others. Problems are collected and reported together, ``FILE:LINE: column ...``.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

from slacalc.errors import InputError, Problem, printable

COLUMNS = ("customer_id", "month", "account_id", "invoice_id", "charge_id", "wallet_id")
MAX_MAP_BYTES = 64 << 20
_MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")


@dataclass(frozen=True)
class Ids:
    """A customer's ids in the billing system (empty: not given)."""

    account_id: str = ""
    invoice_id: str = ""
    charge_id: str = ""
    wallet_id: str = ""


class Mapping:
    """The map's rows by (customer, month); month "" for a customer's every month."""

    def __init__(self, rows: dict[tuple[str, str], Ids]) -> None:
        self.rows = rows

    def lookup(self, customer_id: str, month: str) -> Ids | None:
        return self.rows.get((customer_id, month)) or self.rows.get((customer_id, ""))


def read_map(path: str) -> Mapping:
    """Read and check a map file (see the module's doc). Raises InputError."""
    from slacalc.reading.files import read_small_text

    name = printable(path)
    text = read_small_text(path, limit=MAX_MAP_BYTES, what="a map file")
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if not header:
        raise InputError(Problem(name, 1, f"empty: expected a header line ({','.join(COLUMNS)})"))
    header = [h.strip() for h in header]
    problems = [
        Problem(name, 1, f"unknown column (known: {', '.join(COLUMNS)})", column=h)
        for h in header
        if h not in COLUMNS
    ]
    if "customer_id" not in header:
        problems.append(Problem(name, 1, "the column 'customer_id' is required"))
    if problems:
        raise InputError(problems)
    rows: dict[tuple[str, str], Ids] = {}
    seen: dict[tuple[str, str], int] = {}
    for fields in reader:
        line = reader.line_num
        if not any(f.strip() for f in fields):
            continue
        if len(fields) != len(header):
            problems.append(Problem(name, line, f"expected {len(header)} cells, got {len(fields)}"))
            continue
        cell = {h: f.strip() for h, f in zip(header, fields, strict=True)}
        customer, month = cell["customer_id"], cell.get("month", "")
        if not customer:
            problems.append(Problem(name, line, "empty", column="customer_id"))
            continue
        if month and not _MONTH.fullmatch(month):
            problems.append(Problem(name, line, "expected YYYY-MM", column="month", value=month))
            continue
        if (customer, month) in seen:
            problems.append(
                Problem(
                    name,
                    line,
                    f"customer '{customer}'{' month ' + month if month else ''} is mapped "
                    f"already on line {seen[(customer, month)]}",
                    column="customer_id",
                    value=customer,
                )
            )
            continue
        seen[(customer, month)] = line
        rows[(customer, month)] = Ids(
            account_id=cell.get("account_id", ""),
            invoice_id=cell.get("invoice_id", ""),
            charge_id=cell.get("charge_id", ""),
            wallet_id=cell.get("wallet_id", ""),
        )
    if problems:
        raise InputError(problems)
    return Mapping(rows)
