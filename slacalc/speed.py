"""Where slacalc trades generality for speed, each trick in one place, with one set of
thresholds. Every trick can be turned off for a measurement (``SLACALC_SPEED_OFF=threads,fixed``:
:data:`TRICKS` names them), so ``bench/tricks.py`` can say what each one is worth; a trick
stays only where the bench shows it pays.

**Fixed width.** numpy's ``int64`` arithmetic is fast and exact, but only while no value and no
intermediate passes 2**63: past it, numbers wrap around without a word. Every fixed-width path
in slacalc asks :func:`fits` whether an upper bound of what it will compute stays below
:data:`LIMIT`; when it does not, the same expressions run on Python integers (``object``
arrays), slower and never wrong. The bound is checked here and nowhere else: a module that
computes in ``int64`` derives its bound and calls these functions, it never compares with a
power of two of its own.

The helpers take and give numpy arrays (or Python integers): ``int64`` where the bound fits,
``object`` arrays of Python integers where it does not, or where an operand already is one.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextvars import ContextVar
from itertools import pairwise
from typing import Any, TypeVar

import numpy as np

T = TypeVar("T")

# The tricks, by the names SLACALC_SPEED_OFF takes.
TRICKS = {
    "fixed": "int64 arithmetic behind the bound (off: Python integers everywhere)",
    "packed": "events sorted as packed int64 values, not by an index sort",
    "threads": "two threads for large columns (off: one)",
    "malloc": "glibc keeps freed memory for reuse in one heap, and no transparent huge pages",
    "pool": "pyarrow allocates from that heap too (not jemalloc): each reuses what the other frees",
    "whole": "a CSV log up to 128 MB is parsed in one go by pyarrow's multithreaded reader",
    "coded": "pyarrow's CSV reader threads number the words of a log's few-valued columns",
    "dense": "keys numbered through a table of every possible pair, not a hash table",
    "phases": "in buckets, what reading frees goes back before computing, computing's before "
    "writing",
    "pandas": "pyarrow is told there is no pandas (it imports it to inspect lists)",
    "exit": "the console script leaves with os._exit once its output is flushed",
    "pagecache": "pages written (and read) are let go of as the run goes",
    "blas": "OpenBLAS runs one thread (set by slacalc.cli before numpy loads: no idle spinning)",
    "docs": "pyarrow.compute loads without writing each function's options into its docstring",
}
_OFF = frozenset(os.environ.get("SLACALC_SPEED_OFF", "").replace(" ", "").split(",")) - {""}


def on(trick: str) -> bool:
    """Whether ``trick`` (a key of :data:`TRICKS`) is in use."""
    return trick not in _OFF


# --- fixed width ------------------------------------------------------------------------------

# The one bound: int64 with a factor of two of headroom, so that a checked value may still be
# doubled or have a smaller checked value added (half-up rounding computes ``2 * num + den``).
LIMIT = 1 << 62 if on("fixed") else 0


def fits(bound: int) -> bool:
    """Whether values whose magnitude is at most ``bound`` may be computed in ``int64``."""
    return bound < LIMIT


def top(values: Any) -> int:
    """The largest magnitude in ``values`` (an array, a list or a number) as a Python integer;
    0 for an empty array."""
    if isinstance(values, int):
        return abs(values)
    arr = np.asarray(values)
    if not arr.size:
        return 0
    if arr.dtype == object:  # numpy's own loop over the Python integers: no generator
        return max(int(arr.max()), -int(arr.min()))
    # the largest and smallest, each as a Python integer: abs() of int64's minimum would wrap
    return max(abs(int(arr.max())), abs(int(arr.min())))


def is_wide(values: Any) -> bool:
    """Whether ``values`` already holds Python integers (an ``object`` array)."""
    return isinstance(values, np.ndarray) and values.dtype == object


def exact(values: Any, bound: int) -> Any:
    """``values`` as an array fit for exact arithmetic whose results stay within ``bound``:
    ``int64`` when the bound fits and the values are not Python integers already, else an
    ``object`` array of Python integers."""
    arr = np.asarray(values)
    if fits(bound) and arr.dtype != object:
        return arr.astype(np.int64, copy=False)
    return arr.astype(object)


def widen(values: Any, factor: int) -> Any:
    """An array operand ready for products up to ``factor`` times its largest value (Python
    integers, scalars included, pass through)."""
    if not isinstance(values, np.ndarray) or values.dtype == object or not len(values):
        return values
    return exact(values, top(values) * factor)


def product(a: Any, b: Any) -> Any:
    """``a * b`` exactly, element by element: arrays or Python integers, in ``int64`` when the
    largest product fits."""
    bound = top(a) * top(b)
    if not isinstance(a, np.ndarray) and not isinstance(b, np.ndarray):
        return a * b
    if fits(bound) and not is_wide(a) and not is_wide(b):
        return np.asarray(a, dtype=np.int64) * np.asarray(b, dtype=np.int64)
    return _wide(a) * _wide(b)


def _wide(value: Any) -> Any:
    return np.asarray(value).astype(object) if isinstance(value, np.ndarray) else int(value)


def sums_at(index: Any, values: Any, size: int, *, bound: int | None = None) -> Any:
    """The sum of ``values`` per group (``index`` names each value's group, ``0 <= index <
    size``), exactly.

    ``bound`` is the caller's upper bound on the magnitude of any group's sum (downtime in a
    month is at most the month times the largest loss); without it, the sum of every
    magnitude is the bound."""
    values = np.asarray(values)
    if bound is None:
        bound = top(values) * len(values)
    if fits(bound) and values.dtype != object:
        out = np.zeros(size, dtype=np.int64)
        np.add.at(out, index, values.astype(np.int64, copy=False))
        return out
    out = np.zeros(size, dtype=object)
    out[:] = 0
    np.add.at(out, index, values.astype(object))
    return out


def packs(n_keys: int, span: int, codes: int, *offsets: Any) -> tuple[int, int] | None:
    """How to pack events into single ``int64`` values ``(key x width + time) x codes + code``
    (``time`` an offset below ``span`` microseconds, in ``unit``), so that sorting the values
    sorts the events: ``(unit, width)``, or None when they do not fit the bound. The unit is a
    second when every one of ``offsets`` (arrays) is whole seconds, else a microsecond."""
    if not on("packed"):
        return None
    second = 1_000_000
    unit = second if all(not np.any(o % second) for o in offsets) else 1
    width = span // unit + 1
    return (unit, width) if fits(n_keys * width * codes) else None


# --- numbering ---------------------------------------------------------------------------------

# Numbering through a dense table is used while the table has at most this many entries per value
# numbered (plus a floor): its memory stays in proportion to the values'.
DENSE_PER_VALUE = 4
DENSE_FLOOR = 1 << 20


def _dense(n: int, space: int) -> bool:
    """Whether ``n`` values below ``space`` go through a table of every possible value."""
    return on("dense") and space <= DENSE_PER_VALUE * n + DENSE_FLOOR


def numbered(values: Any, space: int) -> tuple[Any, Any]:
    """The distinct values of ``values`` (non-negative ``int64`` below ``space``) in order of
    first appearance, and each value's number among them: what pyarrow's dictionary encoding
    gives. When ``space`` is small beside the values (``dense``), through a table of every
    possible value instead of a hash table: each value's first position is its minimum
    position, and the first appearances, taken in position order, are the distinct values in
    order (2-3x faster than hashing a million keys)."""
    values = np.asarray(values, dtype=np.int64)
    n = len(values)
    if _dense(n, space):
        kind = np.int32 if n < (1 << 31) - 1 else np.int64
        position = np.arange(n, dtype=kind)
        first = np.full(space, n, dtype=kind)
        np.minimum.at(first, values, position)
        distinct = values[first[values] == position]
        number = np.empty(space, dtype=np.int64)  # set only where a value is
        number[distinct] = np.arange(len(distinct))
        return distinct, number[values]
    import pyarrow as pa

    encoded = pa.array(values).dictionary_encode()
    return (
        np.asarray(encoded.dictionary, dtype=np.int64),
        np.asarray(encoded.indices, dtype=np.int64),
    )


def sorting_order(values: Any, space: int) -> Any:
    """The order that sorts ``values`` (non-negative integers below ``space``), ties in their
    order. When the values are distinct and ``space`` small beside them (``dense``), through a
    table of every possible value: each value's position is set at its entry, and the set
    entries, read in order, are the order (no comparisons: 5M-row report's 1.7M keys in a
    tenth of numpy's sort). Else numpy's stable sort."""
    values = np.asarray(values, dtype=np.int64)
    n = len(values)
    if _dense(n, space):
        at = np.full(space, -1, dtype=np.int64)
        at[values] = np.arange(n)
        order = at[at >= 0]
        if len(order) == n:  # else some value came twice, and only its last position is set
            return order
    return np.argsort(values, kind="stable")


def column(values: Any) -> Any:
    """Integers (a sequence of Python integers, or an array) as one exact array: ``int64``
    when every value fits the bound, else an ``object`` array of Python integers."""
    if isinstance(values, np.ndarray) and values.dtype != object:
        return values
    arr = np.empty(len(values), dtype=object)
    arr[:] = list(values) if not isinstance(values, np.ndarray) else values
    return narrowed(arr)


def narrowed(values: Any) -> Any:
    """An ``object`` array of Python integers as ``int64`` when every value fits (so later
    steps take the fast paths again); any other array as it is."""
    if is_wide(values) and fits(top(values)):
        return values.astype(np.int64)
    return values


# --- two threads ------------------------------------------------------------------------------
# numpy and pyarrow release the GIL in their loops: a large column is worth two threads on the
# two cores billing machines and CI have. Below these sizes the threads cost more than they save.

THREADS = 2 if on("threads") else 1
PARALLEL_ROWS = 200_000  # rows of a table to type, of a log to sweep
PARALLEL_WORDS = 1_000_000  # text values to hash (pyarrow's dictionary encoding)
PARALLEL_PRICES = 1_000_000  # report rows to price (each half prices every contract's terms)
# ... and pricing splits only when the terms are few: with a contract per key both halves would
# price every terms in Python, fighting for the GIL.
KEYS_PER_TERMS = 16


# The most rows of a log the engine works on at once, per thread: its scratch is a few hundred
# bytes a row, so a larger log is cut into more parts than two (two of them in hand at a time).
# Half a million rows (a million events, 8 MB to sort) beat a million at 5M rows: the engine's
# phase 0.91x the time and 0.92x the CPU, the same peak (a quarter of a million: slower again).
PART_ROWS = 500_000

# A CSV log up to this size, read whole, is parsed in one go by pyarrow's multithreaded reader
# (0.95-0.98x the time of streamed pieces at 200k-1M rows); a larger one is streamed in
# pieces, typed as they come (parsed whole, a 5M-row log gained 1 % for 18 % more memory).
WHOLE_FILE_BYTES = 128 << 20


def parse_whole(size: int) -> bool:
    """Whether a CSV log of ``size`` bytes, read whole, is parsed in one go."""
    return on("whole") and size <= WHOLE_FILE_BYTES


def coded_cells() -> bool:
    """Whether a CSV log's columns of few distinct words (customer, service, category, ...) are
    read as dictionaries: pyarrow's reader threads hash the words as they parse, and the
    typing takes each distinct word once instead of hashing every cell again."""
    return on("coded")


def parts(n: int) -> int:
    """Into how many parts to cut ``n`` rows worked on two at a time: at least two, and a
    multiple of :data:`THREADS` (5M rows in 5 parts left the fifth to run alone)."""
    count = max(2, -(-n // PART_ROWS))
    return -(-count // THREADS) * THREADS


def even_pieces(n: int, size: int) -> list[tuple[int, int]]:
    """``(lo, hi)`` bounds of ``n`` rows cut into pieces of at most ``size`` rows, as few as
    may be but a multiple of :data:`THREADS` of them, all of one size (give or take a row):
    pieces worked on side by side finish together (202k report rows as 131k and 71k kept one
    thread waiting on the other)."""
    if n <= 0:
        return []
    count = -(-n // size)
    count = min(n, -(-count // THREADS) * THREADS)
    cuts = [n * i // count for i in range(count + 1)]
    return list(pairwise(cuts))


def halves(n: int, *, at_least: int | None = None) -> bool:
    """Whether ``n`` rows (or values) are worth splitting in two halves for two threads
    (``at_least``: default :data:`PARALLEL_ROWS`)."""
    return THREADS > 1 and n >= (PARALLEL_ROWS if at_least is None else at_least)


def both(first: Callable[[], T], second: Callable[[], T]) -> tuple[T, T]:
    """``first()`` and ``second()``, side by side on two threads (in turn with one)."""
    if THREADS < 2:
        return first(), second()
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=2) as pool:
        a = pool.submit(first)
        b = pool.submit(second)
        return a.result(), b.result()


def meanwhile(job: Callable[[], T]) -> Callable[[], T]:
    """``job`` started on a thread of its own while the caller goes on; the function returned
    waits for its result (and raises what it raised). With one thread, the job runs when its
    result is asked for."""
    if THREADS < 2:
        return job
    from concurrent.futures import ThreadPoolExecutor

    pool = ThreadPoolExecutor(max_workers=1)
    future = pool.submit(job)
    pool.shutdown(wait=False)
    return future.result


def in_order(jobs: Iterable[Callable[[], T]], *, workers: int | None = None) -> Iterator[T]:
    """The results of ``jobs`` in order, computed a few at a time on ``workers`` threads
    (default :data:`THREADS`). Jobs are taken only as threads come free: ``jobs`` may be a
    stream, and only ``workers`` results are ever in hand."""
    workers = THREADS if workers is None else min(workers, THREADS)
    if workers <= 1:
        for job in jobs:
            yield job()
        return
    from concurrent.futures import ThreadPoolExecutor
    from itertools import islice

    stream = iter(jobs)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        pending = deque(pool.submit(job) for job in islice(stream, workers))
        while pending:
            result = pending.popleft().result()
            job = next(stream, None)
            if job is not None:
                pending.append(pool.submit(job))
            yield result


def ahead(items: Iterator[T]) -> Iterator[T]:
    """The items of ``items``, produced on a thread of its own (started now) as far ahead as
    it goes; what it raises is raised to the consumer, in turn. With one thread, ``items``
    itself. The producer stops at its next item once the consumer closes the iterator (or
    drops it)."""
    if THREADS < 2:
        return items
    return _Ahead(items)


class _Ahead(Iterator[T]):
    def __init__(self, items: Iterator[T]) -> None:
        import queue
        import threading

        self._out: queue.SimpleQueue[tuple[Any, BaseException | None]] = queue.SimpleQueue()
        self._stop = threading.Event()
        self._done = False
        threading.Thread(target=self._produce, args=(items,), daemon=True).start()

    def _produce(self, items: Iterator[T]) -> None:
        try:
            for item in items:
                if self._stop.is_set():
                    return
                self._out.put((item, None))
        except BaseException as exc:  # handed to the consumer, raised there
            self._out.put((self, exc))
            return
        self._out.put((self, None))

    def __next__(self) -> T:
        if self._done:
            raise StopIteration
        item, exc = self._out.get()
        if item is self:  # the end, or what the producer raised
            self._done = True
            if exc is not None:
                raise exc
            raise StopIteration
        return item

    def close(self) -> None:
        self._done = True
        self._stop.set()

    def __del__(self) -> None:
        self._stop.set()


# --- the process ------------------------------------------------------------------------------


def tune_process() -> None:
    """Ask glibc to keep freed memory for reuse instead of returning every large block to the
    kernel (a large report allocates and frees many arrays of the same sizes, and faulting the
    pages in again costs more system time than the computing itself), in one heap for every
    thread (what one thread frees, the others reuse), and no transparent huge pages (each
    first touch of one zeroes 2 MB: a third of a 5M-row report's system time); and pyarrow
    allocating from that same heap (the ``pool`` trick)."""
    if not on("malloc"):
        return
    libc = _libc()
    if libc is None:  # not glibc: nothing to tune
        return
    m_trim_threshold, m_top_pad, m_mmap_threshold, m_arena_max = -1, -2, -3, -8
    libc.mallopt(m_mmap_threshold, 1 << 30)
    libc.mallopt(m_trim_threshold, 1 << 31)
    libc.mallopt(m_top_pad, 64 << 20)
    # one heap for every thread: what the engine's threads free, the main thread reuses (per
    # thread heaps each kept their own peak: 0.7 GB more at 5M rows)
    libc.mallopt(m_arena_max, 1)
    pr_set_thp_disable = 41
    libc.prctl(pr_set_thp_disable, 1, 0, 0, 0)
    if on("pool"):
        # pyarrow's text (read, then formatted) and numpy's arrays (the engine) from one heap:
        # what one phase frees, the next reuses (with jemalloc each kept its own peak: 1M rows
        # 0.92x the time and 0.79x the peak; 5M 0.96x, the same peak)
        import pyarrow as pa

        pa.set_memory_pool(pa.system_memory_pool())


def give_back() -> None:
    """Hand freed memory back to the system (pyarrow's pool and glibc's heap keep it for reuse
    otherwise): between the buckets of a report larger than memory, so that one bucket's
    leftovers never add to the next's."""
    import pyarrow as pa

    pa.default_memory_pool().release_unused()
    libc = _libc()
    if libc is not None:
        with contextlib.suppress(AttributeError):
            libc.malloc_trim(0)


# Whether the run is held to a memory budget it could not meet whole (buckets of customers).
_TIGHT: ContextVar[bool] = ContextVar("slacalc_tight_memory", default=False)


@contextlib.contextmanager
def memory_bound() -> Iterator[None]:
    """A run larger than its memory budget (a report in buckets): inside, each phase hands
    back what it freed (:func:`phase_done`)."""
    token = _TIGHT.set(True)
    try:
        yield
    finally:
        _TIGHT.reset(token)


def phase_done() -> None:
    """A phase of a bucket (reading it, computing its report) is over: hand back what it
    freed and kept for reuse (pyarrow's pool, glibc's heap under the ``malloc`` tuning), so
    that the next phase's peak is not added to it (the next phase reuses little of it: text
    building allocates in pyarrow's pool, the engine in glibc's heap). Only under
    :func:`memory_bound`: a run in memory fits its budget whole, and handing the memory back
    cost it 5-7 % of its time (faulting the pages in again) for a peak 15-28 % lower."""
    if on("phases") and _TIGHT.get():
        give_back()


def _libc() -> Any:
    try:
        import ctypes

        return ctypes.CDLL("libc.so.6")
    except OSError:
        return None


def lean_compute_import() -> None:
    """Load ``pyarrow.compute`` without the documentation it writes at import: it parses the
    numpy-style docstring of every options class to describe each of its ~300 functions (13 ms
    of the 0.2 s a console run takes to start). The functions are the same; only
    ``help(pyarrow.compute.f)`` lists fewer parameters. For the console script (a library
    caller's process is its own); a pyarrow without that parser loads as it is."""
    if not on("docs") or "pyarrow.compute" in sys.modules:
        return
    try:
        from pyarrow.vendored import docscrape
    except ImportError:
        return
    parser = getattr(docscrape, "NumpyDocString", None)
    if parser is None:
        return
    docscrape.NumpyDocString = _NoParameters
    try:
        import pyarrow.compute  # noqa: F401
    finally:
        docscrape.NumpyDocString = parser


class _NoParameters(dict):
    """A parsed docstring with no parameters (what pyarrow.compute reads of one)."""

    def __init__(self, doc: object = None) -> None:
        super().__init__(Parameters=[])


def hide_pandas(wanted: bool) -> None:
    """Tell pyarrow there is no pandas (unless ``wanted``: pyspark needs it). Where pandas is
    installed, pyarrow imports it the first time it converts a Python list, to ask whether the
    list is a pandas object: 0.3-0.6 s of a run that never uses pandas."""
    hidden = any(isinstance(f, _NoPandas) for f in sys.meta_path)
    if on("pandas") and not wanted and "pandas" not in sys.modules and not hidden:
        sys.meta_path.insert(0, _NoPandas())


class _NoPandas:
    """An import finder that says pandas is not installed."""

    def find_spec(self, name: str, path: object = None, target: object = None) -> None:
        if name == "pandas" or name.startswith("pandas."):
            raise ModuleNotFoundError("slacalc does not use pandas", name=name)


def leave(code: int) -> None:
    """Exit with ``code`` without tearing the interpreter down (freeing a large report's objects
    one by one only delays the exit: 0.4 s at 5M rows), once standard output and error are
    flushed; with the trick off, a normal exit."""
    for stream in (sys.stdout, sys.stderr):
        # None when the descriptor was closed at start; a closed pipe: nothing more to say
        with contextlib.suppress(AttributeError, OSError, ValueError):
            stream.flush()
    if not on("exit"):
        sys.exit(code)
    os._exit(code)


# --- the page cache ---------------------------------------------------------------------------

WRITE_BEHIND_BYTES = 16 << 20


def written_behind(fd: int) -> None:
    """Tell the kernel the pages written to ``fd`` so far are not needed in memory: it starts
    writing them back and reuses them (a 1 GB report spent 2-4 s of system time filling the page
    cache, then 0.5 s in the final fsync)."""
    if on("pagecache") and hasattr(os, "posix_fadvise"):
        with contextlib.suppress(OSError):  # advice only: a file system may not take it
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)


def read_behind(data: Any) -> None:
    """Let go of the pages of a memory-mapped file read so far: they stay in the page cache,
    but no longer count in the process's memory (a scan of a log larger than memory stays
    small). Bytes (not a map) are left as they are."""
    import mmap

    if on("pagecache") and isinstance(data, mmap.mmap) and hasattr(mmap, "MADV_DONTNEED"):
        with contextlib.suppress(OSError, ValueError):  # closed, or a platform without it
            data.madvise(mmap.MADV_DONTNEED)
