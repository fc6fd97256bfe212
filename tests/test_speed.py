"""slacalc.speed: every trick in one place, each one that can be turned off changes no byte."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from slacalc import speed

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = [
    "report",
    "samples/incidents.csv",
    "--contracts",
    "samples/contracts.csv",
    "--as-of",
    "2025-06-28T12:00:00+08:00",
    "--fail-on-breach",
]


def console(args: list[str], off: str = "") -> subprocess.CompletedProcess[bytes]:
    """The console script's own path (main(): the process tuning, the pandas hook and the exit
    that tests through typer's runner never take)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLACALC_")}
    env["SLACALC_SPEED_OFF"] = off
    code = "import sys; from slacalc.cli import main; sys.argv[0] = 'slacalc'; main()"
    return subprocess.run(
        [sys.executable, "-c", code, *args], cwd=ROOT, env=env, capture_output=True, timeout=120
    )


@pytest.mark.parametrize("fmt", ["csv", "json", "table"])
def test_every_trick_off_gives_the_same_bytes(fmt: str) -> None:
    fast = console([*SAMPLE, "-f", fmt])
    slow = console([*SAMPLE, "-f", fmt], off=",".join(speed.TRICKS))
    assert fast.returncode == slow.returncode == 3
    assert fast.stdout == slow.stdout and fast.stdout
    assert fast.stderr == slow.stderr


def test_the_console_script_exits_with_each_code() -> None:
    assert console(["--version"]).returncode == 0
    assert console(["report", "nowhere.csv", "--monthly-fee", "1"]).returncode == 1
    assert console(["report", "--tz", "Mars/Olympus", "samples/incidents.csv"]).returncode == 2
    assert console(SAMPLE).returncode == 3


def test_a_report_run_never_imports_pandas() -> None:
    probe = (
        "import sys; from slacalc.cli import run; sys.argv = ['slacalc', *sys.argv[1:]]; "
        "code = run(); print('pandas' in sys.modules, file=sys.stderr); sys.exit(code)"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, *SAMPLE, "-f", "csv"], cwd=ROOT, capture_output=True
    )
    assert done.returncode == 3
    assert done.stderr.decode().strip().splitlines()[-1] == "False"


def test_pyarrow_compute_loads_lean_and_works_the_same() -> None:
    """The console script loads pyarrow.compute without its options' documentation: the
    functions compute the same, the parser is put back, and only the docstrings are shorter."""
    probe = (
        "import sys; from slacalc import speed; speed.lean_compute_import(); "
        "import pyarrow as pa, pyarrow.compute as pc; from pyarrow.vendored import docscrape; "
        "print(pc.utf8_rtrim(pa.array(['a00', '1.50']), characters='0').to_pylist(), "
        "docscrape.NumpyDocString.__name__, 'characters :' in pc.utf8_rtrim.__doc__)"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLACALC_")}
    lean = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True)
    env["SLACALC_SPEED_OFF"] = "docs"
    full = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True)
    assert lean.stdout.split() == ["['a',", "'1.5']", "NumpyDocString", "False"]
    assert full.stdout.split() == ["['a',", "'1.5']", "NumpyDocString", "True"]


# --- fixed width ------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(-(2**70), 2**70), min_size=1, max_size=20),
    st.lists(st.integers(-(2**40), 2**40), min_size=1, max_size=20),
)
def test_products_and_sums_are_exact_on_either_side_of_the_bound(
    a: list[int], b: list[int]
) -> None:
    n = min(len(a), len(b))
    a, b = a[:n], b[:n]
    left = speed.narrowed(np.array(a, dtype=object))
    right = np.array(b, dtype=np.int64)
    assert [int(v) for v in speed.product(left, right)] == [
        x * y for x, y in zip(a, b, strict=True)
    ]
    index = np.array([i % 3 for i in range(n)], dtype=np.int64)
    sums = speed.sums_at(index, left, 3)
    assert [int(v) for v in sums] == [sum(a[i::3]) for i in range(3)]


def test_a_bound_past_int64_takes_python_integers() -> None:
    big = np.array([3 << 40], dtype=np.int64)
    assert speed.product(big, big).dtype == object  # 2**83: past int64
    assert speed.product(big, np.array([2], dtype=np.int64)).dtype == np.int64
    assert speed.sums_at(np.zeros(3, np.int64), np.full(3, 1 << 61), 1).dtype == object
    assert speed.sums_at(np.zeros(3, np.int64), np.full(3, 1 << 61), 1, bound=1).dtype == np.int64
    assert not speed.fits(speed.LIMIT) and speed.fits(speed.LIMIT - 1)


# --- two threads ------------------------------------------------------------------------------


def test_in_order_keeps_the_order_and_a_few_jobs_in_hand() -> None:
    taken = []
    lock = threading.Lock()

    def jobs():
        for i in range(20):
            with lock:
                taken.append(i)

            def job(i=i):
                return i * i

            yield job

    seen = []
    for k, value in enumerate(speed.in_order(jobs(), workers=2)):
        seen.append(value)
        assert len(taken) <= k + 3  # never the whole stream at once
    assert seen == [i * i for i in range(20)]


def test_both_runs_two_calls() -> None:
    assert speed.both(lambda: 1, lambda: 2) == (1, 2)
    assert speed.halves(speed.PARALLEL_ROWS) and not speed.halves(speed.PARALLEL_ROWS - 1)


def test_phases_hand_memory_back_only_in_buckets(monkeypatch: pytest.MonkeyPatch) -> None:
    """A run in memory fits its budget: handing memory back between phases only cost it time.
    A bucket of a run larger than its budget hands it back after each phase."""
    calls: list[str] = []
    monkeypatch.setattr(speed, "give_back", lambda: calls.append("back"))
    speed.phase_done()
    assert calls == []
    with speed.memory_bound():
        speed.phase_done()
    assert calls == ["back"]
    speed.phase_done()
    assert calls == ["back"]


