"""write_output: whole or nothing, never over an input, into devices, interrupts held back."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest
from mixins import assert_clean_failure, run

from slacalc.errors import UsageError
from slacalc.reading.files import note_input, read_bytes, tracking_inputs
from slacalc.writing import output
from slacalc.writing.output import OutputError, write_output


def text(out) -> None:
    out.write("a,b\n1,2\n")


def test_atomic_file_with_the_umask_mode(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    write_output(str(target), text)
    assert target.read_text() == "a,b\n1,2\n"
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~mask
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


def test_an_error_while_rendering_leaves_nothing(tmp_path: Path) -> None:
    def broken(out) -> None:
        out.write("half")
        raise RuntimeError("bug")

    target = tmp_path / "out.csv"
    with pytest.raises(RuntimeError):
        write_output(str(target), broken)
    assert list(tmp_path.iterdir()) == []


def test_inputs_read_by_the_command_are_never_overwritten(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text("start\n")
    with tracking_inputs():
        read_bytes(str(source))
        with pytest.raises(UsageError, match="refusing to overwrite"):
            write_output(str(source), text)
    with tracking_inputs():
        note_input(str(source))
        with pytest.raises(UsageError, match="refusing to overwrite"):
            write_output(str(source), text)
    write_output(str(source), text)  # outside a command nothing was read: allowed
    assert source.read_text() == "a,b\n1,2\n"


def test_stdout_names_and_a_closed_stdout(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    write_output("/dev/stdout", text)
    assert capsys.readouterr().out == "a,b\n1,2\n"
    monkeypatch.setattr(sys, "stdout", None)
    with pytest.raises(OutputError, match="it is closed"):
        write_output(None, text)


def test_devices_are_written_into(tmp_path: Path) -> None:
    write_output("/dev/null", text)
    assert Path("/dev/null").is_char_device()
    with pytest.raises(OutputError, match="No space left"):
        write_output("/dev/full", text)


@pytest.mark.parametrize("name", ["", "  "])
def test_an_empty_name_is_a_usage_error(name: str) -> None:
    with pytest.raises(UsageError, match="empty"):
        write_output(name, text)


def test_an_interrupt_is_held_back_while_the_temporary_file_is_made(tmp_path: Path) -> None:
    """A signal arriving inside the critical moment is raised right after it, inside the
    cleanup's reach: here, the interrupt comes while mkstemp runs."""
    import tempfile

    real = tempfile.mkstemp

    def interrupted_mkstemp(*args, **kwargs):
        made = real(*args, **kwargs)
        output.interrupt(15, None)  # the handler, as the signal would call it
        return made

    tempfile.mkstemp = interrupted_mkstemp
    try:
        with pytest.raises(KeyboardInterrupt):
            write_output(str(tmp_path / "out.csv"), text)
    finally:
        tempfile.mkstemp = real
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(KeyboardInterrupt):  # outside: at once
        output.interrupt(15, None)


def test_a_large_output_is_written_behind_and_whole(tmp_path: Path, monkeypatch) -> None:
    """Pages of a large output are handed to the kernel as they are written (here every byte);
    the file still holds every byte, in order."""
    advised: list[int] = []
    real = os.posix_fadvise
    from slacalc import speed

    monkeypatch.setattr(speed, "WRITE_BEHIND_BYTES", 1)
    monkeypatch.setattr(
        speed.os, "posix_fadvise", lambda fd, *a: advised.append(fd) or real(fd, *a)
    )
    lines = [f"row {i}," * 50 + "\n" for i in range(2000)]
    target = tmp_path / "big.csv"

    def write(out) -> None:
        for line in lines:
            out.write(line)

    write_output(str(target), write)
    assert target.read_text(encoding="utf-8") == "".join(lines)
    assert advised  # the buffer's writes reached the file, each followed by the advice


# --- -o NAME/ : a folder's name, or a slip of the hand ------------------------------------


@pytest.mark.parametrize("there", ["folder", "nothing", "file"])
def test_a_name_ending_in_a_slash_is_refused(tmp_path: Path, there: str) -> None:
    """`-o out.csv/` once wrote a file named out.csv when nothing was there."""
    name = tmp_path / "out.csv"
    if there == "folder":
        name.mkdir()
    elif there == "file":
        name.write_text("kept\n")
    with pytest.raises(UsageError) as caught:
        write_output(f"{name}/", text)
    if there == "folder":
        assert str(caught.value) == f"cannot write '{name}/': it is a folder"
        assert list(name.iterdir()) == []
    else:
        assert str(caught.value) == (
            f"cannot write '{name}/': a name ending in '/' is a folder, and -o takes a file "
            f"name (did you mean '{name}'?)"
        )
    assert [p.name for p in tmp_path.iterdir()] == ([] if there == "nothing" else ["out.csv"])
    if there == "file":
        assert name.read_text() == "kept\n"


@pytest.mark.parametrize("there", ["folder", "nothing", "file"])
def test_every_command_refuses_a_trailing_slash_with_exit_2(tmp_path: Path, there: str) -> None:
    name = tmp_path / "report.csv"
    if there == "folder":
        name.mkdir()
    elif there == "file":
        name.write_text("kept\n")
    for args in (["tiers", "-f", "csv"], ["budget", "--month", "2025-06"]):
        result = run([*args, "-o", f"{name}/"])
        (line,) = assert_clean_failure(result, 2)
        assert line.startswith(f"Error: cannot write '{name}/': ")
    assert [p.name for p in tmp_path.iterdir()] == ([] if there == "nothing" else ["report.csv"])


# --- text on a terminal ---------------------------------------------------------------------


class _Terminal:
    """A stand-in for standard output on a terminal: what is written is kept."""

    def __init__(self) -> None:
        self.written: list[str] = []

    def write(self, text: str) -> int:
        self.written.append(text)
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return True

    def fileno(self) -> int:
        return 1


def test_data_written_to_a_terminal_has_its_control_characters_escaped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A CSV (or JSON, or a page) on a terminal: no byte of the data can drive it; line feeds
    stay line feeds. Piped, the same text is written as it is."""
    hostile = "id,name\n1,\x1b]0;pwned\x07\u202eevil\x9b31m\n"
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stdout", terminal)
    write_output(None, lambda out: out.write(hostile))
    assert "".join(terminal.written) == "id,name\n1,\\x1b]0;pwned\\x07\\u202eevil\\x9b31m\n"
    terminal.written.clear()
    write_output(None, lambda out: out.write(hostile), stream=True)
    assert "".join(terminal.written) == "id,name\n1,\\x1b]0;pwned\\x07\\u202eevil\\x9b31m\n"


def test_tables_keep_their_colours_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tables escape their data themselves and write their colours to ``out.raw``."""
    from slacalc.writing.tables import Column, Grid, print_tables

    terminal = _Terminal()
    monkeypatch.setattr(sys, "stdout", terminal)
    grid = Grid("T \x1b[2J", [Column("h\x07")])
    grid.add("\x1b]0;x\x07", style="bold red")
    write_output(None, lambda out: print_tables([grid], out))
    shown = "".join(terminal.written)
    assert "\x1b[1;31m" in shown or "\x1b[31;1m" in shown  # rich's own colours
    assert "\\x1b]0;x\\x07" in shown and "T \\x1b[2J" in shown and "h\\x07" in shown
    assert "\x07" not in shown and "\x1b]" not in shown and "\x1b[2J" not in shown
