"""The documentation tells the truth: the README's quick start is what CI runs, every command is
documented, every `$ slacalc ...` example of README.md and docs/*.md prints what it shows, and
every generated section (the command reference, the tables of policy domains, explain codes,
option variables and speed tricks) is its generator's output.

`SLACALC_UPDATE_DOCS=1` (or `SLACALC_UPDATE_README=1`) rewrites the examples' output and the
generated sections instead of failing; then review the diff.
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Callable
from pathlib import Path

import pytest
import typer.main
from typer.testing import CliRunner

from slacalc.cli import app

ROOT = Path(__file__).resolve().parent.parent
README_PATH = ROOT / "README.md"
DOCS = ROOT / "docs"
README = README_PATH.read_text(encoding="utf-8")
REFERENCE_PATH = DOCS / "cli-reference.md"
LIBRARY_PATH = DOCS / "library.md"
# The commands registered on the app, in --help order: a new one is documented or fails here.
COMMANDS = list(typer.main.get_command(app).commands)  # type: ignore[attr-defined]


def doc_paths() -> list[Path]:
    """The documentation: the README, then every page of docs/."""
    return [README_PATH, *sorted(DOCS.glob("*.md"))]


def doc_id(path: Path) -> str:
    return str(path.relative_to(ROOT))


def updating() -> bool:
    """Whether to rewrite the docs from the app instead of failing."""
    return any(os.environ.get(name) for name in ("SLACALC_UPDATE_DOCS", "SLACALC_UPDATE_README"))


# --- the quick start ------------------------------------------------------------------------
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


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_with_an_example_and_is_in_the_reference(command: str) -> None:
    result = CliRunner().invoke(app, [command, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "Example" in result.stdout
    reference = REFERENCE_PATH.read_text(encoding="utf-8")
    assert f"\n## `slacalc {command} --help`\n" in reference


# --- generated sections ---------------------------------------------------------------------
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
    """The command reference: every command's --help (usage, arguments, options with their env
    vars and defaults, the example), as sqlite-utils' cog-generated CLI reference."""
    parts = [
        "",
        "Every command's `--help`, as printed. `SLACALC_UPDATE_DOCS=1 python -m pytest "
        "tests/test_docs.py` regenerates this section when an option changes.",
    ]
    for args in ([], *([c] for c in COMMANDS)):
        name = " ".join(["slacalc", *args])
        parts += ["", f"## `{name} --help`", "", "```", help_text(args), "```"]
    parts.append("")
    return "\n".join(parts)


def render_option_variables() -> str:
    """The environment variables that stand for options: which option, its default, the
    commands that have it."""
    found: dict[str, tuple[str, object, list[str]]] = {}
    for name, command in typer.main.get_command(app).commands.items():  # type: ignore[attr-defined]
        for param in command.params:
            envvar = getattr(param, "envvar", None)
            if envvar:
                option = max(param.opts, key=len)
                found.setdefault(envvar, (option, param.default, []))[2].append(name)
    rows = ["| variable | option | default | commands |", "|---|---|---|---|"]
    for envvar, (option, default, names) in found.items():
        shown = f"`{default}`" if default not in (None, "") else "see the option"
        commands = ", ".join(f"`{n}`" for n in names)
        rows.append(f"| `{envvar}` | `{option}` | {shown} | {commands} |")
    return "\n".join(rows)


def render_speed_tricks() -> str:
    from slacalc.speed import TRICKS

    rows = ["| name | trick |", "|---|---|"]
    rows += [f"| `{name}` | {what} |" for name, what in TRICKS.items()]
    return "\n".join(rows)


def render_policy_domains() -> str:
    from slacalc.terms.policy import domain_table

    return domain_table()


def render_explain_codes() -> str:
    from slacalc.writing.explain_view import code_table

    return code_table()


