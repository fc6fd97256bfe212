"""Run one command; record its wall time, peak RSS and exit code as JSON.

    python -I -S bench/spawn_probe.py RESULT.json TIMEOUT_S CMD [ARG...]

Used by run_bench.py for every whole-process measurement.  Why a separate,
tiny process: on Linux a child's ru_maxrss is at least the peak RSS of the
process that spawned it (the old address space's high-water mark is carried
across exec), so spawning slacalc directly from the benchmark -- which holds
pandas frames -- would report the benchmark's own size.  Spawned from this
interpreter (stdlib only, ~10 MB) the figure is the command's real peak, with
a floor of about this probe's size.  os.wait4 on the one child gives that
child's own rusage (not a max over all children, unlike RUSAGE_CHILDREN).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import time
from types import FrameType


def run(cmd: list[str], timeout_s: float) -> dict[str, float | int]:
    start = time.perf_counter()
    try:
        pid = os.posix_spawnp(cmd[0], cmd, os.environ)
    except OSError as exc:
        print(f"spawn_probe: cannot run {cmd[0]!r}: {exc}", file=sys.stderr)
        return {"wall_s": 0.0, "maxrss_kib": 0, "exit_code": 127}

    def kill(_signum: int, _frame: FrameType | None) -> None:
        print(f"spawn_probe: timeout after {timeout_s} s, killing", file=sys.stderr)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)

    signal.signal(signal.SIGALRM, kill)
    signal.setitimer(signal.ITIMER_REAL, timeout_s)
    _, status, usage = os.wait4(pid, 0)
    signal.setitimer(signal.ITIMER_REAL, 0)
    wall = time.perf_counter() - start
    # ru_maxrss is in KiB on Linux
    return {
        "wall_s": wall,
        "maxrss_kib": usage.ru_maxrss,
        "exit_code": os.waitstatus_to_exitcode(status),
    }


def main(argv: list[str]) -> int:
    if len(argv) < 4:
        print(__doc__, file=sys.stderr)
        return 2
    result = run(argv[3:], float(argv[2]))
    with open(argv[1], "w", encoding="utf-8") as fh:
        json.dump(result, fh)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
