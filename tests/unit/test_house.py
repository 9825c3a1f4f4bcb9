"""Rooms of a sensible size (issue #11): no Python file of the app over 600 lines and no
function over 120, so each module keeps to one concern and each function fits on a
screen or two. Counted from the source (AST), no data needed.
"""
from __future__ import annotations

import ast
from pathlib import Path

from geo.paths import ROOT

MAX_FILE_LINES = 600
MAX_FUNCTION_LINES = 120
PACKAGES = ("geo", "layers", "render", "cli")
FILES = ("app.py",)


def sources() -> list[Path]:
    out = [f for p in PACKAGES for f in sorted((ROOT / p).rglob("*.py"))]
    return out + [ROOT / f for f in FILES]


def oversized(path: Path, max_file: int = MAX_FILE_LINES, max_function: int = MAX_FUNCTION_LINES) -> list[str]:
    """'file: N lines' and 'file:line function(): N lines' for each one over its limit."""
    text = path.read_text(encoding="utf-8")
    name = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    bad = []
    n = len(text.splitlines())
    if n > max_file:
        bad.append(f"{name}: {n} lines (limit {max_file})")
    for node in ast.walk(ast.parse(text, filename=str(path))):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            length = node.end_lineno - node.lineno + 1
            if length > max_function:
                bad.append(f"{name}:{node.lineno} {node.name}(): {length} lines (limit {max_function})")
    return bad


def test_the_house_is_scanned():
    files = sources()
    assert ROOT / "app.py" in files
    for p in PACKAGES:                  # every package is found (a renamed one would pass unseen)
        assert any(f.parent == ROOT / p for f in files), p
    assert len(files) > 50


def test_no_file_or_function_too_large():
    bad = [b for f in sources() for b in oversized(f)]
    assert not bad, "too large (split by concern, re-export at the old path):\n" + "\n".join(bad)


def test_the_check_catches_a_long_file_and_a_long_function(tmp_path):
    body = "\n".join(f"    x{i} = {i}" for i in range(130))
    f = tmp_path / "m.py"
    f.write_text("def short():\n    return 1\n\n\nasync def long():\n" + body + "\n")
    assert oversized(f) == [f"{f}:5 long(): 131 lines (limit 120)"]
    f.write_text("\n".join(f"y{i} = {i}" for i in range(601)) + "\n")
    assert oversized(f) == [f"{f}: 601 lines (limit 600)"]
    assert oversized(f, max_file=601) == []
