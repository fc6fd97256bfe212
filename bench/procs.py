"""Timing whole processes (wall time, own peak RSS) and printing the figures as grids."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent


@dataclass
class ProcessRun:
    wall_s: float
    maxrss_mb: float
    exit_code: int
    stderr_path: Path


@dataclass
class EngineStats:
    """Measurements of one engine (process or in-process) at one size."""

    wall_s: list[float] = field(default_factory=list)
    maxrss_mb: list[float] = field(default_factory=list)
    failed: str | None = None

    def median_wall(self) -> float | None:
        return statistics.median(self.wall_s) if self.wall_s and not self.failed else None

    def max_rss(self) -> float | None:
        return max(self.maxrss_mb) if self.maxrss_mb and not self.failed else None

    def to_json(self) -> dict[str, object]:
        return {
            "wall_s": self.wall_s,
            "median_wall_s": self.median_wall(),
            "max_rss_mb": self.max_rss(),
            "failed": self.failed,
        }


def run_process(
    cmd: Sequence[str], stdout_path: Path, stderr_path: Path, timeout_s: float
) -> ProcessRun:
    """Run ``cmd`` under spawn_probe.py: its wall time, its own peak RSS and exit code.

    The probe (a tiny interpreter) spawns the command and os.wait4()s that one child;
    see spawn_probe.py for why the benchmark must not spawn it directly.
    """
    result_path = stdout_path.with_suffix(".probe.json")
    result_path.unlink(missing_ok=True)
    probe = [sys.executable, "-I", "-S", str(BENCH_DIR / "spawn_probe.py")]
    with stdout_path.open("wb") as out, stderr_path.open("wb") as err:
        subprocess.run(
            [*probe, str(result_path), str(timeout_s), *cmd],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            check=False,
        )
    try:
        result = json.loads(result_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ProcessRun(0.0, 0.0, 255, stderr_path)
    return ProcessRun(
        result["wall_s"], result["maxrss_kib"] / 1024, result["exit_code"], stderr_path
    )


def tail(path: Path, lines: int = 5) -> str:
    """The last lines of a (stderr) file, for a failure message."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    except OSError:
        return ""
    return "\n".join(text[-lines:])


def time_process(
    name: str, cmd: list[str], out_dir: Path, stats: EngineStats, timeout_s: float
) -> None:
    """Run ``cmd`` once (stdout/stderr to ``out_dir/name.*``) and add its figures to ``stats``;
    a non-zero exit marks the engine failed."""
    run = run_process(cmd, out_dir / f"{name}.stdout", out_dir / f"{name}.stderr", timeout_s)
    if run.exit_code != 0:
        stats.failed = f"exit {run.exit_code}: {tail(run.stderr_path)}"
        return
    stats.wall_s.append(run.wall_s)
    stats.maxrss_mb.append(run.maxrss_mb)


def rotated(names: Sequence[str], rep: int) -> list[str]:
    """Round-robin order of repetition ``rep``: each name starts in turn, so over len(names)
    repetitions every engine runs once in every position (machine noise spreads evenly)."""
    shift = rep % len(names) if names else 0
    return [*names[shift:], *names[:shift]]


def fmt(value: float | None, spec: str = ".2f") -> str:
    return "-" if value is None else format(value, spec)


def ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None or b == 0 else a / b


def grid(header: list[str], body: list[list[str]]) -> str:
    """A plain-text table, right-aligned, with a rule under the header."""
    widths = [max(len(row[i]) for row in [header, *body]) for i in range(len(header))]
    lines = [
        "  ".join(cell.rjust(w) for cell, w in zip(row, widths, strict=True))
        for row in [header, *body]
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
