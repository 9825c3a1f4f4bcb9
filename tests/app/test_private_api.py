"""Private internals of Streamlit and streamlit-folium are used only in one version-checked
module per library (layers/_st_private.py, layers/_folium_private.py); with another
version installed each says so and the app falls back to the public API."""
from __future__ import annotations

import ast
import logging
import re
from pathlib import Path

import pytest

from geo.paths import ROOT
from layers import _folium_private, _st_private

PRIVATE_MODULES = {"layers/_st_private.py": "streamlit", "layers/_folium_private.py": "streamlit_folium"}
# Streamlit modules the rest of the app may import: the public API
PUBLIC_STREAMLIT = {"streamlit", "streamlit.errors", "streamlit.config", "streamlit.components.v1",
                    "streamlit.testing.v1"}
# names that only exist behind Streamlit's / streamlit-folium's public API
PRIVATE_NAMES = re.compile(r"\b(get_script_run_ctx|add_script_run_ctx|get_session_state|_enqueue|"
                           r"_component_func|generate_js_hash|_get_(html|header|map_string|feature_group_string|"
                           r"uvicorn_config_kwargs)|fragment_ids_this_run|widget_metadata|_key_id_mapper)\b")
SCANNED = ["layers", "render", "cli", "geo", "scripts", "app.py", "serve.py"]


def _files():
    for entry in SCANNED:
        p = ROOT / entry
        yield from ([p] if p.is_file() else sorted(p.rglob("*.py")))


def private_uses(path: Path) -> list[str]:
    """Every import of a private Streamlit module or of streamlit_folium, every
    `from streamlit import <private module>`, and every private name, in one file."""
    src = path.read_text(encoding="utf-8")
    out = []
    for node in ast.walk(ast.parse(src, filename=str(path))):
        mods = []
        if isinstance(node, ast.Import):
            mods = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            mods = [node.module]
            if node.module == "streamlit":
                mods += [f"streamlit.{a.name}" for a in node.names if a.name in ("runtime", "web", "elements",
                                                                                 "proto", "delta_generator")]
        for m in mods:
            root = m.split(".")[0]
            if root == "streamlit_folium" or (root == "streamlit" and m not in PUBLIC_STREAMLIT):
                out.append(f"{node.lineno}: imports {m}")
    code = "\n".join(line.split("#", 1)[0] for line in src.splitlines())
    for i, line in enumerate(code.splitlines(), 1):
        for m in PRIVATE_NAMES.finditer(line):
            out.append(f"{i}: uses {m.group(0)}")
    return out


def test_no_module_but_the_private_ones_touches_streamlit_internals():
    bad = []
    for f in _files():
        rel = f.relative_to(ROOT).as_posix()
        if rel in PRIVATE_MODULES:
            continue
        bad += [f"{rel}:{u}" for u in private_uses(f)]
    assert bad == []


def test_the_private_modules_are_where_the_internals_are():
    assert private_uses(ROOT / "layers/_st_private.py")          # the scan sees them there
    assert any("streamlit_folium" in u for u in private_uses(ROOT / "layers/_folium_private.py"))


def test_the_scan_catches_each_kind_of_use(tmp_path):
    f = tmp_path / "m.py"
    f.write_text("import streamlit as st\nfrom streamlit.errors import StreamlitAPIException\n"
                 "def f():\n    from streamlit.runtime.scriptrunner_utils import script_run_context\n"
                 "    import streamlit_folium as sf\n    from streamlit import runtime\n"
                 "    return sf._get_html(1), ctx._enqueue  # get_script_run_ctx in a comment is fine\n")
    assert private_uses(f) == ["4: imports streamlit.runtime.scriptrunner_utils", "5: imports streamlit_folium",
                               "6: imports streamlit.runtime", "7: uses _get_html", "7: uses _enqueue"]


def test_requirements_pin_versions_the_modules_were_written_for():
    pins = dict(re.findall(r"^([A-Za-z0-9_.-]+)==([^\s#]+)", (ROOT / "requirements.txt").read_text(), re.M))
    for mod in (_st_private, _folium_private):
        assert mod.check(pins[mod.LIBRARY]) is True
        assert mod.installed_version() == pins[mod.LIBRARY]
        assert mod.supported() is True


@pytest.mark.parametrize("mod,other", [(_st_private, "1.68.0"), (_folium_private, "0.28.1")])
def test_another_version_warns_once_or_raises_when_strict(mod, other, monkeypatch, caplog):
    monkeypatch.setattr(mod, "_warned", False)
    with caplog.at_level(logging.WARNING, logger=mod.__name__):
        assert mod.check(other) is False
        assert mod.check(other) is False
    msgs = [r.getMessage() for r in caplog.records if r.name == mod.__name__]
    assert len(msgs) == 1 and other in msgs[0] and "written for" in msgs[0]
    assert mod.check("not installed") is False
    monkeypatch.setenv("LSC_STRICT_PRIVATE_API", "1")
    with pytest.raises(RuntimeError, match=re.escape(other)):
        mod.check(other)


def test_another_streamlit_takes_the_public_fallbacks(monkeypatch):
    """Every function of _st_private without the internals; the app's callers follow."""
    from layers import parts, serving, view
    monkeypatch.setattr(_st_private, "_SUPPORTED", False)
    monkeypatch.setenv("LSC_PARTS", "1")
    monkeypatch.setenv("LSC_PROGRESSIVE", "1")
    assert _st_private.fragment_run() is False and _st_private.can_mute() is False
    assert _st_private.run_key()[0] is None
    with _st_private.muted() as m:
        assert m is False
    assert _st_private.registered_widget_keys({"bool_value"}, set()) == []
    assert _st_private.allow_long_request_lines(1 << 20) is False and serving.allow_long_request_lines() is False
    assert _st_private.guess_content_type("a.js") in ("text/javascript", "application/javascript")
    assert parts.enabled() is False and parts.part_run() is False
    assert view.first_paint_phase() is False           # the full page at once, nothing muted


def test_another_streamlit_folium_draws_with_the_public_st_folium(monkeypatch):
    from layers import map as M
    calls = []
    monkeypatch.setattr(_folium_private, "_SUPPORTED", False)
    monkeypatch.setattr(_folium_private, "st_folium", lambda *a, **k: calls.append((a, k)) or {"ok": 1})
    out = M.map_component({}, None, [], key="map", height=400, returned_objects=["last_clicked"])
    assert out == {"ok": 1} and len(calls) == 1
    (m,), kw = calls[0]
    assert kw["key"] == "map" and kw["feature_group_to_add"] == [] and isinstance(m, __import__("folium").Map)
    with pytest.raises(RuntimeError, match="not checked"):
        _folium_private.component()
