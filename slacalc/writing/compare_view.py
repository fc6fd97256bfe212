"""A comparison of policies as people read it: one line per key and month, a column per policy,
then the totals per policy and currency. Formatting only."""

from __future__ import annotations

from typing import Any, TextIO

from slacalc.computing.compare import FIELDS, TEXT_FIELDS, TOTAL_FIELDS, Comparison
from slacalc.terms.money import format_money
from slacalc.writing.csvjson import write_csv, write_json
from slacalc.writing.formats import Format
from slacalc.writing.tables import Column, Grid, print_tables


def render_comparison(result: Comparison, fmt: Format, out: TextIO, *, raw: bool = False) -> None:
    if fmt is Format.csv:
        write_csv(result.iter_records(), FIELDS, out, text_fields=TEXT_FIELDS, raw=raw)
    elif fmt is Format.jsonl:  # one row per line (the totals are the rows added up)
        write_json(result.records(), out, lines=True)
    elif fmt is Format.json:
        write_json([{"rows": result.records(), "totals": _totals_records(result)}], out)
    else:
        print_tables(comparison_tables(result), out)


def _totals_records(result: Comparison) -> list[dict[str, Any]]:
    return [
        {**t, "compensation": format_money(t["compensation"], t["currency"])}
        for t in result.totals()
    ]


def comparison_tables(result: Comparison) -> list[Any]:
    names = [p.name for p in result.policies]
    columns = [Column("Customer"), Column("Service"), Column("Month")]
    columns += [Column(f"{name} (avail. %, credit)", "right") for name in names]
    grid = Grid("Policies compared", columns)
    records = result.records()
    n = len(names)
    for i in range(0, len(records), n):
        group = records[i : i + n]
        first = group[0]
        cells = [first["customer_id"], first["service"], first["month"]]
        for rec in group:
            owed = f"{rec['compensation']} {rec['currency']}" if rec["breached"] else "-"
            cells.append(f"{rec['availability_pct']} {owed}")
        grid.add(*cells, style="bold red" if any(r["breached"] for r in group) else None)
    totals = Grid(
        "Compensation by policy and currency",
        [
            Column("Policy"),
            Column("Currency"),
            Column("Breached rows", "right"),
            Column("Total", "right"),
        ],
    )
    for t in _totals_records(result):
        totals.add(t["policy"], t["currency"], str(t["breached_rows"]), t["compensation"])
    return [grid, totals]


__all__ = ["TOTAL_FIELDS", "comparison_tables", "render_comparison"]
