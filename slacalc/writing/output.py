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
import shutil
import stat
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, TextIO

from slacalc import speed
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
    which = 1 if output is None or output == STDOUT else standard_stream(output)
    if which == 0:
        raise UsageError(
            f"-o '{printable(str(output))}' is this run's standard input: refusing to overwrite it"
        )
    if which == 2:  # the file the shell sent stderr to: written into, never replaced
        buffer = io.StringIO()
        write(buffer)
        _to_stderr(buffer.getvalue())
        return
    if stream and which == 1:
        _to_stdout(write)
        return
    if which == 1:
        # Rendered whole first: a failure half-way prints nothing rather than half a CSV.
        buffer = io.StringIO()
        write(_TtyLike(buffer, sys.stdout))
        _emit(buffer.getvalue())
        return
    assert output is not None
    refuse_folder_name(output)
    info = _file_info(output)
    _refuse_folder(output, info)
    if info is not None and not stat.S_ISREG(info.st_mode):
        _write_device(output, write)  # a FIFO, /dev/null, a terminal: write into it
        return
    name = printable(output)
    _refuse_target(output, info, inputs)
    target = Path(os.path.realpath(output))
    folder = target.parent
    if not folder.is_dir():
        what = "is not a folder" if folder.exists() else "does not exist"
        raise UsageError(f"cannot write '{name}': folder '{printable(str(folder))}' {what}")
    tmp: str | None = None
    try:
        with _signals_deferred():  # an interrupt now would leave a file nobody knows about
            fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
        _fill(fd, write)
        os.chmod(tmp, _mode(info))
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


def write_outputs(
    folder: str,
    files: Iterable[tuple[str, Callable[[TextIO], None]]],
    *,
    inputs: Iterable[str] = (),
) -> list[Path]:
    """Files named ``files[i][0]``, written by ``files[i][1]``, into ``folder`` (made when
    missing): all of them or none. ``files`` may be made as they are asked for (a set too
    large to hold: each is written before the next is made).

    They are written into a temporary folder first (beside ``folder`` when it is missing,
    inside it when it exists), then put into place together: the temporary folder is renamed
    to ``folder``, or each file renamed over its name, the replaced ones kept until every
    rename succeeded (and put back if one fails). A failure or an interrupt on the way
    (writing, or making the next file) leaves ``folder`` as it was and no temporary folder.
    Each name is checked as ``-o`` would be (not a folder, not read-only, not an input of the
    run) before it is written.
    """
    path = Path(folder)
    inputs = list(inputs)
    exists = path.is_dir()
    parent = path if exists else Path(os.path.realpath(path)).parent
    staging: str | None = None
    names: list[str] = []
    try:
        with _signals_deferred():
            staging = tempfile.mkdtemp(prefix=f".{path.name or 'out'}.", suffix=".tmp", dir=parent)
        for name, write in files:
            target = path / name
            if exists:
                _refuse_target(str(target), _file_info(str(target)), inputs)
            try:
                fd = os.open(os.path.join(staging, name), os.O_WRONLY | os.O_CREAT | os.O_EXCL)
                _fill(fd, write)
            except OSError as exc:
                raise OutputError(
                    f"cannot write '{printable(str(target))}': {exc.strerror or exc}"
                ) from None
            names.append(name)
        with _signals_deferred():  # the files go into place together, or not at all
            if exists:
                _move_into(staging, path, names)
            else:
                _publish_folder(staging, path)
                staging = None
    except OSError as exc:
        if staging is None:  # the temporary folder could not even be created
            raise UsageError(
                f"cannot write into '{printable(folder)}': {exc.strerror or exc} "
                f"(in '{printable(str(parent))}')"
            ) from None
        raise OutputError(
            f"cannot write into '{printable(folder)}': {exc.strerror or exc}"
        ) from None
    finally:
        if staging is not None:
            with _signals_deferred():
                shutil.rmtree(staging, ignore_errors=True)
    return [path / name for name in names]


