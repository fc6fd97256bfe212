"""The differential fuzzer on Spark: ``report --engine spark`` of random cases over the whole
documented domain against the independent reference (tests/reference.py). Spark is slow to
start and each report is a few jobs, so the examples are few; where Java or pyspark is missing
the module is skipped."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

pytest.importorskip("pyspark", reason="pyspark is not installed: pip install 'slacalc[spark]'")
if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
    pytest.skip("Spark needs Java (java on PATH or JAVA_HOME)", allow_module_level=True)

from hypothesis import HealthCheck, given, settings

from tests.differential import Drawn, cases, check, run_cli
from tests.test_spark import spark  # noqa: F401  (the module's Spark session)

EXAMPLES = max(int(os.environ.get("SLACALC_DIFF_EXAMPLES", "1000")) // 100, 1)


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
@given(cases())
def test_spark_report_is_the_reference(spark, drawn: Drawn) -> None:  # noqa: F811
    with tempfile.TemporaryDirectory() as folder:
        check(drawn, run_cli(drawn, Path(folder), spark=True), "spark")
