"""A run: what a command (or a billing script) asks for, in one call.

:func:`report` takes the incident logs and every option ``slacalc report`` has, as text (what a
command line gives) or as values (a :class:`~slacalc.terms.policy.Policy`, a ``ZoneInfo``, a
``Decimal``), reads the inputs, decides where to compute (in memory; in buckets of customers
on disk when the log needs more than ``memory``; on Spark), gathers every warning once, and
returns a :class:`ReportRun`::

    import slacalc

    with slacalc.report(["incidents.csv"], contracts="contracts.csv", as_of="2025-07-01") as run:
        run.write("report.csv")            # the bytes of `slacalc report ... -o report.csv`
        table = run.to_arrow()             # the same fields as an Arrow table
        for total in run.totals():         # per currency
            print(total.currency, total.breached_rows, total.compensation)
        print(run.warnings)

A command is then three steps: parse its options, run, render (:meth:`ReportRun.write`).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol, TextIO
from zoneinfo import ZoneInfo

from slacalc.dates.instants import get_zone, parse_datetime, to_us
from slacalc.dates.months import Month
from slacalc.dates.workdays import WorkCalendar, unconfirmed_warnings
from slacalc.errors import UsageError, shown
from slacalc.model.contracts import policies_of
from slacalc.model.settings import Settings
from slacalc.terms.money import parse_currency, to_money
from slacalc.terms.policy import Policy, Tier, load_policy
from slacalc.writing.formats import Format

DEFAULT_TZ = "Asia/Shanghai"
DEFAULT_CALENDAR = "CN"
DEFAULT_CURRENCY = "CNY"
DEFAULT_POLICY = "standard"
MEMORY, BUCKETS, SPARK = "memory", "buckets", "spark"
ENGINES = (MEMORY, SPARK)


class Progress(Protocol):
    """What a run tells about its progress (a command shows it as a bar)."""

    def __call__(self, name: str, done: int, total: int) -> None: ...  # rows read of a file

    def stage(self, label: str, fraction: float) -> None: ...


# --- options, as given, to the values a run uses (a bad one is a UsageError, exit 2) ----------


def as_zone(value: str | ZoneInfo) -> ZoneInfo:
    return value if isinstance(value, ZoneInfo) else get_zone(value)


def as_policy(value: str | Policy) -> Policy:
    if isinstance(value, Policy):
        return value
    try:
        return load_policy(value)
    except (ValueError, OverflowError) as exc:  # a value the TOML reader itself refuses
        raise UsageError(
            f"--policy '{shown(value)}': cannot be read: {shown(str(exc), 200)}"
        ) from None


def as_currency(text: str) -> str:
    try:
        return parse_currency(text)
    except ValueError as exc:
        raise UsageError(f"--currency '{shown(text)}': {exc}") from None


def as_fee(value: str | Decimal | None, option: str, currency_code: str) -> Decimal | None:
    """A fee in ``currency_code``: at most its minor unit's decimals (never rounded)."""
    from slacalc.reading.contracts import parse_fee

    if value is None:
        return None
    try:
        return parse_fee(str(value), currency_code)
    except ValueError as exc:
        raise UsageError(f"{option} '{shown(str(value))}': {exc}") from None


def as_tier(value: str | Decimal | Tier | None, of: Policy) -> Tier | None:
    """``--sla-target``: one of the policy's tiers."""
    if value is None or isinstance(value, Tier):
        return value
    try:
        return of.parse_target(str(value))
    except ValueError as exc:
        raise UsageError(f"--sla-target '{shown(str(value))}': {exc}") from None


def as_datetime(text: str, tz: ZoneInfo, option: str) -> datetime:
    try:
        return parse_datetime(text, tz)
    except (ValueError, OverflowError) as exc:
        raise UsageError(f"{option} '{shown(text)}': {shown(str(exc), 200)}") from None


def as_instant(value: str | int | datetime | None, tz: ZoneInfo, option: str = "--as-of") -> int:
    """A timestamp in epoch microseconds: text as the incident log's, ``now``, an aware
    ``datetime``, or microseconds already; None means now."""
    if value is None or (isinstance(value, str) and value.strip().lower() == "now"):
        return to_us(datetime.now(tz))
    if isinstance(value, int):
        return value
    if isinstance(value, datetime):
        return to_us(value if value.tzinfo is not None else value.replace(tzinfo=tz))
    return to_us(as_datetime(value, tz, option))


def as_months(values: Iterable[str | Month] | None) -> list[Month] | None:
    """``--month`` values (repeatable); None when none was given."""
    if not values:
        return None
    out = []
    for value in values:
        if isinstance(value, Month):
            out.append(value)
            continue
        try:
            out.append(Month.parse(value))
        except ValueError as exc:
            raise UsageError(f"--month: {shown(str(exc), 200)}") from None
    return out or None


def as_calendar(name: str, holidays_file: str | None) -> WorkCalendar:
    """The working-day calendar of ``--calendar``, overridden by a ``--holidays`` file."""
    from slacalc.reading.holidays import read_holidays_file

    overrides = read_holidays_file(holidays_file) if holidays_file else None
    return WorkCalendar.create(name, overrides)


