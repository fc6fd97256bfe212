"""Stripe: a credit note on the invoice when one is known, else a customer balance
transaction (a credit to the customer's balance, applied to their next invoice).

Fields as Stripe's API reference names them:
- credit note, ``POST /v1/credit_notes``: ``invoice``, ``lines`` (``type``
  ``invoice_line_item``, ``invoice_line_item``, ``amount``) or ``amount``, one of
  ``refund_amount`` / ``credit_amount`` / ``out_of_band_amount``, ``reason``, ``memo``,
  ``metadata``, ``effective_at`` (https://docs.stripe.com/api/credit_notes/create);
- balance transaction, ``POST /v1/customers/{id}/balance_transactions``: ``amount`` (negative:
  a credit), ``currency`` (lower case), ``description``, ``metadata``
  (https://docs.stripe.com/api/customer_balance_transactions/create).

Amounts are integers in the currency's smallest unit as Stripe counts it
(https://docs.stripe.com/currencies#zero-decimal): no decimals for its zero-decimal
currencies, three for BHD, JOD, KWD, OMR and TND, two for every other.
"""

from __future__ import annotations

from typing import Any

from slacalc.ledger import credits as cr
from slacalc.ledger.exports.core import Item, scaled
from slacalc.ledger.exports.requests import request

FORMAT = "jsonl"
ZERO_DECIMAL = frozenset(
    [
        "BIF",
        "CLP",
        "DJF",
        "GNF",
        "JPY",
        "KMF",
        "KRW",
        "MGA",
        "PYG",
        "RWF",
        "UGX",
        "VND",
        "VUV",
        "XAF",
        "XOF",
        "XPF",
    ]
)
THREE_DECIMAL = frozenset(["BHD", "JOD", "KWD", "OMR", "TND"])
# Which amount of a credit note carries each form: money back, a balance credit, or credit
# given outside Stripe (service time, resources).
_NOTE_FIELD = {
    cr.CASH: "refund_amount",
    cr.ACCOUNT_CREDIT: "credit_amount",
    cr.VOUCHER: "credit_amount",
}


def places(currency: str) -> int:
    """The decimals of Stripe's amounts in ``currency``."""
    if currency in ZERO_DECIMAL:
        return 0
    return 3 if currency in THREE_DECIMAL else 2


def requests(item: Item) -> tuple[dict[str, Any] | None, str | None]:
    """The request for ``item`` (or None), and a warning when it is left out."""
    units = scaled(item.amount, places(item.currency), what=f"credit '{item.credit_id}'")
    metadata = {
        "slacalc_credit_id": item.credit_id,
        "slacalc_kind": item.kind,
        "slacalc_month": item.month,
        "slacalc_idempotency_key": item.key,
    }
    if item.invoice_id:
        body: dict[str, Any] = {"invoice": item.invoice_id}
        if item.charge_id:
            body["lines"] = [
                {"type": "invoice_line_item", "invoice_line_item": item.charge_id, "amount": units}
            ]
        else:
            body["amount"] = units
        body[_NOTE_FIELD.get(item.form, "out_of_band_amount")] = units
        body["reason"] = "product_unsatisfactory"
        body["memo"] = item.description
        body["metadata"] = metadata
        body["effective_at"] = item.effective_s
        return request(item, "POST", "/v1/credit_notes", body), None
    if item.form in (cr.EXTENSION, cr.GRANT):
        return None, (
            f"credit '{item.credit_id}' is paid as {item.form}, outside Stripe: without an "
            "invoice (--map invoice_id) there is no Stripe document for it; not exported"
        )
    body = {
        "amount": -units,
        "currency": item.currency.lower(),
        "description": item.description,
        "metadata": metadata,
    }
    return request(
        item, "POST", f"/v1/customers/{item.account_id}/balance_transactions", body
    ), None
