"""Clicks rerun only the parts they change (layers/parts.py), read from the timing hook
($LSC_TIMING_LOG: one line per run, "scope" = "app" or the part) and from what each run
sends (AppTest's tree holds only the elements of its last run). $LSC_PARTS=1 turns the
part-only reruns on under AppTest (off by default there: its tree is per run)."""
from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

from geo.paths import ROOT
from tests import profile as P

APP = str(ROOT / "app.py")
BLACKPOOL = "E06000009"
NORTHANTS = "E54000059"          # NHS Northamptonshire ICB


@pytest.fixture
def app(monkeypatch, tmp_path):
    log = tmp_path / "timing.jsonl"
    monkeypatch.setenv("LSC_TIMING_LOG", str(log))

    def start(parts: bool):
        monkeypatch.setenv("LSC_PARTS", "1" if parts else "0")
        at = AppTest.from_file(APP, default_timeout=180)
        at.run()
        assert not at.exception
        return at
    start.log = log
    return start


def _scopes(log, since: int) -> list[str]:
    return [json.loads(x)["scope"] for x in log.read_text().splitlines()[since:]]


def _n(log) -> int:
    return len(log.read_text().splitlines()) if log.exists() else 0


def _map_js(at) -> str:
    comps = at.get("component_instance")
    assert len(comps) == 1, "expected exactly one map component"
    return json.loads(comps[0].proto.json_args)["feature_group"]


def test_area_change_reruns_map_and_tables_only(app, store):
    at = app(parts=True)
    n0 = _n(app.log)
    at.selectbox(key="area").set_value(f"district:{BLACKPOOL}").run()
    assert not at.exception
    # nothing in the default legend names the area (test_legend_is_the_same_for_every_area)
    assert _scopes(app.log, n0) == ["map", "tables"]
    # the sidebar was not sent again; the map, legend and the area's ward table were
    assert not at.sidebar.selectbox and not at.checkbox
    n_wards = int((store.wards24["lad19cd"] == BLACKPOOL).sum())
    assert any(m.value.startswith(f"#### Wards in Blackpool ({n_wards})") for m in at.markdown)
    assert "LSC.commit(" in _map_js(at)


def test_ward_search_reruns_map_and_profile_only(app, store):
    at = app(parts=True)
    w = store.wards24[store.wards24["lad19cd"] == BLACKPOOL].iloc[0]
    n0 = _n(app.log)
    at.selectbox(key="ward_search").set_value(w["wd24cd"]).run()
    assert not at.exception
    assert _scopes(app.log, n0) == ["map", "profile"]
    assert P.headings(P.profile_html(at)) == [w["wd24nm"]]
    assert not any(m.value.startswith("#### Wards in") for m in at.markdown)     # no ward table
    # the profile's LSOA list is not built until its expander is opened
    assert not any(d.key == "ward_profile_lsoas" for d in at.dataframe)
    # closing the profile: the map (its outline) and the profile again, nothing else
    n1 = _n(app.log)
    at.button(key="close_profile").click().run()
    assert _scopes(app.log, n1) == ["map", "profile"]
    assert "close_profile" not in [b.key for b in at.button]
    assert not [h for h in at.html if "lsc-profile" in h.proto.body]


@pytest.mark.real_data
def test_wards_toggle_reruns_its_widgets_map_and_legend_only(app):
    at = app(parts=True)
    assert 'LSC.set("wards"' in _map_js(at)
    n0 = _n(app.log)
    at.checkbox(key="wards_on").uncheck().run()
    assert not at.exception
    assert _scopes(app.log, n0) == ["sidebar_wards", "map", "legend"]
    assert 'LSC.set("wards"' not in _map_js(at)
    # the layer's own widgets were redrawn (names follow the layer: disabled), no table
    assert at.checkbox(key="wards_labels").disabled
    assert not any(m.value.startswith("#### Wards in") for m in at.markdown)


def test_url_state_after_part_reruns_matches_a_full_rerun(app, store):
    """The link mirrors the view after a part-only rerun: it is what the whole page
    writes for the same view (a plain rerun after each click), and it follows each click."""
    w = store.wards24[store.wards24["lad19cd"] == BLACKPOOL].iloc[0]
    at = app(parts=True)
    links = [dict(at.query_params)]
    for click in (lambda: at.selectbox(key="area").set_value(f"district:{BLACKPOOL}"),
                  lambda: at.checkbox(key="wards_on").uncheck(),
                  lambda: at.selectbox(key="ward_search").set_value(w["wd24cd"])):
        n0 = _n(app.log)
        click().run()
        assert not at.exception and "app" not in _scopes(app.log, n0)
        after_part = dict(at.query_params)
        at.run()                               # the whole page, same view
        assert _scopes(app.log, n0)[-1] == "app"
        assert after_part == dict(at.query_params)
        assert after_part != links[-1], "the link did not follow the click"
        links.append(after_part)


def test_clicks_rerun_the_whole_page_while_the_planner_follows_the_view(app, store):
    """The planner's sidebar shows the area and plans in it: with it on, an area change
    and a ward search rerun the whole page (its caption names the new area)."""
    at = app(parts=True)
    at.checkbox(key="planner_on").check().run()
    n0 = _n(app.log)
    at.selectbox(key="area").set_value(f"district:{BLACKPOOL}").run()
    assert not at.exception
    assert _scopes(app.log, n0) == ["app"]
    assert any("Area: Blackpool" in c.value for c in at.sidebar.caption)
    w = store.wards24[store.wards24["lad19cd"] == BLACKPOOL].iloc[0]
    n1 = _n(app.log)
    at.selectbox(key="ward_search").set_value(w["wd24cd"]).run()
    assert _scopes(app.log, n1) == ["app"]


