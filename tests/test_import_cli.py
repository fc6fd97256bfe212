"""`slacalc import` on the command line: output formats, -o, pipes, the map, the window, errors.

The fixtures are described in tests/test_import_<format>.py; what the imported logs are worth in
a report is checked in tests/test_import_report.py.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from slacalc.cli import app
from slacalc.cli.importing import FORMAT_HELP
from slacalc.errors import UsageError
from slacalc.importing import FORMATS
from slacalc.reading import read_incidents
from slacalc.writing import incident_log

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).parent / "fixtures" / "import"
STATUSPAGE = str(FIXTURES / "statuspage_incidents.json")
MAP = str(FIXTURES / "map.toml")
HEADER = "start,end,customer_id,service,incident_id,category,impact,source"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SLACALC_TZ", "SLACALC_POLICY", "SLACALC_CURRENCY", "SLACALC_CALENDAR"):
        monkeypatch.delenv(name, raising=False)


def run(args: list[str], **kwargs):
    return CliRunner().invoke(app, args, env={"COLUMNS": "200"}, **kwargs)


def test_help_names_every_format_and_has_an_example() -> None:
    result = run(["import", "--help"])
    assert result.exit_code == 0
    assert "Example: slacalc import statuspage incidents.json --map map.toml" in result.stdout
    for name in FORMATS:
        assert f"{name} (" in FORMAT_HELP
    assert "[services]" in result.stdout  # rich markup would eat an unescaped [services]


def test_the_log_goes_to_stdout_as_csv() -> None:
    result = run(["import", "statuspage", STATUSPAGE])
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert lines[0] == HEADER
    # Without a map: the component's own name, every customer ('*'), Statuspage's weights.
    assert lines[1] == (
        "2025-03-04T10:00:00+00:00,2025-03-04T10:20:00+00:00,*,API,p0wsy2mq1x7d/u1nv35t1g8t3,"
        "outage,0.3,statuspage:statuspage_incidents.json"
    )
    assert lines[-1] == (
        "2025-03-07T15:00:00+00:00,,*,Webhooks,0ng01ng0w3bh/e1w3bh0ng0up,outage,1,"
        "statuspage:statuspage_incidents.json"
    )
    assert len(lines) == 1 + 7


@pytest.mark.parametrize(
    ("name", "given", "fmt"),
    [
        ("log.csv", None, "csv"),
        ("log.jsonl", None, "jsonl"),
        ("log.parquet", None, "parquet"),
        ("log.ndjson", None, "jsonl"),
        ("log.txt", "parquet", "parquet"),
    ],
)
def test_dash_o_writes_each_format(tmp_path: Path, name: str, given: str | None, fmt: str) -> None:
    out = tmp_path / name
    args = ["import", "statuspage", STATUSPAGE, "--map", MAP, "-o", str(out)]
    result = run(args + (["--format", given] if given else []))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert list(tmp_path.iterdir()) == [out]  # no temporary file left beside it
    table = read_incidents([str(out)], ZoneInfo("UTC"), fmt=fmt)
    assert len(table) == 8
    assert {r.origin for r in table} == {"statuspage:statuspage_incidents.json"}
    if fmt == "parquet":
        assert pq.read_schema(out).field("impact").type.scale == 1


def test_jsonl_and_parquet_on_stdout() -> None:
    jsonl = run(["import", "statuspage", STATUSPAGE, "-f", "jsonl"])
    assert jsonl.exit_code == 0
    assert jsonl.stdout.splitlines()[0].startswith('{"start": "2025-03-04T10:00:00+00:00", ')
    parquet = run(["import", "statuspage", STATUSPAGE, "-f", "parquet"])
    assert parquet.exit_code == 0, parquet.stderr
    assert pq.read_table(io.BytesIO(parquet.stdout_bytes)).num_rows == 7


def test_parquet_is_never_sent_to_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(sys, "stdout", Terminal())
    with pytest.raises(UsageError, match="Parquet is binary"):
        incident_log.write_binary(None, b"PAR1")


def test_an_unknown_extension_is_a_usage_error(tmp_path: Path) -> None:
    result = run(["import", "statuspage", STATUSPAGE, "-o", str(tmp_path / "log.json")])
    assert result.exit_code == 2
    assert "cannot tell the format of" in result.stderr and ".jsonl" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_standard_input_and_a_pipe_into_report() -> None:
    data = Path(STATUSPAGE).read_bytes()
    imported = run(["import", "statuspage", "-", "--map", MAP], input=data)
    assert imported.exit_code == 0, imported.stderr
    assert imported.stdout.splitlines()[1].endswith(",statuspage:<stdin>")
    contracts = str(FIXTURES / "contracts.csv")
    common = ["--contracts", contracts, "--tz", "UTC", "--as-of", "2025-04-01T00:00:00Z"]
    report = run(["report", "-", *common, "-f", "csv"], input=imported.stdout)
    assert report.exit_code == 0, report.stderr
    rows = {tuple(line.split(",")[:2]): line.split(",")[4] for line in report.stdout.splitlines()}
    assert rows[("initech", "api")] == "6600"  # see tests/test_import_report.py


def test_a_real_shell_pipe(tmp_path: Path) -> None:
    slacalc = f"{sys.executable} -m slacalc"
    contracts = FIXTURES / "contracts.csv"
    command = (
        f"{slacalc} import statuspage {STATUSPAGE} --map {MAP} -f parquet | "
        f"{slacalc} report - --input-format parquet --contracts {contracts} --tz UTC "
        "--as-of 2025-04-01T00:00:00Z -f csv"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SLACALC_NO_PROGRESS": "1"}
    done = subprocess.run(
        ["bash", "-o", "pipefail", "-c", command],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "\ninitech,api,2025-03,2678400,6600," in done.stdout


def test_unmapped_names_are_errors_or_skipped_and_counted(tmp_path: Path) -> None:
    small = tmp_path / "map.toml"
    small.write_text('[services]\n"API" = "api"\n', encoding="utf-8")
    failed = run(["import", "statuspage", STATUSPAGE, "--map", str(small)])
    assert failed.exit_code == 1
    assert failed.stdout == ""
    assert failed.stderr.splitlines() == [
        f"{STATUSPAGE}: 'Dedicated DB (acme)' is not in the [services] table of {small} (1 row): "
        'add "Dedicated DB (acme)" = "<service>" or skip unmapped names (--unmapped skip) '
        "(value 'Dedicated DB (acme)')",
        f"{STATUSPAGE}: 'Webhooks' is not in the [services] table of {small} (1 row): add "
        '"Webhooks" = "<service>" or skip unmapped names (--unmapped skip) (value \'Webhooks\')',
        "2 problems found",
    ]
    skipped = run(["import", "statuspage", STATUSPAGE, "--map", str(small), "--unmapped", "skip"])
    assert skipped.exit_code == 0
    assert len(skipped.stdout.splitlines()) == 1 + 5
    assert skipped.stderr == (
        "skipped 2 rows of names not in the map's [services] (--unmapped skip): "
        "'Dedicated DB (acme)' (1), 'Webhooks' (1)\n"
    )
    wrong = run(["import", "statuspage", STATUSPAGE, "--unmapped", "ignore"])
    assert wrong.exit_code == 2
    assert "unmapped must be 'error' or 'skip', not 'ignore'" in wrong.stderr


def test_the_window_and_the_zone(tmp_path: Path) -> None:
    ics = str(FIXTURES / "maintenance.ics")
    window = ["--from", "2025-03-11", "--until", "2025-03-12", "--tz", "UTC"]
    result = run(["import", "ics", ics, *window])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[1:] == [
        "2025-03-11T02:00:00+00:00,2025-03-11T04:00:00+00:00,*,Billing,"
        "floating@example.com@2025-03-11T02:00:00+00:00,maintenance,1,ics:maintenance.ics"
    ]
    # A floating iCalendar time is local time in --tz (here from SLACALC_TZ).
    shanghai = CliRunner().invoke(
        app,
        ["import", "ics", ics, "--from", "2025-03-11", "--until", "2025-03-12"],
        env={"SLACALC_TZ": "Asia/Shanghai"},
    )
    assert shanghai.stdout.splitlines()[1].startswith(
        "2025-03-11T02:00:00+08:00,2025-03-11T04:00:00+08:00,*,Billing,"
    )
    one_end = run(["import", "ics", ics, "--from", "2025-03-11"])
    assert one_end.exit_code == 2
    assert "give --from and --until together" in one_end.stderr
    bad = run(["import", "ics", ics, "--from", "soon", "--until", "2025-03-12"])
    assert bad.exit_code == 2 and "--from 'soon'" in bad.stderr
    quiet = run(["import", "ics", ics, "--from", "2030-01-01", "--until", "2030-02-01"])
    assert quiet.exit_code == 0
    assert quiet.stdout == HEADER + "\n"
    assert quiet.stderr == f"warning: no incident rows in {ics}\n"


def test_an_unknown_format_is_a_usage_error() -> None:
    result = run(["import", "statuspag", STATUSPAGE])
    assert result.exit_code == 2
    assert result.stderr.startswith(
        "Error: unknown import format 'statuspag'; did you mean 'statuspage'? (known: "
    )


@pytest.mark.parametrize(
    ("fmt", "name", "first"),
    [
        (
            "statuspage",
            "statuspage_bad.json",
            "{path}: $.incidents[0].incident_updates: missing field",
        ),
        (
            "alertmanager",
            "alertmanager_bad.jsonl",
            "{path}:2: not a JSON document: Expecting value at line 1, column 64 (value "
            '\'{{"receiver": "slacalc-archive", "status": "firing", "alerts…\')',
        ),
        (
            "pagerduty",
            "pagerduty_bad.csv",
            "{path}:2: column 'resolved_on': ends before it starts (value '2025-03-04T09:10:00Z')",
        ),
    ],
)
def test_bad_input_names_the_place_and_leaves_no_output(
    tmp_path: Path, fmt: str, name: str, first: str
) -> None:
    path = str(FIXTURES / name)
    out = tmp_path / "incidents.csv"
    out.write_text("kept\n", encoding="utf-8")
    result = run(["import", fmt, path, "-o", str(out)])
    assert result.exit_code == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines()[0] == first.format(path=path)
    assert result.stderr.splitlines()[-1].endswith("problems found")
    assert out.read_text(encoding="utf-8") == "kept\n"  # an existing file is left as it was
    assert sorted(p.name for p in tmp_path.iterdir()) == ["incidents.csv"]


def test_an_end_before_a_start_in_statuspage_names_the_json_path() -> None:
    path = str(FIXTURES / "statuspage_bad.json")
    result = run(["import", "statuspage", path])
    assert result.stderr.splitlines()[1].startswith(
        f"{path}: $.incidents[1].resolved_at: ends before it starts: the incident is resolved at "
    )


def test_missing_files_and_a_bad_map(tmp_path: Path) -> None:
    missing = run(["import", "statuspage", str(tmp_path / "nope.json")])
    assert missing.exit_code == 1
    assert missing.stderr.splitlines()[0] == f"{tmp_path}/nope.json: no such file"
    bad_map = tmp_path / "map.toml"
    bad_map.write_text('[services]\n"API" = 1\n', encoding="utf-8")
    result = run(["import", "statuspage", STATUSPAGE, "--map", str(bad_map)])
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == (
        f"{bad_map}:2: [services] 'API': expected a service name (a non-empty string) (value '1')"
    )


def test_an_input_is_never_overwritten(tmp_path: Path) -> None:
    source = tmp_path / "export.csv"
    source.write_bytes((FIXTURES / "pagerduty_incidents.csv").read_bytes())
    before = source.read_bytes()
    for fmt in ("csv", "parquet"):
        result = run(["import", "pagerduty", str(source), "-o", str(source), "-f", fmt])
        assert result.exit_code == 2
        assert "refusing to overwrite what is being read" in result.stderr
    assert source.read_bytes() == before


def test_the_formula_guard_and_raw_csv(tmp_path: Path) -> None:
    mapping = tmp_path / "map.toml"
    mapping.write_text('[services]\n"Webhooks" = "=hooks"\n', encoding="utf-8")
    args = ["import", "statuspage", str(FIXTURES / "statuspage_manage_api.json")]
    guarded = run([*args, "--map", str(mapping)])
    raw = run([*args, "--map", str(mapping), "--raw-csv"])
    assert guarded.exit_code == raw.exit_code == 0
    assert ",*,'=hooks," in guarded.stdout
    assert ",*,=hooks," in raw.stdout
