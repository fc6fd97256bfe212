"""Fuzz every command for long and group the failures by likely cause.

    .venv/bin/python tests/fuzz_argv/collect.py --examples 3000 [--commands report import]
        [--report failures.md] [--subprocess 200]

Each failure is keyed by a signature (the command, the kind of problem and, for an internal
error, the exception type and the last frame in slacalc), and the shortest case seen for each
signature is kept, with the last lines of its traceback (runs are made with SLACALC_DEBUG=1).
Unlike the test, a failure does not stop the run.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mixins import commands

from fuzz_argv.cases import Case, cases
from fuzz_argv.harness import Outcome, Sandbox, run_in_process, run_subprocess

_FRAME = re.compile(r'File "([^"]*slacalc/[^"]+)", line \d+, in (\S+)')
_EXC = re.compile(r"^(\w+(?:\.\w+)*(?:Error|Exception|Exit|Hang|Interrupt|Warning)\w*)\b:?(.*)$")


def _last_frame(text: str) -> str:
    frames = [f"{m.group(1).split('slacalc/', 1)[-1]}:{m.group(2)}" for m in _FRAME.finditer(text)]
    return frames[-1] if frames else "?"


def _exception(text: str) -> str:
    for line in reversed(text.strip().splitlines()):
        m = _EXC.match(line.strip())
        if m:
            return m.group(1)
    return "?"


def signature(o: Outcome) -> list[str]:
    """One key per problem of the outcome."""
    keys = []
    for p in o.problems:
        kind = re.sub(r"\[.*|\d+|'[^']*'", "", p).strip(" :")
        if p.startswith(("exit code 70", "an exception escaped", "a traceback")):
            text = (o.error or "") + o.stderr
            kind = f"{kind}: {_exception(text)} at {_last_frame(text)}"
        keys.append(f"{o.case.command} | {kind}")
    return keys


def _size(case: Case) -> int:
    return len(case.argv) * 40 + sum(len(a) for a in case.argv) + len(case.env) * 40


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=1000, help="per command")
    parser.add_argument("--commands", nargs="*", default=None)
    parser.add_argument("--subprocess", type=int, default=0, help="real-process cases in all")
    parser.add_argument("--report", default="fuzz-argv-failures.md")
    args = parser.parse_args()

    known = commands()
    names = args.commands or list(known)
    sandbox = Sandbox(Path(tempfile.mkdtemp(prefix="fuzz-argv-")))
    found: dict[str, tuple[Outcome, int]] = {}
    counts: dict[str, dict[object, int]] = {}

    def record(o: Outcome) -> None:
        stats = counts.setdefault(o.case.command, {})
        stats[o.exit_code] = stats.get(o.exit_code, 0) + 1
        for key in signature(o):
            best, n = found.get(key, (o, 0))
            if _size(o.case) < _size(best.case):
                best = o
            if n == 0:
                print(f"NEW {key}\n  {o.case.shell()[:300]}", flush=True)
            found[key] = (best, n + 1)

    fuzz = settings(
        max_examples=args.examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    for name in names:
        started = time.time()

        @fuzz
        @given(case=cases(name, known[name]))
        def run(case: Case) -> None:
            record(run_in_process(case, sandbox, debug=True))

        run()
        print(f"== {name}: {counts.get(name)} in {time.time() - started:.0f}s", flush=True)

    if args.subprocess:

        @settings(
            max_examples=args.subprocess,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(data=st.data())
        def real(data: st.DataObject) -> None:
            name = data.draw(st.sampled_from(names))
            case = data.draw(cases(name, known[name]))
            if any("\x00" in a for a in case.argv):
                return
            record(run_subprocess(case, sandbox))

        real()

    lines = [f"# argv fuzzer: {len(found)} distinct failures\n"]
    for key, (o, n) in sorted(found.items()):
        lines += [f"## {key}  ({n} cases)\n", "```", o.report(), "```\n"]
    Path(args.report).write_text("\n".join(lines), encoding="utf-8")
    print(f"{len(found)} distinct failures; see {args.report}")


if __name__ == "__main__":
    main()
