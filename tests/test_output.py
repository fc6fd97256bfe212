"""write_output: whole or nothing, never over an input, into devices, interrupts held back."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest

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
    monkeypatch.setattr(output._WrittenBehind, "_STEP", 1)
    monkeypatch.setattr(
        output.os, "posix_fadvise", lambda fd, *a: advised.append(fd) or real(fd, *a)
    )
    lines = [f"row {i}," * 50 + "\n" for i in range(2000)]
    target = tmp_path / "big.csv"

    def write(out) -> None:
        for line in lines:
            out.write(line)

    write_output(str(target), write)
    assert target.read_text(encoding="utf-8") == "".join(lines)
    assert advised  # the buffer's writes reached the file, each followed by the advice
