"""Domain exceptions. The CLI translates them, once, into messages and exit codes."""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_REPORTED_PROBLEMS = 50

# C0 and C1 control characters (and DEL): never sent raw to a terminal or a log.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def printable(text: str) -> str:
    """``text`` with control characters shown as escapes (``\\x1b``, ``\\n``): data from a file
    can then never move the cursor, set a title, ring a bell or hide a line."""
    if not _CONTROL.search(text):
        return text
    return _CONTROL.sub(lambda m: _NAMED.get(m.group(0), f"\\x{ord(m.group(0)):02x}"), text)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one cell (or row, or file) of an input file."""

    file: str
    line: int | None
    message: str
    column: str | None = None
    value: str | None = None

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        text = f"{printable(where)}: "
        if self.column is not None:
            text += f"column '{self.column}': "
        text += printable(self.message)
        if self.value is not None:
            text += f" (value '{_shorten(self.value)}')"
        return text


def _shorten(value: str, limit: int = 60) -> str:
    value = printable(value)
    return value if len(value) <= limit else value[: limit - 1] + "…"


class SlacalcError(Exception):
    """Base class of every error slacalc reports to its user."""


class InputError(SlacalcError):
    """Bad input data: one or more problems in the files read (exit 1)."""

    def __init__(self, problems: list[Problem] | Problem | str) -> None:
        if isinstance(problems, str):
            problems = [Problem(file="slacalc", line=None, message=problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems: list[Problem] = list(problems)
        super().__init__(str(self.problems[0]) if self.problems else "bad input")

    def lines(self) -> list[str]:
        """The messages to print: at most MAX_REPORTED_PROBLEMS, then a count."""
        shown = [str(p) for p in self.problems[:MAX_REPORTED_PROBLEMS]]
        n = len(self.problems)
        more = n - len(shown)
        tail = f"{n} problem{'s' if n != 1 else ''} found"
        if more:
            tail += f" ({more} more not shown)"
        return [*shown, tail]


class UsageError(SlacalcError):
    """Wrong usage: a bad option value, an unknown zone or policy (exit 2)."""
