"""The planner in the link and in exports (issue #14 items 4-5): the plan's settings go
into the URL (params plan, planx), a link reopens the same settings and stops, bad parts
fall back with a notice; the standalone HTML export (and so the PNG snapshot and
`geo export --format html --url-state`) draws the plan's numbered stops and circles."""
from __future__ import annotations

import json
import re
import subprocess
import sys

from streamlit.testing.v1 import AppTest

from geo import viewstate as VS
from geo.paths import ROOT

APP = str(ROOT / "app.py")
LINK = {"layers": "deprivation,planner", "area": "district:E06000009",
        "plan": "k:3,km:2,w:population,c:gp,v:2019,sep:1,recent:30,first:2027-03-01,pw:3"}


def _payloads(text: str) -> list[dict]:
    return [json.loads(m) for m in re.findall(r"LSC\.paint\.planner\(\w+, (\{\"stops\".*?\})\);", text, re.S)]


def test_plan_params_round_trip_and_clamp():
    s, notes = VS.from_query({"layers": "planner", "plan": "k:99,km:3.3,w:core20,c:postcodes,g:1000,"
                                                            "cov:hospital+gp,first:2027-02-30,pw:9,zz:1",
                              "planx": "P81001,FY1 1AA,<script>"})
    p = s.get("plan")
    assert (p.k, p.km, p.cand, p.grid_m, p.existing, p.per_week) == (40, 3.5, "postcodes", 1000, ("gp", "hospital"), 7)
    assert p.first is None and p.exclude == ("P81001", "FY1 1AA")
    text = " ".join(map(str, notes))
    assert "'first' must be a date" in text and "Unknown plan setting 'zz'" in text
    assert "could not be read" in text and "<script>" not in text
    q = VS.to_query(s)
    assert q["plan"].startswith("k:40,km:3.5,w:core20,c:postcodes") and q["planx"] == "P81001,FY1 1AA"
    back, n2 = VS.from_query(q)
    assert back == s and n2 == []
    assert VS.from_query({"layers": "deprivation"})[0].get("plan") is None


def test_link_reopens_the_same_plan_settings_and_writes_them_back(store):
    at = AppTest.from_file(APP, default_timeout=300)
    for k, v in LINK.items():
        at.query_params[k] = v
    at.run()
    assert not at.exception, at.exception
    ss = at.session_state
    assert ss["planner_on"] is True and ss["planner_k"] == 3 and ss["planner_km"] == 2.0
    assert ss["planner_weight"] == "population" and ss["planner_minkm"] == 1.0 and ss["planner_pw"] == 3
    assert str(ss["planner_first"]) == "2027-03-01"
    fg = json.loads(at.get("component_instance")[0].proto.json_args)["feature_group"]
    [p] = _payloads(fg)
    assert len(p["stops"]) == 3 and p["r"] == 2000.0
    q = dict(at.query_params)
    assert VS.from_query(q)[0].get("plan") == VS.from_query(LINK)[0].get("plan")
    # an edit goes into the link
    at.number_input(key="planner_k").set_value(4).run()
    assert dict(at.query_params)["plan"].startswith("k:4,")


def test_standalone_html_draws_the_plan(store):
    from layers.export_html import standalone_html
    state, _ = VS.from_query(LINK)
    notes: list[str] = []
    html = standalone_html(store, state, notes=notes)
    [p] = _payloads(html)
    assert [s[2] for s in p["stops"]] == [1, 2, 3] and p["r"] == 2000.0
    assert "Plan outreach: 3 stops in Blackpool" in html
    assert not [n for n in notes if "Plan outreach" in n], notes
    assert "L.circle(" in html and "lsc-plan-stop" in html


def test_geo_export_html_with_the_planner(store, tmp_path):
    out = tmp_path / "plan.html"
    qs = "&".join(f"{k}={v}" for k, v in LINK.items())
    r = subprocess.run([sys.executable, "-m", "geo", "export", "--format", "html", "--out", str(out),
                        "--url-state", qs], cwd=ROOT, capture_output=True, text=True, timeout=600,
                       env={**__import__("os").environ, "LSC_USER_DATA_DIR": str(tmp_path / "u")})
    assert r.returncode == 0, r.stderr[-2000:]
    [p] = _payloads(out.read_text(encoding="utf-8"))
    assert len(p["stops"]) == 3
