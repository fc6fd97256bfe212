"""The edges of the process: standard streams closed or full, Ctrl-C before the program has
loaded, a temporary folder that fills up. Each is a clean exit with a code that says what
happened, never an internal error (exit 70) or a traceback.
"""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from mixins import AS_OF, ROOT, run

from slacalc.computing import partitioned

PYTHON = sys.executable
INCIDENTS = str(ROOT / "samples" / "incidents.csv")
CONTRACTS = str(ROOT / "samples" / "contracts.csv")
REPORT = ["report", INCIDENTS, "--contracts", CONTRACTS, "--as-of", AS_OF]


def slacalc(
    *args: str, close: tuple[int, ...] = (), env: dict[str, str] | None = None, **kwargs: object
) -> subprocess.CompletedProcess[bytes]:
    """The real program, as a shell runs it, with the standard descriptors in ``close`` closed
    (``<&-``, ``>&-``, ``2>&-``)."""
    environ = {
        k: v
        for k, v in os.environ.items()
        if not (k.startswith("SLACALC_") and k != "SLACALC_FORMAT")
    }
    environ.update(PYTHONPATH=str(ROOT), **(env or {}))

    def closing() -> None:
        for fd in close:
            os.close(fd)

    kwargs.setdefault("stdout", subprocess.PIPE)
    kwargs.setdefault("stderr", subprocess.PIPE)
    return subprocess.run(  # type: ignore[call-overload]
        [PYTHON, "-m", "slacalc", *args],
        env=environ,
        cwd=ROOT,
        timeout=120,
        preexec_fn=closing,
        **kwargs,
    )


# --- closed standard streams -------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["report", "-", "--monthly-fee", "1"],
        ["report", INCIDENTS, "--contracts", "-", "--as-of", AS_OF],
        ["validate", "-"],
        ["disputes", "-"],
        ["import", "statuspage", "-"],
        ["statement", INCIDENTS, "--contracts", "-", "--customer", "acme", "--month", "2025-05"],
    ],
    ids=lambda a: "-".join(a[:1] + (["contracts"] if "--contracts" in a else [])),
)
def test_a_closed_standard_input_is_a_clean_input_error(args: list[str]) -> None:
    """`slacalc report - <&-`: exit 1, one message, not an internal error."""
    result = slacalc(*args, close=(0,), stdin=subprocess.DEVNULL)
    assert result.returncode == 1, result.stderr
    assert result.stderr.decode().splitlines() == [
        "<stdin>: cannot read: standard input is closed",
        "1 problem found",
    ]
    assert result.stdout == b""


def test_a_closed_standard_error_keeps_the_exit_code_and_the_output() -> None:
    """`2>&-`: errors and warnings have nowhere to go, but the exit code still says what
    happened and the output is still written."""
    bad = slacalc("report", "samples/broken-export.csv", "--monthly-fee", "1", close=(2,))
    assert bad.returncode == 1 and bad.stdout == b""
    usage = slacalc("report", INCIDENTS, "--monthly-fee", "x", close=(2,))
    assert usage.returncode == 2
    # a warning (a year whose calendar is not confirmed) on a closed stderr, then the output
    args = ["deadline", "--level", "2", "--opened", "2027-01-28T10:00:00+08:00", "-f", "csv"]
    warned = slacalc(*args, close=(2,))
    assert warned.returncode == 0
    assert warned.stdout.decode().splitlines()[1].startswith("2,data_loss,2027-01-28T10:00")


def test_a_full_standard_error_does_not_stop_the_output() -> None:
    """stderr on /dev/full: the warning cannot be written; the CSV is, and the exit code is
    the command's own (it was 1, from a traceback nobody could read)."""
    args = ["deadline", "--level", "2", "--opened", "2027-01-28T10:00:00+08:00", "-f", "csv"]
    with open("/dev/full", "wb") as full:
        result = slacalc(*args, stderr=full)
    assert result.returncode == 0
    assert result.stdout.decode().startswith("level,category,opened_at")


