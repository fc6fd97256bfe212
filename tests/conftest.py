"""Test settings shared by the suite."""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

# CI runs the properties on a fixed set of examples, so a landing never depends on luck;
# developers get fresh random examples on every run.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


@pytest.fixture(autouse=True)
def tables_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    """Commands print tables unless a test asks otherwise, as at a terminal: CliRunner's and a
    subprocess's standard output is not a terminal, where the default is CSV (tests of that
    default delete SLACALC_FORMAT)."""
    monkeypatch.setenv("SLACALC_FORMAT", "table")


@pytest.fixture(params=["rows", "bulk"])
def csv_reader(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a test with each CSV reader: Python's csv module row by row, and pyarrow in bulk
    (which must give the same table, or hand the file to the row reader)."""
    from slacalc.reading import csv_bulk

    monkeypatch.setattr(csv_bulk, "MIN_BYTES", 0 if request.param == "bulk" else 1 << 62)
    return request.param


@pytest.fixture(params=["csv-rows", "csv-bulk", "jsonl", "parquet"])
def log_format(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a test once per reader: CSV row by row, CSV in bulk, JSON Lines and Parquet."""
    from slacalc.reading import csv_bulk

    bulk = request.param == "csv-bulk"
    monkeypatch.setattr(csv_bulk, "MIN_BYTES", 0 if bulk else 1 << 62)
    return request.param
