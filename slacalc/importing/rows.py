"""What an import produces: slacalc incident rows, and the raw rows a format reads first."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from fractions import Fraction

from slacalc.dates.instants import EPOCH, MAX_US, MIN_US, RANGE_MESSAGE, US
from slacalc.errors import Problem

OUTAGE = "outage"
DATA_LOSS = "data_loss"
MAINTENANCE = "maintenance"
EXCLUDED = "excluded"
CATEGORIES = frozenset({OUTAGE, DATA_LOSS, MAINTENANCE, EXCLUDED})

ALL_CUSTOMERS = "*"
FULL = Fraction(1)

# The instants an incident log may hold: the incident reader's own bound (years 1900 to 2199),
# so that whatever an import writes, ``report`` reads.
FIRST_INSTANT = EPOCH + MIN_US * US
LAST_INSTANT = EPOCH + MAX_US * US


def out_of_range(moment: datetime) -> str | None:
    """Why an aware time cannot be in an incident log, or None when it can."""
    if FIRST_INSTANT <= moment <= LAST_INSTANT:
        return None
    return RANGE_MESSAGE


@dataclass(frozen=True)
class ImportedRow:
    """One row of slacalc's incident log, as an import writes it.

    Times keep the zone the source gave them (a Statuspage offset, an iCalendar TZID), so
    measure elapsed time in UTC: Python subtracts two times of one zone by their clock readings.
    """

    start: datetime  # aware (UTC or the source's zone)
    end: datetime | None  # None = ongoing
    customer_id: str  # "*" = every customer of the service
    service: str
    incident_id: str  # the source's own id, so a row can be traced back
    category: str  # "outage" | "maintenance" | "excluded" | "data_loss"
    impact: Fraction  # 0 < impact <= 1, exact
    source: str  # "<format>:<file name>", e.g. "statuspage:export.json"

    def __post_init__(self) -> None:
        # The importers build rows from checked values; these guard the contract itself.
        if self.start.tzinfo is None or (self.end is not None and self.end.tzinfo is None):
            raise ValueError("ImportedRow times must be aware")
        if self.end is not None and self.end < self.start:
            raise ValueError("ImportedRow ends before it starts")
        if self.category not in CATEGORIES:
            raise ValueError(f"unknown category {self.category!r}")
        if not 0 < self.impact <= 1:
            raise ValueError("impact must be greater than 0 and at most 1")

    def sort_key(self) -> tuple:
        """(start, service, customer_id, incident_id), then the rest for a total order."""
        end = (1, self.start) if self.end is None else (0, self.end)
        return (
            self.start,
            self.service,
            self.customer_id,
            self.incident_id,
            self.category,
            end,
            self.impact,
            self.source,
        )


@dataclass(frozen=True)
class ImportResult:
    """The rows of an import, sorted, and what the map told it to leave out."""

    rows: list[ImportedRow]  # sorted by (start, service, customer_id, incident_id)
    skipped: dict[str, int] = field(default_factory=dict)  # unmapped name -> rows skipped
    warnings: list[Problem] = field(default_factory=list)  # e.g. which copy of an incident won


@dataclass(frozen=True)
class SourceRow:
    """An interval as a format reads it, named in the source's own words, before the map.

    ``source_name`` is what the map's ``[services]`` and ``[customers]`` tables are keyed by
    (a Statuspage component, a PagerDuty service, a monitor, an ICS category, a label value).
    ``impact_keys`` are looked up in the map's ``[impact]`` table in order; the first found
    wins, else ``default_impact`` (0 means "no row").
    """

    start: datetime
    end: datetime | None
    source_name: str
    incident_id: str
    category: str
    file: str  # the file's display name, for messages
    impact_keys: tuple[str, ...] = ()
    default_impact: Fraction = FULL
    customer_name: str | None = None  # a customer named by the source itself (alert labels)
    line: int | None = None  # where in ``file`` the row comes from: a line ...
    path: str | None = None  # ... or a JSON path such as $.incidents[3]
