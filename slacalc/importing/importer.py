"""Running an import: read the files, let the format parse them, apply the map, sort the rows."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo

from slacalc.errors import InputError, Problem, UsageError
from slacalc.importing.mapping import ImportMap, LabelMap, suggest
from slacalc.importing.reading import SourceFile, read_source
from slacalc.importing.rows import (
    FIRST_INSTANT,
    LAST_INSTANT,
    ImportedRow,
    ImportResult,
    SourceRow,
    out_of_range,
)

UNMAPPED_CHOICES = ("error", "skip")
# The most rows one import makes unless told otherwise (--max-rows): a month of a large cloud's
# incidents, each on every customer the map names, is far fewer; a runaway export or a
# recurrence is stopped before it fills memory.
DEFAULT_MAX_ROWS = 1_000_000
_BREAK_HINTS = {
    "service": ": give it a plain name in the map's [services]",
    "customer": ": give it plain ids in the map's [customers]",
    "incident id": "",
}


@dataclass(frozen=True)
class Context:
    """What a format needs besides the files: the billing zone, the window, the label names."""

    tz: tzinfo  # the billing zone: floating ICS times, naive CSV timestamps
    window: tuple[datetime, datetime] | None = None  # rows must overlap [from, until)
    labels: LabelMap = field(default_factory=LabelMap)
    max_rows: int = DEFAULT_MAX_ROWS  # a format that multiplies rows (ICS) counts them first


@dataclass
class Parsed:
    """What a format read from all its files: raw rows and every problem found."""

    rows: list[SourceRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)  # taken, but worth saying


@dataclass(frozen=True)
class Importer:
    """One import format: its name, a line for ``--help`` and its parser."""

    name: str
    summary: str
    parse: Callable[[Sequence[SourceFile], Context], Parsed]


def too_many_rows(limit: int, file: str) -> Problem:
    """The row cap, passed: what it is, and the option that raises it."""
    return Problem(
        file,
        None,
        f"the import makes more than {limit:,} rows, its cap (--max-rows {limit}): raise the "
        "cap with --max-rows N (or SLACALC_MAX_ROWS), or import less at a time (--from/--until)",
    )


def run_import(
    importer: Importer,
    paths: list[str],
    *,
    mapping: ImportMap | None,
    unmapped: str,
    tz: tzinfo,
    window: tuple[datetime, datetime] | None,
    max_rows: int = DEFAULT_MAX_ROWS,
) -> ImportResult:
    """The engine of ``import_files``: see there."""
    if unmapped not in UNMAPPED_CHOICES:
        raise UsageError(
            f"unmapped must be 'error' or 'skip', not '{unmapped}'"
            f"{suggest(unmapped, UNMAPPED_CHOICES)}"
        )
    if isinstance(max_rows, bool) or not isinstance(max_rows, int) or max_rows < 1:
        raise UsageError(f"the row cap (--max-rows) must be a whole number from 1, not {max_rows}")
    if window is not None:
        start, until = window
        if start.tzinfo is None or until.tzinfo is None:
            raise UsageError("the import window needs aware datetimes (with a time zone)")
        if not start < until:
            raise UsageError("the import window must end after it starts")
        if out_of_range(start) or out_of_range(until):
            raise UsageError(
                f"the import window must lie within {FIRST_INSTANT:%Y-%m-%d} to "
                f"{LAST_INSTANT:%Y-%m-%d} (UTC), the days an incident log holds"
            )
    mapping = mapping or ImportMap()

    problems: list[Problem] = []
    files: list[SourceFile] = []
    for path in paths:
        try:
            files.append(read_source(path))
        except InputError as exc:
            problems.extend(exc.problems)
    ctx = Context(tz=tz, window=window, labels=mapping.labels, max_rows=max_rows)
    parsed = importer.parse(files, ctx)
    problems.extend(parsed.problems)

    basenames = {f.name: f.basename for f in files}
    rows: dict[tuple, ImportedRow] = {}
    skipped: dict[str, int] = {}
    unmapped_seen: dict[str, tuple[int, str]] = {}
    broken_seen: set[tuple[str, str]] = set()
    range_seen: set[tuple[str, int | None, str | None]] = set()
    for raw in parsed.rows:
        if window is not None and not _overlaps(raw, window):
            continue
        outside = _outside(raw)
        if outside is not None:
            if (raw.file, raw.line, raw.path) not in range_seen:
                range_seen.add((raw.file, raw.line, raw.path))
                problems.append(outside)
            continue
        impact = mapping.impact_for(raw.impact_keys, raw.default_impact)
        if impact == 0:
            continue  # "no row": e.g. Statuspage's degraded_performance by default
        service = mapping.service_for(raw.source_name)
        if service is None:
            count, first = unmapped_seen.get(raw.source_name, (0, raw.file))
            unmapped_seen[raw.source_name] = (count + 1, first)
            continue
        source = f"{importer.name}:{basenames.get(raw.file, raw.file)}"
        customers = mapping.customers_for(raw.source_name, raw.customer_name)
        broken = _line_break(raw, service, customers)
        if broken is not None:
            if broken not in broken_seen:
                broken_seen.add(broken)
                field_name, value = broken
                problems.append(
                    Problem(
                        raw.file,
                        None,
                        f"the {field_name} holds a line break, which no incident log cell "
                        f"may{_BREAK_HINTS[field_name]}",
                        value=value,
                    )
                )
            continue
        for customer in customers:
            row = ImportedRow(
                start=raw.start,
                end=raw.end,
                customer_id=customer,
                service=service,
                incident_id=raw.incident_id,
                category=raw.category,
                impact=impact,
                source=source,
            )
            # The same interval from two overlapping exports is one row, not two.
            key = (row.start, row.end, customer, service, row.incident_id, row.category, impact)
            rows.setdefault(key, row)
            if len(rows) > max_rows:
                raise InputError([*problems, too_many_rows(max_rows, raw.file)])

    if unmapped_seen:
        if unmapped == "skip":
            skipped = {name: count for name, (count, _) in sorted(unmapped_seen.items())}
        else:
            for name, (count, first) in sorted(unmapped_seen.items()):
                problems.append(
                    Problem(
                        first,
                        None,
                        f"'{name}' is not in the [services] table of {mapping.path} "
                        f"({count} row{'s' if count != 1 else ''}): add "
                        f'"{name}" = "<service>" or skip unmapped names (--unmapped skip)',
                        value=name,
                    )
                )
    if problems:
        raise InputError(problems)
    return ImportResult(
        rows=sorted(rows.values(), key=ImportedRow.sort_key),
        skipped=skipped,
        warnings=parsed.warnings,
    )


def _outside(raw: SourceRow) -> Problem | None:
    """The problem of a row whose start or end no incident log can hold (the one check every
    import's rows pass through), None for a row inside the years slacalc reads."""
    for what, moment in (("starts", raw.start), ("ends", raw.end)):
        if moment is not None:
            reason = out_of_range(moment)
            if reason is not None:
                where = f"{raw.path}: " if raw.path else ""
                return Problem(
                    raw.file,
                    raw.line,
                    f"{where}the incident {what} {reason}",
                    value=moment.isoformat(),
                )
    return None


def _overlaps(row: SourceRow, window: tuple[datetime, datetime]) -> bool:
    start, until = window
    if row.start >= until:
        return False
    return row.end is None or row.end > start


def _line_break(raw: SourceRow, service: str, customers: tuple[str, ...]) -> tuple[str, str] | None:
    """The first name of a row that holds a line break (a CSV log would split there)."""
    named = [("service", service), *(("customer", c) for c in customers)]
    named.append(("incident id", raw.incident_id))
    for field_name, value in named:
        if "\n" in value or "\r" in value:
            return field_name, value
    return None
