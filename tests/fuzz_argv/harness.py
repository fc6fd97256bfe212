"""Run one fuzzed case, in process (typer's CliRunner) or as a real process, and say what is
wrong with how it ended.

A run must end with exit 0, 1, 2 or 3 (3 only with --fail-on-breach), print no traceback,
leave no temporary file in its output folder or in its private TMPDIR, create no output when
it fails, and change none of the files it was given.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import io
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock

from mixins import REPORTS_PROBLEMS

from fuzz_argv.cases import Case
from fuzz_argv.pool import build_pool, snapshot

EXIT_CODES = frozenset({0, 1, 2, 3})
TIMEOUT = 60  # seconds: a PDF takes a few; anything near this is a hang


_OWN_STREAMS = [f"{d}/{n}" for d in ("/dev/fd", "/proc/self/fd") for n in (0, 1, 2)]
_OWN_STREAMS += ["/dev/stdin", "/dev/stdout", "/dev/stderr"]


def _not_own_streams(arg: str) -> str:
    """In process, the descriptors 0, 1 and 2 are the test runner's (its log, its capture
    files): a run names /dev/null instead. A real process is fuzzed with them (see
    :func:`run_subprocess`)."""
    for name in _OWN_STREAMS:
        arg = arg.replace(name, "/dev/null")
    return arg


class Hang(BaseException):
    """The run did not end in time (raised by SIGALRM through the command)."""


@dataclass
class Outcome:
    case: Case
    argv: list[str]
    exit_code: int | None
    stdout: str
    stderr: str
    seconds: float
    error: str | None = None  # the traceback of an exception that escaped the command
    problems: list[str] = field(default_factory=list)

    def report(self) -> str:
        lines = [
            f"$ {self.case.shell()}",
            f"exit {self.exit_code} after {self.seconds:.1f}s",
            *(f"PROBLEM: {p}" for p in self.problems),
        ]
        if self.error:
            lines += ["escaped exception:", *self.error.splitlines()[-12:]]
        tail = [ln for ln in (self.stderr.splitlines() + self.stdout.splitlines()) if ln.strip()]
        lines += ["output (last lines):", *tail[-10:]]
        return "\n".join(lines)


class Sandbox:
    """The pool of input files and a work folder for output folders and TMPDIRs."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.pool = root / "pool"
        self.work = root / "work"
        build_pool(self.pool)
        self.work.mkdir(parents=True, exist_ok=True)
        self._snapshot = snapshot(self.pool)

    def pool_changes(self) -> list[str]:
        """Pool entries a run changed, added or removed; the pool is made again if any."""
        now = snapshot(self.pool)
        changed = sorted(
            name
            for name in set(now) | set(self._snapshot)
            if now.get(name) != self._snapshot.get(name)
        )
        if changed:
            shutil.rmtree(self.pool, ignore_errors=True)
            build_pool(self.pool)
            self._snapshot = snapshot(self.pool)
        return changed

    @contextlib.contextmanager
    def folders(self, case: Case) -> Iterator[tuple[Path, Path]]:
        """A fresh output folder (with an existing, a read-only and a linked file, a subfolder
        and a dangling link) and a private TMPDIR; removed afterwards."""
        out = Path(tempfile.mkdtemp(prefix="out-", dir=self.work))
        tmp = Path(tempfile.mkdtemp(prefix="tmp-", dir=self.work))
        (out / "existing.csv").write_text("old\n", encoding="utf-8")
        (out / "readonly.csv").write_text("old\n", encoding="utf-8")
        (out / "readonly.csv").chmod(0o444)
        (out / "sub").mkdir()
        (out / "link.csv").symlink_to(out / "readonly.csv")
        (out / "dangling.csv").symlink_to(out / "missing" / "x.csv")
        try:
            yield out, tmp
        finally:
            for folder in (out, tmp):
                for dirpath, dirnames, _ in os.walk(folder):
                    for name in dirnames:
                        with contextlib.suppress(OSError):
                            os.chmod(os.path.join(dirpath, name), 0o755)
                shutil.rmtree(folder, ignore_errors=True)

    def resolve(self, case: Case, out: Path) -> list[str]:
        """The case's arguments with real paths."""
        pool, outs = str(self.pool), str(out)
        argv = [a.replace("{pool}", pool).replace("{out}", outs) for a in case.argv]
        inputs = [a for a, s in zip(argv, case.argv, strict=True) if s.startswith("{pool}/")]
        first = next((a for a in inputs if os.path.isfile(a)), f"{outs}/out.csv")
        return [a.replace("{input}", first) for a in argv]


