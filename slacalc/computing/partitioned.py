"""Reports of logs larger than memory: the log split into buckets of customers on disk, each
bucket computed by the same engine, the buckets' rows merged in key order.

Every key's months depend only on its own incidents, its customer's contracts (a wildcard
contract gets a row of its own only when none of the customer's keys used it) and the
customer-wide ``*`` rows of its service. So the log is read once, as a stream of pieces, and
each row is written to the bucket of its customer (a hash of the name); ``*`` rows go to one
file that every bucket reads too. The months are the union of the pieces' months, and each
bucket is computed by :func:`~slacalc.computing.report.compute_report` with them fixed, then
stored as the report's text. The buckets' keys are sorted together and their rows gathered in
that order, a piece at a time, for the same writers the in-memory report uses: the output is
the same, byte for byte, and only one bucket is ever held in memory.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from slacalc import speed
from slacalc.computing.keys import customer_wide
from slacalc.computing.report import LogFacts, Report, compute_report, touched_months
from slacalc.dates.months import Month
from slacalc.errors import InputError, Problem, SlacalcError, printable
from slacalc.model.cells import EVERY_CUSTOMER
from slacalc.model.contracts import ContractBook
from slacalc.model.settings import Settings
from slacalc.model.table import IncidentTable, from_columns, index_of, sort_order

# Memory of an in-memory report, measured on realistic logs (bench/): about this much to start
# (Python, numpy, pyarrow) and this much per byte of CSV log (its rows as text, as a table,
# in the engine and priced). A bucket is read back from Parquet, so it needs less per row.
BASE_BYTES = 200 << 20
PER_INPUT_BYTE = 10
PER_BUCKET_BYTE = 16
MIN_BUDGET = 384 << 20
# A stream is read in pieces of a 128th of the budget (1 to 16 MB): pyarrow holds about 30
# pieces at a time, read ahead, parsed and typed.
STREAM_SHARE = 128
_BATCH_ROWS = 1 << 10  # rows per record batch of a bucket's stored text
_KEY_BATCH = 1 << 12  # keys per batch of a bucket's stored keys (merged a batch at a time)
_MERGE_ROWS = 1 << 13  # rows per merged piece of output


def default_budget() -> int:
    """A quarter of the machine's memory (2 GiB where it cannot be told)."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // 4
    except (ValueError, OSError, AttributeError):
        return 2 << 30


def memory_needed(paths: Sequence[str]) -> int | None:
    """About how much memory an in-memory report of ``paths`` needs; None when a size is
    unknown (standard input, a pipe)."""
    total = 0
    for path in paths:
        size = _input_size(path)
        if size is None:
            return None
        total += size
    return BASE_BYTES + total * PER_INPUT_BYTE


def _input_size(path: str) -> int | None:
    """The size of a log as CSV would have it: a Parquet file counts its rows."""
    import stat

    try:
        info = os.stat(path)
    except OSError:
        return 0  # the reader says what is wrong with it
    if not stat.S_ISREG(info.st_mode):
        return None
    if path.lower().endswith((".parquet", ".pq")):
        try:
            import pyarrow.parquet as pq

            return pq.ParquetFile(path).metadata.num_rows * 100
        except (OSError, ValueError, pa.ArrowException):  # not Parquet: its reader says so
            return info.st_size
    return info.st_size


