"""Tables as a person sees them: the real program in a pseudo-terminal 80, 100 and 120 columns
wide (no COLUMNS variable: the width is the terminal's own), and hostile data on a terminal.
"""

from __future__ import annotations

import csv
import fcntl
import os
import re
import select
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest
from mixins import AS_OF, ROOT
from rich.cells import cell_len

WIDTHS = (80, 100, 120)
SGR = re.compile(r"\x1b\[[0-9;]*m")  # colours and bold: the only escapes slacalc may send


def on_terminal(args: list[str], width: int, rows: int = 50) -> tuple[int, str]:
    """Run slacalc with a pseudo-terminal of ``width`` columns as its stdin, stdout and
    stderr; the exit code and everything the terminal received (line ends as LF)."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, width, 0, 0))
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("SLACALC_") and k not in ("COLUMNS", "LINES", "NO_COLOR")
    }
    env.update(PYTHONPATH=str(ROOT), TERM="xterm-256color")
    proc = subprocess.Popen(
        [sys.executable, "-m", "slacalc", *args],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        cwd=ROOT,
        env=env,
        close_fds=True,
    )
    os.close(slave)
    chunks = []
    while True:
        ready, _, _ = select.select([master], [], [], 60)
        if not ready:
            proc.kill()
            raise AssertionError("no output for 60 s")
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the terminal's other end is closed
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    code = proc.wait(30)
    return code, b"".join(chunks).decode("utf-8").replace("\r\n", "\n")


def visible(text: str) -> list[str]:
    return SGR.sub("", text).splitlines()


def assert_fits(text: str, width: int) -> list[str]:
    lines = visible(text)
    too_wide = [line for line in lines if cell_len(line) > width]
    assert not too_wide, "\n".join(too_wide)
    assert "…" not in text
    return lines


REPORT = ["report", "samples/incidents.csv", "--contracts", "samples/contracts.csv"]


@pytest.mark.parametrize("width", WIDTHS)
def test_the_month_end_report_fits_with_whole_values(width: int) -> None:
    code, text = on_terminal([*REPORT, "--as-of", AS_OF], width)
    assert code == 0
    lines = assert_fits(text, width)
    joined = "\n".join(lines)
    row = next(line for line in lines if line.startswith("globex") and "2025-06" in line)
    for value in (
        "globex",
        "database",
        "2025-06",
        "95.4166",
        "<99.95/99.99",
        "1d 9h",
        "515.63 USD",
    ):
        assert value in row, (value, row)
    if width >= 100:
        assert "07-04 00:00" in row  # the due date, with the year in the header
        assert "Due 2025" in joined
    notes = [line for line in lines if line.startswith("(not shown")]
    assert len(notes) == 1 and "-f csv" in notes[0]
    assert "Inc." in notes[0]  # the lowest-priority columns are the ones named
    assert "Dispute settlement deadlines" in joined and "INC-1009" in joined


@pytest.mark.parametrize("width", WIDTHS)
def test_the_disputes_table_fits_with_whole_values(width: int) -> None:
    code, text = on_terminal(
        ["disputes", "samples/disputes.csv", "--as-of", "2026-03-02T12:00:00+08:00"], width
    )
    assert code == 0
    lines = assert_fits(text, width)
    row = next(line for line in lines if line.startswith("DSP-2025-0420"))
    for value in ("Zürich Re 上海分公司", "2025-10-17 23:59:59", "resolved_late"):
        assert value in row, (value, row)
    if width >= 100:
        assert "2025-09-28 09:15" in row  # opened
    assert any(line.startswith("10 disputes:") for line in lines)


@pytest.mark.parametrize("width", [80])  # the narrowest: explain is also run at every width
@pytest.mark.parametrize(
    "args",
    [
        [
            "explain",
            "samples/incidents.csv",
            "--contracts",
            "samples/contracts.csv",
            "--customer",
            "globex",
            "--service",
            "database",
            "--month",
            "2025-05",
        ],
        ["deadline", "--level", "2", "--opened", "2025-09-30T10:00:00+08:00"],
        ["budget", "--month", "2025-06"],
        ["tiers", "--policy", "tencent-cvm"],
        ["policies"],
        ["validate", "samples/incidents.csv"],
    ],
    ids=lambda a: a[0] if isinstance(a, list) else a,
)
def test_every_other_table_fits_without_an_ellipsis(args: list[str], width: int) -> None:
    code, text = on_terminal(
        [*args, "--as-of", AS_OF] if args[0] in ("explain", "validate") else args, width
    )
    assert code == 0, text
    assert "…" not in text
    if args[0] != "validate":  # validate prints messages, not a table
        assert_fits(text, width)


@pytest.mark.parametrize("width", WIDTHS)
def test_explain_fits_at_every_width(width: int) -> None:
    args = [
        "explain",
        "samples/incidents.csv",
        "--contracts",
        "samples/contracts.csv",
        "--customer",
        "acme",
        "--service",
        "storage",
        "--month",
        "2025-05",
        "--as-of",
        AS_OF,
    ]
    code, text = on_terminal(args, width)
    assert code == 0
    lines = assert_fits(text, width)
    assert any("INC-1004" in line and "20m 0s" in line for line in lines)
    assert sum(line.startswith("(not shown") for line in lines) <= 1


def test_piped_output_keeps_every_column() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "slacalc", *REPORT, "--as-of", AS_OF],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "80"},
        capture_output=True,
        timeout=60,
    )
    text = result.stdout.decode()
    assert "\x1b" not in text
    header = next(line for line in text.splitlines() if "Customer" in line)
    for name in ("Band / target", "Due 2025", "Status", "Breached", "Fee", "Excluded", "Inc."):
        assert name in header
    assert "not shown" not in text and "1d 9h 0m 0s" in text


HOSTILE = [
    "[/x]",
    "[legacy]acme",
    "[link=https://evil.example]click[/link]",
    "\x1b]0;pwned\x07title",
    "\x1b]8;;https://evil.example\x1b\\link",
    "\x1b[2J\x1b[Hclear",
    "bell\x07",
    "csi\x9b31m",
    "bidi\u202eevil",
    "=1+1",
]


def _hostile_files(tmp_path: Path) -> tuple[Path, Path]:
    incidents = tmp_path / "hostile.csv"
    with incidents.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["start", "end", "customer_id", "service", "incident_id", "category"])
        for i, text in enumerate(HOSTILE):
            day = f"2025-05-{i + 1:02d}"
            w.writerow([f"{day} 10:00", f"{day} 11:00", text, text, text, "data_loss"])
    disputes = tmp_path / "hostile-disputes.csv"
    with disputes.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["dispute_id", "customer_id", "level", "opened_at"])
        for i, text in enumerate(HOSTILE):
            w.writerow([text, text, 1 + i % 3, f"2025-05-{i + 1:02d} 10:00"])
    return incidents, disputes


@pytest.mark.parametrize("width", [100])
def test_hostile_ids_are_shown_escaped_by_every_command(tmp_path: Path, width: int) -> None:
    incidents, disputes = _hostile_files(tmp_path)
    runs = [
        ["report", str(incidents), "--monthly-fee", "100", "--as-of", AS_OF],
        ["validate", str(incidents), "--as-of", AS_OF],
        ["disputes", str(disputes), "--as-of", AS_OF],
        [
            "explain",
            str(incidents),
            "--monthly-fee",
            "100",
            "--as-of",
            AS_OF,
            "--customer",
            HOSTILE[3],
            "--month",
            "2025-05",
        ],
    ]
    for args in runs:
        code, text = on_terminal(args, width)
        assert code == 0, text
        rest = SGR.sub("", text)
        for raw in ("\x1b", "\x07", "\x9b", "\u202e"):
            assert raw not in rest, (args[0], repr(raw))
        if args[0] != "validate":  # (it quotes no id when nothing is wrong)
            assert "\\x1b]0;pwned\\x07title" in rest, args[0]
        if args[0] in ("report", "disputes"):
            assert "[legacy]acme" in rest and "[/x]" in rest
            assert "\\u202eevil" in rest


def test_stderr_messages_escape_control_characters_on_a_terminal(tmp_path: Path) -> None:
    bad = tmp_path / "bad\x1b[31m.csv"
    bad.write_text("start,end\n\x1b]0;pwned\x07,\n", encoding="utf-8")
    code, text = on_terminal(["report", str(bad), "--monthly-fee", "1"], 100)
    assert code == 1
    rest = SGR.sub("", text)
    assert "\x1b" not in rest and "\x07" not in rest
    assert "bad\\x1b[31m.csv:2" in rest and "\\x1b]0;pwned\\x07" in rest


def test_a_policy_name_cannot_drive_the_terminal_through_compare(tmp_path: Path) -> None:
    policy = tmp_path / "evil.toml"
    policy.write_text(
        'name = "\\u001b]0;pwned\\u0007evil\\u202e"\nmode = "coefficient"\n'
        "default_target = 99.95\ncap_pct = 100\n"
        "[[tiers]]\ntarget = 99.95\ncoefficient = 1.25\ncredit_pct = 5\n",
        encoding="utf-8",
    )
    args = ["compare", "samples/incidents.csv", "--contracts", "samples/contracts.csv"]
    args += ["--as-of", AS_OF, "--month", "2025-05", "--policy", "standard"]
    for width in (100, 200):
        code, text = on_terminal([*args, "--policy", str(policy)], width)
        assert code == 0, text
        rest = SGR.sub("", text)
        assert not any(c in rest for c in ("\x1b", "\x07", "\u202e")), rest
        assert "\\x1b]0;pwned\\x07evil\\u202e" in " ".join(rest.split())


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_csv_and_json_on_a_terminal_show_control_characters_escaped(
    tmp_path: Path, fmt: str
) -> None:
    """Data written straight to a terminal is shown escaped, whatever the format; piped, the
    CSV keeps its bytes (a program reads it)."""
    incidents, _ = _hostile_files(tmp_path)
    args = ["report", str(incidents), "--monthly-fee", "100", "--as-of", AS_OF, "-f", fmt]
    code, text = on_terminal(args, 100)
    assert code == 0, text
    assert not any(c in text for c in ("\x1b", "\x07", "\x9b", "\u202e")), text
    assert "\\x1b]0;pwned\\x07title" in text or "\\u001b]0;pwned\\u0007title" in text
    piped = subprocess.run(
        [sys.executable, "-m", "slacalc", *args],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        timeout=60,
    )
    if fmt == "csv":
        assert "\x1b]0;pwned\x07title" in piped.stdout.decode()
