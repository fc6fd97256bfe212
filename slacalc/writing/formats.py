"""The output formats every command shares, and how ``-o FILE`` chooses one."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from slacalc.errors import UsageError


class Format(StrEnum):
    """Output formats shared by every command."""

    table = "table"
    csv = "csv"
    json = "json"
    jsonl = "jsonl"  # JSON Lines: one object per line


class ExplainFormat(StrEnum):
    """What ``slacalc explain`` writes: an audit trail has no flat CSV form."""

    table = "table"
    json = "json"


class StatementFormat(StrEnum):
    """What a statement is written as (``slacalc statement --format``)."""

    html = "html"
    pdf = "pdf"


def choose_format(fmt: Format | None, output: str | None) -> Format:
    """``--format`` if given, else the output file's extension, else a table."""
    if fmt is not None:
        return fmt
    if output and output != "-":
        ext = Path(output).suffix.lower()
        if ext == ".csv":
            return Format.csv
        if ext == ".json":
            return Format.json
        if ext in (".jsonl", ".ndjson"):
            return Format.jsonl
        if ext not in (".txt", ""):
            raise UsageError(
                f"cannot tell the format of '{output}' from its extension: "
                "use .csv, .json, .jsonl or .txt, or give --format"
            )
    return Format.table
