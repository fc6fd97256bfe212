"""Output that cannot be turned against its reader: spreadsheets, terminals, signals, pipes.

The cases run the real program where the operating system is part of the case (a signal, a
closed or full standard output, a pipe closed early); the rest run in process.
"""

from __future__ import annotations

import csv
import io
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from mixins import AS_OF, ROOT, SAMPLE_DIR, assert_clean_failure, run

from slacalc.writing.csvjson import csv_cell, csv_piece, write_csv

PYTHON = sys.executable
FORMULAS = ["=1+1", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A2)", '=HYPERLINK("http://x")']


def slacalc(*args: str, **kwargs: object) -> subprocess.CompletedProcess[bytes]:
    """The real program, as a shell runs it."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not (k.startswith("SLACALC_") and k != "SLACALC_FORMAT")
    }
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run(  # type: ignore[call-overload]
        [PYTHON, "-m", "slacalc", *args], env=env, cwd=ROOT, timeout=120, **kwargs
    )


def parsed(text: str) -> list[list[str]]:
    """A CSV as a spreadsheet reads it: any line break, a bare CR too, ends an unquoted row."""
    return list(csv.reader(io.StringIO(text, newline="")))


# --- spreadsheets ------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["acme\r=1+1", "a\nb", "a\r\nb", "x,y", 'say "hi"', "\r=1+1"])
def test_both_csv_writers_quote_every_line_break(text: str) -> None:
    import pyarrow as pa

    row = csv_cell(text, guard=True)
    bulk = csv_piece(
        {"t": pa.array([text, "ok"]), "n": pa.array(["1", "2"])},
        ["t", "n"],
        text_fields=("t",),
        raw=False,
    ).decode()
    assert row.startswith('"') and row.endswith('"')
    for written in (f"{row},1\nok,2\n", bulk):
        rows = parsed(written)
        assert [len(r) for r in rows] == [2, 2], written
        assert rows[0][0].lstrip("'") == text
        assert not rows[0][0].startswith(("=", "+", "-", "@", "\r", "\t"))


def test_row_writer_guards_only_text_from_the_input() -> None:
    out = io.StringIO()
    write_csv([{"a": "=1", "b": "-2"}], ["a", "b"], out, text_fields=("a",))
    assert out.getvalue() == "a,b\n'=1,-2\n"
    out = io.StringIO()
    write_csv([{"a": "=1", "b": "-2"}], ["a", "b"], out, text_fields=("a",), raw=True)
    assert out.getvalue() == "a,b\n=1,-2\n"


def _report_csv(tmp_path: Path, *more: str) -> list[list[str]]:
    path = tmp_path / "formulas.csv"
    lines = ["start,end,customer_id,service,incident_id"]
    for i, f in enumerate(FORMULAS):
        quoted = '"' + f.replace('"', '""') + '"'
        lines.append(f"2025-05-0{i + 1} 10:00,2025-05-0{i + 1} 11:00,{quoted},{quoted},I{i}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = run(["report", str(path), "--monthly-fee", "1", "--as-of", AS_OF, "-f", "csv", *more])
    assert result.exit_code == 0, result.stderr
    return parsed(result.stdout)


def test_report_csv_guards_formulas_in_both_readers(tmp_path: Path, csv_reader: str) -> None:
    rows = _report_csv(tmp_path)
    assert len(rows) == 1 + len(FORMULAS)
    customers = sorted(r[0] for r in rows[1:])
    assert customers == sorted("'" + f for f in FORMULAS)
    assert all(r[1].startswith("'") for r in rows[1:])
    raw = _report_csv(tmp_path, "--raw-csv")
    assert sorted(r[0] for r in raw[1:]) == sorted(FORMULAS)


def test_disputes_csv_guards_formulas_and_quotes_line_breaks(tmp_path: Path) -> None:
    path = tmp_path / "disputes.csv"
    # (an id holding a line break is an error since a quote that closes lines later must not
    # swallow rows: test_csv_quotes.py; the writers quote line breaks: tested above)
    ids = list(FORMULAS)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["dispute_id", "customer_id", "level", "opened_at"])
        for i, text in enumerate(ids):
            writer.writerow([text, text, "1", f"2025-05-{i + 1:02d} 10:00"])
    result = run(["disputes", str(path), "--as-of", AS_OF, "-f", "csv"])
    assert result.exit_code == 0, result.stderr
    rows = parsed(result.stdout)
    assert len(rows) == 1 + len(ids) and all(len(r) == 9 for r in rows)
    for r in rows[1:]:
        assert not r[0].startswith(("=", "+", "-", "@", "\r")), r
        assert r[0].lstrip("'") in ids


def test_validate_csv_guards_formulas_from_the_values_it_quotes(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(
        "start,end,customer_id\n=cmd|' /C calc'!A0,,acme\n@SUM(A1),,acme\n", encoding="utf-8"
    )
    for args in (["-f", "csv"], ["-o", str(tmp_path / "problems.csv")]):
        result = run(["validate", str(path), *args])
        assert result.exit_code == 1
        text = result.stdout or (tmp_path / "problems.csv").read_text(encoding="utf-8")
        rows = parsed(text)
        assert rows[0] == ["severity", "code", "file", "line", "column", "value", "message"]
        assert [r[5] for r in rows[1:]] == ["'=cmd|' /C calc'!A0", "'@SUM(A1)"]


def test_validate_honours_format_and_output(tmp_path: Path) -> None:
    import json

    path = str(SAMPLE_DIR / "incidents.csv")
    as_json = run(["validate", path, "--as-of", AS_OF, "-f", "json"])
    assert as_json.exit_code == 0
    (doc,) = json.loads(as_json.stdout)
    assert doc["ok"] is True and len(doc["warnings"]) == 3
    target = tmp_path / "v.csv"
    to_file = run(["validate", path, "--as-of", AS_OF, "-o", str(target)])
    assert to_file.exit_code == 0 and to_file.stdout == ""
    assert target.read_text(encoding="utf-8").startswith(
        "severity,code,file,line,column,value,message"
    )


# --- the deadline table's order is total -------------------------------------------------------


def test_row_order_in_the_input_never_changes_the_output(tmp_path: Path) -> None:
    """Ties on the due date break on customer, service and reference (disputes: on the opening,
    the id, the customer)."""
    lines = (SAMPLE_DIR / "incidents.csv").read_text(encoding="utf-8").splitlines()
    header, body = lines[0], lines[1:]
    extra = [
        "INC-2001,zeta,compute,data_loss,2025-06-06 14:00:00,2025-06-06 14:10:00,,same due",
        "INC-2002,alpha,compute,data_loss,2025-06-06 14:00:00,2025-06-06 14:10:00,,same due",
        "INC-2000,alpha,compute,data_loss,2025-06-06 14:00:00,2025-06-06 14:10:00,,same due",
    ]
    outputs = set()
    disputes = (SAMPLE_DIR / "disputes.csv").read_text(encoding="utf-8").splitlines()
    dispute_outputs = set()
    for seed in range(4):
        rng = random.Random(seed)
        rows = body + extra
        rng.shuffle(rows)
        path = tmp_path / f"shuffled{seed}.csv"
        path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
        result = run(["report", str(path), "--monthly-fee", "100", "--as-of", AS_OF])
        assert result.exit_code == 0, result.stderr
        outputs.add(result.stdout.replace(str(path), "LOG"))
        rows = [*disputes[1:], disputes[1].replace("DSP-2025-0412", "DSP-2025-0411")]
        rng.shuffle(rows)
        dpath = tmp_path / f"disputes{seed}.csv"
        dpath.write_text("\n".join([disputes[0], *rows]) + "\n", encoding="utf-8")
        result = run(["disputes", str(dpath), "--as-of", "2026-03-02T12:00:00+08:00"])
        dispute_outputs.add(result.stdout)
    assert len(outputs) == 1 and len(dispute_outputs) == 1


# --- the operating system's part -----------------------------------------------------------------


def _long_log(tmp_path: Path, n: int = 300_000) -> Path:
    path = tmp_path / "long.csv"
    with path.open("w", encoding="utf-8") as fh:
        fh.write("start,end,customer_id,service,incident_id\n")
        for i in range(n):
            day = 1 + i % 28
            fh.write(
                f"2025-05-{day:02d} 10:00:00,2025-05-{day:02d} 10:0{i % 9 + 1}:00,"
                f"c{i % 20000},svc{i % 3},I{i}\n"
            )
    return path


def test_sigterm_during_a_long_write_leaves_no_file(tmp_path: Path) -> None:
    """The signal is sent the moment the temporary output file appears (and, to be sure of
    every stage, also at fixed times): exit 130, and no file is left, whole or partial."""
    log = _long_log(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    target = out / "report.csv"
    caught_writing = 0
    for delay in (None, None, None, 0.3, 1.0):
        proc = subprocess.Popen(
            [
                PYTHON,
                "-m",
                "slacalc",
                "report",
                str(log),
                "--monthly-fee",
                "1",
                "--as-of",
                AS_OF,
                "--month",
                "2025-05",
                "-o",
                str(target),
            ],
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        if delay is None:  # wait for the temporary file, then signal
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and proc.poll() is None:
                if any(p.name.endswith(".tmp") for p in out.iterdir()):
                    caught_writing += 1
                    break
                time.sleep(0.0005)
        else:
            time.sleep(delay)
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=60)
        assert b"Traceback" not in stderr, stderr
        if proc.returncode == 0:  # it finished first: the whole file is there
            assert target.stat().st_size > 0
            target.unlink()
        elif proc.returncode == -signal.SIGTERM:  # still starting up: the default action
            assert delay is not None
        else:
            assert proc.returncode == 130, (proc.returncode, stderr)
            assert stderr.strip().splitlines()[-1] == b"interrupted"
        assert sorted(p.name for p in out.iterdir()) == [], (delay, proc.returncode, stderr)
    assert caught_writing, "the signal never arrived during the write"


def test_closed_stdout_and_full_stdout_are_one_line_errors() -> None:
    args = [
        "report",
        "samples/incidents.csv",
        "--contracts",
        "samples/contracts.csv",
        "--as-of",
        AS_OF,
    ]
    for fmt in ("table", "csv"):
        closed = slacalc(
            *args,
            "-f",
            fmt,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            close_fds=True,
            preexec_fn=lambda: os.close(1),
        )
        assert closed.returncode == 1, closed.stderr
        assert closed.stderr.decode().splitlines() == [
            "Error: cannot write to standard output: it is closed"
        ]
        with open("/dev/full", "wb") as full:
            result = slacalc(*args, "-f", fmt, stdout=full, stderr=subprocess.PIPE)
        assert result.returncode == 1
        assert result.stderr.decode().splitlines() == [
            "Error: cannot write to standard output: No space left on device"
        ]


def test_a_reader_that_goes_away_is_not_an_error() -> None:
    """`slacalc ... | head -1`: no broken-pipe message, as csvkit does."""
    proc = subprocess.run(
        f"{PYTHON} -m slacalc report samples/incidents.csv --contracts samples/contracts.csv "
        f"--as-of {AS_OF} -f csv | head -1",
        shell=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        timeout=60,
    )
    assert proc.stdout.decode().startswith("customer_id,service,month")
    assert proc.stderr == b""


def test_dev_stdout_is_standard_output() -> None:
    result = slacalc(
        "report",
        "samples/incidents.csv",
        "--contracts",
        "samples/contracts.csv",
        "--as-of",
        AS_OF,
        "-f",
        "csv",
        "-o",
        "/dev/stdout",
        capture_output=True,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.decode().startswith("customer_id,service,month")


def test_an_unknown_output_folder_is_a_usage_error(tmp_path: Path) -> None:
    result = run(["tiers", "-o", str(tmp_path / "a" / "b.csv")])
    lines = assert_clean_failure(result, 2)
    assert lines == [
        f"Error: cannot write '{tmp_path}/a/b.csv': folder '{tmp_path}/a' does not exist"
    ]


def test_a_policy_file_cannot_drive_the_terminal_either(tmp_path: Path) -> None:
    """Text from a policy file (its name, title, source) goes through the same escaping."""
    policy = tmp_path / "evil.toml"
    policy.write_text(
        'name = "\\u001b]0;pwned\\u0007[link=https://x]p[/link]"\n'
        'title = "\\u001b[2Jclear"\nmode = "coefficient"\ndefault_target = 99.95\n'
        "cap_pct = 100\n[[tiers]]\ntarget = 99.95\ncoefficient = 1.25\ncredit_pct = 5\n",
        encoding="utf-8",
    )
    result = run(["tiers", "--policy", str(policy)])
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout
    assert "\\x1b]0;pwned" in result.stdout and "[link=https://x]p[/link]" in result.stdout
    assert "\\x1b[2Jclear" in result.stdout


EVIL_POLICY = (
    'name = "\\u001b]0;pwned\\u0007evil\\u202e"\n'
    'title = "\\u001b[2Jclear\\u0007"\nsource = "\\u001b]8;;https://x\\u001b\\\\link"\n'
    'mode = "coefficient"\ndefault_target = 99.95\n'
    "cap_pct = 100\n[[tiers]]\ntarget = 99.95\ncoefficient = 1.25\ncredit_pct = 5\n"
)
RAW = ("\x1b", "\x07", "\u202e")


def test_a_policy_name_in_compare_headers_is_escaped(tmp_path: Path) -> None:
    """compare puts each policy's name in a column header: headers, titles and captions go
    through the same escaping as cells."""
    policy = tmp_path / "evil.toml"
    policy.write_text(EVIL_POLICY, encoding="utf-8")
    args = ["compare", str(SAMPLE_DIR / "incidents.csv"), "--contracts"]
    args += [str(SAMPLE_DIR / "contracts.csv"), "--as-of", AS_OF, "--month", "2025-05"]
    result = run([*args, "--policy", "standard", "--policy", str(policy)])
    assert result.exit_code == 0, result.output
    assert not any(c in result.stdout for c in RAW), result.stdout
    assert "\\x1b]0;pwned\\x07evil\\u202e (avail. %, credit)" in result.stdout


def test_nothing_of_a_policy_is_dropped_or_raw_in_tiers(tmp_path: Path) -> None:
    """rich drops a bell from text silently; slacalc escapes it first, so it shows."""
    policy = tmp_path / "evil.toml"
    policy.write_text(EVIL_POLICY, encoding="utf-8")
    result = run(["tiers", "--policy", str(policy)])
    assert result.exit_code == 0, result.output
    assert not any(c in result.stdout for c in RAW), result.stdout
    assert "Policy \\x1b]0;pwned\\x07evil\\u202e: mode coefficient" in result.stdout
    assert "\\x1b[2Jclear\\x07" in result.stdout
    assert "Source: \\x1b]8;;https://x\\x1b\\link" in result.stdout


def test_grid_titles_captions_and_headers_are_escaped() -> None:
    from slacalc.writing.tables import LARGE, Column, Grid, render_text

    for rows in (1, LARGE + 1):  # a rich table, and aligned plain text
        grid = Grid("t \x1b[2J", [Column("head \x07", short="h\u202e")])
        grid.caption = "c \x07"
        for _ in range(rows):
            grid.add("cell")
        for width in (200, 12):  # in full, and compact (the short header)
            text = render_text([grid], width=width)
            assert not any(c in text for c in RAW), text[:300]
            assert "t \\x1b[2J" in text and "c \\x07" in text
            full = rows == 1 and width == 200  # else the compact layout: the short header
            assert ("head \\x07" if full else "h\\u202e") in text
