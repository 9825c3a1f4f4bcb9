"""Links with the indicators or access layer on: the standalone HTML export (and so the
PNG snapshot) draws that layer with its legend from the URL view state alone, exactly as
the app's legend code does (no Streamlit session, no widgets); and the same links opened
in the app seed the layers' widgets with no Session State warning."""
from __future__ import annotations

import json
import re
import subprocess
import sys

import numpy as np
import pytest

from geo import classify as C
from geo import indicators as I
from geo import viewstate as VS
from geo.paths import ROOT
from layers.base import esc

IND = "pct_bad_or_very_bad_health"
IND_QUERY = f"layers=deprivation,wards,indicators&ind=census_ward:{IND}&cls=natural_breaks&k=4"
ACC_QUERY = "layers=wards,access&acc=act&thr=10"


def _part(html: str, key: str) -> dict:
    m = re.search(r'LSC\.set\("' + key + r'",(\{.*?\})\);', html, re.S)
    assert m, f"no {key} part in the page"
    return json.loads(m.group(1))


def _legend(html: str) -> str:
    i = html.index('<div id="lsc-legend-panel">')
    return html[i:html.index('<div id="lsc-foot">', i)]


def _page(store, query: str) -> tuple[str, list[str], VS.ViewState]:
    from layers.export_html import standalone_html
    state, notices = VS.parse_query_string(query, VS.known_from_store(store))
    assert notices == []
    notes: list[str] = []
    return standalone_html(store, state, notes=notes), notes, state


@pytest.fixture(scope="module")
def census(store):
    return I.load_builtin("census_ward", store).prepare()


@pytest.fixture(scope="module")
def ind_page(store):
    return _page(store, IND_QUERY)


def test_indicator_link_draws_the_choropleth_and_its_legend(store, census, ind_page):
    html, notes, state = ind_page
    assert not [n for n in notes if "drawn only in the app" in n or "could not be drawn" in n], notes
    # the expected classes, straight from geo (the file's latest period, on the drawn ward set)
    assert census.target == "wd19"
    period = census.periods(IND)[-1]
    codes = store.wards19["wd19cd"].tolist()
    v = census.values(IND, period)
    status = v["status"].reindex(codes).fillna("missing").to_numpy(str)
    vals = np.where(status == "ok", v["value"].reindex(codes).to_numpy(float), np.nan)
    cl = C.classify(vals, "natural_breaks", 4)
    rows = C.legend_rows(cl, C.palette(cl, "sequential", None, census.meta[IND]["polarity"]),
                         C.decimals_for(vals[np.isfinite(vals)], cl.bins),
                         n_suppressed=int((status == "suppressed").sum()))
    classes = [r for r in rows if r["kind"] == "class"]
    n_missing = int((status == "missing").sum())
    assert len(classes) == 4 and n_missing > 0

    part = _part(html, "indicators")
    assert part["show"] is True and part["object"] == "wards19"
    assert len(part["cls"]) == len(codes) and part["colors"] == [r["colour"] for r in classes]
    assert [part["cls"].count(i) for i in range(4)] == [r["count"] for r in classes]
    assert part["cls"].count(-1) == n_missing
    assert part["extra"] and f'"{part["extra"]}":Promise.resolve(' in html     # Dec-2019 wards seeded
    assert "LscIndicatorPainter" in html or "LSC._applyInd" in html
    # the snapshot waits for the painter to finish this very round
    assert f'window.LSC_WAIT=[["data-lsc-ind","{part["v"]}:"]]' in html

    legend = _legend(html)
    meta = census.meta[IND]
    assert esc(meta["label"]) in legend
    for r in classes:
        assert esc(f"{r['label']}  ({r['count']})") in legend, r
    assert esc(f"Period: {period}") in legend and "Census 2021" in legend
    assert esc(meta.get("source") or census.source) in legend
    assert esc(f"No data ({n_missing})") in legend
    assert esc(C.METHODS["natural_breaks"]) in legend
    # the view line carries the indicator choice, so the file says which link it came from
    assert "ind=census_ward%3Apct_bad_or_very_bad_health" in html and "cls=natural_breaks" in html


def test_indicator_payload_is_jinja_inert(ind_page):
    html, _, _ = ind_page
    m = re.search(r'LSC\.set\("indicators",(\{.*?\})\);', html, re.S)
    assert "{{" not in m.group(1) and "{%" not in m.group(1) and "</" not in m.group(1)


def test_indicator_k_and_fixed_breaks_from_the_link(store):
    from layers.indicators import state_from_view
    s = state_from_view(VS.ViewState.of(layers=("indicators",), ind=f"census_ward:{IND}", k=9), store)
    assert s["on"] and s["k"] == 7 and s["method"] == "quantiles"        # the slider's 3-7
    s = state_from_view(VS.ViewState.of(layers=("indicators",), ind=f"census_ward:{IND}", cls="fixed",
                                     brk=(10.0, 5.0)), store)
    assert s["method"] == "fixed" and s["thresholds"] == (5.0, 10.0)
    assert state_from_view(VS.ViewState.of(layers=("deprivation",), ind=f"census_ward:{IND}"), store) == {"on": False}


def test_unknown_indicator_is_a_note_not_a_crash(store):
    html, notes, _ = _page(store, "layers=deprivation,indicators&ind=census_ward:no_such_thing")
    assert any("Indicators" in n and "no_such_thing" in n for n in notes), notes
    assert 'LSC.set("indicators"' not in html
    assert "Index of Multiple Deprivation: national decile" in html