def test_a_report_in_buckets_hands_memory_back_after_its_phases(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from slacalc import Settings, load_policy, read_incidents
    from slacalc.computing.partitioned import compute_partitioned
    from slacalc.dates.instants import get_zone, parse_instant

    tz = get_zone("Asia/Shanghai")
    settings = Settings(
        policy=load_policy("standard"),
        tz=tz,
        as_of=parse_instant("2025-06-28T12:00:00+08:00", tz),
        monthly_fee=Decimal("100"),
    )
    table = read_incidents([str(ROOT / "samples" / "incidents.csv")], tz)
    calls: list[bool] = []
    monkeypatch.setattr(speed, "give_back", lambda: calls.append(speed._TIGHT.get()))
    with compute_partitioned(iter([(table, [])]), settings, buckets=3) as report:
        assert len(list(report.text_parts())) > 0
    # after the split (not a phase), then in each bucket: its phases, and the bucket itself
    buckets = 3
    assert calls[0] is False and calls.count(True) > buckets


def test_meanwhile_gives_the_result_or_the_error_of_its_job() -> None:
    started = threading.Event()

    def job() -> int:
        started.set()
        return 42

    result = speed.meanwhile(job)
    assert result() == 42 and started.is_set()

    def bad() -> int:
        raise ValueError("no")

    with pytest.raises(ValueError, match="no"):
        speed.meanwhile(bad)()


@settings(max_examples=200, deadline=None)
@given(
    values=st.lists(st.integers(0, 999), max_size=300),
    extra=st.integers(0, 1 << 22),
    dense=st.booleans(),
)
def test_numbered_is_first_appearance_through_either_table(
    values: list[int], extra: int, dense: bool
) -> None:
    """Numbering through the dense table and through pyarrow's hash table give what a dict
    gives: the distinct values in order of first appearance, and each value's number (spaces
    from just above the largest value to past the dense table's limit)."""
    saved = speed._OFF
    speed._OFF = frozenset() if dense else frozenset({"dense"})
    try:
        space = max(values, default=-1) + 1 + extra
        distinct, numbers = speed.numbered(np.array(values, dtype=np.int64), space)
    finally:
        speed._OFF = saved
    order = list(dict.fromkeys(values))
    assert distinct.tolist() == order
    assert numbers.tolist() == [order.index(v) for v in values]
    assert distinct.dtype == numbers.dtype == np.int64


@settings(max_examples=300, deadline=None)
@given(n=st.integers(0, 5000), size=st.integers(1, 2000), threads=st.sampled_from([1, 2, 3]))
def test_even_pieces_cover_the_rows_in_pieces_of_one_size(n: int, size: int, threads: int) -> None:
    saved = speed.THREADS
    speed.THREADS = threads
    try:
        pieces = speed.even_pieces(n, size)
    finally:
        speed.THREADS = saved
    assert [lo for lo, _ in pieces[1:]] == [hi for _, hi in pieces[:-1]]
    assert (pieces[0][0], pieces[-1][1]) == (0, n) if n else pieces == []
    lengths = [hi - lo for lo, hi in pieces]
    assert all(0 < k <= size for k in lengths)
    assert max(lengths, default=0) - min(lengths, default=0) <= 1
    least = -(-n // size)  # no more pieces than the threads call for
    assert len(pieces) == min(n, -(-least // threads) * threads)


@settings(max_examples=300, deadline=None)
@given(
    values=st.lists(st.integers(0, 999), max_size=300),
    extra=st.integers(0, 1 << 22),
    dense=st.booleans(),
    distinct=st.booleans(),
)
def test_sorting_order_is_a_stable_sort_through_either_table(
    values: list[int], extra: int, dense: bool, distinct: bool
) -> None:
    """The dense table's order (distinct values in a small space) and numpy's stable sort
    (repeated values, a large space, or the trick off) both sort the values, ties in order."""
    if distinct:
        values = list(dict.fromkeys(values))
    saved = speed._OFF
    speed._OFF = frozenset() if dense else frozenset({"dense"})
    try:
        space = max(values, default=-1) + 1 + extra
        order = speed.sorting_order(np.array(values, dtype=np.int64), space)
    finally:
        speed._OFF = saved
    assert order.tolist() == sorted(range(len(values)), key=lambda i: values[i])


def test_ahead_gives_the_items_in_order_and_raises_where_the_producer_raised() -> None:
    """Items produced on a thread of their own come in order; what the producer raises comes
    after the items before it; a consumer that leaves early stops the producer."""
    produced: list[int] = []

    def items(n: int, fail_at: int | None = None):
        for i in range(n):
            if i == fail_at:
                raise ValueError(f"item {i}")
            produced.append(i)
            yield i

    assert list(speed.ahead(items(1000))) == list(range(1000))
    got = []
    with pytest.raises(ValueError, match="item 7"):
        for item in speed.ahead(items(10, fail_at=7)):
            got.append(item)
    assert got == list(range(7))

    produced.clear()
    started = threading.Event()

    def endless():
        i = 0
        while True:
            started.set()
            produced.append(i)
            yield i
            i += 1

    stream = speed.ahead(endless())
    assert next(stream) == 0
    stream.close()  # the consumer is gone: the producer stops at its next item
    started.wait(5)
    seen = len(produced)
    for _ in range(100):
        if len(produced) == seen:
            break
        seen = len(produced)
        threading.Event().wait(0.01)
    assert len(produced) == seen
