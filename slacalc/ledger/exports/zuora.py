"""Zuora: the Data Loader's "Credit memo from charge" CSV, one credit memo (and its one
charge) a line. Columns as Zuora's data dictionary names them
(https://docs.zuora.com/en/zuora-platform/data-management/data-loader/data-dictionary-for-data-loader/credit-memo-from-charge):
``IsNewCreditMemo``, ``Account Number``, ``Auto Post``, ``Comment`` (which carries the
idempotency key, for ``import-ids``), ``Effective Date``, ``Reason Code`` ("Service
Unavailable", one of Zuora's default credit memo reason codes), then the charge:
``IsNewProductRatePlanCharge``, ``Charge Product Rate Plan Charge Id`` (``--map
charge_id``), ``Charge Amount`` (decimal text), ``Charge Description``, ``Charge Service Start
Date`` and ``Charge Service End Date`` (the credit's month).
"""

from __future__ import annotations

import calendar
from typing import Any

from slacalc.ledger.exports.core import Item

FORMAT = "csv"
FIELDS = (
    "IsNewCreditMemo",
    "Account Number",
    "Auto Post",
    "Comment",
    "Effective Date",
    "Reason Code",
    "IsNewProductRatePlanCharge",
    "Charge Product Rate Plan Charge Id",
    "Charge Amount",
    "Charge Description",
    "Charge Service Start Date",
    "Charge Service End Date",
)
TEXT_FIELDS = (
    "Account Number",
    "Comment",
    "Charge Product Rate Plan Charge Id",
    "Charge Description",
)
REASON = "Service Unavailable"


def row(item: Item) -> dict[str, Any]:
    year, month = int(item.month[:4]), int(item.month[5:7])
    last = calendar.monthrange(year, month)[1]
    return {
        "IsNewCreditMemo": "TRUE",
        "Account Number": item.account_id,
        "Auto Post": "FALSE",
        "Comment": f"slacalc idempotency key {item.key}",
        "Effective Date": item.effective.isoformat(),
        "Reason Code": REASON,
        "IsNewProductRatePlanCharge": "TRUE",
        "Charge Product Rate Plan Charge Id": item.charge_id,
        "Charge Amount": f"{item.amount:f}",
        "Charge Description": item.description,
        "Charge Service Start Date": f"{item.month}-01",
        "Charge Service End Date": f"{item.month}-{last:02d}",
    }


def warning(item: Item) -> str | None:
    if not item.charge_id:
        return (
            f"credit '{item.credit_id}': Zuora needs a product rate plan charge (--map "
            "charge_id); its 'Charge Product Rate Plan Charge Id' is empty"
        )
    return None