def test_closed_streams_are_not_reused_for_files(tmp_path: Path) -> None:
    """With stdout and stderr closed, `-o FILE` still writes just the report: the file the
    program opens is not given descriptor 1 or 2 for anything else to write into."""
    out = tmp_path / "r.csv"
    result = slacalc(*REPORT, "-o", str(out), close=(1, 2))
    assert result.returncode == 0
    expected = slacalc(*REPORT, "-f", "csv")
    assert out.read_bytes() == expected.stdout


def test_help_into_a_pipe_that_closes_is_exit_0() -> None:
    proc = subprocess.Popen(
        [PYTHON, "-m", "slacalc", "report", "--help"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "100"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # the reader is gone before the help is written
    err = proc.stderr.read()
    assert proc.wait(60) == 0 and err == b""


# --- Ctrl-C from the first moment ----------------------------------------------------------


def test_the_interrupt_handler_is_in_place_before_the_libraries_load() -> None:
    """Loading numpy, pyarrow and the engine takes most of a second: a Ctrl-C then must not
    print a traceback of the import under way. So the handler is installed before numpy is
    imported (``import slacalc.cli`` itself loads nothing heavy: the command's modules load
    when the console script runs)."""
    probe = (
        "import signal, sys\n"
        "seen = []\n"
        "class Spy:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'numpy' and not seen:\n"
        "            seen.append(signal.getsignal(signal.SIGINT))\n"
        "sys.meta_path.insert(0, Spy())\n"
        "import slacalc.cli\n"
        "assert not seen, 'import slacalc.cli loaded numpy'\n"
        "sys.argv = ['slacalc', 'report', '--help']\n"
        "slacalc.cli.run()\n"
        "print(getattr(seen[0], '__qualname__', seen[0]))\n"
    )
    result = _probe(probe)
    assert result.returncode == 0, result.stderr
    assert result.stdout.decode().strip().splitlines()[-1] == "_leave_now"


def _probe(code: str) -> subprocess.CompletedProcess[bytes]:
    """``code`` run by a fresh Python with this checkout's slacalc."""
    return subprocess.run(
        [PYTHON, "-c", code],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        timeout=60,
    )


def _catches_sigterm(pid: int) -> bool:
    """Whether the process has a handler for SIGTERM (slacalc's early handler is in place)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    caught = int(next(line for line in status.splitlines() if line.startswith("SigCgt:"))[7:], 16)
    return bool(caught & (1 << (signal.SIGTERM - 1)))


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc")
@pytest.mark.parametrize("delay", [0.0, 0.05, 0.15, 0.3, 0.5, 0.8])
def test_ctrl_c_while_loading_is_exit_130_without_a_traceback(delay: float) -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if not (k.startswith("SLACALC_") and k != "SLACALC_FORMAT")
    }
    env["PYTHONPATH"] = str(ROOT)
    proc = subprocess.Popen(
        [PYTHON, "-m", "slacalc", *REPORT],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    while not _catches_sigterm(proc.pid) and proc.poll() is None:
        assert time.monotonic() < deadline
        time.sleep(0.001)
    time.sleep(delay)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    if proc.returncode == 0:  # (it finished first: nothing to interrupt)
        return
    assert proc.returncode == 130, err
    assert err.decode() == "interrupted\n"
    assert out == b""


# --- a temporary folder that is full ------------------------------------------------------


def _bucketed(monkeypatch: pytest.MonkeyPatch, tmp: Path) -> None:
    """Make every report with -f csv a report in buckets, in the temporary folder ``tmp``."""
    from slacalc.computing import partitioned as report_cli

    monkeypatch.setattr(report_cli, "memory_needed", lambda paths: 1 << 40)
    monkeypatch.setenv("TMPDIR", str(tmp))


def test_a_full_temporary_folder_while_splitting_is_a_clean_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pyarrow.parquet as pq

    tmp = tmp_path / "tmp"
    tmp.mkdir()
    _bucketed(monkeypatch, tmp)

    def full(self: object, table: object, row_group_size: object = None) -> None:
        raise OSError(errno.ENOSPC, "Error writing bytes to file")

    monkeypatch.setattr(pq.ParquetWriter, "write_table", full)
    result = run([*REPORT, "--memory", "384M", "-f", "csv"])
    assert result.exit_code == 1, result.output
    assert result.stderr.splitlines() == [
        f"Error: the temporary folder '{tmp}' is full (No space left on device): set TMPDIR "
        "to a folder with room for about the log's size again, or give --memory more"
    ]
    assert result.stdout == ""
    assert list(tmp.iterdir()) == []


def test_a_full_temporary_folder_while_storing_a_bucket_is_a_clean_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pyarrow as pa

    tmp = tmp_path / "tmp"
    tmp.mkdir()
    _bucketed(monkeypatch, tmp)
    real = pa.OSFile

    def opened(path: str, mode: str = "r") -> object:
        if path.endswith(".arrow"):
            raise OSError(errno.EDQUOT, "Disk quota exceeded")
        return real(path, mode)

    monkeypatch.setattr(partitioned.pa, "OSFile", opened)
    out = tmp_path / "r.csv"
    result = run([*REPORT, "--memory", "384M", "-o", str(out)])
    assert result.exit_code == 1, result.output
    assert f"the temporary folder '{tmp}' is full" in result.stderr
    assert list(tmp.iterdir()) == [] and not out.exists()


def test_a_missing_temporary_folder_is_a_clean_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _bucketed(monkeypatch, tmp_path / "nowhere")
    result = run([*REPORT, "--memory", "384M", "-f", "csv"])
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith(
        "Error: cannot write the bucket files of a report larger than --memory in the "
        f"temporary folder '{tmp_path / 'nowhere'}' (No such file or directory): set TMPDIR"
    )


def _gen_log(path: Path, rows: int) -> None:
    with path.open("w", encoding="utf-8") as fh:
        fh.write("incident_id,customer_id,service,start,end,category,impact\n")
        fh.writelines(
            f"I{i},c{i % 50_000},s{i % 3},2025-05-{1 + i % 28:02d} {i % 24:02d}:00:00,"
            f"2025-05-{1 + i % 28:02d} {i % 24:02d}:00:30,outage,1\n"
            for i in range(rows)
        )


@pytest.fixture
def tiny_tmpfs(tmp_path: Path) -> Iterator[Path]:
    """A real 1 MB file system (tmpfs), where root may mount one."""
    folder = tmp_path / "tiny"
    folder.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(folder)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    yield folder
    subprocess.run(["umount", str(folder)], check=False)


def test_a_really_full_tmpdir_during_a_bucketed_report(tiny_tmpfs: Path, tmp_path: Path) -> None:
    """`TMPDIR=<1 MB tmpfs> slacalc report big.csv --memory 384M`: exit 1 naming the folder,
    nothing left in it, no output file."""
    log = tmp_path / "big.csv"
    _gen_log(log, 330_000)  # 22 MB of CSV: more than --memory 384M takes in memory
    out = tmp_path / "r.csv"
    result = slacalc(
        "report",
        str(log),
        "--memory",
        "384M",
        "--monthly-fee",
        "100",
        "--as-of",
        AS_OF,
        "-o",
        str(out),
        env={"TMPDIR": str(tiny_tmpfs)},
    )
    assert result.returncode == 1, result.stderr
    assert result.stderr.decode().splitlines() == [
        f"Error: the temporary folder '{tiny_tmpfs}' is full (No space left on device): set "
        "TMPDIR to a folder with room for about the log's size again, or give --memory more"
    ]
    assert list(tiny_tmpfs.iterdir()) == [] and not out.exists()


def test_ctrl_c_while_the_command_line_is_parsed_says_interrupted() -> None:
    """typer turns an interrupt while it parses the command line into a silent exit 130: the
    console script still says why it stopped."""
    probe = (
        "import sys\n"
        "import slacalc.cli as cli\n"
        "from slacalc.cli import common\n"
        "def boom(*args, **kwargs):\n"
        "    raise KeyboardInterrupt\n"
        "common._PlainErrors.make_context = boom\n"
        "sys.argv = ['slacalc', 'tiers']\n"
        "print(cli.run())\n"
    )
    result = _probe(probe)
    assert result.stdout.decode().strip() == "130"
    assert result.stderr.decode() == "interrupted\n"
