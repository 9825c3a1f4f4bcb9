"""Saved plans and planned schedules (issue #14): a plan is saved, listed, reopened
(inputs and the same stops back on the map), deleted and restored, in the user-data
store; two saves under one name at once both keep their version; "Save as schedule"
writes planned, dated HARI bus stops that the services layer and the outreach
"days since / next visit" figures then read. AppTest and the real functions."""
from __future__ import annotations

import datetime as dt
import json
import re
import threading

import pytest
from streamlit.testing.v1 import AppTest

from geo import plan_store as ps
from geo import userdb
from geo.errors import GeoError
from geo.paths import ROOT

APP = str(ROOT / "app.py")


@pytest.fixture
def user_dir(tmp_path, monkeypatch):
    monkeypatch.delenv("LSC_DATABASE_URL", raising=False)
    monkeypatch.setenv("LSC_USER_DATA_DIR", str(tmp_path / "user"))
    return tmp_path / "user"


def _stops(at) -> list:
    comps = at.get("component_instance")
    fg = json.loads(comps[0].proto.json_args)["feature_group"]
    m = re.search(r"LSC\.paint\.planner\([^,]+, (\{\"stops\".*?\})\);", fg, re.S)   # render.map.GroupPaint
    return json.loads(m.group(1))["stops"] if m else []


def _table(at):
    return [d for d in at.dataframe if "marginal gain" in d.value.columns][0].value


def _start(**session):
    at = AppTest.from_file(APP, default_timeout=300)
    at.session_state["area"] = "district:E06000009"        # Blackpool
    at.session_state["planner_on"] = True
    at.session_state["planner_k"] = 3
    for k, v in session.items():
        at.session_state[k] = v
    return at.run()


def _saved_buttons(at, prefix: str):
    return [b for b in at.button if str(b.key or "").startswith(prefix)]


def test_save_list_reopen_delete_restore(store, user_dir):
    at = _start(planner_first=dt.date(2027, 3, 1), planner_pw=2)
    assert not at.exception, at.exception
    first = _table(at)
    at.text_input(key="planner_name").set_value("Blackpool <b>spring</b> round").run()
    at.button(key="planner_saveplan").click().run()
    assert not at.exception, at.exception
    assert any("Saved 'Blackpool <b>spring</b> round' as version 1" in s.value.replace("\\", "")
               for s in at.success)
    [e] = ps.list_plans()
    assert e.name == "Blackpool <b>spring</b> round" and e.rows == 3 and e.meta["area"] == "Blackpool"
    doc = ps.load_plan(e.name)
    assert [s["id"] for s in doc["stops"]] == list(first["id"])
    assert doc["inputs"]["k"] == 3 and doc["inputs"]["first"] == "2027-03-01" and doc["area"]["code"] == "E06000009"

    # a new session (a reload): the plan is listed; Open restores area, inputs and stops
    at2 = AppTest.from_file(APP, default_timeout=300)
    at2.session_state["planner_saved_open"] = True
    at2.run()
    assert not at2.exception, at2.exception
    assert _stops(at2) == []
    assert any("Blackpool" in c.value and "3 stops" in c.value for c in at2.caption)
    assert not [c for c in at2.caption if "<b>" in c.value]          # the name is shown escaped
    _saved_buttons(at2, "planner_open_")[0].click().run()
    assert not at2.exception, at2.exception
    assert at2.session_state["area"] == "district:E06000009"
    assert at2.session_state["planner_k"] == 3 and at2.session_state["planner_first"] == dt.date(2027, 3, 1)
    assert [s[2] for s in _stops(at2)] == [1, 2, 3]
    assert list(_table(at2)["id"]) == list(first["id"])
    assert any("its stops are shown as saved" in i.value for i in at2.info)
    # changing an input re-plans (the pin is dropped)
    at2.number_input(key="planner_k").set_value(4).run()
    assert len(_stops(at2)) == 4 and "planner_pinned" not in at2.session_state

    # Delete, then Restore (the undo)
    _saved_buttons(at2, "planner_del_")[0].click().run()
    assert ps.list_plans() == [] and [x.name for x in ps.list_plans(removed=True)] == [e.name]
    assert _saved_buttons(at2, "planner_open_") == []
    _saved_buttons(at2, "planner_undel_")[0].click().run()
    assert not at2.exception, at2.exception
    assert [x.name for x in ps.list_plans()] == [e.name]
    assert len(_saved_buttons(at2, "planner_open_")) == 1


def test_pinned_stops_stay_when_the_data_would_choose_others(store, user_dir):
    """A saved plan reopens with its own stops even if re-planning would now pick others."""
    at = _start()
    ids = list(_table(at)["id"])
    at.button(key="planner_saveplan").click().run()
    name = ps.list_plans()[0].name
    doc = ps.load_plan(name)
    # as if the plan had been made when another venue was best: swap its second stop
    cands = [x for x in _table(_start(planner_k=6))["id"] if x not in ids]
    doc["stops"][1]["id"] = cands[0]
    doc.pop("saved")
    ps.save_plan(name, doc)
    at2 = AppTest.from_file(APP, default_timeout=300)
    at2.session_state["planner_saved_open"] = True
    at2.run()
    _saved_buttons(at2, "planner_open_")[0].click().run()
    assert not at2.exception, at2.exception
    assert set(_table(at2)["id"]) == {ids[0], cands[0], ids[2]}