def bucket_count(paths: Sequence[str], budget: int) -> int:
    """How many buckets keep each one's computation within ``budget`` (a hash spreads
    customers unevenly, so with room to spare)."""
    total = sum(_input_size(p) or 0 for p in paths)
    room = max(budget - BASE_BYTES, 64 << 20)
    return max(2, -(-int(total * PER_BUCKET_BYTE * 1.25) // room))


@dataclass
class PartitionedReport:
    """A report computed a bucket at a time: its rows come back as pieces of text columns, in
    the order of the in-memory report. Use it as a context manager: its files are removed on
    exit."""

    settings: Settings
    months: list[Month]
    warnings: list[str]
    n_rows: int
    _pieces: Callable[[], Iterator[Callable[[], dict[str, Any]]]]
    _breached: bool
    _years: set[int]
    _dir: Any = field(repr=False)

    def __len__(self) -> int:
        return self.n_rows

    def __enter__(self) -> PartitionedReport:
        return self

    def __exit__(self, *exc: object) -> None:
        self._dir.cleanup()

    def text_parts(self) -> Iterator[Callable[[], dict[str, Any]]]:
        """The rows as pieces of text columns, in order: functions that give each piece."""
        return self._pieces()

    def any_breached(self) -> bool:
        return self._breached

    def calendar_years(self, *, deadlines: bool = False) -> set[int]:
        """The years whose working days the claim windows counted (deadlines are a table's)."""
        return set(self._years)


@dataclass
class BucketWork:
    """What a run computes of each bucket beyond the engine (zones, request counts, composite
    services): :mod:`slacalc.run` makes one, so that a bucket goes through the same steps as a
    log held in memory.

    ``report(table, book, mine, months)``: the report of one bucket's rows (its customers' and
    the ``*`` rows) under its contracts, and the zone warnings of its own rows; ``mine`` tells,
    for a string array of customers, which are this bucket's. ``stars(table)``: the warnings of
    the ``*`` rows, said once from every customer's deployments. ``include``: months reported
    beside those the log touches (the request counts')."""

    report: Callable[..., tuple[Report, list[Problem]]]
    stars: Callable[[IncidentTable], list[Problem]]
    include: list[Month] = field(default_factory=list)
    # the customers of the deployments and request counts (a part takes those it owns)
    customers: Callable[[], list[str]] = list


def report_in_buckets(
    paths: Sequence[str],
    settings: Settings,
    *,
    budget: int,
    contracts: ContractBook | None = None,
    months: Sequence[Month] | None = None,
    fmt: str | None = None,
    workdir: str | None = None,
    work: BucketWork | None = None,
) -> PartitionedReport:
    """The report of the logs at ``paths``, read as a stream and computed in buckets sized for
    a memory ``budget`` (bytes)."""
    include = work.include if work is not None else ()
    return _compute(
        open_buckets(
            paths,
            settings,
            budget=budget,
            contracts=contracts,
            months=months,
            fmt=fmt,
            workdir=workdir,
            include=include,
        ),
        work,
    )


def open_buckets(
    paths: Sequence[str],
    settings: Settings,
    *,
    budget: int,
    contracts: ContractBook | None = None,
    months: Sequence[Month] | None = None,
    fmt: str | None = None,
    workdir: str | None = None,
    include: Sequence[Month] = (),
    keep_text: bool = False,
) -> SplitLog:
    """The logs at ``paths`` read once as a stream and written to buckets of customers sized
    for a memory ``budget`` (bytes): every problem of the whole log raised before a bucket is
    computed (``keep_text``: the timestamps as written are kept, for explanations). Close it
    (or use it as a context manager) to remove its files."""
    from slacalc.reading import Reread, stream_incidents

    buckets = bucket_count(paths, budget)
    piece_bytes = min(max(budget // STREAM_SHARE, 1 << 20), 16 << 20)
    row_reader: set[str] = set()
    while True:
        pieces = stream_incidents(
            paths,
            settings.tz,
            fmt=fmt,
            row_reader=row_reader,
            piece_bytes=piece_bytes,
            keep_text=keep_text,
        )
        try:
            return split_log(
                pieces,
                settings,
                buckets=buckets,
                contracts=contracts,
                months=months,
                workdir=workdir,
                include=include,
            )
        except Reread as again:
            row_reader.add(again.path)


def compute_partitioned(
    pieces: Iterator[tuple[IncidentTable, list[Problem]]],
    settings: Settings,
    *,
    buckets: int,
    contracts: ContractBook | None = None,
    months: Sequence[Month] | None = None,
    workdir: str | None = None,
    work: BucketWork | None = None,
) -> PartitionedReport:
    """The report of a log given as a stream of typed pieces (and their problems), computed
    ``buckets`` customers' buckets at a time (with ``work``'s steps, when given). Raises what
    :func:`compute_report` would, and :class:`TempFolderError` when the bucket files cannot be
    written in ``workdir`` (default: ``$TMPDIR``, as it is: a full one is not swapped for
    another folder behind the user's back)."""
    include = work.include if work is not None else ()
    return _compute(
        split_log(
            pieces,
            settings,
            buckets=buckets,
            contracts=contracts,
            months=months,
            workdir=workdir,
            include=include,
        ),
        work,
    )


@dataclass
class SplitLog:
    """A log written to buckets of customers on disk, with what the whole log says: its
    months, its customer ``*`` rows (every bucket reads them), and the facts of its warnings."""

    settings: Settings
    split: _Split
    stars: IncidentTable
    facts: LogFacts
    months: list[Month]
    book: ContractBook | None
    tmp: Any = field(repr=False)

    def __enter__(self) -> SplitLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.tmp.cleanup()

    def buckets(self) -> Iterator[tuple[int, IncidentTable, ContractBook | None]]:
        """Each bucket in turn: its number, its rows (with the ``*`` rows) and its
        customers' contracts and composites (None without contracts)."""
        book, split = self.book, self.split
        # each bucket's contracts, as columns (no contract object is made)
        of_contract = np.array(
            [split.bucket_of(c) for c in book.table.customer.to_pylist()] if book else [],
            dtype=np.int64,
        )
        for b in range(split.n):
            part_book = None
            if book is not None:
                part_book = ContractBook(
                    table=book.table.take(np.flatnonzero(of_contract == b)),
                    composites={
                        k: v for k, v in book.composites.items() if split.bucket_of(k[0]) == b
                    },
                    display_names=book.display_names(),
                )
            yield b, split.read(b, self.stars), part_book

    def mine(self, b: int) -> Callable[[Any], Any]:
        """Which of some customers (a string array) are bucket ``b``'s, as bools."""
        return partial(self.split.in_bucket, b=b)

    def in_log_order(self, problems: list[Problem]) -> list[Problem]:
        """``problems`` sorted as the log's rows are: by file, then line."""
        order = {name: i for i, name in enumerate(self.split.files)}
        return sorted(problems, key=lambda p: (order.get(p.file or "", len(order)), _line(p)))


def split_log(
    pieces: Iterator[tuple[IncidentTable, list[Problem]]],
    settings: Settings,
    *,
    buckets: int,
    contracts: ContractBook | None = None,
    months: Sequence[Month] | None = None,
    workdir: str | None = None,
    include: Sequence[Month] = (),
) -> SplitLog:
    """A log given as a stream of typed pieces (and their problems) written to ``buckets``
    buckets of customers in ``workdir`` (default: ``$TMPDIR``, as it is: a full one is not
    swapped for another folder behind the user's back; :class:`TempFolderError` when the
    files cannot be written there). Every problem of the log is raised together. The months
    are ``months``, or those the log touches and ``include``."""
    folder = workdir or os.environ.get("TMPDIR") or tempfile.gettempdir()
    with _writing(folder):
        tmp = tempfile.TemporaryDirectory(
            prefix="slacalc-buckets-", dir=folder, ignore_cleanup_errors=True
        )
    try:
        return _split(pieces, settings, buckets, contracts, months, include, tmp)
    except BaseException:
        tmp.cleanup()
        raise


def _split(
    pieces: Iterator[tuple[IncidentTable, list[Problem]]],
    settings: Settings,
    n_buckets: int,
    book: ContractBook | None,
    months: Sequence[Month] | None,
    include: Sequence[Month],
    tmp: Any,
) -> SplitLog:
    split = _Split(tmp.name, n_buckets)
    problems: dict[str, list[Problem]] = {}
    facts = LogFacts()
    touched: set[Month] = set()
    for table, found in pieces:
        for p in found:
            problems.setdefault(p.file or "", []).append(p)
        if problems:
            continue  # still read on, to report every problem at once
        facts.add_late(table, settings.as_of)
        if not months:
            touched.update(touched_months(table, settings))
        split.add(table)
    split.close()
    speed.give_back()
    if problems:
        raise InputError([p for found in problems.values() for p in sorted(found, key=_line)])
    chosen = sorted(set(months)) if months else sorted(touched.union(include))
    stars = split.read_stars()
    if book is None and len(stars):
        customer_wide(stars, None)  # raises: customer '*' needs contracts (once, not per bucket)
    if chosen and book is not None and len(stars):
        for k, service in enumerate(stars.key_service.to_pylist()):
            if not book.customers_of(service):
                facts.nobody.append((stars.where(stars.first_row(k)), service))
    return SplitLog(settings, split, stars, facts, chosen, book, tmp)


def _compute(log: SplitLog, work: BucketWork | None = None) -> PartitionedReport:
    """The report of a log split into buckets (its files removed if it fails)."""
    try:
        return _computed(log, work)
    except BaseException:
        log.close()
        raise


def _computed(log: SplitLog, work: BucketWork | None) -> PartitionedReport:
    settings, chosen, tmp = log.settings, log.months, log.tmp
    if not chosen:  # nothing to report: the in-memory report says so, with no rows
        empty = compute_report(IncidentTable.empty(), settings, contracts=log.book)
        return _single(empty, settings, log.facts.warnings(settings.as_of, months=False), tmp)
    warnings = log.facts.warnings(settings.as_of, months=True)
    notes = work.stars(log.stars) if work is not None else []
    stored: list[_Stored] = []
    failed: list[Problem] = []
    breached = False
    years: set[int] = set()
    with speed.memory_bound():
        for b, table, part_book in log.buckets():
            try:
                if work is None:
                    report = compute_report(
                        table, settings, contracts=part_book, months=chosen, whole=False
                    )
                else:
                    report, found = work.report(table, part_book, log.mine(b), chosen)
                    notes.extend(found)
            except InputError as exc:  # unpriced keys: every bucket's, named together
                failed.extend(exc.problems)
                continue
            del table
            breached = breached or report.any_breached()
            years |= report.calendar_years(deadlines=False)
            stored.append(
                _store(
                    report,
                    os.path.join(tmp.name, f"rows-{b}.arrow"),
                    os.path.join(tmp.name, f"keys-{b}.arrow"),
                )
            )
            del report
            speed.give_back()
    if failed:
        raise InputError(log.in_log_order(failed))
    if notes:  # the zones' warnings first, in the log's order, as in memory
        warnings = [*map(str, log.in_log_order(notes)), *warnings]
    n_rows = sum(s.n_keys for s in stored) * len(chosen)
    pieces = partial(_merged_pieces, stored, len(chosen))
    return PartitionedReport(settings, chosen, warnings, n_rows, pieces, breached, years, tmp)


def _taken(values: Any, index: Any) -> Any:
    """An optional text column's rows ``index`` (nulls when the table has no such column)."""
    return values.take(index) if values is not None else pa.nulls(len(index), pa.string())


def _whole(values: Any) -> Any:
    return values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values


class TempFolderError(SlacalcError):
    """The bucket files of a report larger than memory could not be written (exit 1)."""


@contextlib.contextmanager
def _writing(folder: str) -> Iterator[None]:
    """Bucket files being written in the temporary ``folder``: a full, missing or read-only
    folder is a :class:`TempFolderError` that names it and says what to do, not a bug."""
    try:
        yield
    except OSError as exc:
        why = os.strerror(exc.errno) if exc.errno else str(exc)
        where = f"the temporary folder '{printable(folder)}'"
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            what = f"{where} is full ({why})"
        else:
            what = f"cannot write the bucket files of a report larger than --memory in {where}"
            what += f" ({why})"
        raise TempFolderError(
            f"{what}: set TMPDIR to a folder with room for about the log's size again, or give "
            "--memory more"
        ) from None


def _line(p: Problem) -> int:
    return p.line or 0


def _single(report: Report, settings: Settings, warnings: list[str], tmp: Any) -> PartitionedReport:
    return PartitionedReport(
        settings,
        report.months,
        warnings,
        len(report),
        lambda: iter(report.text_parts()),
        report.any_breached(),
        report.calendar_years(deadlines=False),
        tmp,
    )


# --- splitting the log into buckets -----------------------------------------------------------


_SCHEMA = pa.schema(
    [
        ("customer", pa.string()),
        ("service", pa.string()),
        ("start", pa.int64()),
        ("end", pa.int64()),
        ("category", pa.int8()),
        ("impact", pa.int32()),
        ("file", pa.int32()),
        ("line", pa.int64()),
        ("incident_id", pa.string()),
        ("source", pa.string()),
        ("zone", pa.string()),
        ("start_text", pa.string()),
        ("end_text", pa.string()),
    ]
)


class _Split:
    """Parquet buckets of a log's rows by customer, ``*`` rows apart; impacts and file names
    numbered across the whole log."""

    def __init__(self, folder: str, n: int) -> None:
        self.folder = folder
        self.n = n
        self.impacts: dict[Any, int] = {}
        self.files: list[str] = []
        self.zoned = False  # some piece had a zone column: the buckets read it back
        self.texts = False  # the pieces kept their timestamps as written (explanations)
        self._writers: dict[int, Any] = {}

    def bucket_of(self, customer: str) -> int:
        """A customer's bucket: Python's string hash, the same for the whole run."""
        return hash(customer) % self.n

    def in_bucket(self, customers: Any, b: int) -> Any:
        """Which of ``customers`` (a string array) are bucket ``b``'s, as bools (``*`` is
        no bucket's)."""
        words = pc.dictionary_encode(_whole(customers))
        names = words.dictionary.to_pylist()
        of_word = np.array(
            [c != EVERY_CUSTOMER and self.bucket_of(c) == b for c in names], dtype=bool
        )
        return of_word[np.asarray(words.indices)] if len(names) else np.zeros(0, dtype=bool)

    def _path(self, b: int) -> str:
        return os.path.join(self.folder, "stars.parquet" if b < 0 else f"bucket-{b}.parquet")

    def add(self, table: IncidentTable) -> None:
        if not len(table):
            return
        self.zoned = self.zoned or table.zone is not None
        self.texts = self.texts or table.start_text is not None
        imp = np.array([self.impacts.setdefault(v, len(self.impacts)) for v in table.impacts])
        names = np.array([index_of(self.files, f) for f in table.files], dtype=np.int32)
        customers = table.key_customer.to_pylist()
        of_key = np.array(
            [-1 if c == EVERY_CUSTOMER else self.bucket_of(c) for c in customers], np.int64
        )
        row_bucket = of_key[table.key]
        order = np.argsort(row_bucket, kind="stable")
        bounds = np.searchsorted(row_bucket[order], np.arange(-1, self.n + 1))
        index = pa.array(order)
        keys = pa.array(table.key[order])
        columns = pa.table(
            {
                "customer": table.key_customer.take(keys),
                "service": table.key_service.take(keys),
                "start": table.start[order],
                "end": table.end[order],
                "category": table.category[order],
                "impact": imp[table.impact[order]].astype(np.int32),
                "file": names[table.file[order]],
                "line": table.line[order],
                "incident_id": table.incident_id.take(index),
                "source": (
                    table.source.take(index)
                    if table.source is not None
                    else pa.nulls(len(order), pa.string())
                ),
                "zone": _taken(table.zone, index),
                "start_text": _taken(table.start_text, index),
                "end_text": _taken(table.end_text, index),
            },
            schema=_SCHEMA,
        )
        with self._writing():
            for i, b in enumerate(range(-1, self.n)):
                lo, hi = int(bounds[i]), int(bounds[i + 1])
                if hi > lo:
                    self._writer(b).write_table(columns.slice(lo, hi - lo))

    def _writer(self, b: int) -> Any:
        import pyarrow.parquet as pq

        if b not in self._writers:
            self._writers[b] = pq.ParquetWriter(self._path(b), _SCHEMA, compression="lz4")
        return self._writers[b]

    def close(self) -> None:
        with self._writing():
            for w in self._writers.values():
                w.close()

    @contextlib.contextmanager
    def _writing(self) -> Iterator[None]:
        """The buckets being written: on a failure, every writer is let go quietly (a writer
        closed later by the garbage collector would report the full disk again)."""
        try:
            with _writing(os.path.dirname(self.folder)):
                yield
        except BaseException:
            for w in self._writers.values():
                with contextlib.suppress(OSError):
                    w.close()
                w.is_open = False
            raise

    def read_stars(self) -> IncidentTable:
        return self._read(-1)

    def read(self, b: int, stars: IncidentTable) -> IncidentTable:
        from slacalc.model.table import concat_tables

        return concat_tables([self._read(b), stars])

    def _read(self, b: int) -> IncidentTable:
        import pyarrow.parquet as pq

        if b not in self._writers:
            return IncidentTable.empty()
        t = pq.read_table(self._path(b))
        source = t.column("source").combine_chunks()
        return from_columns(
            customers=t.column("customer").combine_chunks(),
            services=t.column("service").combine_chunks(),
            start=t.column("start").to_numpy(),
            end=t.column("end").to_numpy(),
            category=t.column("category").to_numpy(),
            impact=t.column("impact").to_numpy(),
            impacts=list(self.impacts),
            file=t.column("file").to_numpy(),
            files=list(self.files),
            line=t.column("line").to_numpy(),
            incident_id=t.column("incident_id").combine_chunks(),
            source=source if source.null_count < len(source) else None,
            zone=t.column("zone").combine_chunks() if self.zoned else None,
            start_text=t.column("start_text").combine_chunks() if self.texts else None,
            end_text=t.column("end_text").combine_chunks() if self.texts else None,
        )


# --- storing each bucket's rows and merging them ----------------------------------------------


@dataclass
class _Stored:
    rows: str  # the bucket's report as text columns, in batches of _BATCH_ROWS rows
    keys: str  # its keys (customer, service), sorted, in batches of _KEY_BATCH keys
    n_keys: int


def _store(report: Report, rows_path: str, keys_path: str) -> _Stored:
    """A bucket's report as text columns in an Arrow file, and its sorted keys in another."""
    _write_batches(rows_path, (pa.record_batch(part()) for part in report.text_parts(_BATCH_ROWS)))
    plan = report.plan
    keys = pa.table({"customer": plan.key_customer, "service": plan.key_service})
    _write_batches(keys_path, keys.to_batches(max_chunksize=_KEY_BATCH))
    return _Stored(rows_path, keys_path, len(plan))


def _write_batches(path: str, batches: Iterator[Any]) -> None:
    import pyarrow.ipc as ipc

    with _writing(os.path.dirname(os.path.dirname(path))), pa.OSFile(path, "wb") as sink:
        writer = None
        for batch in batches:
            if writer is None:
                writer = ipc.new_file(sink, batch.schema)
            writer.write_batch(batch)
        if writer is not None:
            writer.close()


def _merged_pieces(stored: list[_Stored], n_months: int) -> Iterator[Callable[[], dict]]:
    """Pieces of output in key order, each a function that gathers its rows from the buckets.

    A k-way merge a batch of keys per bucket at a time: the keys in hand are sorted together,
    and every key up to the smallest of the buckets' last keys in hand is final (no bucket can
    still bring a smaller one). Memory holds a batch per bucket, never every key."""
    step = max(1, _MERGE_ROWS // max(n_months, 1))
    live = [(b, _Cursor(s)) for b, s in enumerate(stored) if s.n_keys]
    out_b: list[Any] = []
    out_k: list[Any] = []
    held = 0
    while live:
        customers = pa.concat_arrays([c.customers for _, c in live])
        services = pa.concat_arrays([c.services for _, c in live])
        sizes = np.array([len(c.customers) for _, c in live], dtype=np.int64)
        owner = np.repeat(np.arange(len(live)), sizes)
        order = sort_order(customers, services)
        # The bucket whose last key in hand comes first fences the merge.
        ends = np.cumsum(sizes) - 1
        rank = np.empty(len(order), dtype=np.int64)
        rank[order] = np.arange(len(order))
        fence = int(rank[ends].min())
        emitted = order[: fence + 1]
        who = owner[emitted]
        starts = np.cumsum(sizes) - sizes
        out_b.append(np.array([b for b, _ in live], dtype=np.int64)[who])
        out_k.append(
            np.array([c.position for _, c in live], dtype=np.int64)[who] + emitted - starts[who]
        )
        # every bucket's emitted keys are a prefix of those in hand: drop them
        counts = np.bincount(who, minlength=len(live))
        for i, (_, cursor) in enumerate(live):
            cursor.advance(int(counts[i]))
        live = [(b, c) for b, c in live if c.customers is not None]
        held += len(emitted)
        while held >= step or (not live and held):
            bucket = np.concatenate(out_b)
            local = np.concatenate(out_k)
            yield partial(_gather, stored, bucket[:step], local[:step], n_months)
            out_b, out_k = [bucket[step:]], [local[step:]]
            held = len(bucket) - min(step, len(bucket))


class _Cursor:
    """One bucket's sorted keys, a batch in hand at a time."""

    def __init__(self, stored: _Stored) -> None:
        import pyarrow.ipc as ipc

        self._file = pa.OSFile(stored.keys, "rb")
        self._reader = ipc.open_file(self._file)
        self._next = 0
        self.position = 0  # the bucket's number of the first key in hand
        self.customers: Any = None
        self.services: Any = None
        self._load()

    def _load(self) -> None:
        if self._next >= self._reader.num_record_batches:
            self._file.close()
            self.customers = self.services = None
            return
        batch = self._reader.get_batch(self._next)
        self._next += 1
        self.customers, self.services = batch.column(0), batch.column(1)

    def advance(self, n: int) -> None:
        """The first ``n`` keys in hand were merged: drop them, and load the next batch when
        none are left."""
        if not n:
            return
        self.position += n
        self.customers, self.services = self.customers.slice(n), self.services.slice(n)
        if not len(self.customers):
            self._load()


def _gather(stored: list[_Stored], bucket: Any, local: Any, n_months: int) -> dict[str, Any]:
    """The rows of some keys (their bucket and number in it, in output order), as columns.

    Each bucket's file is mapped, not read: only the pages of the rows taken are touched, and
    the map is let go before the next piece."""
    import pyarrow.ipc as ipc

    tables, maps, base = [], [], 0
    position = np.zeros(len(bucket), dtype=np.int64)
    try:
        for b in np.unique(bucket).tolist():
            mine = np.flatnonzero(bucket == b)
            keys = local[mine]
            lo_row, hi_row = int(keys[0]) * n_months, (int(keys[-1]) + 1) * n_months
            first, last = lo_row // _BATCH_ROWS, (hi_row - 1) // _BATCH_ROWS
            source = pa.memory_map(stored[b].rows)
            maps.append(source)
            reader = ipc.open_file(source)
            batches = [reader.get_batch(i) for i in range(first, last + 1)]
            table = pa.Table.from_batches(batches)
            tables.append(table.slice(lo_row - first * _BATCH_ROWS, hi_row - lo_row))
            position[mine] = base + (keys - keys[0]) * n_months
            base += hi_row - lo_row
        rows = (position[:, None] + np.arange(n_months)).reshape(-1)
        merged = pa.concat_tables(tables).take(pa.array(rows))  # a copy: the maps can go
        return {name: merged.column(name).combine_chunks() for name in merged.column_names}
    finally:
        del tables
        for source in maps:
            source.close()
