"""The documentation's shape: a short README that leads into docs/, links that arrive, every
environment variable named in one place, no path of one machine."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import typer.main

from slacalc.cli import app

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = ROOT / "docs"
PAGES = [README, *sorted(DOCS.glob("*.md"))]
COMMANDS = list(typer.main.get_command(app).commands)  # type: ignore[attr-defined]
README_MAX_LINES = 300


def page_id(path: Path) -> str:
    return str(path.relative_to(ROOT))


def prose(text: str) -> str:
    """``text`` without its fenced code blocks and code spans (where a link is not a link)."""
    text = re.sub(r"^```.*?^```", "", text, flags=re.M | re.S)
    return re.sub(r"`[^`\n]*`", "", text)


def slug(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """The anchors of a page's headings (a repeated heading gets -1, -2, ...)."""
    found: set[str] = set()
    seen: dict[str, int] = {}
    text = re.sub(r"^```.*?^```", "", path.read_text(encoding="utf-8"), flags=re.M | re.S)
    for heading in re.findall(r"^#{1,6} (.+)$", text, flags=re.M):
        base = slug(heading)
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    return found


def links(path: Path) -> list[str]:
    """The targets of a page's Markdown links."""
    return re.findall(r"\[[^\]]*\]\(([^)\s]+)\)", prose(path.read_text(encoding="utf-8")))


def test_the_readme_is_short() -> None:
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= README_MAX_LINES, f"README.md has {len(lines)} lines"


def test_the_readme_links_every_page_of_docs() -> None:
    linked = {(README.parent / t.split("#", 1)[0]).resolve() for t in links(README)}
    missing = [page_id(p) for p in PAGES[1:] if p.resolve() not in linked]
    assert not missing, f"not linked from README.md: {missing}"


@pytest.mark.parametrize("command", COMMANDS)
def test_the_readme_shows_every_command(command: str) -> None:
    text = README.read_text(encoding="utf-8")
    assert re.search(rf"^\$ slacalc {command}( |$)", text, flags=re.M), command


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_relative_links_arrive(page: Path) -> None:
    """Every relative link names a file that exists, and a heading of it when it has an
    anchor (a `#anchor` alone: a heading of the same page)."""
    broken = []
    for target in links(page):
        if re.match(r"[a-z][a-z0-9+.-]*:", target):  # https:, mailto:
            continue
        file, _, anchor = target.partition("#")
        path = (page.parent / file).resolve() if file else page
        arrives = path.exists() and not (
            anchor and path.suffix == ".md" and anchor not in anchors(path)
        )
        if not arrives:
            broken.append(target)
    assert not broken, f"{page_id(page)}: links that go nowhere: {broken}"


def test_every_environment_variable_is_documented() -> None:
    """Every variable slacalc reads is in docs/environment.md; every one only the tests read
    is in docs/development.md."""

    def names(folder: str) -> set[str]:
        found: set[str] = set()
        for path in (ROOT / folder).rglob("*.py"):
            found |= set(re.findall(r"\bSLACALC_[A-Z][A-Z_]*[A-Z]\b", path.read_text("utf-8")))
        return found

    environment = (DOCS / "environment.md").read_text(encoding="utf-8")
    development = (DOCS / "development.md").read_text(encoding="utf-8")
    read = names("slacalc") | {"NO_COLOR"}
    assert not [n for n in sorted(read) if f"`{n}" not in environment]
    tests_only = names("tests") - read
    assert not [n for n in sorted(tests_only) if f"`{n}" not in development + environment]


def test_no_path_of_one_machine() -> None:
    """Commands in the docs work from any clone: no absolute path but scratch space in /tmp."""
    pages = [*PAGES, ROOT / "bench" / "README.md"]
    found = [
        (page_id(p), m)
        for p in pages
        for m in re.findall(r"(?<![\w.])/(?:work|home|root|Users)/\S*", p.read_text("utf-8"))
    ]
    assert not found