def test_access_link_draws_the_layer_with_a_straight_line_legend(store):
    html, notes, _ = _page(store, ACC_QUERY)
    assert not [n for n in notes if "drawn only in the app" in n or "could not be drawn" in n], notes
    m = re.search(r"LSC\.paint\.access\(\w+, (\{.*?\})\);\n", html, re.S)
    assert m, "no access script in the page"
    p = json.loads(m.group(1))
    assert len(p["cls"]) == len(store.lsoa) and set(p["cls"]) <= set(range(7))
    assert "{{" not in m.group(1) and "</" not in m.group(1)
    assert f'window.LSC_WAIT=[["data-lsc-access","{p["key"]}"]]' in html
    legend = _legend(html)
    assert "Access: straight-line distance to nearest open site" in legend
    assert esc("Alcohol Care Team (ACT) hospitals") in legend
    assert "Straight-line distance, not road distance or travel time." in legend
    # the link's 10 km threshold, with the people beyond it (from geo.access)
    from geo import access as ac
    from layers.access import _per_lsoa
    from layers.services import register_key, today
    per = _per_lsoa(store, "", ("act",), today(), register_key(), None, "")[0]
    beyond = ac.summarise(per, "lsoa", threshold_km=10.0)["population_beyond"].sum()
    assert f"{int(round(beyond)):,} people live beyond 10 km (straight-line)" in legend
    assert "acc=act" in html and "thr=10" in html
    # in a place, the count is the place's (as the app's access table under the map)
    html, _, _ = _page(store, ACC_QUERY + "&area=place5:Pennine Lancashire")
    here = per[per["place5"] == "Pennine Lancashire"]
    beyond = ac.summarise(here, "lsoa", threshold_km=10.0)["population_beyond"].sum()
    assert 0 < beyond < per[ac.POP_COL].sum()
    assert f"{int(round(beyond)):,} people in Pennine Lancashire live beyond 10 km (straight-line)" in _legend(html)


def test_access_defaults_and_clamping(store):
    from layers.access import state_from_view
    s = state_from_view(VS.ViewState(layers=("access",)), store)
    assert s["on"] and s["cats"] == ["screening"] and s["threshold_km"] == 5.0 and s["travel"] is None
    s = state_from_view(VS.ViewState.of(layers=("access",), acc=("act", "gone"), thr=123.0), store)
    assert s["cats"] == ["act"] and s["threshold_km"] == 40.0


@pytest.mark.parametrize("query,marker", [
    (IND_QUERY, "Bad or very bad general health"),
    (ACC_QUERY, "straight-line distance to nearest open site"),
])
def test_cli_export_html_writes_the_layer(tmp_path, store, query, marker):
    out = tmp_path / "view.html"
    r = subprocess.run([sys.executable, "-m", "geo", "export", "--format", "html", "--out", str(out),
                        "--url-state", query, "--strict"],
                       cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "drawn only in the app" not in r.stderr
    html = out.read_text(encoding="utf-8")
    assert marker in _legend(html)


# ------------------------------------------------------------------ app: URL-seeded widgets
def _no_session_state_warning(monkeypatch, query: dict):
    from streamlit.elements.lib import policies
    from streamlit.testing.v1 import AppTest
    said: list[str] = []
    monkeypatch.setattr(policies, "_shown_default_value_warning", False)
    monkeypatch.setattr(policies._LOGGER, "warning", lambda msg, *a, **k: said.append(msg % a))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    for k, v in query.items():
        at.query_params[k] = v
    at.run()
    assert not at.exception, at.exception
    assert not [m for m in said if "Session State API" in m], said
    return at


def test_indicator_link_seeds_widgets_without_session_state_warning(store, monkeypatch):
    at = _no_session_state_warning(monkeypatch, {"layers": "deprivation,wards,indicators",
                                                 "ind": f"census_ward:{IND}", "cls": "natural_breaks",
                                                 "k": "4"})
    assert at.checkbox(key="indicators_on").value is True
    assert at.selectbox(key="indicators_dataset").value == "census_ward"
    assert at.selectbox(key="indicators_indicator").value == IND
    assert at.selectbox(key="indicators_method").value == "natural_breaks"
    assert at.slider(key="indicators_k").value == 4


def test_access_link_seeds_widgets_without_session_state_warning(store, monkeypatch):
    at = _no_session_state_warning(monkeypatch, {"layers": "wards,access", "acc": "act", "thr": "10"})
    assert at.checkbox(key="access_on").value is True
    assert at.multiselect(key="access_cats").value == ["act"]
    assert at.slider(key="access_thr_km").value == 10.0


def test_cli_snapshot_waits_for_the_indicator_painter(tmp_path, store):
    """The PNG is taken only once the page's LSC_WAIT attributes are set (render.png
    READY_JS), i.e. after the indicator painter finished its round."""
    out, page = tmp_path / "view.png", tmp_path / "view.html"
    r = subprocess.run([sys.executable, "-m", "geo", "snapshot", "--url-state", IND_QUERY, "--out", str(out),
                        "--html-out", str(page), "--width", "800", "--height", "600", "--strict"],
                       cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    html = page.read_text(encoding="utf-8")
    v = _part(html, "indicators")["v"]
    from playwright.sync_api import sync_playwright

    from render.png import CHROMIUM, CHROMIUM_ARGS, READY_JS
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            p = b.new_context(viewport={"width": 800, "height": 600}, offline=True).new_page()
            p.goto(page.as_uri(), wait_until="load")
            p.wait_for_function(READY_JS)
            attr = p.evaluate("() => document.body.getAttribute('data-lsc-ind')")
        finally:
            b.close()
    assert attr.startswith(f"{v}:") and int(attr.split(":")[1]) > 200
