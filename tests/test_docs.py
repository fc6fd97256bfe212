"""The README tells the truth: its quick start is what CI runs, every command is documented."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from slacalc.cli import app

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
COMMANDS = [
    "report",
    "explain",
    "validate",
    "disputes",
    "deadline",
    "budget",
    "tiers",
    "policies",
    "compare",
    "import",
    "statement",
]


def quick_start() -> list[str]:
    section = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.+?)\n```", section)


def test_quick_start_is_exactly_two_commands() -> None:
    commands = quick_start()
    assert len(commands) == 2
    assert "slacalc report samples/incidents.csv" in commands[0]
    assert "pytest" in commands[1]


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert quick_start()[1] in ci


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_with_an_example_and_a_readme_section(command: str) -> None:
    result = CliRunner().invoke(app, [command, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "Example" in result.stdout
    assert f"### `slacalc {command}`" in README


def test_the_quick_start_report_runs_on_the_samples(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    args = quick_start()[0].split(".venv/bin/slacalc ", 1)[1].split()
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "SLA report" in result.stdout
    assert "initech" in result.stdout


def test_version() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.startswith("slacalc ")


# --- the README's examples are real output -------------------------------------------------
_COMMAND = re.compile(r"^\$ (slacalc .*)$")


def _run_readme_command(command: str) -> str:
    """What `command` prints (stdout then stderr), as a user at the repository root sees it."""
    import shlex

    args = shlex.split(command)[1:]
    result = CliRunner().invoke(
        app,
        args,
        env={
            "COLUMNS": "200",
            "SLACALC_TZ": None,
            "SLACALC_POLICY": None,
            "SLACALC_CURRENCY": None,
            "SLACALC_CALENDAR": None,
        },
    )
    text = result.stdout + result.stderr
    lines = [line.rstrip() for line in text.rstrip("\n").splitlines()]
    if result.exit_code:
        lines.append(f"[exit {result.exit_code}]")
    return "\n".join(lines)


def readme_examples(text: str) -> list[tuple[int, int, str]]:
    """(first line, end line, command) of every `$ slacalc ...` example's output in the README."""
    lines = text.splitlines()
    found = []
    i = 0
    while i < len(lines):
        m = _COMMAND.match(lines[i])
        if m:
            j = i + 1
            while j < len(lines) and not lines[j].startswith(("$ ", "```")):
                j += 1
            while j > i + 1 and not lines[j - 1].strip():
                j -= 1
            found.append((i + 1, j, m.group(1)))
            i = j
        else:
            i += 1
    return found


def test_readme_examples_are_real_output(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every `$ slacalc ...` example shows what the command prints today.

    SLACALC_UPDATE_README=1 rewrites them instead (then review the diff).
    """
    import os

    monkeypatch.chdir(ROOT)
    lines = README.splitlines()
    examples = readme_examples(README)
    assert len(examples) >= 12
    stale = []
    for first, end, command in reversed(examples):
        shown = "\n".join(line.rstrip() for line in lines[first:end])
        actual = _run_readme_command(command)
        if lines[end - 1].strip() == "...":  # an example cut short: its first lines must match
            kept = end - 1 - first
            actual = "\n".join([*actual.splitlines()[:kept], lines[end - 1]])
        if shown != actual:
            stale.append(command)
            lines[first:end] = actual.splitlines()
    if stale and os.environ.get("SLACALC_UPDATE_README"):
        (ROOT / "README.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
        return
    assert not stale, f"README examples out of date (SLACALC_UPDATE_README=1 fixes): {stale}"


def test_readme_library_example_runs(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.chdir(ROOT)
    section = README.split("## Library", 1)[1]
    code = re.search(r"```python\n(.+?)\n```", section, re.S).group(1)
    exec(compile(code, "README.md", "exec"), {})
    first = capsys.readouterr().out.splitlines()[0]
    assert "'customer_id': 'acme'" in first and "'compensation': '11.48'" in first


def test_the_formatter_decides_everywhere() -> None:
    """No marker turns the formatter off: `ruff format --check` in CI holds every line."""
    marker = "fmt: " + "skip"
    found = [
        str(path.relative_to(ROOT))
        for folder in ("slacalc", "tests", "bench")
        for path in (ROOT / folder).rglob("*.py")
        if marker in path.read_text(encoding="utf-8")
        or ("fmt: " + "off") in path.read_text(encoding="utf-8")
    ]
    assert not found
