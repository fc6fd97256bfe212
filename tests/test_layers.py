"""The package has no import circles: every import of one slacalc module by another, at the top,
inside a function or under TYPE_CHECKING, is an arrow, and the arrows never run in a circle (as
farm-studio draws them: an import names the file it loads, not its package's __init__)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "slacalc"


def _module_file(dotted: str) -> Path | None:
    """The file of a dotted slacalc module name (a module, or a package's __init__)."""
    parts = dotted.split(".")[1:]
    base = PACKAGE.joinpath(*parts)
    if base.with_suffix(".py").is_file():
        return base.with_suffix(".py")
    if (base / "__init__.py").is_file():
        return base / "__init__.py"
    return None


def _arrows(path: Path) -> set[Path]:
    out: set[Path] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            # "from slacalc.a import b": b may be a module of its own
            names = [f"{node.module}.{a.name}" for a in node.names] + [node.module]
            found = [n for n in names[:-1] if _module_file(n) is not None]
            names = found if len(found) == len(node.names) else [*found, node.module]
        else:
            continue
        for name in names:
            if name == "slacalc" or not name.startswith("slacalc."):
                continue
            target = _module_file(name)
            if target is not None and target != path:
                out.add(target)
    return out


def test_no_import_runs_in_a_circle() -> None:
    graph = {p: _arrows(p) for p in sorted(PACKAGE.rglob("*.py"))}
    state: dict[Path, int] = {}  # 1: on the current path, 2: done
    stack: list[Path] = []
    circles: list[list[str]] = []

    def visit(p: Path) -> None:
        state[p] = 1
        stack.append(p)
        for q in sorted(graph.get(p, ())):
            if state.get(q) == 1:
                loop = stack[stack.index(q) :]
                circles.append([str(x.relative_to(PACKAGE.parent)) for x in loop])
            elif q not in state:
                visit(q)
        stack.pop()
        state[p] = 2

    for p in graph:
        if p not in state:
            visit(p)
    assert not circles, circles
