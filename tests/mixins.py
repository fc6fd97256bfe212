"""Behaviour every command shares, as csvkit's test mixins: a bad file, an empty file, ``-o``
safety and exit codes.

``tests/test_commands.py`` makes one test class per command *registered on the app* out of these
mixins, so a new command gets them all without a line of test code. What a command needs to
run is derived from its parameters: each required parameter takes its value from ``SAMPLES``
by name (a new required parameter name needs one entry there, and the suite says so).
"""

from __future__ import annotations

import os
import stat
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import typer.main
from typer.testing import CliRunner, Result

from slacalc.cli import app

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_DIR = ROOT / "samples"
AS_OF = "2025-06-28T12:00:00+08:00"

# A value for every parameter a command may require, by parameter name.
SAMPLES: dict[str, Any] = {
    "incidents": [str(SAMPLE_DIR / "incidents.csv")],
    "policy": ["standard", "tencent-cvm"],  # compare: two or more
    "source_format": "statuspage",
    "files": [str(SAMPLE_DIR / "imports" / "statuspage.json")],
    "disputes": str(SAMPLE_DIR / "disputes.csv"),
    "customer": "acme",
    "month": "2025-05",
    "level": "2",
    "opened": "2025-09-30T10:00:00+08:00",
}
# Optional parameters given whenever a command has them, so that runs are reproducible.
PINNED: dict[str, Any] = {
    "incidents": [str(SAMPLE_DIR / "incidents.csv")],  # ledger post: optional (or --from-report)
    "ledger": ":memory:",  # the ledger commands: a ledger that keeps nothing (not statement's)
    "contracts": str(SAMPLE_DIR / "contracts.csv"),
    "as_of": AS_OF,
    "service": "storage",
    "customer": "acme",  # statement: one customer (or --all-customers)
}
# Parameters that name an input file, and the exit code of a bad one: 1 for data, 2 for a
# policy (an option value: a built-in name or a TOML file).
FILE_PARAMETERS = {"incidents": 1, "contracts": 1, "disputes": 1, "holidays": 1, "policy": 2}
# What each file parameter's file must look like to be read at all (for the empty-file and
# unclosed-quote cases).
HEADERS = {
    "incidents": "start,end,customer_id,service\n",
    "contracts": "customer_id,service,monthly_fee\n",
    "disputes": "dispute_id,customer_id,level,opened_at\n",
    "holidays": "date,kind\n",
}
# Commands that write other formats than CSV and JSON (the last is used for the -o cases).
OUTPUT_FORMATS = {"explain": ["json"], "import": ["csv", "jsonl"], "statement": ["html"]}
QUICK = 5.0  # seconds: every case here is over long before (most in well under one)
# Commands whose output *is* the list of problems (stdout or -o): their data errors are there.
REPORTS_PROBLEMS = frozenset({"validate"})


def commands() -> dict[str, Any]:
    """The commands registered on the app (click commands), by name, in --help order; a group's
    commands (``ledger post``) by their whole name."""
    group = typer.main.get_command(app)
    out: dict[str, Any] = {}
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        sub = getattr(command, "commands", None)
        if sub:
            out.update(
                {f"{name} {n}": c for n, c in sub.items() if f"{name} {n}" not in ON_A_CREDIT}
            )
        else:
            out[name] = command
    return out


# Commands that act on one credit of a ledger (they need a ledger holding it):
# tests/test_ledger.py walks each through its states on SQLite and PostgreSQL, and
# tests/test_ledger_export.py exports credits (in the layout --to names, not -f) and takes
# their document ids back.
ON_A_CREDIT = frozenset(
    f"ledger {n}"
    for n in (
        "claim",
        "approve",
        "deny",
        "issue",
        "apply",
        "dispute",
        "show",
        "export",
        "import-ids",
    )
)


def run(args: list[str], *, input: str | None = None) -> Result:
    """Invoke the app in-process with a clean environment (but the suite's SLACALC_FORMAT: see
    conftest.py); the result carries ``seconds``."""
    env = {
        name: None
        for name in os.environ
        if name.startswith("SLACALC_") and name != "SLACALC_FORMAT"
    }
    env["COLUMNS"] = "200"
    started = time.perf_counter()
    result = CliRunner().invoke(app, args, input=input, env=env)  # type: ignore[arg-type]
    result.seconds = time.perf_counter() - started  # type: ignore[attr-defined]
    return result


def assert_clean_failure(result: Result, code: int, *, on_stdout: bool = False) -> list[str]:
    """Exit ``code`` with a short, readable message on stderr (``on_stdout``: the command's
    report of problems on stdout) and no other output: no traceback, no internal error, no
    raw control character, in bounded time."""
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
    text = result.stdout if on_stdout else result.stderr
    lines = text.splitlines()
    assert lines, "no message"
    assert "Traceback" not in result.output and "internal error" not in result.output
    assert all(len(line) < 1000 for line in lines), "a message line is not readable"
    assert not any(c in result.output for c in "\x1b\x07\x00\x9b"), result.output
    assert result.seconds < QUICK  # type: ignore[attr-defined]
    if not on_stdout:
        assert result.stdout == ""
    return lines


