"""The holidays file: ``date,kind`` rows that override the working-day calendar day by day."""

from __future__ import annotations

import re
from datetime import date

from slacalc.dates.workdays import Overrides
from slacalc.errors import InputError, Problem
from slacalc.reading.files import open_csv

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_KINDS = {"holiday": False, "workday": True}


def read_holidays_file(path: str) -> Overrides:
    """Read a ``date,kind`` CSV of overrides: kind ``holiday`` (off) or ``workday`` (on).

    Headers and kinds are matched case-insensitively; other columns are ignored; ``-`` is
    standard input. Every bad row is collected and reported together as an :class:`InputError`.
    The overrides keep the file's name and each date's line, for a calendar's later errors.
    A file looks like::

        date,kind
        2027-02-06,workday
        2027-02-08,holiday
    """
    csv_file = open_csv(path, required=("date", "kind"), known=("date", "kind"))
    date_col = csv_file.column("date")
    kind_col = csv_file.column("kind")
    assert date_col is not None and kind_col is not None  # open_csv checked them
    result: dict[date, bool] = {}
    first_line: dict[date, int] = {}
    problems: list[Problem] = []
    for line, _, cells in csv_file.rows():
        raw_date = cells[date_col].strip() if date_col < len(cells) else ""
        raw_kind = cells[kind_col].strip() if kind_col < len(cells) else ""
        day = _parse_day(raw_date, csv_file.name, line, problems)
        working = _parse_kind(raw_kind, csv_file.name, line, problems)
        if day is None or working is None:
            continue
        if day in result and result[day] != working:
            problems.append(
                Problem(
                    csv_file.name,
                    line,
                    f"date listed twice with different kinds (line {first_line[day]} says "
                    f"'{_kind_name(result[day])}')",
                    column="date",
                    value=raw_date,
                )
            )
            continue
        result.setdefault(day, working)
        first_line.setdefault(day, line)
    if problems:
        raise InputError(problems)
    return Overrides(result, source=csv_file.name, lines=first_line)


def _parse_day(raw: str, file: str, line: int, problems: list[Problem]) -> date | None:
    if not raw:
        problems.append(Problem(file, line, "empty; expected a date YYYY-MM-DD", column="date"))
        return None
    # date.fromisoformat alone would also take 20251001 and week dates like 2025-W40-3.
    if _ISO_DATE.fullmatch(raw):
        try:
            return date.fromisoformat(raw)
        except ValueError:
            pass
    problems.append(
        Problem(file, line, "not a date; expected YYYY-MM-DD", column="date", value=raw)
    )
    return None


def _parse_kind(raw: str, file: str, line: int, problems: list[Problem]) -> bool | None:
    working = _KINDS.get(raw.lower())
    if working is None:
        message = "expected 'holiday' or 'workday'"
        problems.append(
            Problem(
                file,
                line,
                f"empty; {message}" if not raw else message,
                column="kind",
                value=raw or None,
            )
        )
    return working


def _kind_name(working: bool) -> str:
    return "workday" if working else "holiday"
