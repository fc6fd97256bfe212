"""`report --engine spark` and slacalc.spark against the default engine: the same bytes.

One local[2] Spark session serves the module (Spark is slow to start and each report is a
few small jobs), so the cases are few and the random logs a handful of hypothesis examples.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from pathlib import Path

import pytest

pytest.importorskip("pyspark", reason="pyspark is not installed: pip install 'slacalc[spark]'")
if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
    pytest.skip("Spark needs Java (java on PATH or JAVA_HOME)", allow_module_level=True)

import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import HealthCheck, given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from slacalc import Settings, compute_report, load_policy, read_contracts, read_incidents
from slacalc.cli import app
from slacalc.computing.fields import FIELDS
from slacalc.dates.instants import get_zone, parse_instant
from slacalc.spark import read_csv, read_incident_frame, report_frame
from slacalc.spark.session import LOG_SETTINGS
from tests.logs import contract, contracts_text, incident, log_text, star_case, write_log

ROOT = Path(__file__).parent.parent
INCIDENTS = str(ROOT / "samples" / "incidents.csv")
CONTRACTS = str(ROOT / "samples" / "contracts.csv")
SAMPLE = [INCIDENTS, "--contracts", CONTRACTS, "--as-of", "2025-07-01"]


@pytest.fixture(scope="module")
def spark():
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    session = (
        SparkSession.builder.master("local[2]")
        .appName("slacalc-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.default.parallelism", "2")
        .config("spark.driver.extraJavaOptions", f"-Dlog4j2.configurationFile=file:{LOG_SETTINGS}")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def invoke(args: list[str]):
    env = {
        name: None
        for name in os.environ
        if name.startswith("SLACALC_") and name != "SLACALC_FORMAT"
    }
    return CliRunner().invoke(app, ["report", *args], env=env)  # type: ignore[arg-type]


def warnings_of(stderr: str) -> list[str]:
    """The warnings, with what only one engine can say (a line number, an incident id) cut."""
    lines = [line for line in stderr.splitlines() if line.startswith("warning:")]
    return sorted(re.sub(r"(:\d+)|( \([^)]*\))", "", line) for line in lines)


def assert_same(args: list[str], *, formats: tuple[str, ...] = ("csv",)) -> str:
    """Both engines give the same bytes, warnings and exit code; the CSV."""
    text = ""
    for fmt in formats:
        memory = invoke([*args, "-f", fmt])
        spark = invoke([*args, "-f", fmt, "--engine", "spark"])
        assert memory.exit_code in (0, 3), memory.output
        assert spark.exit_code == memory.exit_code, spark.output
        assert spark.stdout_bytes == memory.stdout_bytes
        assert warnings_of(spark.stderr) == warnings_of(memory.stderr)
        text = text or memory.stdout
    return text


# --- the samples ----------------------------------------------------------------------------


def test_samples_csv_and_json_are_the_default_engines_bytes(spark) -> None:
    text = assert_same([*SAMPLE, "--fail-on-breach"], formats=("csv", "json"))
    assert text.count("\n") > 10  # rows, not only a header


def sample_report(log: str = INCIDENTS) -> tuple[Settings, pa.Table, list[str]]:
    """The default engine's report of ``log`` and the sample contracts, and its settings."""
    tz = get_zone("Asia/Shanghai")
    policy = load_policy("standard")
    settings = Settings(policy=policy, tz=tz, as_of=parse_instant("2025-07-01", tz))
    book = read_contracts(CONTRACTS, policy=policy, default_currency="CNY")
    report = compute_report(read_incidents([log], tz), settings, contracts=book)
    return settings, pa.table([report.text[f] for f in FIELDS], names=list(FIELDS)), report.warnings


def test_library_function_gives_the_report_text(spark) -> None:
    settings, expected, expected_warnings = sample_report()
    warnings: list[str] = []
    frame = report_frame(
        read_incident_frame(spark, [INCIDENTS]),
        read_csv(spark, CONTRACTS),
        settings,
        warnings=warnings,
    )
    assert tuple(frame.columns) == FIELDS
    assert frame.toArrow().cast(expected.schema).equals(expected)
    assert warnings == expected_warnings


def test_parquet_in_and_parquet_out(spark, tmp_path: Path) -> None:
    log = write_log(tmp_path, Path(INCIDENTS).read_text(encoding="utf-8"), "parquet")
    args = [str(log), "--contracts", CONTRACTS, "--as-of", "2025-07-01"]
    out = tmp_path / "report.parquet"
    result = invoke([*args, "--engine", "spark", "-o", str(out)])
    assert result.exit_code == 0, result.output
    order = [(f, "ascending") for f in ("customer_id", "service", "month")]
    _, expected, _ = sample_report(str(log))
    assert pq.read_table(out).sort_by(order).cast(expected.schema).equals(expected)