class CommandCase:
    """One command, and how to run it with good arguments."""

    command: str

    @property
    def click_command(self) -> Any:
        return commands()[self.command]

    def parameters(self) -> dict[str, Any]:
        return {p.name: p for p in self.click_command.params if p.name}

    def has(self, name: str) -> bool:
        return name in self.parameters()

    def args(self, **values: Any) -> list[str]:
        """Arguments that run the command successfully; ``values`` replace or add parameters
        by name (``None`` leaves one out)."""
        chosen: dict[str, Any] = {}
        for name, param in self.parameters().items():
            if name in values:
                chosen[name] = values[name]
            elif param.required:
                if name not in SAMPLES:
                    pytest.fail(
                        f"`slacalc {self.command}` requires '{name}': add a sample value for it "
                        "to SAMPLES in tests/mixins.py"
                    )
                chosen[name] = SAMPLES[name]
            elif name in PINNED and (name != "ledger" or self.command.startswith("ledger")):
                chosen[name] = PINNED[name]
        out = self.command.split()
        for name, param in self.parameters().items():
            value = chosen.get(name)
            if value is None:
                continue
            if param.param_type_name == "argument":
                out += value if isinstance(value, list) else [value]
            else:
                flag = max((o for o in param.opts if o.startswith("--")), key=len)
                for item in value if isinstance(value, list) else [value]:
                    out += [flag, item]
        return out

    def failure(self, result: Result, code: int) -> list[str]:
        """:func:`assert_clean_failure` where this command reports such a failure."""
        return assert_clean_failure(
            result, code, on_stdout=code == 1 and self.command in REPORTS_PROBLEMS
        )

    def file_parameters(self) -> list[str]:
        return [name for name in FILE_PARAMETERS if self.has(name)]

    def with_file(self, name: str, path: str) -> list[str]:
        sample = SAMPLES.get(name)
        value: Any = path
        if name == "incidents":
            value = [path]
        elif isinstance(sample, list) and self.parameters()[name].multiple:
            value = [path, *sample[1:]]  # compare's other policies stay
        return self.args(**{name: value})


class ExitCodeTests(CommandCase):
    """Help, usage errors and their exit codes."""

    def test_help_has_an_example(self) -> None:
        result = run([*self.command.split(), "--help"])
        assert result.exit_code == 0
        assert "Example" in result.stdout

    def test_runs_with_good_arguments(self) -> None:
        result = run(self.args())
        assert result.exit_code == 0, (result.stdout, result.stderr)
        assert result.stdout
        assert "Traceback" not in result.stderr

    def test_unknown_option_is_a_usage_error(self) -> None:
        result = run([*self.args(), "--no-such-option"])
        assert result.exit_code == 2
        assert "Traceback" not in result.output

    def test_bad_format_is_a_usage_error(self) -> None:
        if not self.has("format"):
            pytest.skip("no --format")
        result = run([*self.args(), "--format", "xlsx"])
        assert result.exit_code == 2
        assert "Traceback" not in result.output

    @pytest.mark.parametrize(
        "name, value",
        [
            ("tz", "Mars/Olympus_Mons"),
            ("tz", "\x1b]0;title\x07"),
            ("as_of", "9999-12-31T23:59:59Z"),
            ("as_of", "not a time"),
            ("month", "9999-12"),
            ("month", "0000-01"),
            ("policy", "no-such-policy"),
            ("currency", "XYZ"),
            ("currency", "JYP"),
            ("monthly_fee", "1e999999999"),
            ("monthly_fee", "9" * 5000),
            ("sla_target", "1e-99999999"),
            ("calendar", "XX"),
            ("level", "7"),
            ("opened", "0000-01-01"),
        ],
    )
    def test_bad_option_value_is_a_usage_error(self, name: str, value: str) -> None:
        if not self.has(name):
            pytest.skip(f"no {name}")
        param = self.parameters()[name]
        given = [value] if getattr(param, "multiple", False) else value
        result = run(self.args(**{name: given}))
        lines = assert_clean_failure(result, 2)
        assert lines[0].startswith("Error: ") or "Usage" in result.stderr


