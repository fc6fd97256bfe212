"""The ledger's outputs: tables for people, CSV, JSON and JSON Lines for scripts. Formatting
only, through the writers every command shares."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TextIO

from rich.text import Text

from slacalc.ledger.store import (
    CREDIT_FIELDS,
    EVENT_FIELDS,
    TEXT_FIELDS,
)
from slacalc.writing.csvjson import write_as, write_csv, write_json
from slacalc.writing.formats import Format
from slacalc.writing.tables import Column, Grid, print_tables

# The columns a table shows (every field is in CSV and JSON).
_TABLE = {
    "action": "Action",
    "credit_id": "Credit",
    "status": "Status",
    "amount": "Owed",
    "cut_by": "Cut by",
    "approved": "Approved",
    "net": "Net",
    "currency": "Cur.",
    "form": "Form",
    "report_status": "Month",
    "claim_closes_at": "Claim closes",
    "document_id": "Document",
    "kind": "Kind",
    "deadline": "Deadline",
    "detail": "Detail",
}
_RIGHT = {"amount", "approved", "net"}


def render_records(
    records: Sequence[dict[str, Any]],
    fields: Sequence[str],
    fmt: Format,
    out: TextIO,
    *,
    title: str,
    raw_csv: bool = False,
    empty: str = "no credits",
) -> None:
    """Records in ``fields`` order: CSV, JSON, JSON Lines, or a table of their main columns."""
    write_as(
        fmt,
        records,
        fields,
        out,
        lambda: print_tables(_tables(records, fields, title, empty), out),
        json_records=({f: r[f] for f in fields} for r in records),
        text_fields=TEXT_FIELDS,
        raw=raw_csv,
    )


def _tables(
    records: Sequence[dict[str, Any]], fields: Sequence[str], title: str, empty: str
) -> list[Any]:
    shown = [f for f in fields if f in _TABLE]
    grid = Grid(
        title,
        [
            Column(_TABLE[f], justify="right" if f in _RIGHT else "left", rank=i // 4)
            for i, f in enumerate(shown)
        ],
    )
    for r in records:
        grid.add(*(str(r[f]) for f in shown))
    count = f"{len(records)} record{'s' * (len(records) != 1)}" if records else empty
    return [grid, Text(count)] if records else [Text(empty)]


def render_history(history: dict[str, Any], fmt: Format, out: TextIO, *, raw_csv: bool) -> None:
    """One credit: JSON (or one JSON line) with its events, adjustments, disputes and
    evidence; CSV is its history, an event a line; a table shows both."""
    if fmt is Format.jsonl:
        write_json([history], out, lines=True)
        return
    if fmt is Format.json:
        _write_object(history, out)
        return
    events = history["events"]
    if fmt is Format.csv:
        write_csv(events, EVENT_FIELDS, out, text_fields=("reason", "actor"), raw=raw_csv)
        return
    facts = Grid(
        f"Credit {history['credit_id']}",
        [Column("Field"), Column("Value")],
    )
    for f in CREDIT_FIELDS[1:]:
        if history[f] not in ("", None):
            facts.add(f, str(history[f]))
    incidents = history["evidence"].get("incidents")
    if incidents is not None:
        facts.add("incidents", ", ".join(incidents) or "(none)")
    for item in history["evidence"].get("inputs", []):
        facts.add(f"{item['role']} sha256", f"{item['file']} {item['sha256']}")
    parts: list[Any] = [facts]
    log = Grid(
        "History",
        [
            Column("At"),
            Column("What"),
            Column("From"),
            Column("To"),
            Column("Amount", "right"),
            Column("Reason"),
            Column("Actor"),
        ],
    )
    for e in events:
        log.add(
            e["at"],
            e["what"],
            e["from_status"] or "",
            e["to_status"] or "",
            e["amount"] or "",
            e["reason"] or "",
            e["actor"],
        )
    parts.append(log)
    if history["adjustments"]:
        adj = Grid(
            "Adjustments",
            [
                Column("At"),
                Column("Delta", "right"),
                Column("Before", "right"),
                Column("After", "right"),
                Column("Reason"),
            ],
        )
        for a in history["adjustments"]:
            adj.add(a["at"], a["delta"], a["amount_before"], a["amount_after"], a["reason"])
        parts.append(adj)
    if history["disputes"]:
        dis = Grid(
            "Disputes",
            [
                Column("Opened"),
                Column("Escalates"),
                Column("Reason"),
                Column("Resolved"),
                Column("Resolution"),
            ],
        )
        for d in history["disputes"]:
            dis.add(
                d["opened_at"],
                d["escalation_at"],
                d["reason"],
                d["resolved_at"] or "",
                d["resolution"] or "",
            )
        parts.append(dis)
    print_tables(parts, out)


def _write_object(value: dict[str, Any], out: TextIO) -> None:
    """One JSON object (not a list): ``write_json``'s rules, its brackets taken off."""
    import io

    buffer = io.StringIO()
    write_json([value], buffer)
    text = buffer.getvalue().strip()
    inner = text[1:-1].strip("\n")
    out.write("\n".join(line[2:] for line in inner.splitlines()) + "\n")