def settings(
    *,
    policy_name: str | Policy = DEFAULT_POLICY,
    tz: str | ZoneInfo = DEFAULT_TZ,
    as_of: str | int | datetime | None = None,
    currency_code: str = DEFAULT_CURRENCY,
    monthly_fee: str | Decimal | None = None,
    sla_target: str | Decimal | Tier | None = None,
    calendar: str | None = None,
    holidays: str | None = None,
) -> Settings:
    """The report settings the options describe (every bad value a UsageError, exit 2)."""
    z = as_zone(tz)
    pol = as_policy(policy_name)
    tier = as_tier(sla_target, pol)
    cur = as_currency(currency_code)
    return Settings(
        policy=pol,
        tz=z,
        as_of=as_instant(as_of, z),
        currency=cur,
        monthly_fee=as_fee(monthly_fee, "--monthly-fee", cur),
        sla_target=tier,
        calendar=as_calendar(calendar or DEFAULT_CALENDAR, holidays),
    )


def _contract_book(contracts: str | None, s: Settings) -> Any:
    """The contracts file of a run, read under its policy and currency (None: no file)."""
    if not contracts:
        return None
    return contract_book(contracts, policy=s.policy, currency=s.currency)


def contract_book(
    path: str, *, policy: str | Policy = "standard", currency: str = DEFAULT_CURRENCY
) -> Any:
    """A contracts file read as a :class:`~slacalc.model.contracts.ContractBook`, rows without
    a policy or currency of their own taking ``policy`` and ``currency``."""
    from slacalc.reading.contracts import read_contracts

    return read_contracts(path, policy=as_policy(policy), default_currency=as_currency(currency))


_SIZE_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


def by_zone(
    table: Any, s: Settings, book: Any, deployments: Any, *, strict: bool = True
) -> tuple[Any, Any]:
    """The incident table with its zone rows turned into rows of their keys, under each key's
    policy's ``[redundancy]`` rule (:mod:`slacalc.computing.redundancy`), and the zones' trace
    (its ``notes()``: the incidents in zones a key is not deployed in; None when no zone was
    counted). A table without zones, under policies without
    redundancy, comes back as it is; ``--deployments`` and a ``[redundancy]`` policy go
    together (``strict=False``: a policy without redundancy just leaves the zones uncounted, as
    one of several policies compared). ``deployments``: the file's path, or the file read
    already (:class:`~slacalc.reading.deployments.Deployments`)."""
    policies = [s.policy, *policies_of(book)]
    redundant = [p.name for p in policies if p.redundancy is not None]
    if deployments is None:
        if redundant and table.zone is not None:
            raise UsageError(
                f"policy '{redundant[0]}' counts zones ([redundancy]): give --deployments FILE "
                "(customer_id,service,zone[,from,to]), where each customer runs"
            )
        return table, None
    if not redundant and not strict:
        return table, None
    if not redundant:
        raise UsageError(
            "--deployments needs a policy with [redundancy] (e.g. --policy aws-ec2-region): "
            f"policy '{s.policy.name}' counts every incident against its whole key"
        )
    from slacalc.computing.redundancy import key_incidents
    from slacalc.reading.deployments import read_deployments

    deps = read_deployments(deployments, s.tz) if isinstance(deployments, str) else deployments

    def rule_of(key: tuple[str, str]) -> Any:
        contract = book.find(*key) if book is not None else None
        return (contract.policy if contract is not None else s.policy).redundancy

    # without contracts every key has the run's policy: one rule, no question per key
    rule = s.policy.redundancy if book is None else rule_of
    reach = book.customers_of if book is not None else None
    return key_incidents(table, deps, rule, as_of=s.as_of, reach=reach)


def prepared(
    table: Any, s: Settings, book: Any, deployments: Any, *, strict: bool = True
) -> tuple[Any, Any]:
    """The incident table as the engine counts it: zones counted (:func:`by_zone`), then the
    serial and redundant composites of ``book`` given their rows, made from their parts'
    (:mod:`slacalc.computing.composite`); and the zones' trace (None when no zone was
    counted)."""
    from slacalc.computing.composite import check_weighted, composite_incidents

    table, trace = by_zone(table, s, book, deployments, strict=strict)
    check_weighted(table, book)
    return composite_incidents(table, book, as_of=s.as_of), trace


def zone_kept(trace: Any) -> tuple[Any, Any] | None:
    """The keys whose zones the rule counted (their own zone rows, deployed or not, and the
    deployments a ``*`` zone row reached), as (customers, services) string arrays: each is
    reported, with the downtime its rule found, even where none of its incidents counted, and
    the ``*`` rows of its service reached it in that count already (None: no zone was
    counted)."""
    if trace is None or not len(trace.key_customer):
        return None
    return trace.key_customer, trace.key_service