def _listing(folder: Path) -> dict[str, str]:
    """Every entry under ``folder``: its kind and, for files, a digest of its bytes."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, folder)
            if os.path.islink(path):
                out[rel] = "link:" + os.readlink(path)
            elif os.path.isdir(path):
                out[rel] = "dir"
            else:
                try:
                    with open(path, "rb") as fh:
                        out[rel] = hashlib.sha256(fh.read()).hexdigest()
                except OSError as exc:
                    out[rel] = f"unreadable:{exc.errno}"
    return out


def _temporary(name: str) -> bool:
    base = os.path.basename(name)
    return base.startswith(".") or base.endswith(".tmp") or "slacalc-" in base


def _named(argv: list[str], out: Path) -> set[str]:
    """Entries of the output folder the command line names (``-o {out}/.csv`` is asked for,
    not a leftover), in any of the forms ``-o X``, ``-oX``, ``--output=X``."""
    named = set()
    for token in argv:
        for candidate in (token, token.split("=", 1)[-1], token[2:]):
            rel = os.path.relpath(os.path.abspath(os.path.join(out, candidate)), out)
            if not rel.startswith(".."):
                named.add(rel.rstrip("/"))
    return named


def judge(
    outcome: Outcome,
    before: dict[str, str],
    after: dict[str, str],
    out: Path,
    tmp: Path,
    sandbox: Sandbox,
) -> None:
    """Fill ``outcome.problems``."""
    problems = outcome.problems
    code = outcome.exit_code
    if code not in EXIT_CODES:
        problems.append(f"exit code {code}")
    if code == 3 and "--fail-on-breach" not in outcome.argv:
        problems.append("exit 3 without --fail-on-breach")
    if outcome.error:
        problems.append("an exception escaped: " + outcome.error.strip().splitlines()[-1])
    if "Traceback (most recent call last)" in outcome.stdout + outcome.stderr:
        problems.append("a traceback was printed")
    for name, text in (("stdout", outcome.stdout), ("stderr", outcome.stderr)):
        if text.rfind("\x1b[?25l") > text.rfind("\x1b[?25h"):
            problems.append(f"the terminal's cursor is left hidden ({name})")
    new = sorted(n for n in after if n not in before)
    named = _named(outcome.argv, out)
    left = [n for n in new if _temporary(n) and n not in named]
    if left:
        problems.append(f"temporary files left in the output folder: {left}")
    if tmp.exists():
        in_tmp = sorted(os.listdir(tmp))
        if in_tmp:
            problems.append(f"left in TMPDIR: {in_tmp}")
    # validate's exit 1 is its report of the problems found, written where -o says
    if code not in (0, 3) and not (code == 1 and outcome.case.command in REPORTS_PROBLEMS):
        made = [n for n in new if not _temporary(n) or n in named]
        if made:
            problems.append(f"a failed run (exit {code}) created {made}")
        changed = sorted(n for n in before if n in after and after[n] != before[n])
        if changed:
            problems.append(f"a failed run (exit {code}) changed {changed}")
    if removed := sorted(n for n in before if n not in after):
        problems.append(f"removed from the output folder: {removed}")
    # a pool file may change only as the -o of a run that does not also read it
    targets = _output_targets(outcome.argv)
    read = {
        token
        for i, token in enumerate(outcome.argv)
        if not (i and outcome.argv[i - 1] in ("-o", "--output"))
    }
    changed = [str(sandbox.pool / name) for name in sandbox.pool_changes()]
    pool = [path for path in changed if path not in targets or path in read]
    if pool:
        problems.append(f"changed input files: {[os.path.basename(p) for p in pool[:5]]}")


def _output_targets(argv: list[str]) -> set[str]:
    """The values of -o / --output on a command line, in any of their forms."""
    targets = set()
    for i, token in enumerate(argv):
        if token in ("-o", "--output") and i + 1 < len(argv):
            targets.add(argv[i + 1])
        elif token.startswith("--output="):
            targets.add(token.split("=", 1)[1])
        elif token.startswith("-o") and not token.startswith("--"):
            targets.add(token[2:])
    return targets


def _stop_threads(before: set[threading.Thread]) -> list[str]:
    """Threads the command started and left running (a live progress bar that was never
    stopped keeps drawing on the terminal); each is stopped."""
    left = [t for t in threading.enumerate() if t not in before and t.is_alive()]
    if not left:
        return []
    gc.collect()  # a suspended generator's thread pool is shut down when it is collected
    for thread in left:
        thread.join(0.2)
    left = [t for t in left if t.is_alive()]
    for thread in left:
        live = getattr(thread, "live", None)
        with contextlib.suppress(Exception), contextlib.redirect_stderr(io.StringIO()):
            if live is not None:
                live.stop()
        thread.join(2)
    return [f"{type(t).__name__} {t.name}" for t in left]


def _environment(case: Case, tmp: Path) -> dict[str, str | None]:
    env: dict[str, str | None] = {n: None for n in os.environ if n.startswith("SLACALC_")}
    env.update({"COLUMNS": "120", "TMPDIR": str(tmp), "SLACALC_NO_PROGRESS": None})
    if "tmpdir-missing" in case.knobs:
        env["TMPDIR"] = str(tmp / "missing")
    env.update(dict(case.env))
    return env


def _resolved_env(case: Case, tmp: Path, sandbox: Sandbox, out: Path) -> dict[str, str | None]:
    env = _environment(case, tmp)
    for name, value in case.env:
        env[name] = sandbox.resolve(Case(case.command, (value,)), out)[0]
    return env


@contextlib.contextmanager
def _alarm(seconds: int) -> Iterator[None]:
    def ring(signum: int, frame: Any) -> None:
        raise Hang(f"no exit after {seconds} s")

    old = signal.signal(signal.SIGALRM, ring)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


SMALL_THRESHOLDS = [
    ("slacalc.reading.csv_bulk", "MIN_BYTES", 0),
    ("slacalc.reading.contracts", "BULK_BYTES", 0),
    ("slacalc.speed", "PARALLEL_ROWS", 2),
    ("slacalc.speed", "PARALLEL_WORDS", 2),
    ("slacalc.speed", "PARALLEL_PRICES", 2),
    ("slacalc.speed", "KEYS_PER_TERMS", 0),
]


def _knobs(case: Case, stack: contextlib.ExitStack) -> None:
    """The in-process knobs: a terminal on both streams (with the progress bar of every
    size), a log that needs more memory than any --memory (report in buckets), the large-input
    paths on small inputs."""
    if "terminal" in case.knobs:
        import typer.testing

        from slacalc.cli import common

        stack.enter_context(mock.patch.object(typer.testing.BytesIOCopy, "isatty", lambda s: True))
        stack.enter_context(mock.patch.object(common.RunProgress, "BIG", 0))
    if "bucketed" in case.knobs:
        from slacalc.computing import partitioned as report

        stack.enter_context(mock.patch.object(report, "memory_needed", lambda paths: 1 << 39))
    if "small-thresholds" in case.knobs:
        # the bulk readers (files of 1 MB and more) and the two-thread paths (200k rows and
        # more) on the pool's small files, as tests/conftest.py and test_properties.py do
        import importlib

        for module, name, value in SMALL_THRESHOLDS:
            with contextlib.suppress(ImportError, AttributeError):
                target = importlib.import_module(module)
                if hasattr(target, name):
                    stack.enter_context(mock.patch.object(target, name, value))


def run_in_process(
    case: Case, sandbox: Sandbox, *, debug: bool = False, timeout: int = TIMEOUT
) -> Outcome:
    """Run ``case`` with typer's CliRunner, in a fresh output folder and TMPDIR."""
    from typer.testing import CliRunner

    from slacalc.cli import app

    with sandbox.folders(case) as (out, tmp):
        argv = [_not_own_streams(a) for a in sandbox.resolve(case, out)]
        env = _resolved_env(case, tmp, sandbox, out)
        if debug:
            env["SLACALC_DEBUG"] = "1"
        before = _listing(out)
        started = time.perf_counter()
        error = None
        threads = set(threading.enumerate())
        cwd = os.getcwd()
        saved_tempdir = tempfile.tempdir
        try:
            with contextlib.ExitStack() as stack:
                _knobs(case, stack)
                os.chdir(out)  # a relative path can only land here
                tempfile.tempdir = env["TMPDIR"]
                with _alarm(timeout):
                    result = CliRunner().invoke(app, argv, input=case.stdin, env=env)
            code: int | None = result.exit_code
            stdout, stderr = result.stdout, result.stderr
            if result.exception is not None and not isinstance(result.exception, SystemExit):
                error = "".join(traceback.format_exception(*result.exc_info))  # type: ignore[misc]
            del result  # its traceback holds the command's frames (and what they hold) alive
        except Hang as exc:
            code, stdout, stderr, error = None, "", "", f"Hang: {exc}"
        finally:
            os.chdir(cwd)
            tempfile.tempdir = saved_tempdir
        outcome = Outcome(case, argv, code, stdout, stderr, time.perf_counter() - started, error)
        judge(outcome, before, _listing(out), out, tmp, sandbox)
        if running := _stop_threads(threads):
            outcome.problems.append(f"threads still running after the command: {running}")
    if debug and outcome.exit_code == 70:
        # the boundary's own report of a bug: its traceback is the point, not a problem
        outcome.problems = [p for p in outcome.problems if p != "a traceback was printed"]
    return outcome


