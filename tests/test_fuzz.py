"""Odd input never becomes an internal error: every run exits 0, 1 or 2 with a message."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from slacalc.cli import app

CELLS = st.sampled_from(
    [
        "",
        " ",
        "2025-05-01 10:00:00",
        "2025-05-01T10:00:00+08:00",
        "2025-05-31 23:59:59.999",
        "2025-02-29 10:00",
        "2024-02-29 10:00",
        "0001-01-01 00:00",
        "9999-12-31 23:59",
        "03/04/2025",
        "May 2025",
        "tomorrow",
        "1e9",
        "-1",
        "nan",
        "inf",
        "0",
        "1",
        "0.5",
        "30%",
        "150%",
        "outage",
        "data_loss",
        "maintenance",
        "excluded",
        "DATA_LOSS",
        "sla_breach",
        "2",
        "3",
        "acme",
        "=cmd",
        "客户",
        '"quoted, cell"',
        '"',
        "\t",
        "a\x00b",
        "é",
    ]
)
HEADERS = st.lists(
    st.sampled_from(
        [
            "start",
            "end",
            "customer_id",
            "service",
            "incident_id",
            "category",
            "impact",
            "START",
            " end ",
            "junk",
            "start",
            "dispute_id",
            "level",
            "opened_at",
            "resolved_at",
        ]
    ),
    min_size=1,
    max_size=7,
)


@st.composite
def csv_text(draw) -> str:
    header = draw(HEADERS)
    rows = draw(st.lists(st.lists(CELLS, min_size=0, max_size=len(header) + 1), max_size=6))
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    return newline.join([",".join(header), *(",".join(r) for r in rows)]) + newline


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(text=csv_text(), command=st.sampled_from(["report", "validate", "disputes"]))
def test_no_internal_error(text: str, command: str, tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    args = [command, str(path), "--as-of", "2025-07-01T00:00:00+08:00"]
    if command == "report":
        args += ["--monthly-fee", "100", "--format", "csv"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code in (0, 1, 2), (result.exit_code, result.output)
    assert "internal error" not in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("command", ["report", "validate", "disputes"])
def test_binary_junk(command: str, tmp_path: Path) -> None:
    path = tmp_path / "junk.csv"
    path.write_bytes(bytes(range(256)) * 4)
    result = CliRunner().invoke(
        app,
        [command, str(path), "--monthly-fee", "1"] if command == "report" else [command, str(path)],
    )
    assert result.exit_code == 1
    assert "binary data" in result.output