def _in_memory(
    table: Any,
    s: Settings,
    book: Any,
    deployments: Any,
    requests: Any,
    months: Any,
    *,
    strict: bool = True,
) -> tuple[Any, list[str]]:
    """The report of a log read whole (:func:`counted_report`), and its warnings: the
    zones' first."""
    result, trace = counted_report(table, s, book, deployments, requests, months, strict=strict)
    return result, _no_requests(s, book, requests) + _zone_warnings(trace) + result.warnings


def _zone_warnings(trace: Any) -> list[str]:
    """The warnings of zone rows in no deployment (none when no zone was counted)."""
    return [str(p) for p in trace.notes()] if trace is not None else []


def counted_report(
    table: Any,
    s: Settings,
    book: Any,
    deployments: Any,
    requests: Any,
    months: Any,
    *,
    whole: bool = True,
    mine: Any = None,
    strict: bool = True,
) -> tuple[Any, Any]:
    """The report of ``table`` through every step before the engine (:func:`prepared`: zones
    counted, composites made), and the zones' trace (None: no zone counted). Keys whose zone
    incidents never counted keep their rows; the months reported are those the log as read
    touches (as in buckets), whether or not its zone rows counted. A part of a
    log (``whole=False``: a bucket of customers, a Spark group) takes the deployments and
    request counts of the customers ``mine`` picks (a function of a string array)."""
    from slacalc.computing.report import compute_report, touched_months

    zoned, trace, counts = _prepared_part(table, s, book, mine, deployments, requests, strict)
    keep = zone_kept(trace)
    result = compute_report(
        zoned,
        s,
        contracts=book,
        months=months,
        whole=whole,
        requests=counts,
        keep=keep,
        include=touched_months(table, s) if trace is not None and not months else (),
        log=table,
    )
    return result, trace


def _no_requests(s: Settings, book: Any, requests: Any) -> list[str]:
    """The warning of a run whose policy measures error rates and that has no counts."""
    measured = [p.name for p in (s.policy, *policies_of(book)) if p.measure is not None]
    if not measured or requests is not None:
        return []
    return [
        f"policy '{measured[0]}' measures error rates and no --requests were given: "
        "every interval of its keys counts as without requests (0 % errors)"
    ]


def _prepared_part(
    table: Any,
    s: Settings,
    book: Any,
    mine: Any,
    deployments: Any,
    requests: Any,
    strict: bool = True,
) -> tuple[Any, Any, Any]:
    """:func:`prepared` of a table, its zones' trace, and its request counts; of a part of a
    log, with the deployments and counts of the customers ``mine`` picks (None: all)."""
    import numpy as np

    if mine is not None and deployments is not None:
        deployments = deployments.take(np.flatnonzero(mine(deployments.customer)))
    if mine is not None and requests is not None:
        requests = requests.of_keys(mine(requests.key_customer))
    zoned, trace = prepared(table, s, book, deployments, strict=strict)
    return zoned, trace, requests


def _extra_inputs(
    contracts: str | None, s: Settings, deployments: Any, requests: Sequence[str] | None
) -> tuple[Any, Any, Any]:
    """The contracts (a local file's), request counts and deployments of a run that computes
    in parts, read whole before the log."""
    import os

    book = None
    if contracts == "-" or (contracts and os.path.isfile(contracts)):
        book = _contract_book(contracts, s)
    if isinstance(deployments, str):
        from slacalc.reading.deployments import read_deployments

        deployments = read_deployments(deployments, s.tz)
    return book, read_requests_of(requests, s), deployments


def _bucket_work(
    s: Settings, book: Any, deployments: Any, requests: Any, *, strict: bool = True
) -> Any:
    """The steps :func:`_in_memory` takes beyond the engine, a bucket of customers at a time
    (:class:`~slacalc.computing.partitioned.BucketWork`): each bucket's deployments and
    request counts are its customers', its composites its contracts'; None when a run has no
    zones, counts or composites. ``strict=False``: a policy without ``[redundancy]`` leaves
    the zones uncounted (one of several policies compared)."""
    if deployments is None and requests is None and not _has_composites(book):
        return None

    from slacalc.computing.partitioned import BucketWork
    from slacalc.computing.report import request_months

    def report(table: Any, part_book: Any, mine: Any, months: Any) -> tuple[Any, list]:
        result, trace = counted_report(
            table,
            s,
            part_book,
            deployments,
            requests,
            months,
            whole=False,
            mine=mine,
            strict=strict,
        )
        return result, trace.notes(stars=False) if trace is not None else []

    def stars(table: Any) -> list:
        _, trace = by_zone(table, s, book, deployments, strict=strict)
        return trace.notes() if trace is not None else []

    def customers() -> list[str]:
        found: list[str] = []
        if deployments is not None:
            found += deployments.customer.to_pylist()
        if requests is not None:
            found += requests.key_customer.to_pylist()
        return found

    return BucketWork(report, stars, request_months(requests, s), customers)


def _has_composites(book: Any) -> bool:
    return book is not None and bool(book.composites)


