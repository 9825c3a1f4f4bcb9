"""Services layer in the app: per-rerun payload stays tiny (points and popups go to a
static file fetched once), the static file is escaped and Jinja-inert, uploads get their
own file, the ward table carries the outreach columns, legend swatches match the map's
marker shapes, and URL-seeded widgets raise no Session State warning. AppTest, no browser."""
from __future__ import annotations

import json
import logging
import re

from streamlit.testing.v1 import AppTest

from geo.paths import ROOT
from render.static_files import STATIC_DIR, URL_PREFIX

APP = str(ROOT / "app.py")
XSS = '<img src=x onerror="window.__x=1">{{ 7*7 }}'


def _run(at=None, **session):
    at = at or AppTest.from_file(APP, default_timeout=180)
    for k, v in session.items():
        at.session_state[k] = v
    return at.run()


def _fg(at) -> str:
    comps = at.get("component_instance")
    assert len(comps) == 1
    return json.loads(comps[0].proto.json_args)["feature_group"]


def _services_part(fg: str) -> dict:
    m = re.search(r'LSC\.set\("services",(\{.*?\})\);', fg, re.S)
    assert m, "no services part in the feature groups"
    return json.loads(m.group(1))


def _file(url: str) -> str:
    assert url.startswith(f"{URL_PREFIX}/gen/"), url
    return (STATIC_DIR / url[len(URL_PREFIX) + 1:]).read_text(encoding="utf-8")


def test_services_rerun_payload_is_tiny_and_points_are_in_a_static_file(store):
    at = _run()
    assert not at.exception
    fg = _fg(at)
    part = _services_part(fg)
    assert set(part) == {"show", "files", "cats", "closed"}
    assert len(json.dumps(part)) < 1_000
    # no popup markup and no coordinates travel with the rerun
    assert "lsc-svc-popup" not in fg and "<table" not in fg and "<svg" not in fg
    assert len(fg) < 30_000, len(fg)
    assert len(part["files"]) == 1 and re.fullmatch(r"/app/static/gen/services\.[0-9a-f]{16}\.json",
                                                    part["files"][0])
    data = json.loads(_file(part["files"][0]))
    assert set(part["cats"]) <= set(data["styles"])
    n = sum(len(v) for v in data["pts"].values())
    assert n > 200 and all("lsc-svc-popup" in p[2] for v in data["pts"].values() for p in v)
    # a rerun that changes the measure sends the same services part
    at.selectbox(key="deprivation_measure").set_value("crime").run()
    assert _services_part(_fg(at)) == part
    # toggling a category or closed sites changes only the filters, never the files
    at.checkbox(key="services_closed").check().run()
    p2 = _services_part(_fg(at))
    assert p2["closed"] is True and p2["files"] == part["files"]


def test_upload_gets_its_own_escaped_inert_file(store):
    at = _run()
    from geo import services as sv
    csv = f'id,name,category,postcode\nT-1,"{XSS.replace(chr(34), chr(34) * 2)}",hospital,PR2 9HT\n'
    res = sv.import_bytes(csv.encode(), "hostile.csv")
    assert len(res.records) == 1, res.summary()
    at.session_state["services_uploads"] = {"abc123": res}
    at.run()
    assert not at.exception
    part = _services_part(_fg(at))
    assert len(part["files"]) == 2 and "/svcup." in part["files"][1]
    text = _file(part["files"][1])
    assert "{{" not in text and "{%" not in text and "</" not in text
    assert "<img" not in text                       # escaped in the popup and tooltip
    pts = json.loads(text)["pts"]["hospital"]
    assert "&lt;img src=x onerror=&quot;window.__x=1&quot;&gt;{{ 7*7 }}" in pts[0][2]
    assert pts[0][3].startswith("&lt;img")
    # the legend counts the upload
    base = json.loads(_file(part["files"][0]))
    n_hosp_open = sum(1 for p in base["pts"]["hospital"] if not p[4]) + 1
    assert any(f"NHS hospital sites: {n_hosp_open} shown" in m.value for m in at.markdown)


def test_ward_table_has_outreach_columns_for_every_ward(store):
    """Days since the HARI bus for every ward of the area (the ward hosting a stop is not
    blank because it is not a priority ward); no stop = the words, not None."""
    at = _run()
    tables = [d.value for d in at.dataframe if "Ward code" in d.value.columns]
    assert tables, "no ward table"
    t = tables[0]
    days = [c for c in t.columns if c.startswith("Days since HARI bus")]
    assert days and "Last HARI stop" in t.columns
    from layers.services import NO_STOP, outreach_columns
    from layers.base import MapContext
    want = outreach_columns(MapContext(store=store, fingerprint="t"), t["Ward code"]).set_index("code")
    got = t.set_index("Ward code")[days[0]]
    import pandas as pd
    pd.testing.assert_series_equal(got, want[days[0]].reindex(got.index), check_dtype=False,
                                   check_names=False, check_index_type=False)
    hosts = t[t[days[0]].notna()]
    assert len(hosts) and (hosts["Priority"] == "").any()        # wards with a stop, priority or not
    assert (t.loc[t[days[0]].isna(), "Last HARI stop"] == NO_STOP).all()
    assert not t["Last HARI stop"].isna().any()


def test_legend_swatches_match_marker_shapes():
    from layers.base import LegendItem
    from layers.panels import legend_html
    from geo import services as sv
    cats = sv.load_config()["categories"]
    shapes = {c.get("shape", "circle") for c in cats.values()}
    assert {"diamond", "triangle", "star", "hexagon"} <= shapes      # hexagon: CDCs
    for shape in ("diamond", "triangle", "star", "hexagon"):
        html = legend_html([__import__("layers.base", fromlist=["LegendEntry"]).LegendEntry(
            "t", [LegendItem("x", fill="#b2182b", stroke="#1a1a1a", shape=shape)])])
        assert f'class="lsc-sw-{shape}"' in html and "<polygon" in html and "<rect" not in html


def test_url_seeded_widgets_raise_no_session_state_warning(store, monkeypatch):
    """layers/share.py seeds widget keys from the link before the widgets exist; widgets
    must then take their value from session_state only (no value=/index= as well)."""
    from streamlit.elements.lib import policies
    said: list[str] = []
    monkeypatch.setattr(policies, "_shown_default_value_warning", False)
    monkeypatch.setattr(policies._LOGGER, "warning", lambda msg, *a, **k: said.append(msg % a))
    at = AppTest.from_file(APP, default_timeout=180)
    at.query_params["measure"] = "health"
    at.query_params["core20"] = "0"
    at.query_params["layers"] = "deprivation,wards,priority,services"
    at.query_params["n"] = "4"
    at.run()
    assert not at.exception
    assert not [m for m in said if "Session State API" in m], said
    assert at.selectbox(key="deprivation_measure").value == "health"
    assert at.checkbox(key="deprivation_core20").value is False
    assert at.number_input(key="priority_n").value == 4
