"""Kill Bill: an account credit, ``POST /1.0/kb/credits?autoCommit=true``, whose body is a
list of invoice items: ``accountId``, ``amount`` (a decimal number), ``currency``,
``invoiceId`` (when an invoice is known: added to that DRAFT invoice), ``description``
(https://killbill.github.io/slate/credit.html, "Create credits").
"""

from __future__ import annotations

from typing import Any

from slacalc.ledger.exports.core import Item
from slacalc.ledger.exports.requests import request

FORMAT = "jsonl"


def requests(item: Item) -> tuple[dict[str, Any] | None, str | None]:
    credit: dict[str, Any] = {
        "accountId": item.account_id,
        "amount": item.amount,  # a JSON number with the ledger's exact digits
        "currency": item.currency,
    }
    if item.invoice_id:
        credit["invoiceId"] = item.invoice_id
    credit["description"] = item.description
    return request(item, "POST", "/1.0/kb/credits?autoCommit=true", [credit]), None
