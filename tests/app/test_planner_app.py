"""The "Plan outreach" section in the app (AppTest, no browser): stops on the map as a
small payload, the table and curve, what-if clicks, escaping, exports round-trip."""
from __future__ import annotations

import json
import re

import pandas as pd
from streamlit.testing.v1 import AppTest

from geo.paths import ROOT

APP = str(ROOT / "app.py")


def _fg(at) -> str:
    comps = at.get("component_instance")
    assert len(comps) == 1
    return json.loads(comps[0].proto.json_args)["feature_group"]


def _plan_payload(fg: str) -> dict | None:
    m = re.search(r"LSC\.paint\.planner\(\w+, (\{\"stops\".*?\})\);", fg, re.S)
    return json.loads(m.group(1)) if m else None


def _start(**session):
    at = AppTest.from_file(APP, default_timeout=240)
    at.session_state["area"] = "district:E06000009"        # Blackpool
    at.session_state["planner_on"] = True
    at.session_state["planner_k"] = 3
    for k, v in session.items():
        at.session_state[k] = v
    return at.run()


def test_plan_section_draws_stops_table_and_curve(store):
    at = _start()
    assert not at.exception, at.exception
    p = _plan_payload(_fg(at))
    assert p is not None and len(p["stops"]) == 3
    assert [s[2] for s in p["stops"]] == [1, 2, 3]
    assert p["r"] == 1500.0
    for lat, lon, *_ in p["stops"]:
        assert 53.7 < lat < 53.9 and -3.1 < lon < -2.9
    assert len(json.dumps(p)) < 3000                       # a small payload, no geometry
    tables = [d for d in at.dataframe if "marginal gain" in d.value.columns]
    assert len(tables) == 1
    t = tables[0].value
    assert len(t) == 3 and list(t["stop"]) == [1, 2, 3]
    assert (t["Core20 covered"] <= t["people covered"]).all()
    assert t["marginal gain"].is_monotonic_decreasing
    assert any("Current HARI schedule" in m.label for m in at.metric)
    legend = " ".join(m.value for m in at.markdown)
    assert "Plan outreach: 3 stops in Blackpool" in legend


def test_turning_it_off_removes_the_stops(store):
    at = _start()
    at.checkbox(key="planner_on").uncheck().run()
    assert not at.exception
    assert _plan_payload(_fg(at)) is None


def test_whatif_click_adds_a_stop_and_keeps_the_profile_closed(store):
    at = _start(planner_click=True)
    before = _plan_payload(_fg(at))
    # the map reports a click (as st_folium would): the app's handler opens the ward profile
    at.session_state["map"] = {"last_clicked": {"lat": 53.8175, "lng": -3.0357}}
    at.session_state["selected_ward"] = "E05015202"
    at.run()
    assert not at.exception, at.exception
    after = _plan_payload(_fg(at))
    assert len(after["stops"]) == len(before["stops"]) + 1
    assert sum(s[4] for s in after["stops"]) == 1          # one what-if stop, drawn apart
    assert at.session_state["selected_ward"] is None
    t = [d for d in at.dataframe if "marginal gain" in d.value.columns][0].value
    assert t["venue"].str.contains("what-if").sum() == 1
    at.run()                                                 # the same click is not added twice
    assert len(_plan_payload(_fg(at))["stops"]) == len(after["stops"])


def test_hostile_venue_names_are_escaped(store):
    from geo import planner as pl
    from layers.planner import map_payload
    res = pl.PlanResult(stops=[pl.Stop("X", '<img src=x onerror="alert(1)">{{7*7}}', 53.8, -3.05, 331000, 436000,
                                       10.0)], total_weight=10, already_covered_weight=0, covered_weight=10,
                        optimal=True, gap=0.0, status="optimal", method="exact", greedy_covered_weight=10,
                        demand=pd.DataFrame(), radius_km=1.0, weight="core20", weight_label="<b>w</b>")
    p = map_payload(res)
    tip = p["stops"][0][3]
    assert "<img" not in tip and "&lt;img" in tip and "&lt;b&gt;w&lt;/b&gt;" in tip
    from layers.base import js_json
    assert "{{" not in js_json(p)


