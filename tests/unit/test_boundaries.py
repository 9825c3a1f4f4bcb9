"""The house's boundaries, enforced: geo/ is pure Python (no Streamlit, folium or the app's
packages), render/ (base map, static files, standalone HTML, PNG) never imports Streamlit,
streamlit-folium or layers/, and the CLIs that draw live in cli/.

Two checks per rule: every import statement in the package's source (AST, so a lazy
import inside a function counts too), and a fresh interpreter that imports every module
of the package and finds none of the forbidden modules loaded.
"""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from geo.paths import ROOT

APP_PACKAGES = {"layers", "render", "cli", "app", "serve"}
UI_LIBS = {"streamlit", "streamlit_folium", "folium", "branca"}
RULES = {
    "geo": UI_LIBS | APP_PACKAGES | {"playwright"},
    "render": {"streamlit", "streamlit_folium", "layers", "cli", "app", "serve"},
}


def imported_roots(path: Path) -> list[tuple[int, str]]:
    """(line, top-level module) of every import in a Python file (relative imports skipped)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.extend((node.lineno, a.name.split(".")[0]) for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            out.append((node.lineno, node.module.split(".")[0]))
    return out


def violations(package: str, forbidden: set[str]) -> list[str]:
    bad = []
    for f in sorted((ROOT / package).rglob("*.py")):
        for line, mod in imported_roots(f):
            if mod in forbidden:
                bad.append(f"{f.relative_to(ROOT)}:{line} imports {mod}")
    return bad


@pytest.mark.parametrize("package", sorted(RULES))
def test_no_forbidden_import_in_source(package):
    assert (ROOT / package / "__init__.py").exists()
    assert violations(package, RULES[package]) == []


def test_the_scan_catches_a_lazy_import(tmp_path):
    f = tmp_path / "m.py"
    f.write_text("import os\n\ndef f():\n    from layers.map import part_group\n    import streamlit as st\n")
    assert [m for _, m in imported_roots(f)] == ["os", "layers", "streamlit"]


def _modules(package: str) -> list[str]:
    out = []
    for f in sorted((ROOT / package).rglob("*.py")):
        rel = f.relative_to(ROOT).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out.append(".".join(parts))
    return out


@pytest.mark.parametrize("package", sorted(RULES))
def test_importing_every_module_loads_nothing_forbidden(package):
    mods = _modules(package)
    assert len(mods) > 1
    code = ("import importlib, sys\n"
            f"for m in {mods!r}:\n    importlib.import_module(m)\n"
            f"bad = sorted(m for m in sys.modules if m.split('.')[0] in {sorted(RULES[package])!r})\n"
            "print(','.join(bad))")
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.strip() == "", f"{package} loads {r.stdout.strip()}"


def test_drawing_commands_dispatch_to_cli():
    from geo.__main__ import COMMANDS
    assert COMMANDS["export"][0] == "cli.export" and COMMANDS["snapshot"][0] == "cli.snapshot"
    r = subprocess.run([sys.executable, "-m", "geo", "snapshot", "--help"], cwd=ROOT, capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0 and "--url-state" in r.stdout


def test_rendering_lives_in_render():
    """The base map, the static files and the standalone page are render/'s; layers/ keeps
    only what needs Streamlit or the layers themselves (the st_folium component, the view's
    page put together from its layers), calling down into render/."""
    import layers.export_html
    import layers.map
    from render import export_html, map as rmap, static_files, text
    for fn in (rmap.base_map, rmap.part_group, rmap.commit_group, rmap.localise_assets, rmap.vendor_missing,
               static_files.build_static_indexed, static_files.fast_topology, export_html.page_html,
               export_html.ward_profile_html, text.esc, text.js_json):
        assert fn.__module__.startswith("render."), fn
    assert not (ROOT / "layers" / "static_files.py").exists()
    from layers import base
    assert base.esc is text.esc and base.js_json is text.js_json
    # the layers' side is thin: no folium classes or page layout of its own
    for mod in (layers.map, layers.export_html):
        src = Path(mod.__file__).read_text(encoding="utf-8")
        assert "class " not in src and "<style>" not in src, mod.__name__
        assert imported_roots(Path(mod.__file__)) and "render" in {m for _, m in imported_roots(Path(mod.__file__))}


JS_SIGNS = ("function (", "function(", "addEventListener", "=> {")


def test_no_js_in_python_strings():
    """The browser code is in static/js (one core, one painter per layer, the page helpers);
    Python only calls it (`LSC.set(...)`, `LSC.paint.<layer>(...)`) with JSON payloads."""
    bad = []
    for package in ("layers", "render", "cli"):
        for f in sorted((ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Constant) and isinstance(node.value, str):
                    if any(sign in node.value for sign in JS_SIGNS):
                        bad.append(f"{f.relative_to(ROOT)}:{node.lineno}")
    assert bad == []


def test_every_painter_is_in_the_runtime_bundle():
    from render.map import RUNTIME_FILE, RUNTIME_FILES
    from render.static_files import STATIC_DIR
    painters = sorted(f"js/{p.name}" for p in (STATIC_DIR / "js").glob("paint_*.js"))
    helpers = sorted(f"js/{p.name}" for p in (STATIC_DIR / "js").glob("lsc_*.js") if p.name != "lsc_core.js")
    assert RUNTIME_FILES[0] == RUNTIME_FILE == "js/lsc_core.js"
    # the core's helpers (lsc_*.js) right after it, then every painter
    assert list(RUNTIME_FILES[1:1 + len(helpers)]) == helpers
    assert sorted(RUNTIME_FILES[1 + len(helpers):]) == painters
    for rel in painters:
        name = rel[len("js/paint_"):-len(".js")]
        assert f"LSC.paint.{name} = " in (STATIC_DIR / rel).read_text(encoding="utf-8"), rel
