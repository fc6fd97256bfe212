"""Output files that appear whole or not at all, and never clobber what they should not.

``-o FILE`` is written to a temporary file beside its destination and renamed into place only
once the output is complete: a failed or interrupted run leaves neither a partial file nor a
temporary one. A symlink is followed to its target; an existing file keeps its permissions; a
FIFO or a character device (``/dev/stdout``) is written into, never replaced; an input of the same
run is never overwritten.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import stat
import sys
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TextIO

from slacalc.errors import SlacalcError, UsageError

STDOUT = "-"


class OutputError(SlacalcError):
    """The output could not be written (disk full, closed pipe, device error): exit 1."""


def write_output(
    output: str | None, write: Callable[[TextIO], None], *, inputs: Iterable[str] = ()
) -> None:
    """Run ``write`` on stdout, or on ``output`` atomically (see the module's notes)."""
    if output is None or output == STDOUT:
        # Rendered whole first: a failure half-way prints nothing rather than half a CSV.
        buffer = io.StringIO()
        write(_TtyLike(buffer, sys.stdout))
        _emit(buffer.getvalue())
        return
    target = Path(os.path.realpath(output))  # a symlink is followed to its target
    _refuse_inputs(output, target, inputs)
    try:
        info = os.stat(target)
    except FileNotFoundError:
        info = None
    except OSError as exc:
        raise UsageError(f"cannot write '{output}': {exc.strerror}") from None
    if info is not None and stat.S_ISDIR(info.st_mode):
        raise UsageError(f"cannot write '{output}': it is a directory")
    if info is not None and not stat.S_ISREG(info.st_mode):
        _write_device(output, target, write)  # a FIFO, /dev/stdout, /dev/null: write into it
        return
    folder = target.parent
    if not folder.is_dir():
        raise UsageError(f"cannot write '{output}': folder '{folder}' does not exist")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise UsageError(f"cannot write '{output}': {exc.strerror} (in '{folder}')") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            write(fh)
        mode = stat.S_IMODE(info.st_mode) if info is not None else 0o666 & ~_umask()
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except OSError as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise OutputError(f"cannot write '{output}': {exc.strerror or exc}") from None
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _refuse_inputs(output: str, target: Path, inputs: Iterable[str]) -> None:
    for path in inputs:
        if path == STDOUT or not os.path.exists(path):
            continue
        with contextlib.suppress(OSError):
            if os.path.samefile(path, target):
                raise UsageError(
                    f"-o '{output}' is the input file '{path}': refusing to "
                    "overwrite what is being read"
                )


def _write_device(output: str, target: Path, write: Callable[[TextIO], None]) -> None:
    buffer = io.StringIO()
    write(buffer)
    try:
        with open(target, "w", encoding="utf-8", newline="") as fh:
            fh.write(buffer.getvalue())
    except OSError as exc:
        raise OutputError(f"cannot write '{output}': {exc.strerror or exc}") from None


def _emit(text: str) -> None:
    """Write to standard output; a closed or full stdout is an OutputError, not a traceback."""
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        raise
    except OSError as exc:
        if exc.errno == errno.EPIPE:
            raise BrokenPipeError from None
        raise OutputError(f"cannot write to standard output: {exc.strerror or exc}") from None
    except ValueError:  # stdout closed
        raise OutputError("cannot write to standard output: it is closed") from None


class _TtyLike(io.TextIOBase):
    """A text buffer that answers ``isatty`` (and the width) like the stream it will be copied
    to."""

    def __init__(self, buffer: io.StringIO, like: TextIO) -> None:
        self._buffer = buffer
        self._like = like

    def write(self, text: str) -> int:
        return self._buffer.write(text)

    def isatty(self) -> bool:
        try:
            return hasattr(self._like, "isatty") and self._like.isatty()
        except ValueError:
            return False

    def fileno(self) -> int:
        return self._like.fileno()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