def test_exports_round_trip_through_the_services_validator(store):
    at = _start()
    btn = [b for b in at.get("download_button") if "CSV" in str(b.proto.label)]
    assert btn, "no CSV download"
    # the downloadable CSV (the same frame) passes the services validator as planned HARI stops
    from geo import planner as pl
    from geo import services as sv
    from geo.csvsafe import safe_csv_bytes
    t = [d for d in at.dataframe if "marginal gain" in d.value.columns][0].value
    res = pl.PlanResult(stops=[pl.Stop(str(i), str(v), 53.8 + j / 100, -3.05, 331000, 436000, 1.0)
                               for j, (i, v) in enumerate(zip(t["id"], t["venue"]))],
                        total_weight=10, already_covered_weight=0, covered_weight=3, optimal=True, gap=0.0,
                        status="optimal", method="exact", greedy_covered_weight=3, demand=pd.DataFrame(),
                        radius_km=1.5)
    out = sv.import_bytes(safe_csv_bytes(pl.schedule_frame(res, "2026-03-02", 2)), "plan.csv")
    assert out.ok and len(out.records) == 3 and len(out.rejected) == 0
    assert (out.records["category"] == "hari_bus").all() and (out.records["status"] == "planned").all()
    assert list(out.records["event_date"]) == ["2026-03-02", "2026-03-05", "2026-03-09"]
    assert list(out.records["id"]) == ["PLAN-01", "PLAN-02", "PLAN-03"]
    # the downloadable CSV has the HARI template's columns
    tpl = pd.read_csv(ROOT / "data/templates/hari_bus_template.csv").columns.tolist()
    assert pl.HARI_COLUMNS == tpl


def test_xlsx_export_has_the_schedule_and_neutralised_cells():
    import io

    from openpyxl import load_workbook

    from geo import planner as pl
    from layers.planner import xlsx_bytes
    res = pl.PlanResult(stops=[pl.Stop("X", "=HYPERLINK(\"http://x\")", 53.8, -3.05, 331000, 436000, 10.0)],
                        total_weight=10, already_covered_weight=0, covered_weight=10, optimal=True, gap=0.0,
                        status="optimal", method="exact", greedy_covered_weight=10, demand=pd.DataFrame(),
                        radius_km=1.0, weight="core20", weight_label="Core20")
    sched = pl.schedule_frame(res, "2026-03-02", per_week=1)
    wb = load_workbook(io.BytesIO(xlsx_bytes(sched, pd.DataFrame({"item": ["k"], "value": [1]}),
                                             pd.DataFrame({"venue": ["=cmd"]}))))
    assert wb.sheetnames == ["schedule", "stops", "about"]
    rows = list(wb["schedule"].values)
    assert list(rows[0]) == pl.HARI_COLUMNS
    place = rows[1][pl.HARI_COLUMNS.index("place")]
    assert place.startswith("'=")                             # never a live formula
    assert rows[1][pl.HARI_COLUMNS.index("event_date")] == "2026-03-02"
    assert wb["stops"]["A2"].value == "'=cmd"


def test_excluding_a_venue_replans_without_it(store):
    at = _start()
    t = [d for d in at.dataframe if "marginal gain" in d.value.columns][0].value
    first = t["id"].iloc[0]
    at.multiselect(key="planner_exclude").set_value([first]).run()
    assert not at.exception, at.exception
    t2 = [d for d in at.dataframe if "marginal gain" in d.value.columns][0].value
    assert first not in set(t2["id"]) and len(t2) == 3
    assert t2["marginal gain"].sum() <= t["marginal gain"].sum()


def test_bad_weights_upload_is_reported_not_raised(store):
    at = _start(planner_weight="file")
    assert not at.exception, at.exception
    msgs = " ".join(w.value for w in at.warning)
    assert "upload a file of counts per LSOA" in msgs
