"""The meaning of one incident-log cell: categories, impacts, keys, and the size limit.

Every reader (CSV row by row, CSV in bulk, JSON Lines, Parquet, imports) hands its cells to the
same functions, so a value means the same whatever file it came in.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

from slacalc.errors import InputError, Problem
from slacalc.terms.numbers import parse_decimal

OUTAGE = "outage"
DATA_LOSS = "data_loss"
MAINTENANCE = "maintenance"
EXCLUDED = "excluded"
CATEGORIES = (OUTAGE, DATA_LOSS, MAINTENANCE, EXCLUDED)  # codes 0..3 in an IncidentTable
DOWN_CATEGORIES = frozenset({OUTAGE, DATA_LOSS})
DOWN_CODES = (0, 1)
EXCLUSION_CODES = (2, 3)

# The columns of slacalc's own incident log, in the order it writes them.
COLUMNS = ("start", "end", "customer_id", "service", "incident_id", "category", "impact", "source")
REQUIRED = ("start",)

# The zone (availability zone, or any unit a redundant deployment spans) a row downs: empty =
# the whole (customer_id, service). Read by every reader, never written by slacalc's own log.
ZONE = "zone"
# Other names a log may give a column (a cloud's "resource": the zone it runs in).
ALIASES = {"resource": ZONE}
READ_COLUMNS = (*COLUMNS, ZONE)  # every column a reader takes
HEADERS = (*READ_COLUMNS, *ALIASES)  # every header name (or JSON / Parquet key) a reader knows


def column_of(name: str) -> str | None:
    """The column a header name or key means (``" Resource "``: ``zone``); None when unknown."""
    key = name.strip().lower()
    key = ALIASES.get(key, key)
    return key if key in READ_COLUMNS else None


def header_columns(
    file: str, header: Sequence[str], columns: Sequence[str] = READ_COLUMNS
) -> dict[str, int]:
    """Each of ``columns`` a CSV header (names normalised) has, by index, aliases included.

    Two header cells that give one column (``zone`` and ``resource``, or ``zone`` twice) are
    an InputError on line 1: which one holds the zone would be a guess."""
    found: dict[str, int] = {}
    problems = []
    for i, cell in enumerate(header):
        column = ALIASES.get(cell, cell)
        if column not in columns:
            continue
        if column in found:
            first = header[found[column]]
            what = (
                f"column '{cell}' appears more than once"
                if first == cell
                else f"columns '{first}' and '{cell}' both give the {column}: keep one"
            )
            problems.append(Problem(file, 1, what))
            continue
        found[column] = i
    if problems:
        raise InputError(problems)
    return found


# A customer_id of "*": the incident hits every customer with a contract for its service.
EVERY_CUSTOMER = "*"

# The largest cell any reader takes, in characters: far above any real timestamp, id or name,
# small enough that a broken file (an unclosed quote, a binary blob) is caught at once.
MAX_CELL = 65_536


# An impact has at most this many decimals, as a share (0.1234567891) or as a percentage
# (12.3456789012%, a share of 12 decimals): the README's domain.
IMPACT_PLACES = 10


def parse_impact(text: str) -> Fraction | int:
    """``0.3``, ``30%`` or empty (1). Exact; ValueError unless 0 < impact <= 1."""
    raw = text.strip()
    if not raw:
        return 1
    pct = raw.endswith("%")
    try:
        value = parse_decimal(raw[:-1] if pct else raw, max_digits=3, max_places=IMPACT_PLACES)
    except ValueError as exc:
        if str(exc).startswith("too many decimals"):
            raise ValueError(f"impact has {exc}") from None
        raise ValueError("expected a share 0 < impact <= 1, such as 0.3 or 30%") from None
    share = Fraction(value) / (100 if pct else 1)
    if not 0 < share <= 1:
        raise ValueError("impact must be greater than 0 and at most 1 (100%)")
    return 1 if share == 1 else share


def parse_category(text: str) -> str:
    """``outage`` (also for an empty cell), ``data_loss``, ``maintenance`` or ``excluded``."""
    raw = text.strip().lower()
    if not raw:
        return OUTAGE
    if raw not in CATEGORIES:
        raise ValueError(f"expected one of {', '.join(CATEGORIES)}")
    return raw
