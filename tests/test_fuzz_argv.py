"""Issue 18, item 3: an argv fuzzer for every command.

For every command registered on the app, hypothesis builds argument lists from the command's
own click parameters (good and hostile values: samples, hostile files, odd option values, odd
output paths, environment variables; see ``tests/fuzz_argv/``). Every run must end with exit
0, 1, 2 or 3, print no traceback, leave no temporary file in its output folder or its private
TMPDIR, create no output when it fails and change no input file.

The suite runs a bounded number of examples (about a minute in all); set
``SLACALC_FUZZ_EXAMPLES=N`` for N per command, or run ``python tests/fuzz_argv/collect.py`` to
fuzz for long and group every distinct failure. ``--engine spark`` is never fuzzed (too slow);
PDF statements only where Chromium is found (``SLACALC_FUZZ_PDF=0`` leaves them out).
"""

from __future__ import annotations

import os

import pytest
from fuzz_argv.cases import Case, cases
from fuzz_argv.found import IN_PROCESS, REAL_PROCESS
from fuzz_argv.harness import Sandbox, run_in_process, run_subprocess
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from mixins import commands

COMMANDS = commands()
# Examples per command in the suite: 11 commands x 120 x ~0.03 s (most runs end at the first
# bad value) stays near a minute on a shared 2-core machine.
EXAMPLES = int(os.environ.get("SLACALC_FUZZ_EXAMPLES", "120"))
SUBPROCESS_EXAMPLES = max(6, EXAMPLES // 8)

FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Sandbox:
    return Sandbox(tmp_path_factory.mktemp("fuzz-argv"))


def test_every_command_and_option_is_fuzzed() -> None:
    """The commands come from the app and each one's values from its own parameters: a new
    command or option is fuzzed without a line here (an option nobody has described by name
    in fuzz_argv/cases.py gets the generic hostile values and pool files)."""
    from fuzz_argv.cases import value_pools

    assert {"report", "compare", "import", "statement", "tiers"} <= set(COMMANDS)
    for name, command in COMMANDS.items():
        for param in command.params:
            good, hostile = value_pools(param)
            assert good and hostile, (name, param.name)
            assert "spark" not in good + hostile, "--engine spark is too slow to fuzz"


def _check(outcome: object) -> None:
    assert not outcome.problems, outcome.report()  # type: ignore[attr-defined]


@pytest.mark.parametrize("command", list(COMMANDS))
def test_fuzz_command_line(command: str, sandbox: Sandbox) -> None:
    @FUZZ
    @given(case=cases(command, COMMANDS[command]))
    def fuzz(case: Case) -> None:
        _check(run_in_process(case, sandbox))

    fuzz()


@pytest.mark.parametrize("case", IN_PROCESS, ids=lambda c: c.shell()[:80])
def test_found_in_process(case: Case, sandbox: Sandbox) -> None:
    """The shortest case of each failure the long runs found (see fuzz_argv/found.py)."""
    _check(run_in_process(case, sandbox))


@settings(
    max_examples=SUBPROCESS_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_fuzz_as_a_real_process(data: st.DataObject, sandbox: Sandbox) -> None:
    """A few cases as ``python -m slacalc``: real descriptors, a real TMPDIR, now and then
    stderr on a terminal or the three streams redirected to regular files."""
    command = data.draw(st.sampled_from(list(COMMANDS)), label="command")
    case = data.draw(cases(command, COMMANDS[command]), label="case")
    assume(not any("\x00" in a for a in case.argv))  # no NUL in a real argv
    assume(not any("\x00" in v for _, v in case.env))
    _check(run_subprocess(case, sandbox))


@pytest.mark.parametrize("case", REAL_PROCESS, ids=lambda c: c.shell()[:80])
def test_found_as_a_real_process(case: Case, sandbox: Sandbox) -> None:
    """The long runs' real-process findings: -o naming a redirected standard stream."""
    _check(run_subprocess(case, sandbox))