def test_measure_change_reruns_the_deprivation_widgets_map_and_legend_only(app):
    """An everyday restyle: a measure (or the deciles, the Core20 outline) changes what
    the map and legend show and nothing else; the vintage changes the ward table and the
    profile too, so it reruns the whole page."""
    at = app(parts=True)
    n0 = _n(app.log)
    at.selectbox(key="deprivation_measure").set_value("income").run()
    assert not at.exception
    assert _scopes(app.log, n0) == ["sidebar_deprivation", "map", "legend"]
    assert not any(m.value.startswith("#### Wards in") for m in at.markdown)     # no ward table
    assert any("Income" in m.value for m in at.markdown)                         # the legend followed
    n1 = _n(app.log)
    at.checkbox(key="deprivation_core20").uncheck().run()
    assert _scopes(app.log, n1) == ["sidebar_deprivation", "map", "legend"]
    n2 = _n(app.log)
    at.radio(key="deprivation_vintage").set_value(2019).run()
    assert not at.exception
    assert _scopes(app.log, n2) == ["app"]
    assert any(m.value.startswith("#### Wards in") and m.value.endswith("IoD2019") for m in at.markdown)


def test_icb_change_and_presentation_rerun_the_whole_page(app):
    """The ICB and Area selectors sit in a part of their own; a new ICB changes everything,
    and while the presentation title (which names the area and view) shows, an area or
    measure change reruns the whole page too."""
    at = app(parts=True)
    n0 = _n(app.log)
    at.selectbox(key="icb").set_value(NORTHANTS).run()
    assert not at.exception
    assert _scopes(app.log, n0) == ["app"]
    assert any(m.value.startswith("#### Wards in") for m in at.markdown)       # the whole page, new ICB
    at = app(parts=True)
    at.toggle(key="share_present").set_value(True).run()
    n1 = _n(app.log)
    at.selectbox(key="area").set_value(f"district:{BLACKPOOL}").run()
    assert not at.exception
    assert _scopes(app.log, n1) == ["app"]
    n2 = _n(app.log)
    at.selectbox(key="deprivation_measure").set_value("income").run()
    assert _scopes(app.log, n2) == ["app"]


def _legend(at) -> str:
    found = [m.value for m in at.markdown if m.value.startswith('<div class="lsc-legend"')]
    assert found, "no legend in this run"
    return found[-1]


@pytest.mark.real_data
def test_legend_is_the_same_for_every_area(app, store):
    """Why an area change may keep the legend: with every layer on whose legend does not
    declare legend_follows_area (the indicator choropleth included), the legend of each
    kind of area is the whole ICB's. A layer whose legend starts to name or count the area
    must say so (layers/base.py), or this fails."""
    at = app(parts=False)
    at.checkbox(key="indicators_on").check().run()
    base = _legend(at)
    for area in ("place5:Fylde Coast", "place4:Blackpool", f"district:{BLACKPOOL}", "district:E07000117"):
        at.selectbox(key="area").set_value(area).run()
        assert not at.exception
        assert _legend(at) == base, area


@pytest.mark.real_data
def test_area_change_reruns_the_legend_when_it_follows_the_area(app, store, tmp_path, monkeypatch):
    monkeypatch.delenv("LSC_DATABASE_URL", raising=False)
    monkeypatch.setenv("LSC_USER_DATA_DIR", str(tmp_path / "user"))
    at = app(parts=True)
    # access gaps on: the legend counts the people of the area beyond the threshold
    at.checkbox(key="access_on").check().run()
    n0 = _n(app.log)
    at.selectbox(key="area").set_value(f"district:{BLACKPOOL}").run()
    assert not at.exception
    assert _scopes(app.log, n0) == ["map", "legend", "tables"]
    assert "people in Blackpool live beyond" in _legend(at)
    # a custom area (a new session, access gaps off): its outline entry comes with it, and
    # goes when another area is picked
    at = app(parts=True)
    n0 = _n(app.log)
    at.selectbox(key="area").set_value(f"district:{BLACKPOOL}").run()
    assert _scopes(app.log, n0) == ["map", "tables"]
    at = app(parts=True)
    at.multiselect(key="areas_wards").set_value(["E05015188", "E05015189"])
    at.text_input(key="areas_name").set_value("Two wards")
    at.button(key="areas_save").click().run()
    assert not at.exception and at.selectbox(key="area").value == "custom:Two wards"
    assert "Custom area: Two wards" in _legend(at)
    n1 = _n(app.log)
    at.selectbox(key="area").set_value(f"district:{BLACKPOOL}").run()
    assert _scopes(app.log, n1) == ["map", "legend", "tables"]
    assert "Custom area" not in _legend(at)
    at.run()          # the whole page again (the Area selector is in this run's tree), legend as it is
    n2 = _n(app.log)
    at.selectbox(key="area").set_value("custom:Two wards").run()
    assert _scopes(app.log, n2) == ["map", "legend", "tables"]
    assert "Custom area: Two wards" in _legend(at)
