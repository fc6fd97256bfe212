"""When a redundant deployment counts as down: a policy's ``[redundancy]`` table.

A key (customer, service) that runs in several zones is down at an instant when enough of the
zones it is deployed in then are down::

    [redundancy]
    unit = "zone"
    down_when = "more_than:1"     # "all", "more_than:N" or "at_least:N"
    min_period_seconds = 60       # optional: key-level down periods shorter than this count 0

``all`` needs every deployed zone down (and at least one zone deployed): "connectivity to at
least one instance" (Azure availability zones, GCP multi-zone). ``more_than:N`` needs more than
N (AWS EC2 "Region Unavailable": more than one AZ). ``at_least:N`` needs N or more. How the rule
turns zone incidents into key-level downtime: :mod:`slacalc.computing.redundancy`.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Any

UNITS = ("zone",)
ALL, MORE_THAN, AT_LEAST = "all", "more_than", "at_least"
KEYS = ("unit", "down_when", "min_period_seconds")
MAX_ZONES = 1000  # N of more_than:N / at_least:N: far above any region's zones
MAX_PERIOD_SECONDS = 86_400  # as a policy's other per-outage seconds
_RULE = re.compile(r"(more_than|at_least):(\d{1,4})")


@dataclass(frozen=True)
class RedundancyRule:
    """The rule of a redundant deployment: down when the count of down deployed zones is
    enough (:meth:`needed`); down periods shorter than ``min_period_us`` count 0."""

    down_when: str  # ALL, MORE_THAN or AT_LEAST
    n: int = 0  # N of more_than:N / at_least:N (0 for all)
    min_period_us: int = 0
    unit: str = "zone"

    def needed(self, deployed: Any) -> Any:
        """How many down zones make the key down, given how many zones it is deployed in
        (a number or an int64 array): ``deployed`` for all, N + 1 for more_than:N, N for
        at_least:N. An ``all`` key deployed nowhere is never down (0 deployed: needs 1 of 0).

        >>> RedundancyRule(ALL).needed(3), RedundancyRule(MORE_THAN, 1).needed(3)
        (3, 2)
        """
        if self.down_when == ALL:
            import numpy as np

            if isinstance(deployed, int):
                return max(deployed, 1)
            return np.maximum(deployed, 1)
        return self.n + 1 if self.down_when == MORE_THAN else self.n

    def text(self) -> str:
        """The rule as a policy writes it: ``more_than:1``, ``all``, ``at_least:2``."""
        return self.down_when if self.down_when == ALL else f"{self.down_when}:{self.n}"

    def describe(self) -> str:
        """One line for ``tiers`` and ``explain``."""
        what = {
            ALL: "every zone it is deployed in is down",
            MORE_THAN: f"more than {self.n} of the zones it is deployed in are down",
            AT_LEAST: f"at least {self.n} of the zones it is deployed in are down",
        }[self.down_when]
        out = f"a key is down while {what}"
        if self.min_period_us:
            out += f"; down periods shorter than {self.min_period_us // 1_000_000} s count 0"
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "unit": self.unit,
            "down_when": self.text(),
            "min_period_seconds": self.min_period_us // 1_000_000,
        }


def parse_down_when(text: str) -> tuple[str, int]:
    """``all``, ``more_than:N`` (N >= 0) or ``at_least:N`` (N >= 1): ``(kind, N)``; ValueError.

    >>> parse_down_when("more_than:1")
    ('more_than', 1)
    """
    raw = text.strip().lower().replace(" ", "")
    if raw == ALL:
        return ALL, 0
    match = _RULE.fullmatch(raw)
    if match is None:
        raise ValueError(
            f"expected 'all', 'more_than:N' or 'at_least:N' (value {text!r}), such as "
            "'more_than:1' (AWS: more than one zone down)"
        )
    kind, n = match.group(1), int(match.group(2))
    if kind == AT_LEAST and n < 1:
        raise ValueError(
            f"at_least:N needs N >= 1: at_least:0 would make every key down ({text!r})"
        )
    if n > MAX_ZONES:
        raise ValueError(f"N must be at most {MAX_ZONES} (value {text!r})")
    return kind, n


def parse_redundancy(raw: Any, where: str = "redundancy") -> tuple[RedundancyRule | None, list]:
    """A ``[redundancy]`` table (a dict, as TOML reads it) as a rule, and its problems as
    ``(key, message)`` pairs (``("redundancy.down_when", "expected ...")``), every one of them;
    the rule is None when there is any. A policy reader reports them as its own.

    >>> parse_redundancy({"unit": "zone", "down_when": "all", "min_period_seconds": 60})
    (RedundancyRule(down_when='all', n=0, min_period_us=60000000, unit='zone'), [])
    >>> parse_redundancy({"down_when": "most"})[1][0][0]
    'redundancy.unit'
    """
    problems: list[tuple[str, str]] = []
    if not isinstance(raw, dict):
        example = '{ unit = "zone", down_when = "all" }'
        return None, [(where, f"expected a table such as {example}, got {_kind(raw)}")]
    for key in raw:
        if key not in KEYS:
            close = difflib.get_close_matches(str(key), KEYS, n=1, cutoff=0.5)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            problems.append((f"{where}.{key}", f"unknown key{hint} (known: {', '.join(KEYS)})"))
    unit = raw.get("unit")
    if unit is None:
        problems.append((f"{where}.unit", 'missing: say what a deployment spans, unit = "zone"'))
    elif not isinstance(unit, str) or unit.strip().lower() not in UNITS:
        problems.append((f"{where}.unit", f"expected 'zone' (value {unit!r})"))
    kind, n = ALL, 0
    if "down_when" not in raw:
        problems.append((f"{where}.down_when", "missing: 'all', 'more_than:N' or 'at_least:N'"))
    elif not isinstance(raw["down_when"], str):
        problems.append((f"{where}.down_when", f"expected text, got {_kind(raw['down_when'])}"))
    else:
        try:
            kind, n = parse_down_when(raw["down_when"])
        except ValueError as exc:
            problems.append((f"{where}.down_when", str(exc)))
    seconds = raw.get("min_period_seconds", 0)
    if isinstance(seconds, bool) or not isinstance(seconds, int):
        problems.append(
            (
                f"{where}.min_period_seconds",
                f"expected a whole number of seconds (value {seconds!r})",
            )
        )
        seconds = 0
    elif not 0 <= seconds <= MAX_PERIOD_SECONDS:
        problems.append(
            (
                f"{where}.min_period_seconds",
                f"must be between 0 and {MAX_PERIOD_SECONDS} (value {seconds})",
            )
        )
    if problems:
        return None, problems
    return RedundancyRule(kind, n, seconds * 1_000_000), []


def _kind(value: Any) -> str:
    return {bool: "a boolean", int: "a number", str: "text", list: "a list", dict: "a table"}.get(
        type(value), type(value).__name__
    )