def test_two_saves_at_once_keep_both_versions(store, user_dir):
    from geo import planner as pl
    res = pl.PlanResult(stops=[pl.Stop("P81001", "A practice", 53.81, -3.05, 331000, 436000, 5.0)],
                        total_weight=10, already_covered_weight=0, covered_weight=5, optimal=True, gap=0.0,
                        status="optimal", method="exact", greedy_covered_weight=5, demand=None, radius_km=1.5)
    docs = [ps.plan_document({"k": k, "first": "2027-01-04"}, res, {"kind": "district", "code": "E06000009",
                                                                     "name": "Blackpool"}) for k in (1, 2)]
    out, barrier = [], threading.Barrier(2)

    def go(d):
        barrier.wait()
        out.append(ps.save_plan("shared name", d, created_by=f"user{d['inputs']['k']}"))
    ts = [threading.Thread(target=go, args=(d,)) for d in docs]
    [t.start() for t in ts]
    [t.join() for t in ts]
    assert sorted(o.version for o in out) == [1, 2] and all(o.created for o in out)
    hist = userdb.history("plan", "shared name")
    assert sorted(h.created_by for h in hist) == ["user1", "user2"]
    ks = {ps.load_plan("shared name", v)["inputs"]["k"] for v in (1, 2)}
    assert ks == {1, 2}


def test_bad_saved_plan_is_a_message(store, user_dir):
    userdb.save("plan", "broken", b"{not json")
    with pytest.raises(GeoError, match="broken.*not readable JSON"):
        ps.load_plan("broken")
    userdb.save("plan", "odd", json.dumps({"format": 1, "inputs": {}, "stops": [{"id": "x", "name": "y",
                                                                                  "lat": 10, "lon": 0}]}))
    with pytest.raises(GeoError, match="stop 1 is outside Great Britain"):
        ps.load_plan("odd")
    at = AppTest.from_file(APP, default_timeout=300)
    at.session_state["planner_saved_open"] = True
    at.run()
    b = [x for x in _saved_buttons(at, "planner_open_")]
    assert len(b) == 2
    b[0].click().run()
    assert not at.exception, at.exception
    assert any("Could not open the plan" in e.value for e in at.error)


def test_save_as_schedule_reaches_services_and_next_visit(store, user_dir):
    """plan -> schedule (user-data store) -> services register/layer -> next visit."""
    first = dt.date.today() + dt.timedelta(days=10)
    at = _start(planner_first=first, planner_pw=2)
    at.text_input(key="planner_name").set_value("Spring").run()
    stops = _table(at)
    n_before = int(re.search(r"\((\d+)\)", at.checkbox(key="services_cat_hari_bus").label).group(1))
    at.button(key="planner_save").click().run()
    assert not at.exception, at.exception
    assert any("planned HARI bus stop(s)" in s.value.replace("\\", "") for s in at.success)
    [e] = userdb.list("services")
    assert e.name == ps.schedule_name("Spring") and e.rows == 3
    # the services layer's register (shipped + saved files) has the planned stops, dated
    from geo import saved_services as ss
    reg = ss.load_register()
    mine = reg.records[reg.records["source_file"] == f"user data: {e.name}"]
    assert len(mine) == 3 and (mine["status"] == "planned").all()
    dates = sorted(mine["event_date"])
    assert dates == [first.isoformat(), (first + dt.timedelta(days=3)).isoformat(),
                     (first + dt.timedelta(days=7)).isoformat()]
    # ... and the map's services files carry them (hollow: planned), in this session's next run
    at.checkbox(key="services_cat_hari_bus").check().run()
    at.checkbox(key="services_closed").check().run()
    assert not at.exception, at.exception
    n_after = int(re.search(r"\((\d+)\)", at.checkbox(key="services_cat_hari_bus").label).group(1))
    assert n_after == n_before + 3                        # the services layer counts the planned stops
    legend = " ".join(m.value for m in at.markdown)
    assert f"HARI bus stops: {n_after} shown" in legend.replace(" — ILLUSTRATIVE", "")
    # next visit: the ward holding stop 1 gets its first planned date as next stop
    from geo.access import outreach_recency
    from layers.data import ward_at
    doc_stops = mine.sort_values("event_date")
    w = store.wards24
    s1 = doc_stops.iloc[0]
    code = ward_at(store, "t", float(s1["lat"]), float(s1["lon"]))
    rec = outreach_recency(w[w["wd24cd"] == code], reg.category("hari_bus"), dt.date.today().isoformat())
    assert rec["next_stop_date"].iloc[0] == first.isoformat()
    assert list(mine.sort_values("event_date")["place"]) == [str(v) for v in stops["venue"]]


def test_an_empty_plan_name_is_refused(store, user_dir):
    at = _start()
    at.text_input(key="planner_name").set_value("   ").run()
    at.button(key="planner_saveplan").click().run()
    assert not at.exception, at.exception
    assert any("The plan was not saved" in x.value and "needs a name" in x.value for x in at.error)
    assert ps.list_plans() == []