def read_requests_of(requests: Sequence[str] | None, s: Settings) -> Any:
    """The request counts of ``--requests`` (None when none is given)."""
    if not requests:
        return None
    from slacalc.reading.requests import read_requests

    return read_requests(requests, s.tz)


def as_budget(value: str | int | None) -> int:
    """``--memory``: bytes from ``2G``, ``500M``, ``1.5GiB`` or a plain number of bytes; by
    default a quarter of the machine's memory."""
    from slacalc.computing.partitioned import MIN_BUDGET, default_budget

    if value is None:
        return default_budget()
    if isinstance(value, int):
        size = value
    else:
        match = re.fullmatch(r"\s*(\d{1,12}(?:\.\d{1,6})?)\s*([KMGT]?)(?:I?B)?\s*", value.upper())
        if match is None:
            raise UsageError(f"--memory '{value}': expected a size such as 2G, 500M or 1.5GiB")
        number, unit = match.groups()
        size = int(Decimal(number) * _SIZE_UNITS[unit])
    if size < MIN_BUDGET:
        raise UsageError(
            f"--memory '{value}': at least {MIN_BUDGET >> 20}M (Python and its libraries alone "
            "take about a third of that)"
        )
    return size


# --- the report ------------------------------------------------------------------------------


# Compensation amounts, summed exactly: 38 digits, four places (CLF's and UYW's minor unit).
_AMOUNT_PLACES = 4


@dataclass(frozen=True)
class Total:
    """What one currency (and, by customer, one customer) is owed in a report."""

    currency: str
    breached_rows: int
    compensation: Decimal
    customer_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {} if self.customer_id is None else {"customer_id": self.customer_id}
        out.update(
            currency=self.currency,
            breached_rows=self.breached_rows,
            compensation=f"{self.compensation:f}",  # exact: a string, never a float
        )
        return out


@dataclass
class ReportRun:
    """The result of :func:`report`: its rows (computed in memory, in buckets or on Spark),
    the warnings of the whole run, and the ways to write them. Use it as a context manager (or
    :meth:`close` it): a run in buckets keeps its bucket files, a run on Spark its session,
    until then."""

    engine: str  # memory, buckets or spark
    settings: Settings
    months: list[Month]
    warnings: list[str]
    inputs: list[str]  # the files it read: -o never overwrites one
    result: Any  # Report, PartitionedReport or the Spark rows
    _close: list[Callable[[], None]] = field(default_factory=list, repr=False)

    def __enter__(self) -> ReportRun:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        while self._close:
            with contextlib.suppress(Exception):
                self._close.pop()()

    # --- what it holds --------------------------------------------------------------------------
    @property
    def report(self) -> Any:
        """The in-memory :class:`~slacalc.computing.report.Report` (rows as objects, records,
        deadlines); only a run in memory has one."""
        if self.engine != MEMORY:
            raise UsageError(
                f"this run was computed {'in buckets' if self.engine == BUCKETS else 'on Spark'}:"
                " its rows are written, not held (give more --memory for a table)"
            )
        return self.result

    def text_parts(self) -> Iterable[Callable[[], dict[str, Any]]]:
        """The rows as pieces of text columns, in order: a function per piece."""
        return self.result.text_parts()

    def any_breached(self) -> bool:
        return self.result.any_breached()

    def breached_rows(self) -> int:
        """How many rows are breached (0 without a look at the rows when none is): in memory
        from the report's own column, else from the rows' pieces (the text of a run in buckets
        or on Spark is stored already; a report in memory would be formatted a second time)."""
        import numpy as np
        import pyarrow.compute as pc

        if not self.any_breached():
            return 0
        if self.engine == MEMORY:
            return int(np.count_nonzero(self.result.cols["breached"]))
        return sum(
            int(pc.sum(pc.cast(piece()["breached"], "int64")).as_py() or 0)
            for piece in self.text_parts()
        )

    def to_arrow(self) -> Any:
        """Every row as a ``pyarrow.Table`` of the report's fields: text as the CSV has it,
        ``breached`` and ``capped`` booleans, ``incident_count`` a 64-bit integer."""
        import pyarrow as pa

        from slacalc.computing.fields import ARROW_SCHEMA, FIELDS

        batches = [
            pa.record_batch([piece()[f] for f in FIELDS], schema=ARROW_SCHEMA)
            for piece in self.text_parts()
        ]
        return pa.Table.from_batches(batches, schema=ARROW_SCHEMA)

    def totals(self, *, by: str | None = None) -> list[Total]:
        """Breached rows and compensation per currency (``by="customer"``: per customer and
        currency), in the order they first appear in the report. Sums are exact: each
        amount as a 38-digit decimal of four places (the finest minor unit, ISO 4217)."""
        import pyarrow as pa
        import pyarrow.compute as pc

        if by not in (None, "customer"):
            raise UsageError(f"totals by '{by}': only by customer")
        keys = ["customer_id", "currency"] if by else ["currency"]
        parts = []
        for piece in self.text_parts():
            cols = piece()
            parts.append(
                pa.table(
                    {
                        **{k: cols[k] for k in keys},
                        "breached": pc.cast(cols["breached"], pa.int64()),
                        "amount": pc.cast(cols["compensation"], pa.decimal128(38, _AMOUNT_PLACES)),
                    }
                )
            )
        if not parts:
            return []
        table = pa.concat_tables(parts)
        table = table.append_column("first", pa.array(range(table.num_rows), pa.int64()))
        sums = table.group_by(keys, use_threads=False).aggregate(
            [("breached", "sum"), ("amount", "sum"), ("first", "min")]
        )
        sums = sums.sort_by("first_min")
        customers = sums["customer_id"].to_pylist() if by else [None] * sums.num_rows
        return [
            Total(cur, n, to_money(amount, cur), cust)
            for cust, cur, n, amount in zip(
                customers,
                sums["currency"].to_pylist(),
                sums["breached_sum"].to_pylist(),
                sums["amount_sum"].to_pylist(),
                strict=True,
            )
        ]

    # --- writing --------------------------------------------------------------------------------
    def write(
        self,
        target: str | TextIO | None = None,
        format: str | Format | None = None,
        *,
        raw_csv: bool = False,
    ) -> None:
        """Write the report as ``slacalc report -o`` writes it: ``target`` a path (written
        atomically; never a file the run read), ``-`` or None for standard output, or an open
        text stream. ``format``: csv, json or table (default: from the path's extension, else
        csv). A table needs a run in memory (its dispute deadlines)."""
        from slacalc.writing.formats import choose_format
        from slacalc.writing.output import write_output

        path = target if isinstance(target, str) or target is None else None
        if self.engine == SPARK and format is None and (path or "").lower().endswith(".parquet"):
            from slacalc.spark.output import write_parquet

            write_parquet(self.result, str(path), self.inputs)  # Spark writes the folder
            return
        if format is None and path is None:
            fmt = Format.csv
        else:
            fmt = choose_format(Format(format) if format else None, path)
            if format is None and fmt is Format.table and path in (None, "-"):
                fmt = Format.csv
        if fmt is Format.table and self.engine != MEMORY:
            raise UsageError(
                "a table needs the report in memory (its dispute deadlines): give --format "
                "csv|json, or more --memory"
            )

        def render(out: TextIO) -> None:
            from slacalc.writing.report_out import render_report

            render_report(self, fmt, out, raw_csv=raw_csv)

        if path is None and target is not None:
            render(target)  # type: ignore[arg-type]
            return
        write_output(path, render, inputs=self.inputs, stream=self.engine != MEMORY)


