"""Large outputs and a real terminal: the program in a pseudo-terminal, with its standard output
sent to the terminal, a file, a pipe that closes early, or ``-o``.

While a large log is read, a progress bar runs on stderr. It must never take standard output
over (rich's default is to swap ``sys.stdout`` for a proxy that prints to the terminal, a line
at a time): ``slacalc report big.csv -f csv > out.csv`` typed in a terminal once left
``out.csv`` empty, exit 0, and a 300,000-row CSV on the terminal took more than five minutes.
"""

from __future__ import annotations

import fcntl
import os
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path
from typing import IO

import pytest
from mixins import ROOT

ROWS = 300_000  # incidents, one key each: 300,000 report rows, a 23 MB log
AS_OF = "2025-06-28T00:00:00+08:00"
HEADER = "customer_id,service,month,"
SGR = b"\x1b["


@pytest.fixture(scope="module")
def big_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A log of ``ROWS`` one-minute incidents on as many keys (over 16 MB: the size from which
    the bar shows every stage), written directly in about a second."""
    path = tmp_path_factory.mktemp("big") / "big.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write("incident_id,customer_id,service,start,end,category,impact\n")
        rows = []
        for i in range(ROWS):
            day, hour, minute = 1 + i % 28, (i // 28) % 24, (i // 672) % 59
            when = f"2025-05-{day:02d} {hour:02d}:{minute:02d}"
            rows.append(
                f"INC-{i:08d},cust{i % 100_000:05d},svc{i % 3},{when}:00,{when}:30,outage,1\n"
            )
        fh.writelines(rows)
    assert path.stat().st_size >= 16_000_000
    return path


def report_args(log: Path, *extra: str) -> list[str]:
    return ["report", str(log), "--monthly-fee", "100", "--as-of", AS_OF, *extra]


def on_terminal(
    args: list[str], *, stdout: IO[bytes] | int | None = None, seconds: float = 120
) -> tuple[int, bytes, float]:
    """Run slacalc with a pseudo-terminal (120 x 50) as stdin and stderr, and as stdout unless
    ``stdout`` is given; the exit code, what the terminal received and the seconds taken."""
    return Terminal(args, stdout=stdout).finish(seconds)


class Terminal:
    """slacalc running with a pseudo-terminal as its stdin and stderr (and stdout)."""

    def __init__(self, args: list[str], *, stdout: IO[bytes] | int | None = None) -> None:
        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 120, 0, 0))
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("SLACALC_") and k not in ("COLUMNS", "LINES", "NO_COLOR")
        }
        env.update(PYTHONPATH=str(ROOT), TERM="xterm-256color")
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "slacalc", *args],
            stdin=slave,
            stdout=slave if stdout is None else stdout,
            stderr=slave,
            cwd=ROOT,
            env=env,
            close_fds=True,
        )
        os.close(slave)

    def finish(self, seconds: float = 120) -> tuple[int, bytes, float]:
        """Read the terminal until the program is gone: its exit code, what the terminal
        received and the seconds taken."""
        received = bytearray()
        try:
            while True:
                left = seconds - (time.monotonic() - self.started)
                if left <= 0:
                    raise AssertionError(f"not done in {seconds} s ({len(received)} bytes)")
                ready, _, _ = select.select([self.master], [], [], left)
                if not ready:
                    continue
                try:
                    data = os.read(self.master, 1 << 16)
                except OSError:  # EIO: every writer of the terminal is gone
                    break
                if not data:
                    break
                received += data
            code = self.proc.wait(30)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            os.close(self.master)
        return code, bytes(received), time.monotonic() - self.started


def test_a_csv_redirected_to_a_file_from_a_terminal_is_all_in_the_file(
    big_log: Path, tmp_path: Path
) -> None:
    """`slacalc report big.csv -f csv > out.csv` in a terminal, and `-o out.csv`: the bar on
    the terminal, the whole CSV in the file, none of it on the terminal."""
    redirected, named = tmp_path / "redirected.csv", tmp_path / "named.csv"
    with redirected.open("wb") as fh:
        code, shown, _ = on_terminal(report_args(big_log, "-f", "csv"), stdout=fh)
    assert code == 0, shown[-2000:]
    code, shown_too, _ = on_terminal(report_args(big_log, "-o", str(named)))
    assert code == 0, shown_too[-2000:]
    for out, terminal in ((redirected, shown), (named, shown_too)):
        lines = out.read_text(encoding="utf-8").splitlines()
        assert lines[0].startswith(HEADER)
        assert len(lines) == 1 + ROWS
        assert lines[-1].startswith("cust99999,svc2,2025-05,")
        assert b"cust0" not in terminal and HEADER.encode() not in terminal
        assert b"Traceback" not in terminal and b"internal error" not in terminal
    assert sorted(tmp_path.iterdir()) == [named, redirected]  # no temporary file left


def test_a_reader_that_goes_away_early_is_exit_0_without_noise(big_log: Path) -> None:
    """`slacalc report big.csv -f csv | head -1`, stderr on a terminal (the bar up): the
    reader leaves after one line; slacalc ends quietly with 0 (not killed by SIGPIPE)."""
    read, write = os.pipe()
    term = Terminal(report_args(big_log, "-f", "csv"), stdout=write)
    os.close(write)
    ready, _, _ = select.select([read], [], [], 60)
    first = os.read(read, 100) if ready else b""
    os.close(read)  # the reader goes away
    code, shown, _ = term.finish()
    assert first.startswith(HEADER.encode()), shown[-2000:]
    assert code == 0, shown[-2000:]
    for noise in (b"Broken pipe", b"BrokenPipe", b"Traceback", b"rror", b"Exception"):
        assert noise not in shown


def test_a_300k_row_csv_on_the_terminal_arrives_whole_at_file_speed(big_log: Path) -> None:
    code, shown, seconds = on_terminal(report_args(big_log, "-f", "csv"), seconds=90)
    assert code == 0, shown[-2000:]
    lines = shown.replace(b"\r\n", b"\n").split(b"\n")
    rows = [line for line in lines if line.startswith(b"cust")]
    assert len(rows) == ROWS, (len(rows), seconds)
    assert rows[-1].startswith(b"cust99999,svc2,2025-05,")
    assert seconds < 90


def test_a_300k_row_table_on_the_terminal_arrives_whole(big_log: Path) -> None:
    """More than 2,000 rows: aligned plain text, every row, in seconds (not minutes)."""
    code, shown, _ = on_terminal(report_args(big_log), seconds=120)
    assert code == 0, shown[-2000:]
    text = shown.replace(b"\r\n", b"\n").decode("utf-8")
    rows = [line for line in text.split("\n") if line.startswith(("cust", "\x1b[1;31mcust"))]
    assert len(rows) == ROWS
    assert "SLA report (times in Asia/Shanghai)" in text
    assert "Compensation by currency" in text
