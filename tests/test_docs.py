"""The README tells the truth: its quick start is what CI runs, every command is documented."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import typer.main
from typer.testing import CliRunner

from slacalc.cli import app

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
# The commands registered on the app, in --help order: a new one is documented or fails here.
COMMANDS = list(typer.main.get_command(app).commands)  # type: ignore[attr-defined]


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
def test_every_command_has_help_with_an_example_and_is_in_the_reference(command: str) -> None:
    result = CliRunner().invoke(app, [command, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "Example" in result.stdout
    assert f"#### `slacalc {command} --help`" in README


# --- the command reference is generated from the app --------------------------------------
REFERENCE_START = "<!-- command reference: generated from the app, do not edit by hand -->"
REFERENCE_END = "<!-- end of the command reference -->"
REFERENCE_WIDTH = "100"


def help_text(args: list[str]) -> str:
    """What `slacalc ARGS --help` prints on a terminal REFERENCE_WIDTH columns wide, without
    colours or trailing spaces."""
    result = CliRunner().invoke(
        app, [*args, "--help"], env={"COLUMNS": REFERENCE_WIDTH, "NO_COLOR": "1", "TERM": "dumb"}
    )
    assert result.exit_code == 0, result.output
    lines = [line.rstrip() for line in result.stdout.splitlines()]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines)


def render_reference() -> str:
    """The README's command reference: every command's --help (usage, arguments, options with
    their env vars and defaults, the example), as sqlite-utils' cog-generated CLI reference."""
    parts = [
        REFERENCE_START,
        "",
        "Every command's `--help`, as printed. `SLACALC_UPDATE_README=1 python -m pytest "
        "tests/test_docs.py` regenerates this section when an option changes.",
    ]
    for args in ([], *([c] for c in COMMANDS)):
        name = " ".join(["slacalc", *args])
        parts += ["", f"#### `{name} --help`", "", "```", help_text(args), "```"]
    parts += ["", REFERENCE_END]
    return "\n".join(parts)


def readme_with_reference(text: str) -> str:
    head, rest = text.split(REFERENCE_START, 1)
    _, tail = rest.split(REFERENCE_END, 1)
    return head + render_reference() + tail


def test_readme_command_reference_is_current() -> None:
    """The reference between the markers is exactly the app's --help output.

    SLACALC_UPDATE_README=1 rewrites it instead (then review the diff).
    """
    import os

    assert README.count(REFERENCE_START) == 1 and README.count(REFERENCE_END) == 1
    current = readme_with_reference(README)
    if current != README and os.environ.get("SLACALC_UPDATE_README"):
        (ROOT / "README.md").write_text(current, encoding="utf-8")
        return
    assert current == README, (
        "README command reference out of date (SLACALC_UPDATE_README=1 fixes it)"
    )


def test_the_reference_names_every_option_and_env_var() -> None:
    reference = render_reference()
    for command in typer.main.get_command(app).commands.values():  # type: ignore[attr-defined]
        for param in command.params:
            for opt in getattr(param, "opts", []):
                if opt.startswith("--"):
                    assert opt in reference, (command.name, opt)
            envvar = getattr(param, "envvar", None)
            if envvar:
                assert envvar in reference, (command.name, envvar)


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


def test_readme_library_example_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    """The Library example runs as printed, in a folder of its own (it writes report.csv), and
    gives what the commands give."""
    (tmp_path / "samples").symlink_to(ROOT / "samples")
    monkeypatch.chdir(tmp_path)
    section = README.split("## Library", 1)[1]
    code = re.search(r"```python\n(.+?)\n```", section, re.S).group(1)
    exec(compile(code, "README.md", "exec"), {})
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "CNY 2 45.08"
    assert out[-1].startswith("['not_downtime', 'partly_excluded'] ['availability', ")
    args = "report samples/incidents.csv --contracts samples/contracts.csv -f csv --as-of"
    result = CliRunner().invoke(app, [*args.split(), "2025-06-28T12:00:00+08:00"])
    assert (tmp_path / "report.csv").read_bytes() == result.stdout_bytes


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


def test_readme_policy_domains_are_the_checks() -> None:
    """The README's table of policy numbers is the one the policy reader checks against."""
    from slacalc.terms.policy import domain_table

    start = "<!-- policy domains: generated from slacalc.terms.policy.domain_table() -->\n"
    table = README.split(start, 1)[1].split("\n<!-- end of the policy domains -->", 1)[0]
    assert table == domain_table()


def test_readme_explain_codes_are_the_codes() -> None:
    """The README's table of explain codes is generated from the note and step types."""
    from slacalc.writing.explain_view import code_table

    start = "<!-- explain codes: generated from slacalc.writing.explain_view.code_table() -->\n"
    table = README.split(start, 1)[1].split("\n<!-- end of the explain codes -->", 1)[0]
    assert table == code_table()
