"""A layer owns its link state: a new layer declares its link fields in its own module and
its parameter round-trips link -> session (its widget) -> link, with no edit to
layers/share_state.py or geo/viewstate.py (the toy layer below lives only in this file).
No store is needed: the toy app reads the link without one."""
from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from geo import viewstate as VS


def _toy_app():
    import streamlit as st

    from geo import viewstate as VS
    from geo.viewfields import int_range
    from layers import share_state as S
    from layers.base import Layer, MapContext, widget_default

    class ToyLayer(Layer):
        key = "toy"
        label = "Toy glow"
        default_on = False
        fields = (VS.Field("glow", int_range("glow", 1, 9), default=3, key="toy_glow", to_state=int,
                           state="glow", from_state=int),)

        def sidebar(self, ctx):
            super().sidebar(ctx)
            ctx.state[self.key]["glow"] = st.number_input("Glow", 1, 9, key="toy_glow",
                                                          **widget_default("toy_glow", value=3))

    layers = [ToyLayer()]
    S.read_url_state(None, "", layers)          # the link -> the widgets' keys (once per session)
    ctx = MapContext(store=None, interactive=True)
    for layer in layers:
        layer.sidebar(ctx)
    S.write_url_state(ctx, layers)              # the widgets -> the link


@pytest.fixture
def toy():
    yield
    VS.unregister("toy")


def _run(query: dict) -> AppTest:
    at = AppTest.from_function(_toy_app, default_timeout=60)
    for k, v in query.items():
        at.query_params[k] = v
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _q(at) -> dict:
    return {k: (v[-1] if isinstance(v, list) else v) for k, v in dict(at.query_params).items()}


def _num(at, key):
    return next(w for w in at.number_input if w.key == key)


def test_a_new_layers_field_round_trips_link_session_link(toy):
    at = _run({"layers": "toy", "glow": "7"})
    assert not at.warning, [w.value for w in at.warning]
    assert _num(at, "toy_glow").value == 7                       # the link seeded the widget
    assert next(w for w in at.checkbox if w.key == "toy_on").value is True
    q = _q(at)
    assert q["glow"] == "7" and q["layers"] == "toy"              # and the session wrote it back
    _num(at, "toy_glow").set_value(5).run()                      # a change goes to the link
    assert _q(at)["glow"] == "5"
    # what the toy declared is part of the link schema now: parsed, written, kept when trimmed
    assert "glow" in VS.params()
    s, n = VS.from_query({"glow": "4"})
    assert s.get("glow") == 4 and s.values == {"toy": {"glow": 4}} and n == []
    assert VS.to_query(s)["glow"] == "4"
    assert "glow=4" in VS.trim_query_string("glow=4&zzz=1")


def test_a_new_layers_bad_value_falls_back_with_its_notice(toy):
    at = _run({"layers": "toy", "glow": "99"})                  # clamped by the field's own parse
    assert any("'glow' is out of range (1-9); using 9" in w.value.replace("\\", "") for w in at.warning)
    assert _num(at, "toy_glow").value == 9 and _q(at)["glow"] == "9"
    at = _run({"layers": "toy", "glow": "lots"})
    assert any("'glow' has an invalid value 'lots'" in w.value.replace("\\", "") for w in at.warning)
    assert _num(at, "toy_glow").value == 3 and _q(at)["glow"] == "3"     # its default


def test_without_the_parameter_the_widget_keeps_its_default(toy):
    at = _run({"layers": "toy"})
    assert _num(at, "toy_glow").value == 3 and _q(at)["glow"] == "3"


def test_a_parameter_belongs_to_one_layer():
    with pytest.raises(ValueError, match="measure"):
        VS.register("thief", (VS.Field("measure", lambda raw, p: raw),))
    with pytest.raises(ValueError, match="title"):
        VS.register("thief", (VS.Field("title", lambda raw, p: raw),))
    assert "thief" not in VS.registered()
    assert VS.from_query({"measure": "income"})[0].get("measure") == "income"


def _imports(path) -> set[str]:
    import ast
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            out.add(node.module)
            out |= {f"{node.module}.{a.name}" for a in node.names}
    return out


def test_no_layer_imports_another_layer():
    """What a layer needs from another comes through the context (ctx.need), not an import:
    a layer module (layers.REGISTRY) and its own submodules (layers/<key>_*.py) import no
    other layer's."""
    from geo.paths import ROOT
    from layers import REGISTRY
    keys = [m.rsplit(".", 1)[-1] for m in REGISTRY]
    files = {k: [ROOT / "layers" / f"{k}.py", *sorted((ROOT / "layers").glob(f"{k}_*.py"))] for k in keys}
    bad = []
    for k, paths in files.items():
        others = {f"layers.{o}" for o in keys if o != k} | {f"layers.{p.stem}" for o in keys if o != k
                                                              for p in files[o][1:]}
        for path in paths:
            hit = {m for m in _imports(path) if m in others or any(m.startswith(o + ".") for o in others)}
            bad += [f"{path.name} imports {m}" for m in sorted(hit)]
    assert bad == []


def test_share_state_names_no_layers_parameters_or_widget_keys():
    """The link <-> session code loops over the layers: no layer's parameter or widget key
    is spelled out in it any more."""
    import re

    from geo.paths import ROOT
    src = (ROOT / "layers" / "share_state.py").read_text(encoding="utf-8")
    layer_params = {n for fs in VS.registered().values() for f in fs for n in f.params}
    keys = {f.key for fs in VS.registered().values() for f in fs if f.key}
    said = set(re.findall(r"[\"']([A-Za-z_]+)[\"']", src)) | set(re.findall(r"\.([a-z_]+)\b", src))
    assert not (said & (layer_params | keys)), said & (layer_params | keys)
    assert not re.search(r"(deprivation|wards|priority|indicators|access|services|planner)_", src)
