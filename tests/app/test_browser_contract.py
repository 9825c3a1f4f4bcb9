"""The browser contract (layers/controls.py): the map frame reads sidebar controls by their
Streamlit widget key, through the `st-key-<key>` class Streamlit puts on a keyed widget's
container. These tests fail when the widgets, the payloads, the declared keys, the JS or
the installed Streamlit frontend drift apart."""
from __future__ import annotations

import json
import re
import subprocess
import time
from pathlib import Path

import pytest
import streamlit
from streamlit.testing.v1 import AppTest

from tests.appmap import map_args, set_payload
from geo.paths import ROOT
from layers.controls import CONTROLS, all_keys, key_class

APP = str(ROOT / "app.py")
JS = ROOT / "static" / "js"


def _payload(at, part: str) -> dict:
    return set_payload(map_args(at)["feature_group"], part)


def _check_instant(inst: dict, declared: dict) -> None:
    keys = set(declared.values())
    assert inst["names"] and set(inst["names"]) <= keys
    assert set(inst["controls"]) == set(inst["names"])
    assert set(inst.get("guards") or {}) <= keys
    for k in inst["names"]:
        assert inst["controls"][k], k          # display value -> code, for each control read


def test_widgets_and_payloads_use_the_declared_keys(store):
    at = AppTest.from_file(APP, default_timeout=300)
    at.session_state["indicators_on"] = True
    at.run()
    assert not at.exception
    widgets = {w.key for kind in ("selectbox", "radio") for w in getattr(at, kind)}
    assert all_keys() <= widgets, sorted(all_keys() - widgets)
    _check_instant(_payload(at, "deprivation")["instant"], CONTROLS["deprivation"])
    # the indicator's instant file is built on a worker thread: the payload names its
    # controls once it is there
    inst = None
    for _ in range(60):
        inst = _payload(at, "indicators").get("instant")
        if inst:
            break
        time.sleep(1)
        at.run()
    assert inst, "the indicator layer never sent its instant-restyle controls"
    _check_instant(inst, CONTROLS["indicators"])
    assert set(inst["guards"]) == {CONTROLS["indicators"][c] for c in ("dataset", "ward_vintage", "by")}
    # what a guard expects is what its widget shows (the option's text, as the JS reads it)
    shown = {w.key: w for kind in ("selectbox", "radio") for w in getattr(at, kind)}
    for key, text in inst["guards"].items():
        w = shown[key]
        assert text == w.options[w.index], key
    # and every control's options are the texts the widget shows
    for key in inst["names"]:
        assert set(inst["controls"][key]) <= set(shown[key].options), key


def test_js_finds_controls_by_key_class_only():
    """The runtime's key -> class is Python's key_class (run in node), and no runtime file
    looks a control up by its visible label."""
    core = (JS / "lsc_core.js").read_text(encoding="utf-8")
    assert "LSC.keyClass = function" in core and "controlValue(doc, key)" in core
    for f in JS.glob("*.js"):
        src = f.read_text(encoding="utf-8")
        assert "aria-label=" not in src and "stWidgetLabel" not in src, f.name
    samples = ["deprivation_measure", " a b ", "x/y:z", "ünï", *sorted(all_keys())]
    code = ("global.window = global; global.document = { currentScript: null };\n"
            + core + "\nconsole.log(JSON.stringify(" + json.dumps(samples) + ".map(window.LSC.keyClass)));")
    r = subprocess.run(["node", "-e", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr[-1500:]
    assert json.loads(r.stdout.strip().splitlines()[-1]) == [key_class(k) for k in samples]


def test_installed_streamlit_renders_the_key_class():
    """Streamlit's frontend (the pinned version) puts st-key-<key>, made by the same rule,
    on every element container: an upgrade that changes it fails here."""
    static = Path(streamlit.__file__).parent / "static" / "static" / "js"
    rule = re.compile(r"`st-key-`\+(\w+)\.trim\(\)\.replaceAll\(/\[\^a-zA-Z0-9_-\]/g,`-`\)")
    hits = [f for f in static.glob("index.*.js") if rule.search(f.read_text(encoding="utf-8", errors="replace"))]
    assert hits, f"st-key- class rule not found in Streamlit {streamlit.__version__}'s frontend"
    src = hits[0].read_text(encoding="utf-8", errors="replace")
    m = re.search(r"function (\w+)\(\w+\)\{return \w+\?`st-key-`", src)
    assert m and re.search(r"className:\[`stElementContainer`,`element-container`," + m.group(1) + r"\(", src)


@pytest.mark.parametrize("key,cls", [("deprivation_measure", "st-key-deprivation_measure"),
                                     ("a b", "st-key-a-b"), (" x:y ", "st-key-x-y")])
def test_key_class(key, cls):
    assert key_class(key) == cls
