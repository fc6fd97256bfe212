"""The console script loads only the module of the command it runs; every command is in the map
that says which module that is."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from slacalc.cli import COMMANDS, app

ROOT = Path(__file__).resolve().parents[1]


def _python(code: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        timeout=120,
        check=True,
    )
    return result.stdout.decode()


def test_the_map_names_every_command_of_the_app() -> None:
    names = {c.name or c.callback.__name__ for c in app.registered_commands}
    names |= {g.name for g in app.registered_groups}
    assert names == set(COMMANDS)


def test_each_module_registers_the_commands_the_map_gives_it() -> None:
    code = (
        "import importlib, sys\n"
        "from slacalc.cli.common import app\n"
        "importlib.import_module('slacalc.cli.' + sys.argv[1])\n"
        "names = [c.name or c.callback.__name__ for c in app.registered_commands]\n"
        "print(' '.join(sorted(names + [g.name for g in app.registered_groups])))\n"
    )
    for module in set(COMMANDS.values()):
        found = subprocess.run(
            [sys.executable, "-c", code, module],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            capture_output=True,
            timeout=120,
            check=True,
        ).stdout.decode()
        assert found.split() == sorted(c for c, m in COMMANDS.items() if m == module), module


def test_a_command_line_loads_only_its_command() -> None:
    loaded = _python(
        "import sys\n"
        "import slacalc.cli as cli\n"
        "sys.argv = ['slacalc', 'tiers', '--policy', 'standard', '-f', 'csv']\n"
        "code = cli.run()\n"
        "print(code, sorted(m for m in sys.modules if m.startswith('slacalc.cli.')))\n"
    )
    last = loaded.strip().splitlines()[-1]
    assert last.startswith("0 ")
    assert "slacalc.cli.tools" in last
    for other in ("slacalc.cli.ledger", "slacalc.cli.statement", "slacalc.cli.importing"):
        assert other not in last


def test_help_without_a_command_lists_every_command() -> None:
    shown = _python(
        "import sys\nimport slacalc.cli as cli\nsys.argv = ['slacalc', '--help']\ncli.run()\n"
    )
    for name in COMMANDS:
        assert f" {name} " in shown, name