# (start marker, end marker, generator): each section stands once in the docs, between its
# markers, exactly as its generator writes it.
GENERATED: dict[str, tuple[str, str, Callable[[], str]]] = {
    "command reference": (
        "<!-- command reference: generated from the app, do not edit by hand -->",
        "<!-- end of the command reference -->",
        render_reference,
    ),
    "policy domains": (
        "<!-- policy domains: generated from slacalc.terms.policy.domain_table() -->",
        "<!-- end of the policy domains -->",
        render_policy_domains,
    ),
    "explain codes": (
        "<!-- explain codes: generated from slacalc.writing.explain_view.code_table() -->",
        "<!-- end of the explain codes -->",
        render_explain_codes,
    ),
    "option variables": (
        "<!-- option variables: generated from the app's options -->",
        "<!-- end of the option variables -->",
        render_option_variables,
    ),
    "speed tricks": (
        "<!-- speed tricks: generated from slacalc.speed.TRICKS -->",
        "<!-- end of the speed tricks -->",
        render_speed_tricks,
    ),
}


def with_section(text: str, start: str, end: str, body: str) -> str:
    """``text`` with what stands between the lines ``start`` and ``end`` replaced by ``body``."""
    i = text.index(start) + len(start)
    j = text.index(end, i)
    return f"{text[:i]}\n{body}\n{text[j:]}"


@pytest.mark.parametrize("name", GENERATED)
def test_generated_sections_are_their_generators_output(name: str) -> None:
    start, end, render = GENERATED[name]
    holders = [p for p in doc_paths() if start in p.read_text(encoding="utf-8")]
    assert len(holders) == 1, f"the {name} section must stand in exactly one page: {holders}"
    path = holders[0]
    text = path.read_text(encoding="utf-8")
    assert text.count(start) == 1 and text.count(end) == 1, (name, doc_id(path))
    current = with_section(text, start, end, render())
    if current != text and updating():
        path.write_text(current, encoding="utf-8")
        return
    assert current == text, f"{doc_id(path)}: the {name} is out of date (SLACALC_UPDATE_DOCS=1)"


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


# --- the examples are real output -----------------------------------------------------------
_COMMAND = re.compile(r"^\$ (slacalc .*)$")


def run_example(command: str) -> str:
    """What `command` prints (stdout then stderr), as a user at the repository root sees it."""
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


def examples(text: str) -> list[tuple[int, int, str]]:
    """(first line, end line, command) of every `$ slacalc ...` example's output in ``text``:
    the output runs to the next `$ ` line or the end of the code block."""
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


def test_the_docs_have_examples() -> None:
    total = sum(len(examples(p.read_text(encoding="utf-8"))) for p in doc_paths())
    assert total >= 2 * len(COMMANDS)


@pytest.mark.parametrize("path", doc_paths(), ids=doc_id)
def test_examples_are_real_output(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every `$ slacalc ...` example shows what the command prints today; one that ends with a
    `...` line shows the first lines of it.

    SLACALC_UPDATE_DOCS=1 (or SLACALC_UPDATE_README=1) rewrites them instead.
    """
    monkeypatch.chdir(ROOT)
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    stale = []
    for first, end, command in reversed(examples(text)):
        shown = "\n".join(line.rstrip() for line in lines[first:end])
        actual = run_example(command)
        if lines[end - 1].strip() == "...":  # an example cut short: its first lines must match
            kept = end - 1 - first
            actual = "\n".join([*actual.splitlines()[:kept], lines[end - 1]])
        if shown != actual:
            stale.append(command)
            lines[first:end] = actual.splitlines()
    if stale and updating():
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return
    assert not stale, f"{doc_id(path)}: examples out of date (SLACALC_UPDATE_DOCS=1): {stale}"


def test_the_library_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    """The Library page's example runs as printed, in a folder of its own (it writes
    report.csv), and gives what the commands give."""
    (tmp_path / "samples").symlink_to(ROOT / "samples")
    monkeypatch.chdir(tmp_path)
    page = LIBRARY_PATH.read_text(encoding="utf-8")
    code = re.search(r"```python\n(.+?)\n```", page, re.S).group(1)
    exec(compile(code, str(LIBRARY_PATH), "exec"), {})
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