def _publish_folder(staging: str, path: Path) -> None:
    """The staging folder becomes ``path`` (which did not exist), with a new folder's mode."""
    os.chmod(staging, 0o777 & ~_umask())
    for name in os.listdir(staging):
        os.chmod(os.path.join(staging, name), 0o666 & ~_umask())
    os.rename(staging, path)


def _move_into(staging: str, path: Path, names: list[str]) -> None:
    """Each file of ``staging`` renamed over its name in ``path`` (keeping a replaced file's
    permissions); when a rename fails, the files already moved are taken back and the
    replaced ones restored. A symlink's target is replaced, as :func:`write_output` does."""
    done: list[tuple[str, str | None]] = []
    try:
        for i, name in enumerate(names):
            new, target = os.path.join(staging, name), os.path.realpath(path / name)
            info = _file_info(target)
            os.chmod(new, _mode(info))
            backup = None
            if info is not None:  # kept until every file is in place
                backup = os.path.join(staging, f".replaced.{i}")
                try:
                    os.link(target, backup)
                except OSError:  # a file system without hard links
                    os.rename(target, backup)
            os.replace(new, target)
            done.append((target, backup))
    except OSError:
        for target, backup in reversed(done):
            with contextlib.suppress(OSError):
                if backup is None:
                    os.unlink(target)
                else:
                    os.replace(backup, target)
        raise


def _file_info(output: str) -> os.stat_result | None:
    """What ``output`` names now (a symlink followed), None when nothing; a name that cannot
    even be looked at is a usage error."""
    try:
        return os.stat(output)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise UsageError(f"cannot write '{printable(output)}': {exc.strerror}") from None


def _refuse_target(output: str, info: os.stat_result | None, inputs: Iterable[str]) -> None:
    """A name ``-o`` must not write: a folder, an input of this run, a read-only file."""
    name = printable(output)
    _refuse_folder(output, info)
    if info is not None and not stat.S_ISREG(info.st_mode):
        raise UsageError(f"cannot write '{name}': it is not a regular file")
    _refuse_inputs(output, info, [*inputs, *inputs_read()])
    if info is not None and not os.access(output, os.W_OK):
        raise UsageError(f"cannot write '{name}': the file is read-only")


def _refuse_folder(output: str, info: os.stat_result | None) -> None:
    if info is not None and stat.S_ISDIR(info.st_mode):
        raise UsageError(f"cannot write '{printable(output)}': it is a folder")


def _fill(fd: int, write: Callable[[TextIO], None]) -> None:
    """``write`` on the new file ``fd`` (UTF-8, line ends as written), flushed to the disk
    and closed."""
    with io.TextIOWrapper(
        io.BufferedWriter(_WrittenBehind(fd, "w")), encoding="utf-8", newline=""
    ) as fh:
        write(fh)
        fh.flush()
        os.fsync(fh.fileno())


def _mode(info: os.stat_result | None) -> int:
    """The permissions of a file replacing ``info`` (kept), or of a new file."""
    return stat.S_IMODE(info.st_mode) if info is not None else 0o666 & ~_umask()


def refuse_folder_name(output: str) -> None:
    """An ``-o`` that cannot name a file: empty, or ending in ``/`` (a folder, or a slip of
    the hand: ``out.csv/`` would otherwise become a file ``out.csv``). A usage error (exit 2),
    whatever is there."""
    if not output.strip():
        raise UsageError("-o: the file name is empty")
    if output.endswith(("/", os.sep)):
        if os.path.isdir(output):
            raise UsageError(f"cannot write '{printable(output)}': it is a folder")
        raise UsageError(
            f"cannot write '{printable(output)}': a name ending in '/' is a folder, and -o "
            f"takes a file name (did you mean '{printable(output.rstrip('/' + os.sep))}'?)"
        )