class BadFileTests(CommandCase):
    """Every input file that cannot be read: one line naming it, the right exit code."""

    def _check(self, tmp_path: Path, make: Any, expect_line: bool = False) -> None:
        if not self.file_parameters():
            pytest.skip("reads no file")
        for name in self.file_parameters():
            path = make(tmp_path, name)
            result = run(self.with_file(name, str(path)))
            lines = self.failure(result, FILE_PARAMETERS[name])
            assert Path(path).name in lines[0], lines
            if expect_line and name != "policy":
                assert f"{Path(path).name}:" in lines[0], lines

    def test_missing_file(self, tmp_path: Path) -> None:
        self._check(tmp_path, lambda d, name: d / f"missing-{name}.csv")

    def test_a_folder(self, tmp_path: Path) -> None:
        def folder(d: Path, name: str) -> Path:
            path = d / f"folder-{name}.csv"
            path.mkdir()
            return path

        self._check(tmp_path, folder)

    def test_binary_file(self, tmp_path: Path) -> None:
        def binary(d: Path, name: str) -> Path:
            path = d / f"binary-{name}.csv"
            path.write_bytes(HEADERS.get(name, "").encode() + b"\x00\x01\x02PK\x03\x04" * 50)
            return path

        self._check(tmp_path, binary)

    def test_not_utf8(self, tmp_path: Path) -> None:
        def latin1(d: Path, name: str) -> Path:
            path = d / f"latin1-{name}.csv"
            path.write_bytes(HEADERS.get(name, "name = ").encode() + "Zürich\n".encode("latin-1"))
            return path

        self._check(tmp_path, latin1, expect_line=True)

    def test_unclosed_quote_is_an_error_on_its_line(self, tmp_path: Path) -> None:
        def unclosed(d: Path, name: str) -> Path:
            path = d / f"quote-{name}.csv"
            header = HEADERS.get(name, "name = ")
            path.write_text(header + '"never closed,x\n' + "a,b\n" * 3, encoding="utf-8")
            return path

        self._check(tmp_path, unclosed, expect_line=True)


class EmptyFileTests(CommandCase):
    """An empty input file is an error naming it, never an empty success."""

    @pytest.mark.parametrize("content", ["", "\n", "   \n\n", "\ufeff"])
    def test_empty_file(self, tmp_path: Path, content: str) -> None:
        names = [n for n in self.file_parameters() if n != "policy"]
        if not names:
            pytest.skip("reads no data file")
        for name in names:
            path = tmp_path / f"empty-{name}.csv"
            path.write_text(content, encoding="utf-8")
            result = run(self.with_file(name, str(path)))
            lines = self.failure(result, 1)
            assert "empty" in lines[0] and path.name in lines[0], lines


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


