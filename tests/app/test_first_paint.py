"""The map-first run (layers/view.py): a session's first run draws the map, legend and
notes with the sidebar's widgets run for their values only; the full page follows.
AppTest cannot run the map's JS, so the runtime's signal is stood in for by setting the
flag it sets (layers/view.py _on_map_change); tests/e2e/test_first_paint_e2e.py drives
the real signal and the fallback timer in Chromium."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[2] / "app.py")


@pytest.fixture
def progressive(monkeypatch, store):
    monkeypatch.setenv("LSC_PROGRESSIVE", "1")


def _map_args(at) -> dict:
    comps = [e for e in at.main if type(e).__name__ == "UnknownElement"
             and getattr(e, "type", "") == "component_instance"]
    assert len(comps) == 1, "exactly one map component"
    return json.loads(comps[0].proto.json_args)


def _deprivation_payload(fg_js: str) -> dict:
    m = re.search(r'LSC\.set\("deprivation",(\{.*?\})\);', fg_js)
    assert m, "no deprivation part in the map's feature groups"
    return json.loads(m.group(1))


def _full_page(at):
    at.session_state["_lsc_full_page"] = True     # what the runtime's signal sets
    return at.run()


def test_first_run_draws_map_and_legend_but_no_widgets(progressive, store):
    at = AppTest.from_file(APP, default_timeout=120).run()
    assert not at.exception
    assert [c.value for c in at.sidebar.caption] == ["Loading the controls…"]
    assert len(at.selectbox) == len(at.radio) == len(at.checkbox) == 0   # nothing drawn
    assert len(at.dataframe) == 0                                        # no tables yet
    fg = _map_args(at)["feature_group"]
    dep = _deprivation_payload(fg)
    assert dep["cls"] == store.lsoa25["imd_decile"].astype(int).tolist()   # the default view: IoD2025
    assert any("Index of Multiple Deprivation" in m.value for m in at.markdown)   # legend
    assert "Open Government Licence" in " ".join(c.value for c in at.caption)


def test_full_page_keeps_the_map_and_shows_the_links_values(progressive, store):
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["measure"] = "income"
    at.query_params["deciles"] = "local"
    at.run()
    fg1 = _map_args(at)["feature_group"]
    assert _deprivation_payload(fg1)["cls"] == store.lsoa25["income_local_decile"].astype(int).tolist()
    _full_page(at)
    assert not at.exception
    # same map arguments: the iframe is not re-rendered, nothing repaints
    assert _map_args(at)["feature_group"] == fg1
    assert "Loading the controls…" not in [c.value for c in at.sidebar.caption]
    sel = at.selectbox(key="deprivation_measure")
    rad = at.radio(key="deprivation_local")
    assert sel.value == "income" and rad.value is True
    # the browser draws a new widget from its default unless the value is flagged: the
    # link's values must be flagged (layers/view.py restore_first_paint_widgets)
    assert sel.proto.set_value and rad.proto.set_value
    assert len(at.dataframe) >= 1                                        # the ward table
    # and a later rerun behaves as usual (value kept, nothing re-flagged)
    at.run()
    assert at.selectbox(key="deprivation_measure").value == "income"
    assert not at.selectbox(key="deprivation_measure").proto.set_value


def _browser_start_value(w):
    """What the browser shows when it first draws widget `w`: the flagged value, else
    the default (Streamlit's frontend rule). Radio/selectbox values as option labels."""
    p = w.proto
    if type(w).__name__ == "Checkbox":
        return p.value if p.set_value else p.default
    if p.set_value:
        return p.raw_value
    return p.options[p.default] if 0 <= p.default < len(p.options) else None


def _label(w):
    if type(w).__name__ == "Checkbox":
        return w.value
    return w.proto.options[w.index]


@pytest.mark.parametrize("query", [{}, {"measure": "crime", "vintage": "2025", "core20": "0",
                                        "labels": "0", "prio": "icb"}])
def test_every_sidebar_widget_starts_from_its_value(progressive, store, query):
    """After the map-first run, each checkbox/radio/selectbox the browser draws for the
    first time starts from the session's value (link or default), never from a stale
    default."""
    at = AppTest.from_file(APP, default_timeout=120)
    for k, v in query.items():
        at.query_params[k] = v
    at.run()
    _full_page(at)
    assert not at.exception
    checked = 0
    for w in list(at.sidebar.checkbox) + list(at.sidebar.radio) + list(at.sidebar.selectbox):
        if w.key is None or (type(w).__name__ == "Selectbox" and w.value is None):
            continue
        assert _browser_start_value(w) == _label(w), w.key
        checked += 1
    assert checked >= 10


def test_progressive_off_draws_the_full_page_at_once(monkeypatch, store):
    monkeypatch.setenv("LSC_PROGRESSIVE", "0")
    at = AppTest.from_file(APP, default_timeout=120).run()
    assert at.selectbox(key="deprivation_measure").value == "imd"
    assert "Loading the controls…" not in [c.value for c in at.sidebar.caption]
