"""The command-line shell: thin commands over the core, one error boundary, one renderer."""

from __future__ import annotations

import contextlib
import importlib
import os
import signal
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import typer


def _leave_now(signum: int, frame: object) -> None:
    """Ctrl-C or SIGTERM while the program is still loading: nothing is written yet, so leave
    at once with 130, quietly (no traceback of the import that was under way)."""
    with contextlib.suppress(OSError):
        os.write(2, b"interrupted\n")
    os._exit(130)


def _hold_standard_descriptors() -> None:
    """Put ``/dev/null`` on a standard descriptor (0, 1, 2) the program was started without
    (``<&-``, ``>&-``, ``2>&-``), so that no file opened later takes its number: a temporary
    output file on descriptor 2 would get the messages of a child process (Chromium) mixed
    in. ``sys.stdin``, ``sys.stdout`` and ``sys.stderr`` stay None, which the readers and
    writers report as a closed stream."""
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            null = os.open(os.devnull, os.O_RDWR)
            if null != fd:
                os.dup2(null, fd)
                os.close(null)


# slacalc.speed.TRICKS["blas"]: slacalc does no linear algebra, and OpenBLAS's idle threads spin
# after numpy's import (0.06 s of CPU, 0.08 s of a 200k-row report). It must be set before
# anything imports numpy, so here, first, for the console script only (a library caller's
# process is its own).
if "blas" not in os.environ.get("SLACALC_SPEED_OFF", "").replace(" ", "").split(","):
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

_hold_standard_descriptors()

# The module of each command, in the order of --help. A command line that names one of them
# loads only its module (the others' options are never built: 0.03 s of every run); anything
# else (no command, --help, --version, a typo, shell completion) loads them all.
COMMANDS = {
    "report": "report",
    "compare": "report",
    "explain": "explain",
    "validate": "validate",
    "disputes": "disputes",
    "deadline": "disputes",
    "budget": "tools",
    "tiers": "tools",
    "policies": "tools",
    "statement": "statement",
    "import": "importing",
    "ledger": "ledger",
}


def load(command: str | None = None) -> typer.Typer:
    """The command-line app with ``command``'s module loaded (None: every command's, in the
    order of --help)."""
    from slacalc.cli.common import app

    modules = [COMMANDS[command]] if command in COMMANDS else dict.fromkeys(COMMANDS.values())
    for module in modules:
        importlib.import_module(f"slacalc.cli.{module}")  # importing it registers its commands
    return app


def __getattr__(name: str) -> Any:
    if name == "app":  # `from slacalc.cli import app`: every command
        return load()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["app", "main"]


def _command(argv: list[str]) -> str | None:
    """The command a command line names, when only its module is needed to run it."""
    if not argv or "_SLACALC_COMPLETE" in os.environ:
        return None
    return argv[0] if argv[0] in COMMANDS else None


def _engine(argv: list[str]) -> str | None:
    """The ``--engine`` of a command line, if it names one."""
    engine = [a.split("=", 1)[1] for a in argv if a.startswith("--engine=")]
    engine += [argv[i + 1] for i, a in enumerate(argv[:-1]) if a == "--engine"]
    return engine[-1] if engine else None


def main() -> None:
    """Console-script entry point: :func:`run`, then leave at once (see :func:`_leave`)."""
    code = run()
    if _engine(sys.argv[1:]) == "spark":
        sys.exit(code)  # pyspark's exit handlers stop its JVM
    _leave(code)


def run() -> int | str | None:
    """Run the command line of ``sys.argv``; the exit status, as ``SystemExit.code`` has it."""
    # While the command's modules load, an interrupt leaves at once, as during the import.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _leave_now)
    from slacalc import speed

    speed.lean_compute_import()
    app = load(_command(sys.argv[1:]))
    # SIGTERM is handled like Ctrl-C: the output being written is removed, exit 130. Both
    # wait while a temporary output file is being created or removed.
    from slacalc.writing.output import interrupt

    signal.signal(signal.SIGINT, interrupt)
    signal.signal(signal.SIGTERM, interrupt)
    speed.tune_process()
    speed.hide_pandas(wanted=_engine(sys.argv[1:]) == "spark")
    # SIGPIPE stays ignored, as Python sets it: a reader that goes away (`slacalc ... | head`)
    # is a BrokenPipeError, which ends the run quietly with exit 0 (see common.boundary).
    before = _stdout_file()
    from slacalc.cli.common import forget_interrupted

    forget_interrupted()
    try:
        app()
    except SystemExit as exc:
        if exc.code == 1 and before != _stdout_file() == _stdout_file(os.devnull):
            # rich and typer, their reader gone (`slacalc --help | head`), put /dev/null on
            # standard output and exit 1: it is not an error of ours
            return 0
        if exc.code == 130:  # typer turns an interrupt while it parses into a silent 130
            from slacalc.cli.common import say_interrupted

            say_interrupted(unless_said=True)
        return exc.code
    except KeyboardInterrupt:  # before or after a command's own boundary
        from slacalc.cli.common import say_interrupted

        say_interrupted(unless_said=True)
        return 130
    except BrokenPipeError:  # --help into `| head`
        from slacalc.cli.common import quiet_stdout

        quiet_stdout()
        return 0
    return 0


def _stdout_file(path: str | None = None) -> tuple[int, int] | None:
    """Which file standard output (or ``path``) is: device and inode."""
    try:
        info = os.stat(path) if path else os.fstat(1)
    except OSError:
        return None
    return info.st_dev, info.st_ino


def _leave(code: int | str | None) -> None:
    """Exit with ``code`` at once, the output flushed (:func:`slacalc.speed.leave`); a code
    that is text (typer's usage errors) is printed, with 1."""
    from slacalc import speed

    if code is not None and not isinstance(code, int):
        with contextlib.suppress(AttributeError, OSError, ValueError):
            print(code, file=sys.stderr or open(os.devnull, "w"))  # noqa: SIM115
        code = 1
    speed.leave(code or 0)
