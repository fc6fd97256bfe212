"""Lago: a credit note on the invoice when the invoice and its fee are known, else a wallet
top-up of granted (free) credits.

- credit note, ``POST /api/v1/credit_notes``, body ``credit_note``: ``invoice_id``,
  ``reason``, ``description``, ``credit_amount_cents`` / ``refund_amount_cents``, ``items``
  (``fee_id``, ``amount_cents``) (https://getlago.com/docs/api-reference/credit-notes/create);
- wallet top-up, ``POST /api/v1/wallet_transactions``, body ``wallet_transaction``:
  ``wallet_id``, ``granted_credits`` (decimal text, in credits: a wallet whose
  ``rate_amount`` is 1) (https://getlago.com/docs/api-reference/wallets/top-up).

``*_cents`` are integers of the currency's ISO 4217 minor unit (the ledger's own).
"""

from __future__ import annotations

from typing import Any

from slacalc.ledger import credits as cr
from slacalc.ledger.exports.core import Item
from slacalc.ledger.exports.requests import request

FORMAT = "jsonl"


def requests(item: Item) -> tuple[dict[str, Any] | None, str | None]:
    if item.invoice_id and item.charge_id:
        cents = item.minor
        note = {
            "invoice_id": item.invoice_id,
            "reason": "product_unsatisfactory",
            "description": item.description,
            "credit_amount_cents": 0 if item.form == cr.CASH else cents,
            "refund_amount_cents": cents if item.form == cr.CASH else 0,
            "items": [{"fee_id": item.charge_id, "amount_cents": cents}],
        }
        return request(item, "POST", "/api/v1/credit_notes", {"credit_note": note}), None
    if item.invoice_id:
        return None, (
            f"credit '{item.credit_id}': a Lago credit note needs the invoice's fee "
            "(--map charge_id); not exported"
        )
    top_up = {
        "wallet_id": item.wallet_id or item.account_id,
        "granted_credits": f"{item.amount:f}",
    }
    return request(
        item, "POST", "/api/v1/wallet_transactions", {"wallet_transaction": top_up}
    ), None
