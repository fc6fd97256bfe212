"""Limits over time: what the ledger's caps leave of a month's credit. Pure arithmetic.

The report already caps each month at ``cap_pct`` % of its fee. The ledger then applies, in
this order, the policy's

- ``annual_cap_pct``: a key's (customer and service) credits over the trailing 12 months (the
  credited month and the 11 before it) at most that share of 12 months of the key's fee (the
  contract's fee of the credited month: slacalc knows contracts, not a fee history);
- ``customer_cap_pct``: a customer's credits of one month, across its services of one
  currency, at most that share of those services' fees of the month.

Each cap is an exact amount rounded down to the minor unit (a cap is never exceeded by a
rounding), and a credit is cut to what the cap has left after the other credits it counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal

ANNUAL, CUSTOMER, MONTHLY = "annual_cap_pct", "customer_cap_pct", "cap_pct"


@dataclass(frozen=True)
class Limited:
    """A credit after the ledger's caps: its amount, what was cut and by which caps."""

    amount: Decimal
    cut: Decimal
    cut_by: tuple[str, ...]


def cap_amount(fees: Decimal, pct: Decimal, places: int) -> Decimal:
    """``pct`` % of ``fees``, rounded down to ``places`` decimals."""
    exact = fees * pct / Decimal(100)
    return exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_FLOOR)


def apply_limits(
    computed: Decimal,
    *,
    places: int,
    monthly_fee: Decimal,
    annual_pct: Decimal | None,
    year_others: Decimal,
    customer_pct: Decimal | None,
    month_fees: Decimal,
    month_others: Decimal,
    capped_by_report: bool = False,
) -> Limited:
    """What is left of ``computed`` (the report's compensation) under the ledger's caps.

    ``year_others``: the key's other credits of the trailing 12 months; ``month_fees``: the
    fees of the customer's services (this one's included) in the month and currency;
    ``month_others``: the customer's other credits of the month in that currency.

    >>> apply_limits(Decimal("300.00"), places=2, monthly_fee=Decimal("1000"),
    ...     annual_pct=Decimal(20), year_others=Decimal("2000.00"), customer_pct=None,
    ...     month_fees=Decimal(0), month_others=Decimal(0))
    Limited(amount=Decimal('300.00'), cut=Decimal('0.00'), cut_by=())
    >>> apply_limits(Decimal("300.00"), places=2, monthly_fee=Decimal("1000"),
    ...     annual_pct=Decimal(20), year_others=Decimal("2300.00"), customer_pct=None,
    ...     month_fees=Decimal(0), month_others=Decimal(0)).amount
    Decimal('100.00')
    """
    amount = computed
    by: list[str] = [MONTHLY] if capped_by_report else []
    if annual_pct is not None:
        left = max(cap_amount(monthly_fee * 12, annual_pct, places) - year_others, Decimal(0))
        if amount > left:
            amount, by = left, [*by, ANNUAL]
    if customer_pct is not None:
        left = max(cap_amount(month_fees, customer_pct, places) - month_others, Decimal(0))
        if amount > left:
            amount, by = left, [*by, CUSTOMER]
    unit = Decimal(1).scaleb(-places)
    amount = amount.quantize(unit)
    return Limited(amount, (computed - amount).quantize(unit), tuple(by))