def report(
    incidents: Sequence[str],
    *,
    contracts: str | None = None,
    policy: str | Policy = DEFAULT_POLICY,
    tz: str | ZoneInfo = DEFAULT_TZ,
    calendar: str = DEFAULT_CALENDAR,
    holidays: str | None = None,
    deployments: str | None = None,
    requests: Sequence[str] | None = None,
    currency: str = DEFAULT_CURRENCY,
    as_of: str | int | datetime | None = None,
    months: Iterable[str | Month] | None = None,
    monthly_fee: str | Decimal | None = None,
    sla_target: str | Decimal | Tier | None = None,
    input_format: str | None = None,
    memory: str | int | None = None,
    engine: str = MEMORY,
    spark_master: str | None = None,
    deadlines: bool = False,
    progress: Progress | None = None,
) -> ReportRun:
    """The monthly report of ``incidents`` (paths; ``-`` is standard input), every option as
    ``slacalc report`` has it.

    It computes in memory, or, when the log would need more than ``memory`` (default a quarter
    of the machine's), a bucket of customers at a time with its files in ``$TMPDIR``
    (``deadlines=True`` keeps it in memory: the table view needs the dispute deadlines), or on
    Spark (``engine="spark"``, ``spark_master``). The rows are the same bytes whichever it is.
    """
    if engine not in ENGINES:
        raise UsageError(f"--engine '{shown(str(engine))}': expected one of {', '.join(ENGINES)}")
    if spark_master is not None and engine != SPARK:
        raise UsageError("--spark-master goes with --engine spark")
    chosen = as_months(months)
    s = settings(
        policy_name=policy,
        tz=tz,
        as_of=as_of,
        currency_code=currency,
        monthly_fee=monthly_fee,
        sla_target=sla_target,
        calendar=calendar,
        holidays=holidays,
    )
    inputs = [
        *incidents,
        *([contracts] if contracts else []),
        *([deployments] if deployments else []),
        *(requests or []),
    ]
    if engine == SPARK:
        if deadlines:
            raise UsageError(
                "--engine spark writes csv or json (or -o DIR.parquet), not a table: give "
                "--format csv|json"
            )
        from slacalc.spark.output import spark_run

        # zones, counts and composites: the deployments and counts are read here and shipped
        # to the executors, each group taking its customers' share
        book, counts, deps = _extra_inputs(contracts, s, deployments, requests)
        work = _bucket_work(s, book, deps, counts)
        rows, found, warnings = spark_run(
            incidents, contracts, s, chosen, input_format, spark_master, work=work, book=book
        )
        run = ReportRun(SPARK, s, found, _no_requests(s, book, counts) + warnings, inputs, rows)
        run._close.append(rows.close)
        return run
    from slacalc.computing.partitioned import memory_needed, report_in_buckets
    from slacalc.reading import read_incidents
    from slacalc.reading.files import STDIN

    budget = as_budget(memory)
    needed = memory_needed(incidents)
    in_buckets = not deadlines and needed is not None and needed > budget
    # a run in memory without deployments reads the contracts beside the log (below): neither
    # depends on the other (0.1-0.2 s of a 1M-row report priced by 100k contracts)
    beside = not in_buckets and deployments is None and bool(contracts) and contracts != STDIN
    book = None if beside else _contract_book(contracts, s)
    stage = progress.stage if progress is not None else (lambda label, fraction: None)
    if in_buckets:
        # zones, counts and composites go bucket by bucket too: the deployments and the counts
        # are read whole first (a bucket takes its customers' share of them)
        _, counts, deployments = _extra_inputs(None, s, deployments, requests)
        result = report_in_buckets(
            incidents,
            s,
            budget=budget,
            contracts=book,
            months=chosen,
            fmt=input_format,
            work=_bucket_work(s, book, deployments, counts),
        )
        warned = _no_requests(s, book, counts) + list(result.warnings)
        run = ReportRun(BUCKETS, s, result.months, warned, inputs, result)
        run._close.append(lambda: result.__exit__(None, None, None))
    else:
        stage("reading", 0.05)
        policies = [s.policy, *policies_of(book)]
        if deployments is not None and any(p.redundancy is not None for p in policies):
            # the log and the deployments file at once (they do not depend on each other)
            from slacalc import speed
            from slacalc.reading.deployments import read_deployments

            table, deployments = speed.both(
                lambda: read_incidents(incidents, s.tz, fmt=input_format, progress=progress),
                lambda: read_deployments(deployments, s.tz),
            )
        elif beside:  # the contracts' problems come first, as when they are read first
            from slacalc import speed

            book, table = speed.both(
                lambda: _contract_book(contracts, s),
                lambda: read_incidents(incidents, s.tz, fmt=input_format, progress=progress),
            )
        else:
            table = read_incidents(incidents, s.tz, fmt=input_format, progress=progress)
        counts = read_requests_of(requests, s)
        stage("computing", 0.7)
        result, warned = _in_memory(table, s, book, deployments, counts, chosen)
        run = ReportRun(MEMORY, s, result.months, warned, inputs, result)
    years = result.calendar_years(deadlines=deadlines)
    run.warnings.extend(unconfirmed_warnings(s.work_calendar, years))
    return run


