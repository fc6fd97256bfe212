"""Domain exceptions. The CLI translates them, once, into messages and exit codes."""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_REPORTED_PROBLEMS = 50

# C0 and C1 control characters (and DEL), and the bidirectional overrides that make a terminal
# show text in another order than it is read ("Trojan Source"), and the Unicode line and
# paragraph separators: never sent raw to a terminal.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]")
# The same, line feeds excepted: for a whole text (a CSV) shown on a terminal.
_CONTROL_IN_LINES = re.compile(
    r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]"
)
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
SHOWN_LIMIT = 60


def printable(text: str, *, lines: bool = False) -> str:
    """``text`` with control characters shown as escapes (``\\x1b``, ``\\n``, ``\\u202e``):
    data from a file can then never move the cursor, set a title, ring a bell, hide a line or
    reverse the text around it. ``lines=True`` keeps line feeds as they are (a CSV or a page
    written to a terminal is still lines)."""
    control = _CONTROL_IN_LINES if lines else _CONTROL
    if not control.search(text):
        return text
    return control.sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    char = match.group(0)
    code = ord(char)
    return _NAMED.get(char) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def shown(value: str, limit: int = SHOWN_LIMIT) -> str:
    """A value quoted in a message: printable, and cut to ``limit`` characters (a 5,000-digit
    number is named by its start, not printed whole)."""
    text = printable(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one cell (or row, or file) of an input file."""

    file: str
    line: int | None
    message: str
    column: str | None = None
    value: str | None = None
    kind: str | None = None  # a stable name given where the problem is found (validate's)

    @property
    def code(self) -> str:
        """A stable name of what is wrong, for scripts: the ``kind`` it was given (validate's
        warnings: ``ongoing``, ``overlaps_exclusion``, ...), else ``invalid_<column>`` for a
        cell (``invalid_start``, ``invalid_customer_id``), ``invalid_row`` for a row, and
        ``invalid_file`` for a file as a whole."""
        if self.kind is not None:
            return self.kind
        if self.column is not None:
            return "invalid_" + "".join(c if c.isalnum() else "_" for c in self.column.lower())
        return "invalid_row" if self.line is not None else "invalid_file"

    def to_dict(self, severity: str = "error") -> dict[str, object]:
        """The problem as a JSON object: ``severity, code, file, line, column, value,
        message`` (null where there is none)."""
        return {
            "severity": severity,
            "code": self.code,
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "value": self.value,
            "message": self.message.removeprefix("warning: "),
        }

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        text = f"{printable(where)}: "
        if self.column is not None:
            text += f"column '{self.column}': "
        text += printable(self.message)
        if self.value is not None:
            text += f" (value '{shown(self.value)}')"
        return text


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
