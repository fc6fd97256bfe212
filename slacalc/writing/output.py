"""Output files that appear whole or not at all, and never clobber what they should not.

``-o FILE`` is written to a temporary file beside its destination and renamed into place only
once the output is complete: a failed or interrupted run (an error, Ctrl-C, SIGTERM) leaves
neither a partial file nor a temporary one. A symlink is followed to its target; an existing
file keeps its permissions, and a read-only one is refused; a FIFO or a character device
(``/dev/null``, a terminal) is written into, never replaced; ``/dev/stdout`` is standard output;
a file the same run reads (an incident log, the contracts, a policy or holidays file) is never
overwritten. Every write error is a one-line :class:`OutputError` (exit 1), every refusal a
:class:`UsageError` (exit 2).
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import stat
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, TextIO

from slacalc.errors import SlacalcError, UsageError, printable
from slacalc.reading.files import inputs_read

STDOUT = "-"
# Names of standard output itself: written like '-', never replaced by a regular file.
_STDOUT_NAMES = frozenset({"/dev/stdout", "/dev/fd/1", "/proc/self/fd/1"})


class OutputError(SlacalcError):
    """The output could not be written (disk full, closed pipe, device error): exit 1."""


def write_output(
    output: str | None,
    write: Callable[[TextIO], None],
    *,
    inputs: Iterable[str] = (),
    stream: bool = False,
) -> None:
    """Run ``write`` on stdout, or on ``output`` atomically (see the module's notes).

    ``inputs`` are files this run reads; the files read through :mod:`slacalc.reading` while
    :func:`slacalc.reading.files.tracking_inputs` is active count too. ``stream`` writes to
    stdout and devices as the text comes, not rendered whole first: for an output larger than
    memory, whose values are all computed already.
    """
    if stream and (output is None or output == STDOUT or output in _STDOUT_NAMES):
        _to_stdout(write)
        return
    if output is None or output == STDOUT or output in _STDOUT_NAMES:
        # Rendered whole first: a failure half-way prints nothing rather than half a CSV.
        buffer = io.StringIO()
        write(_TtyLike(buffer, sys.stdout))
        _emit(buffer.getvalue())
        return
    if not output.strip():
        raise UsageError("-o: the file name is empty")
    name = printable(output)
    try:
        info = os.stat(output)  # a symlink is followed to its target
    except FileNotFoundError:
        info = None
    except OSError as exc:
        raise UsageError(f"cannot write '{name}': {exc.strerror}") from None
    if info is not None and stat.S_ISDIR(info.st_mode):
        raise UsageError(f"cannot write '{name}': it is a folder")
    if info is not None and not stat.S_ISREG(info.st_mode):
        _write_device(output, write)  # a FIFO, /dev/null, a terminal: write into it
        return
    _refuse_inputs(output, info, [*inputs, *inputs_read()])
    if info is not None and not os.access(output, os.W_OK):
        raise UsageError(f"cannot write '{name}': the file is read-only")
    target = Path(os.path.realpath(output))
    folder = target.parent
    if not folder.is_dir():
        what = "is not a folder" if folder.exists() else "does not exist"
        raise UsageError(f"cannot write '{name}': folder '{printable(str(folder))}' {what}")
    tmp: str | None = None
    try:
        with _signals_deferred():  # an interrupt now would leave a file nobody knows about
            fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
        with io.TextIOWrapper(
            io.BufferedWriter(_WrittenBehind(fd, "w")), encoding="utf-8", newline=""
        ) as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        mode = stat.S_IMODE(info.st_mode) if info is not None else 0o666 & ~_umask()
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except OSError as exc:
        _remove(tmp)
        if tmp is None:  # the temporary file could not even be created: a folder problem
            raise UsageError(
                f"cannot write '{name}': {exc.strerror or exc} (in '{printable(str(folder))}')"
            ) from None
        raise OutputError(f"cannot write '{name}': {exc.strerror or exc}") from None
    except BaseException:
        _remove(tmp)
        raise


class _WrittenBehind(io.FileIO):
    """A file whose pages go to the disk as it is written, not all at the final fsync: every
    16 MB the kernel is told the pages written so far are not needed in memory, so it starts
    writing them back and reuses them. A 1 GB report spent 2-4 s of system time filling the
    page cache, then 0.5 s in fsync; written behind, both nearly vanish."""

    _STEP = 16 << 20

    def __init__(self, fd: int, mode: str) -> None:
        super().__init__(fd, mode)
        self._unadvised = 0

    def write(self, data: Any) -> int:
        n = super().write(data)
        self._unadvised += n or 0
        if self._unadvised >= self._STEP and hasattr(os, "posix_fadvise"):
            self._unadvised = 0
            with contextlib.suppress(OSError):  # advice only: a file system may not take it
                os.posix_fadvise(self.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)
        return n


def _refuse_inputs(output: str, info: os.stat_result | None, inputs: Iterable[str]) -> None:
    """A regular file that is also an input of this run (by name, symlink or hard link)."""
    if info is None:
        return
    for path in inputs:
        if not path or path == STDOUT:
            continue
        try:
            other = os.stat(path)
        except (OSError, ValueError):
            continue
        if (other.st_dev, other.st_ino) == (info.st_dev, info.st_ino):
            raise UsageError(
                f"-o '{printable(output)}' is the input file '{printable(path)}': refusing to "
                "overwrite what is being read; write to another file"
            )


def _write_device(output: str, write: Callable[[TextIO], None]) -> None:
    """Into a FIFO or a device, as the shell's ``>`` would: the rendering first, then one
    write (a reader of a FIFO never sees half an output because of an error of ours)."""
    buffer = io.StringIO()
    write(buffer)
    try:
        with open(output, "w", encoding="utf-8", newline="") as fh:
            fh.write(buffer.getvalue())
    except BrokenPipeError:
        raise
    except OSError as exc:
        if exc.errno == errno.EPIPE:
            raise BrokenPipeError from None
        raise OutputError(f"cannot write '{printable(output)}': {exc.strerror or exc}") from None


def _emit(text: str) -> None:
    """Write to standard output; a closed or full stdout is an OutputError, not a traceback."""
    _to_stdout(lambda out: out.write(text))


def _to_stdout(write: Callable[[TextIO], object]) -> None:
    """``write`` on standard output, then flush; a closed or full stdout is an OutputError."""
    out = sys.stdout
    if out is None:  # started with stdout closed (`slacalc ... >&-`)
        raise OutputError("cannot write to standard output: it is closed")
    try:
        write(out)
        out.flush()
    except BrokenPipeError:
        raise
    except OSError as exc:
        if exc.errno == errno.EPIPE:
            raise BrokenPipeError from None
        raise OutputError(f"cannot write to standard output: {exc.strerror or exc}") from None
    except ValueError:  # stdout closed
        raise OutputError("cannot write to standard output: it is closed") from None


def _remove(path: str | None) -> None:
    if path is None:
        return
    with _signals_deferred(), contextlib.suppress(FileNotFoundError):
        os.unlink(path)


# Interrupts (SIGINT, and SIGTERM in the CLI) are held back while a temporary file is being
# created or removed: a KeyboardInterrupt there would leave a file nobody knows about. Python
# runs signal handlers in the main thread whichever thread the signal hit, so a flag the
# handler reads is enough (blocking the signal in one thread is not: pyarrow's threads would
# still take it).
_held = 0
_pending = False


def interrupt(signum: int, frame: object) -> None:
    """The CLI's handler for SIGINT and SIGTERM: KeyboardInterrupt, held back while
    :func:`write_output` creates or removes its temporary file."""
    global _pending
    if _held:
        _pending = True
        return
    raise KeyboardInterrupt


@contextlib.contextmanager
def _signals_deferred() -> Iterator[None]:
    """Hold interrupts back for the block; one that came meanwhile is raised at its end."""
    global _held, _pending
    _held += 1
    try:
        yield
    finally:
        _held -= 1
        if not _held and _pending:
            _pending = False
            raise KeyboardInterrupt


class _TtyLike(io.TextIOBase):
    """A text buffer that answers ``isatty`` (and the width) like the stream it will be copied
    to."""

    def __init__(self, buffer: io.StringIO, like: TextIO | None) -> None:
        self._buffer = buffer
        self._like = like

    def write(self, text: str) -> int:
        return self._buffer.write(text)

    def isatty(self) -> bool:
        try:
            return self._like is not None and self._like.isatty()
        except (ValueError, AttributeError):
            return False

    def fileno(self) -> int:
        if self._like is None:
            raise io.UnsupportedOperation("fileno")
        return self._like.fileno()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