def as_month(value: str | Month) -> Month:
    """One ``--month``."""
    return as_months([value])[0]  # type: ignore[index]


# --- the same months under several policies ----------------------------------------------------


def compare(
    incidents: Sequence[str],
    policies: Sequence[str | Policy],
    *,
    contracts: str | None = None,
    tz: str | ZoneInfo = DEFAULT_TZ,
    calendar: str = DEFAULT_CALENDAR,
    holidays: str | None = None,
    deployments: str | None = None,
    requests: Sequence[str] | None = None,
    currency: str = DEFAULT_CURRENCY,
    as_of: str | int | datetime | None = None,
    months: Iterable[str | Month] | None = None,
    monthly_fee: str | Decimal | None = None,
    sla_target: str | Decimal | Tier | None = None,
    input_format: str | None = None,
    memory: str | int | None = None,
) -> Any:
    """The report's months priced under each of ``policies`` (two or more), as a
    :class:`~slacalc.computing.compare.Comparison` of one run per policy: in memory (the log
    read once), or, when the log needs more than ``memory``, each policy's report in buckets.
    Close it when done (or use it as a context manager)."""
    from slacalc.computing.compare import Comparison, repriced
    from slacalc.computing.partitioned import memory_needed, report_in_buckets
    from slacalc.reading import read_incidents

    chosen_policies = [as_policy(p) for p in policies]  # a bad one is named first
    if len(chosen_policies) < 2:
        raise UsageError("--policy: give two or more policies to compare")
    chosen = as_months(months)
    s = settings(
        policy_name=chosen_policies[0],
        tz=tz,
        as_of=as_of,
        currency_code=currency,
        monthly_fee=monthly_fee,
        sla_target=sla_target,
        calendar=calendar,
        holidays=holidays,
    )
    budget = as_budget(memory)
    book = _contract_book(contracts, s)
    if deployments is not None:
        with_zones = [*chosen_policies, *policies_of(book)]
        if not any(p.redundancy is not None for p in with_zones):
            raise UsageError("--deployments needs a compared policy with [redundancy]")
    inputs = [*incidents, *([contracts] if contracts else [])]
    needed = memory_needed(incidents)
    bucketed = needed is not None and needed > budget
    table = None if bucketed else read_incidents(incidents, s.tz, fmt=input_format)
    _, counts, deps = _extra_inputs(None, s, deployments if bucketed else None, requests)
    runs = []
    try:
        for policy in chosen_policies:
            s_p, book_p = repriced(s, book, policy)
            if table is None:
                result: Any = report_in_buckets(
                    incidents,
                    s_p,
                    budget=budget,
                    contracts=book_p,
                    months=chosen,
                    fmt=input_format,
                    work=_bucket_work(s_p, book_p, deps, counts, strict=False),
                )
                warned = _no_requests(s_p, book_p, counts) + list(result.warnings)
                run = ReportRun(BUCKETS, s_p, result.months, warned, inputs, result)
                run._close.append(lambda r=result: r.__exit__(None, None, None))
            else:
                result, warned = _in_memory(
                    table, s_p, book_p, deployments, counts, chosen, strict=False
                )
                run = ReportRun(MEMORY, s_p, result.months, warned, inputs, result)
            runs.append(run)
    except BaseException:
        for run in runs:
            run.close()
        raise
    years = runs[0].result.calendar_years(deadlines=False)
    runs[0].warnings.extend(unconfirmed_warnings(s.work_calendar, years))
    return Comparison(chosen_policies, runs)


