"""The differential fuzzer: every field of every row of random reports over the whole
documented input domain, computed in memory, in buckets and with fixed-width arithmetic turned
off, against an independent, slow, exact reference (tests/reference.py).

CI runs a bounded number of examples, about 90 s on two cores (``SLACALC_DIFF_EXAMPLES``, default
1000 in memory, a third of that in buckets and on Python integers); ``bench/fuzz.py --minutes N``
runs a long campaign of the same cases.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from slacalc import speed
from tests.differential import Drawn, cases, check, run_cli

EXAMPLES = int(os.environ.get("SLACALC_DIFF_EXAMPLES", "1000"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@FUZZ
@given(cases())
def test_in_memory_report_is_the_reference(drawn: Drawn) -> None:
    with tempfile.TemporaryDirectory() as folder:
        check(drawn, run_cli(drawn, Path(folder), explain=True), "in memory")


@settings(FUZZ, max_examples=max(EXAMPLES // 3, 1))
@given(cases(), st.integers(1, 4))
def test_bucketed_report_is_the_reference(drawn: Drawn, buckets: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        check(drawn, run_cli(drawn, Path(folder), buckets=buckets), f"{buckets} buckets")


@settings(FUZZ, max_examples=max(EXAMPLES // 3, 1))
@given(cases())
def test_python_integers_everywhere_give_the_reference(drawn: Drawn) -> None:
    """With the fixed-width bound at 2**20, every sum and product takes the Python-integer
    path: the two paths compute the same numbers, and both the reference's."""
    with tempfile.TemporaryDirectory() as folder, pytest.MonkeyPatch.context() as m:
        m.setattr(speed, "LIMIT", 1 << 20)
        check(drawn, run_cli(drawn, Path(folder)), "Python integers")
