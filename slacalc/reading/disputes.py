"""The disputes file: CSV rows read into typed disputes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo

from slacalc.dates.instants import parse_datetime
from slacalc.errors import InputError, Problem
from slacalc.reading.files import open_csv
from slacalc.terms.deadlines import DisputeLevel, parse_level

COLUMNS = ("dispute_id", "customer_id", "level", "opened_at", "resolved_at")
REQUIRED = ("dispute_id", "level", "opened_at")


@dataclass(frozen=True)
class DisputeInput:
    """One row of a disputes file; datetimes are aware (naive input is in the billing zone)."""

    dispute_id: str
    customer_id: str
    level: DisputeLevel
    opened_at: datetime
    resolved_at: datetime | None
    source: str
    line: int


def read_disputes(path: str, tz: tzinfo) -> list[DisputeInput]:
    """Read a disputes CSV (``-`` is standard input), in file order.

    Headers are matched case-insensitively and unknown columns ignored (a quoted value there may
    span lines, unless rows hide in it: see :func:`~slacalc.reading.files.quoted_span_problems`).
    Every bad cell of every row is collected and raised together as an :class:`InputError`. A
    file looks like::

        dispute_id,customer_id,level,opened_at,resolved_at
        DSP-0413,huaxin-bank,data_loss,2025-09-30T10:00:00+08:00,2025-10-13 18:30
    """
    f = open_csv(path, required=REQUIRED, known=COLUMNS)
    name = f.name
    col = {c: f.column(c) for c in COLUMNS}
    width = len(f.header)
    disputes: list[DisputeInput] = []
    problems: list[Problem] = []
    first_line: dict[str, int] = {}

    def cell(cells: list[str], column: str) -> str:
        i = col[column]
        return cells[i] if i is not None and i < len(cells) else ""

    for line, _, cells in f.rows(problems=problems):  # rows hidden by a quote: problems
        if len(cells) > width and any(c.strip() for c in cells[width:]):
            problems.append(
                Problem(name, line, f"row has {len(cells)} cells but the header has {width}")
            )
            continue
        before = len(problems)

        dispute_id = cell(cells, "dispute_id").strip()
        if not dispute_id:
            problems.append(Problem(name, line, "empty; every dispute needs an id", "dispute_id"))
        elif dispute_id in first_line:
            problems.append(
                Problem(
                    name,
                    line,
                    f"duplicate dispute id (first on line {first_line[dispute_id]})",
                    "dispute_id",
                    dispute_id,
                )
            )
        else:
            first_line[dispute_id] = line

        level_text = cell(cells, "level")
        level: DisputeLevel | None = None
        try:
            level = parse_level(level_text)
        except ValueError as exc:
            message = str(exc)
            if not level_text.strip():
                message = "empty; " + message.removeprefix("unknown dispute level: ")
            problems.append(
                Problem(name, line, message, "level", level_text if level_text.strip() else None)
            )

        opened_text = cell(cells, "opened_at")
        opened = _timestamp(opened_text, tz, name, line, "opened_at", problems)
        resolved_text = cell(cells, "resolved_at")
        resolved = None
        if resolved_text.strip():
            resolved = _timestamp(resolved_text, tz, name, line, "resolved_at", problems)
            if opened is not None and resolved is not None and resolved < opened:
                problems.append(
                    Problem(
                        name,
                        line,
                        f"resolved before it was opened (opened_at '{opened_text.strip()}')",
                        "resolved_at",
                        resolved_text,
                    )
                )
        if len(problems) > before:
            continue
        assert level is not None and opened is not None  # no problem recorded for the row
        disputes.append(
            DisputeInput(
                dispute_id=dispute_id,
                customer_id=cell(cells, "customer_id").strip(),
                level=level,
                opened_at=opened,
                resolved_at=resolved,
                source=name,
                line=line,
            )
        )
    if problems:
        raise InputError(problems)
    return disputes


def _timestamp(
    text: str, tz: tzinfo, file: str, line: int, column: str, problems: list[Problem]
) -> datetime | None:
    if not text.strip():
        message = "empty; expected a timestamp such as 2025-09-30T10:00:00+08:00"
        problems.append(Problem(file, line, message, column))
        return None
    try:
        return parse_datetime(text, tz)
    except (ValueError, OverflowError) as exc:
        problems.append(Problem(file, line, str(exc), column, text))
        return None