# --- one row explained, and a customer's statement ---------------------------------------------


def explain(
    incidents: Sequence[str],
    *,
    customer: str,
    month: str | Month,
    service: str | None = None,
    contracts: str | None = None,
    policy: str | Policy = DEFAULT_POLICY,
    tz: str | ZoneInfo = DEFAULT_TZ,
    calendar: str = DEFAULT_CALENDAR,
    holidays: str | None = None,
    deployments: str | None = None,
    requests: Sequence[str] | None = None,
    currency: str = DEFAULT_CURRENCY,
    as_of: str | int | datetime | None = None,
    monthly_fee: str | Decimal | None = None,
    sla_target: str | Decimal | Tier | None = None,
    input_format: str | None = None,
) -> Any:
    """How the report row of ``customer``'s ``service`` in ``month`` was computed, as an
    :class:`~slacalc.computing.explain.Explanation`: every incident as read and as counted,
    the exclusions, the merged timeline, and notes and formula steps as values (a stable
    ``code`` and typed parameters, :mod:`slacalc.computing.explain`).

    Only the customer's rows and the customer-wide ``*`` rows are kept as the log is read, so
    a log of any size is explained in the memory of that customer's rows."""
    from slacalc.computing.explain import explain as explain_row
    from slacalc.reading import read_incidents

    wanted = as_month(month)
    s = settings(
        policy_name=policy,
        tz=tz,
        as_of=as_of,
        currency_code=currency,
        monthly_fee=monthly_fee,
        sla_target=sla_target,
        calendar=calendar,
        holidays=holidays,
    )
    book = _contract_book(contracts, s)
    table = read_incidents(
        incidents, s.tz, keep_text=True, fmt=input_format, customers=[customer, "*"]
    )
    table, trace = prepared(table, s, book, deployments)
    return explain_row(
        table,
        s,
        customer=customer,
        service=service,
        month=wanted,
        contracts=book,
        zones=trace,
        keep=zone_kept(trace),
        requests=read_requests_of(requests, s),
    )


@dataclass
class StatementRun:
    """The result of :func:`statements`: one :class:`~slacalc.computing.statements.Statement`
    per customer, in batches (one in memory; one per bucket of customers, made as they are
    asked for, for a log larger than ``memory``), and the run's warnings (the month's and the
    calendar's, each once)."""

    batches: Iterable[list[Any]]
    warnings: list[str]
    inputs: list[str]  # the files it read: -o never overwrites one
    # warnings known once every batch was made (a run in buckets: zones, the calendar)
    later: list[str] = field(default_factory=list)

    @property
    def statements(self) -> list[Any]:
        """Every statement in one list (a run in buckets makes and holds them all)."""
        return [s for batch in self.batches for s in batch]