def run_subprocess(case: Case, sandbox: Sandbox, *, timeout: int = TIMEOUT) -> Outcome:
    """Run ``case`` as ``python -m slacalc`` (the console script's code path): standard error
    on a pseudo-terminal when the case asks for a terminal, standard output and error
    redirected to regular files (``> out.txt 2> log.txt``) when it asks for that."""
    with sandbox.folders(case) as (out, tmp), contextlib.ExitStack() as stack:
        argv = sandbox.resolve(case, out)
        env = {n: v for n, v in os.environ.items() if not n.startswith("SLACALC_")}
        resolved = _resolved_env(case, tmp, sandbox, out)
        env.update({k: v for k, v in resolved.items() if v is not None})
        before = _listing(out)
        started = time.perf_counter()
        stdout_to: Any = subprocess.PIPE
        stderr_to: Any = subprocess.PIPE
        master, chunks, files = None, [], []
        stdin_from: Any = subprocess.PIPE if case.stdin is not None else subprocess.DEVNULL
        if "redirected" in case.knobs:
            logs = Path(tempfile.mkdtemp(prefix="logs-", dir=sandbox.work))
            stack.callback(shutil.rmtree, logs, True)
            (logs / "stdin").write_bytes(case.stdin or b"")
            stdin_from = stack.enter_context(open(logs / "stdin", "rb"))
            files = [stack.enter_context(open(logs / n, "w+b")) for n in ("stdout", "stderr")]
            stdout_to, stderr_to = files
        elif "terminal" in case.knobs:
            import pty

            master, slave = pty.openpty()
            stderr_to = slave
        error = None
        proc = subprocess.Popen(
            [sys.executable, "-m", "slacalc", *argv],
            stdin=stdin_from,
            stdout=stdout_to,
            stderr=stderr_to,
            cwd=out,
            env=env,
        )
        if master is not None:
            os.close(slave)
            reader = threading.Thread(target=_drain, args=(master, chunks), daemon=True)
            reader.start()
        try:
            given = case.stdin if stdin_from is subprocess.PIPE else None
            stdout_b, stderr_b = proc.communicate(given, timeout=timeout)
            code: int | None = proc.returncode
        except subprocess.TimeoutExpired:
            proc.kill()
            stdout_b, stderr_b = proc.communicate()
            code, error = None, f"Hang: no exit after {timeout} s"
        if master is not None:
            reader.join(5)
            stderr_b = b"".join(chunks)
        replaced = []
        if files:
            streams = [stdin_from, *files]
            names = ("standard input", "standard output", "standard error")
            for fh, name in zip(streams, names, strict=True):
                if os.fstat(fh.fileno()).st_nlink == 0:
                    replaced.append(name)
            fh_out, fh_err = files
            fh_out.seek(0)
            fh_err.seek(0)
            stdout_b, stderr_b = fh_out.read(), fh_err.read()
        outcome = Outcome(
            case,
            argv,
            code,
            (stdout_b or b"").decode("utf-8", "replace"),
            (stderr_b or b"").decode("utf-8", "replace"),
            time.perf_counter() - started,
            error,
        )
        judge(outcome, before, _listing(out), out, tmp, sandbox)
        for name in replaced:
            outcome.problems.append(f"the file its {name} was redirected to was replaced")
    return outcome


def _drain(fd: int, chunks: list[bytes]) -> None:
    while True:
        try:
            data = os.read(fd, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    os.close(fd)