def test_problems_name_the_file_and_cell(spark, tmp_path: Path) -> None:
    log = tmp_path / "bad.csv"
    log.write_text(
        "customer_id,service,start,end\nacme,compute,2025-05-01 10:00,2025-05-01 11:00\n"
        "acme,compute,not a time,2025-05-01 11:00\n",
        encoding="utf-8",
    )
    result = invoke([str(log), "--monthly-fee", "10", "--engine", "spark", "-f", "csv"])
    assert result.exit_code == 1
    assert result.stdout == ""
    first = result.stderr.splitlines()[0]
    assert first.startswith(f"{log}: column 'start': ") and "not a time" in first
    assert "Traceback" not in result.output


def test_unpriced_key_and_missing_file_are_input_errors(spark, tmp_path: Path) -> None:
    result = invoke([INCIDENTS, "--engine", "spark", "-f", "csv"])
    assert result.exit_code == 1
    assert "no contract for customer" in result.stderr
    missing = str(tmp_path / "nowhere.csv")
    result = invoke([missing, "--monthly-fee", "1", "--engine", "spark", "-f", "csv"])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"{missing}: no such file")


def test_a_table_is_refused(spark) -> None:
    result = invoke([*SAMPLE, "--engine", "spark", "-f", "table"])
    assert result.exit_code == 2
    assert "not a table" in result.stderr


# --- random logs: partial impacts, maintenance, data loss, '*' rows, policies, DST ------------


@hyp_settings(
    max_examples=4,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    incidents=st.lists(incident, min_size=1, max_size=25),
    contracts=st.lists(contract, min_size=1, max_size=6),
    month=st.sampled_from((None, "2025-03", "2025-11")),
)
def test_random_logs_in_new_york_match_the_default_engine(
    spark, tmp_path_factory: pytest.TempPathFactory, incidents, contracts, month
) -> None:
    folder = tmp_path_factory.mktemp("log")
    log = folder / "incidents.csv"
    log.write_text(log_text(incidents), encoding="utf-8")
    book = folder / "contracts.csv"
    book.write_text(contracts_text(contracts), encoding="utf-8")
    args = [str(log), "--contracts", str(book), "--monthly-fee", "50", "--currency", "USD"]
    args += ["--tz", "America/New_York", "--calendar", "US", "--as-of", "2025-12-01"]
    args += ["--month", month] if month else []
    assert_same(args)


def test_star_rows_without_their_customers_and_json(spark, tmp_path: Path) -> None:
    """'*' rows of a service nobody has (warned once), a customer's own rows merged with '*'
    rows, a wildcard contract beside an exact one, a contract without incidents, DST."""
    args = star_case(tmp_path)
    text = assert_same(args, formats=("csv", "json"))
    assert "hooli,compute" in text


# --- zones, request counts and composite services (issue 22) ---------------------------------


def test_zones_on_spark_are_the_default_engines_bytes(spark, tmp_path: Path) -> None:
    from test_partitioned_extras import zone_files

    log, deployed, contracts = zone_files(tmp_path)
    args = [log, "--deployments", deployed, "--contracts", contracts, "--policy", "azure-vm"]
    args += ["--tz", "Europe/Berlin", "--as-of", "2025-05-25T00:00:00Z"]
    assert_same(args, formats=("csv", "json"))
    # the zone rows in no deployment are warned of, the '*' row's once
    spark_run = invoke([*args, "-f", "csv", "--engine", "spark"])
    assert sum("not deployed in zone 'z'" in line for line in spark_run.stderr.splitlines()) == 3


def test_counts_and_composites_on_spark_are_the_default_engines_bytes(
    spark, tmp_path: Path
) -> None:
    samples = ROOT / "samples"
    counts = [INCIDENTS, "--requests", str(samples / "requests.csv"), "--contracts"]
    counts += [str(samples / "contracts-requests.csv"), "--monthly-fee", "100"]
    assert_same([*counts, "--as-of", "2025-07-01"])
    # counts alone: a customer with no incident and no contract still has its group
    empty = tmp_path / "empty.csv"
    empty.write_text("incident_id,customer_id,service,start,end,category\n", encoding="utf-8")
    alone = [str(empty), "--requests", str(samples / "requests.csv"), "--policy", "aws-s3"]
    text = assert_same([*alone, "--monthly-fee", "100", "--as-of", "2025-07-01"])
    assert "acme,objects,2025-05,2678400,348," in text
    composites = [INCIDENTS, "--contracts", str(samples / "contracts-composite.csv")]
    assert_same([*composites, "--as-of", "2025-07-01"], formats=("csv", "json"))