def statements(
    incidents: Sequence[str],
    *,
    month: str | Month,
    customers: Sequence[str] | None = None,
    contracts: str | None = None,
    policy: str | Policy = DEFAULT_POLICY,
    tz: str | ZoneInfo = DEFAULT_TZ,
    calendar: str = DEFAULT_CALENDAR,
    holidays: str | None = None,
    deployments: str | None = None,
    requests: Sequence[str] | None = None,
    currency: str = DEFAULT_CURRENCY,
    as_of: str | int | datetime | None = None,
    monthly_fee: str | Decimal | None = None,
    sla_target: str | Decimal | Tier | None = None,
    input_format: str | None = None,
    stdin: bytes | None = None,
    issuer: Any = None,
    display_names: dict[str, str] | None = None,
    memory: str | int | None = None,
) -> StatementRun:
    """The monthly statements of ``customers`` (None: every customer with a row in
    ``month``), as values a renderer formats (:mod:`slacalc.writing.statement`): each row of
    the customer explained, the dispute deadlines, the totals, the terms and every input's
    SHA-256.

    Named customers are read alone (their rows and the customer-wide ``*`` rows; the rest of
    the log streams past). ``stdin``: the bytes of standard input when an input is ``-``,
    read once by the caller so that their digest is the digest of what was read.
    ``issuer``: the issuer file's path (:func:`~slacalc.reading.issuer.read_issuer`) or an
    :class:`~slacalc.reading.issuer.Issuer`; None, the statements name no issuer.
    ``display_names``: customer id → the name the statement shows beside the id.
    Every customer's statements of a log that would need more than ``memory`` (as
    :func:`report` has it) are made a bucket of customers at a time, as they are asked for."""
    from slacalc.computing.partitioned import memory_needed
    from slacalc.computing.statements import build_statements, source_files
    from slacalc.reading import read_incidents
    from slacalc.reading.issuer import read_issuer

    wanted = as_month(month)
    s = settings(
        policy_name=policy,
        tz=tz,
        as_of=as_of,
        currency_code=currency,
        monthly_fee=monthly_fee,
        sla_target=sla_target,
        calendar=calendar,
        holidays=holidays,
    )
    book = _contract_book(contracts, s)
    issuer_file = issuer if isinstance(issuer, str) else None
    by = read_issuer(issuer_file) if issuer_file is not None else issuer
    read = [
        *incidents,
        *([contracts] if contracts else []),
        *([deployments] if deployments else []),
        *([issuer_file] if issuer_file else []),
    ]
    names = {**(book.display_names() if book else {}), **(display_names or {})}
    counts = read_requests_of(requests, s)

    def digests() -> list:  # once the readers have vouched for the files (a missing one is
        return source_files(  # their error)
            incidents, contracts=contracts, holidays=holidays, issuer=issuer_file, stdin=stdin
        )

    needed = memory_needed(incidents)
    if customers is None and needed is not None and needed > as_budget(memory):
        common = {"issuer": by, "display_names": names}
        return _statements_in_buckets(
            incidents,
            s,
            book,
            wanted,
            deployments,
            counts,
            as_budget(memory),
            input_format,
            digests,
            read,
            common,
        )
    kept = None if customers is None else [*customers, "*"]
    log = read_incidents(incidents, s.tz, keep_text=True, fmt=input_format, customers=kept)
    table, trace = prepared(log, s, book, deployments)
    found = build_statements(
        table,
        s,
        month=wanted,
        contracts=book,
        customers=customers,
        inputs=digests(),
        issuer=by,
        display_names=names,
        keep=zone_kept(trace),
        requests=counts,
        log=log if customers is None else None,
    )
    warnings = _zone_warnings(trace) + (list(found[0].warnings) if found else [])
    years = {y for statement in found for y in statement.calendar_years}
    warnings += unconfirmed_warnings(s.work_calendar, years)
    return StatementRun([found], warnings, read)


def _statements_in_buckets(
    incidents: Sequence[str],
    s: Settings,
    book: Any,
    month: Month,
    deployments: Any,
    counts: Any,
    budget: int,
    input_format: str | None,
    digests: Callable[[], list],
    read: list[str],
    common: dict[str, Any],
) -> StatementRun:
    """Every customer's statements of a log larger than memory: the log read once into
    buckets of customers, then each bucket through the in-memory steps (zones, composites,
    counts) as its batch is asked for. The month's warnings are the whole log's; those of
    zone rows in no deployment, and the calendar's, come once every batch is made."""

    from slacalc.computing.partitioned import open_buckets
    from slacalc.computing.statements import build_statements

    if isinstance(deployments, str):
        from slacalc.reading.deployments import read_deployments

        deployments = read_deployments(deployments, s.tz)
    log = open_buckets(
        incidents,
        s,
        budget=budget,
        contracts=book,
        months=[month],
        fmt=input_format,
        keep_text=True,
    )
    try:
        inputs = digests()
        month_warnings = log.facts.warnings(s.as_of, months=True)
    except BaseException:
        log.close()
        raise
    later: list[str] = []

    def batches() -> Iterator[list[Any]]:
        with log:
            _, trace = by_zone(log.stars, s, book, deployments)
            notes = trace.notes() if trace is not None else []
            years: set[int] = set()
            for b, table, part_book in log.buckets():
                zoned, trace, part_counts = _prepared_part(
                    table, s, part_book, log.mine(b), deployments, counts
                )
                if trace is not None:
                    notes.extend(trace.notes(stars=False))
                found = build_statements(
                    zoned,
                    s,
                    month=month,
                    contracts=part_book,
                    inputs=inputs,
                    keep=zone_kept(trace),
                    requests=part_counts,
                    warnings=month_warnings,
                    **common,
                )
                years |= {y for statement in found for y in statement.calendar_years}
                yield found
            later.extend(str(p) for p in log.in_log_order(notes))
            later.extend(unconfirmed_warnings(s.work_calendar, years))

    return StatementRun(batches(), month_warnings, read, later)