class _WrittenBehind(io.FileIO):
    """A file whose pages go to the disk as it is written, not all at the final fsync
    (:func:`slacalc.speed.written_behind` every ``WRITE_BEHIND_BYTES``)."""

    def __init__(self, fd: int, mode: str) -> None:
        super().__init__(fd, mode)
        self._unadvised = 0

    def write(self, data: Any) -> int:
        n = super().write(data)
        self._unadvised += n or 0
        if self._unadvised >= speed.WRITE_BEHIND_BYTES:
            self._unadvised = 0
            speed.written_behind(self.fileno())
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
    write(buffer)  # as for a pipe: no colours, so it can be escaped whole for a terminal
    try:
        with open(output, "w", encoding="utf-8", newline="") as fh:
            _TtyLike(fh, fh).write(buffer.getvalue())
    except BrokenPipeError:
        raise
    except OSError as exc:
        if exc.errno == errno.EPIPE:
            raise BrokenPipeError from None
        raise OutputError(f"cannot write '{printable(output)}': {exc.strerror or exc}") from None


def standard_stream(output: str) -> int | None:
    """The standard stream ``-o output`` names, if any: 1 for standard output's names
    (``/dev/stdout``, ``/dev/fd/1``, ``/proc/self/fd/1``), and 0, 1 or 2 when ``output`` is the
    very regular file behind that descriptor (``-o /dev/stderr 2>>log``, ``-o in.txt <
    in.txt``): replacing that file would lose what the shell redirected there, or the input."""
    if output in _STDOUT_NAMES:
        return 1
    try:
        info = os.stat(output)
    except (OSError, ValueError):
        return None
    if not stat.S_ISREG(info.st_mode):
        return None  # a terminal, a pipe, /dev/null: written into as they are
    for fd in (1, 2, 0):
        try:
            behind = os.fstat(fd)
        except OSError:
            continue
        if (behind.st_dev, behind.st_ino) == (info.st_dev, info.st_ino):
            return fd
    return None


def _to_stderr(text: str) -> None:
    """``text`` into standard error's file, at its position; a closed or full one is an
    OutputError."""
    try:
        sys.stderr.write(text)
        sys.stderr.flush()
    except (AttributeError, OSError, ValueError) as exc:
        why = getattr(exc, "strerror", None) or "it is closed"
        raise OutputError(f"cannot write to standard error: {why}") from None


def _emit(text: str) -> None:
    """Write ``text`` (escaped for a terminal already) to standard output; a closed or full
    stdout is an OutputError, not a traceback."""
    _to_stdout(lambda out: out.raw.write(text))


def _to_stdout(write: Callable[[TextIO], object]) -> None:
    """``write`` on standard output, then flush; a closed or full stdout is an OutputError."""
    out = sys.stdout
    if out is None:  # started with stdout closed (`slacalc ... >&-`)
        raise OutputError("cannot write to standard output: it is closed")
    try:
        write(_TtyLike(out, out))  # escaped on a terminal
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
    """A text stream (a buffer, or standard output itself) that answers ``isatty`` (and the
    width) like the stream it goes to.

    When that is a terminal, what is written has its control characters escaped
    (:func:`~slacalc.errors.printable`, line feeds kept): data in a CSV, a JSON document or a
    page never drives the terminal. Text made for the terminal, whose data is escaped already
    and whose colours are escape sequences of its own (the tables), is written to ``raw``.
    """

    def __init__(self, target: TextIO, like: TextIO | None, *, escape: bool | None = None) -> None:
        self._target = target
        self._like = like
        self._escape = self.isatty() if escape is None else escape

    def write(self, text: str) -> int:
        self._target.write(printable(text, lines=True) if self._escape else text)
        return len(text)

    @property
    def raw(self) -> _TtyLike:
        """The same stream, written as it is."""
        return _TtyLike(self._target, self._like, escape=False)

    def isatty(self) -> bool:
        try:
            return self._like is not None and self._like.isatty()
        except (ValueError, AttributeError):
            return False

    def fileno(self) -> int:
        if self._like is None:
            raise io.UnsupportedOperation("fileno")
        return self._like.fileno()

    def flush(self) -> None:
        self._target.flush()

    def close(self) -> None:
        """Leaves the target open and unflushed: it is its owner's, who flushes it and sees
        its errors. (``IOBase.__del__`` closes a wrapper that goes away, and a flush there
        would swallow a full disk's error.)"""


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
