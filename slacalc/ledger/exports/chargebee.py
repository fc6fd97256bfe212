"""Chargebee: a CSV for Settings > Import & Export Data > Bulk Operations, credit notes, one a
line. The columns are the parameters of Chargebee's "Create a credit note" API, as its bulk
operations' sample files name them (https://apidocs.chargebee.com/docs/api/credit_notes,
https://www.chargebee.com/docs/2.0/bulk-operations.html): ``reference_invoice_id``,
``customer_id``, ``type`` (``refundable`` against an invoice, ``store`` credit without one),
``reason_code`` ``service_unsatisfactory``, ``total`` (integer minor units), ``currency_code``,
``customer_notes`` and ``comment`` (which carries the idempotency key, for ``import-ids``).
"""

from __future__ import annotations

from typing import Any

from slacalc.ledger.exports.core import Item

FORMAT = "csv"
FIELDS = (
    "reference_invoice_id",
    "customer_id",
    "type",
    "reason_code",
    "total",
    "currency_code",
    "customer_notes",
    "comment",
)
TEXT_FIELDS = ("reference_invoice_id", "customer_id", "customer_notes", "comment")


def row(item: Item) -> dict[str, Any]:
    return {
        "reference_invoice_id": item.invoice_id,
        "customer_id": item.account_id,
        "type": "refundable" if item.invoice_id else "store",
        "reason_code": "service_unsatisfactory",
        "total": item.minor,
        "currency_code": item.currency,
        "customer_notes": item.description,
        "comment": f"slacalc idempotency key {item.key}",
    }