class OutputTests(CommandCase):
    """``-o``: atomic, never over an input, into devices and FIFOs, permissions kept."""

    def _out(self) -> None:
        if not self.has("output"):
            pytest.skip("no -o")

    def _formats(self) -> list[str]:
        """The file formats the command writes, as their extensions (``-f`` names)."""
        return OUTPUT_FORMATS.get(self.command, ["csv", "json"])

    @property
    def ext(self) -> str:
        return self._formats()[-1]

    def test_output_file_holds_what_stdout_shows(self, tmp_path: Path) -> None:
        self._out()
        for fmt in self._formats():
            target = tmp_path / f"out.{fmt}"
            to_stdout = run(self.args(format=fmt))
            to_file = run(self.args(output=str(target)))
            assert to_file.exit_code == to_stdout.exit_code == 0, to_file.stderr
            assert to_file.stdout == ""
            assert target.read_text(encoding="utf-8") == to_stdout.stdout
        assert leftovers(tmp_path) == sorted(f"out.{fmt}" for fmt in self._formats())

    def test_refuses_to_overwrite_an_input(self, tmp_path: Path) -> None:
        self._out()
        names = self.file_parameters()
        if not names:
            pytest.skip("reads no file")
        for name in names:
            source = SAMPLES.get(name) or PINNED.get(name)
            source = source[0] if isinstance(source, list) else source
            if name in ("policy", "holidays") or source is None:
                copy = tmp_path / f"{name}-input.csv"
                copy.write_text(
                    (SAMPLE_DIR / "policy.toml").read_text(encoding="utf-8")
                    if name == "policy"
                    else "date,kind\n2025-10-11,workday\n",
                    encoding="utf-8",
                )
            else:
                copy = tmp_path / f"{name}-input.csv"
                copy.write_bytes(Path(source).read_bytes())
            before = copy.read_bytes()
            link = tmp_path / f"link-to-{name}.csv"
            link.symlink_to(copy)
            hard = tmp_path / f"hard-{name}.csv"
            os.link(copy, hard)
            for target in (copy, link, hard):
                args = self.with_file(name, str(copy))
                result = run([*args, "-o", str(target), "-f", self._formats()[0]])
                lines = assert_clean_failure(result, 2)
                assert "refusing to overwrite" in lines[0], lines
                assert copy.read_bytes() == before
        assert not [n for n in leftovers(tmp_path) if n.endswith(".tmp")]

    def test_missing_folder_and_folder_target(self, tmp_path: Path) -> None:
        self._out()
        result = run([*self.args(), "-o", str(tmp_path / "nope" / f"out.{self.ext}")])
        assert_clean_failure(result, 2)
        result = run([*self.args(), "-o", str(tmp_path), "-f", self.ext])
        assert_clean_failure(result, 2)
        assert leftovers(tmp_path) == []

    def test_unknown_extension_is_a_usage_error(self, tmp_path: Path) -> None:
        self._out()
        result = run([*self.args(), "-o", str(tmp_path / "out.xlsx")])
        assert_clean_failure(result, 2)
        assert leftovers(tmp_path) == []

    def test_keeps_permissions_and_follows_symlinks(self, tmp_path: Path) -> None:
        self._out()
        real = tmp_path / f"real.{self.ext}"
        real.write_text("old\n", encoding="utf-8")
        real.chmod(0o640)
        link = tmp_path / f"link.{self.ext}"
        link.symlink_to(real)
        result = run(self.args(output=str(link)))
        assert result.exit_code == 0, result.stderr
        assert link.is_symlink() and real.read_text(encoding="utf-8").startswith(("[", "{", "<"))
        assert stat.S_IMODE(real.stat().st_mode) == 0o640
        assert leftovers(tmp_path) == [f"link.{self.ext}", f"real.{self.ext}"]

    def test_writes_into_devices_and_fifos(self, tmp_path: Path) -> None:
        self._out()
        fmt = self._formats()[0]
        result = run([*self.args(output="/dev/null"), "-f", fmt])
        assert result.exit_code == 0, result.stderr
        assert Path("/dev/null").is_char_device()
        fifo = tmp_path / "pipe"
        os.mkfifo(fifo)
        got: list[bytes] = []
        reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
        reader.start()
        result = run([*self.args(output=str(fifo)), "-f", fmt])
        reader.join(10)
        assert result.exit_code == 0, result.stderr
        assert got and got[0].decode("utf-8") == run(self.args(format=fmt)).stdout
        assert stat.S_ISFIFO(fifo.stat().st_mode)  # still a FIFO, not replaced by a file

    def test_full_disk_is_one_line_and_leaves_nothing(self) -> None:
        self._out()
        if not Path("/dev/full").exists():
            pytest.skip("no /dev/full")
        result = run([*self.args(output="/dev/full"), "-f", self._formats()[0]])
        lines = assert_clean_failure(result, 1)
        assert "/dev/full" in lines[0] and "No space left" in lines[0]

    def test_a_failed_write_leaves_the_old_file_and_no_temporary(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        self._out()
        target = tmp_path / f"out.{self.ext}"
        target.write_text("old\n", encoding="utf-8")

        def full(fd: int) -> None:
            raise OSError(28, "No space left on device")

        monkeypatch.setattr(os, "fsync", full)
        result = run(self.args(output=str(target)))
        lines = assert_clean_failure(result, 1)
        assert "No space left on device" in lines[0]
        assert target.read_text(encoding="utf-8") == "old\n"
        assert leftovers(tmp_path) == [f"out.{self.ext}"]

    def test_an_interrupt_leaves_no_file(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        self._out()
        target = tmp_path / f"out.{self.ext}"

        def interrupted(fd: int) -> None:
            raise KeyboardInterrupt

        monkeypatch.setattr(os, "fsync", interrupted)
        result = run(self.args(output=str(target)))
        assert result.exit_code == 130
        assert leftovers(tmp_path) == []

    def test_read_only_folder_and_file(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        self._out()
        locked = tmp_path / "locked"
        locked.mkdir()
        target = locked / f"out.{self.ext}"
        target.write_text("old\n", encoding="utf-8")
        target.chmod(0o444)
        locked.chmod(0o555)
        try:
            if os.geteuid() == 0:  # root writes anywhere: make the refusals happen anyway
                monkeypatch.setattr(os, "access", lambda *a, **k: False)
            result = run(self.args(output=str(target)))
            lines = assert_clean_failure(result, 2)
            assert "read-only" in lines[0] or "Permission denied" in lines[0], lines
            assert target.read_text(encoding="utf-8") == "old\n"
            if os.geteuid() == 0:
                import tempfile

                def denied(*args: Any, **kwargs: Any) -> Any:
                    raise PermissionError(13, "Permission denied")

                monkeypatch.setattr(tempfile, "mkstemp", denied)
            result = run(self.args(output=str(locked / f"new.{self.ext}")))
            lines = assert_clean_failure(result, 2)
            assert "Permission denied" in lines[0], lines
            assert leftovers(locked) == [f"out.{self.ext}"]
        finally:
            locked.chmod(0o755)
