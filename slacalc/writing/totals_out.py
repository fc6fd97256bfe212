"""``slacalc report --totals``: what each currency (and customer) is owed, for a person or a
script. Money stays an exact decimal string in every format."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TextIO

from slacalc.writing.csvjson import write_as
from slacalc.writing.formats import Format
from slacalc.writing.tables import Column, Grid, print_tables

CURRENCY_FIELDS = ("currency", "breached_rows", "compensation")
CUSTOMER_FIELDS = ("customer_id", *CURRENCY_FIELDS)


def totals_fields(by: str | None) -> tuple[str, ...]:
    """The columns of the totals, in order: per customer, the customer first."""
    return CUSTOMER_FIELDS if by else CURRENCY_FIELDS


def render_totals(
    totals: Sequence[Any], fmt: Format, out: TextIO, *, by: str | None, raw_csv: bool = False
) -> None:
    """The totals (:class:`slacalc.run.Total`) as a table, CSV or JSON."""
    fields = totals_fields(by)
    records = [t.to_dict() for t in totals]
    write_as(
        fmt,
        records,
        fields,
        out,
        lambda: print_tables([_totals_grid(records, by)], out),
        text_fields=("customer_id",),
        raw=raw_csv,
    )


def _totals_grid(records: list[dict[str, Any]], by: str | None) -> Grid:
    title = "Compensation by customer and currency" if by else "Compensation by currency"
    columns = [Column("Customer")] if by else []
    columns += [Column("Currency"), Column("Breached rows", "right"), Column("Total", "right")]
    grid = Grid(title, columns)
    for r in records:
        cells = [r["customer_id"]] if by else []
        cells += [r["currency"], str(r["breached_rows"]), f"{r['compensation']} {r['currency']}"]
        grid.add(*cells)
    return grid
