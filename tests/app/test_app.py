"""AppTest: widget logic and what app.py hands to st_folium (no browser needed)."""
from __future__ import annotations

import json
import re

import pytest
from streamlit.testing.v1 import AppTest

from tests import profile as P
from tests.appmap import map_args, set_payload
from geo.paths import ROOT

APP = str(ROOT / "app.py")


def _run(**session):
    at = AppTest.from_file(APP, default_timeout=120)
    for k, v in session.items():
        at.session_state[k] = v
    return at.run()


def test_app_runs_and_sends_only_local_assets_and_small_styling(store):
    at = _run()
    assert not at.exception
    args = map_args(at)
    links = args["js_links"] + args["css_links"]
    assert links and all(u.startswith("/app/static/") for u in links), links
    assert not any(re.search(r"jquery|bootstrap|fontawesome|awesome", u) for u in links)
    assert args["returned_objects"] == ["last_clicked"]
    # the base map carries no data; the feature groups carry styling arrays, not geometry
    assert len(args["script"]) < 20_000
    for part in ("deprivation", "wards", "priority"):
        payload = json.dumps(set_payload(args["feature_group"], part))
        assert "coordinates" not in payload and len(payload) < 12_000, part
    dep = set_payload(args["feature_group"], "deprivation")
    # the default view is IoD2025 on the 2021 LSOA polygons (geometry object "lsoa21")
    assert dep["cls"] == store.lsoa25["imd_decile"].astype(int).tolist() and dep["geom"] == "lsoa21"
    assert "LSC.commit(" in args["feature_group"]
    # the geometry URL named in the commit exists in static/gen
    geo_url = re.search(r'"geo":"(/app/static/gen/geo\.[0-9a-f]+\.json)"', args["feature_group"]).group(1)
    assert (ROOT / "static" / geo_url[len("/app/static/"):]).exists()


def test_base_map_constant_when_measure_changes(store):
    at = _run()
    a1 = map_args(at)
    at.selectbox(key="deprivation_measure").set_value("health").run()
    assert not at.exception
    a2 = map_args(at)
    assert a1["script"] == a2["script"] and a1["header"] == a2["header"]
    dep = set_payload(a2["feature_group"], "deprivation")
    assert dep["cls"] == store.lsoa25["health_decile"].astype(int).tolist()
    assert a1["feature_group"] != a2["feature_group"]
    at.radio(key="deprivation_vintage").set_value(2019).run()      # the vintage switch: 2011 polygons
    a3 = map_args(at)
    assert a3["script"] == a1["script"]
    dep = set_payload(a3["feature_group"], "deprivation")
    assert dep["cls"] == store.lsoa["health_decile"].astype(int).tolist() and dep["geom"] == "lsoa"


def test_area_filter_sets_fit_and_filters_table(store):
    at = _run()
    at.selectbox(key="area").set_value("district:E06000009").run()
    assert not at.exception
    fg = map_args(at)["feature_group"]
    assert '"fit":{"key":"district:E06000009"' in fg
    n = int((store.wards24["lad19cd"] == "E06000009").sum())
    assert any(f"Wards in Blackpool ({n})" in m.value for m in at.markdown)
    df = [d for d in at.dataframe if len(d.value) == n and "District" in d.value.columns]
    assert df, "ward table not filtered to Blackpool"
    assert set(df[0].value["District"]) == {"Blackpool"}


def test_ward_search_opens_profile(store):
    at = _run()
    w = store.wards24.iloc[5]
    at.selectbox(key="ward_search").set_value(w["wd24cd"]).run()
    assert not at.exception
    assert P.headings(P.profile_html(at)) == [w["wd24nm"]]
    assert '"key":"ward:%s"' % w["wd24cd"] in map_args(at)["feature_group"]


def test_ward_profile_comparison_rows_per_vintage(store):
    """Ward, place, ICB and England rows under either vintage (IoD2025 England-wide from the
    national table, on Census 2021 denominators, which the caption states)."""
    at = _run()
    w = store.wards24.iloc[5]
    at.radio(key="deprivation_vintage").set_value(2019).run()
    at.selectbox(key="ward_search").set_value(w["wd24cd"]).run()
    table = [t for t in P.tables(P.profile_html(at)) if "Area" in t.columns][0]
    assert list(table["Area"])[2:] == ["ICB: NHS Lancashire and South Cumbria ICB", "England"]
    assert int(table.iloc[3]["Population"].replace(",", "")) > 50_000_000
    at.radio(key="deprivation_vintage").set_value(2025).run()
    assert not at.exception
    body = P.profile_html(at)
    table = [t for t in P.tables(body) if "Area" in t.columns][0]
    assert list(table["Area"])[2:] == ["ICB: NHS Lancashire and South Cumbria ICB", "England"]
    assert table.iloc[3]["Population"] == "56,490,056"        # Census 2021 usual residents, England
    assert not (table == "n/a").any().any()
    assert "Census 2021 usual residents" in P.text(body)


def test_missing_store_says_what_to_run(tmp_path, monkeypatch):
    monkeypatch.setenv("LSC_STORE_DIR", str(tmp_path / "nothing-here"))
    at = _run()
    assert not at.exception
    text = " ".join(e.value for e in at.error) + " ".join(m.value for m in at.markdown)
    assert "make store" in text
    assert not at.get("component_instance")


def test_stale_store_says_what_to_run(tmp_path, monkeypatch):
    (tmp_path / "manifest.json").write_text(json.dumps({"store_version": -1}))
    monkeypatch.setenv("LSC_STORE_DIR", str(tmp_path))
    at = _run()
    assert not at.exception
    assert any("make store" in e.value for e in at.error)


def test_malformed_priority_wards_reported_rest_still_shows(store, tmp_path, monkeypatch):
    good = store.wards24["wd24cd"].iloc[3]
    p = tmp_path / "pw.yaml"
    p.write_text(f"""
schema_version: 1
icb_list:
  name: "Test list"
  source: "test"
  date: "31/12/2024"
  wards: ["{good}", "E05999999", 12345]
exemplar_list: "oops"
candidates:
  n: many
""")
    monkeypatch.setenv("LSC_PRIORITY_WARDS", str(p))
    at = _run()
    assert not at.exception
    # messages are escaped for markdown (layers.base.md): compare the text a person reads
    shown = re.sub(r"\\(.)", r"\1", " ".join(m.value for m in at.markdown))
    for bit in ("icb_list.date", "E05999999", "icb_list.wards[2]", "exemplar_list", "candidates.n"):
        assert bit in shown, bit
    pr = set_payload(map_args(at)["feature_group"], "priority")
    assert pr["icb"] == [int(store.wards24.index[store.wards24["wd24cd"] == good][0])]
    assert len(pr["candidate"]) > 0            # the default rule still applies
    dep = set_payload(map_args(at)["feature_group"], "deprivation")
    assert len(dep["cls"]) == len(store.lsoa25)  # and the map still draws


def test_ward_profile_shows_the_wards_indicators_with_cis(store, real_source):
    """Bank Hall (Burnley) keeps its code from 2019 to 2024, so its Census 2021 ward values apply."""
    import pandas as pd
    raw = pd.read_csv(real_source / "indicators/census2021_ward_health_disability_carers_lancashire14.csv")
    expect = raw.set_index("ward_code").loc["E05005150", "pct_bad_or_very_bad_health"]
    at = _run()
    at.selectbox(key="ward_search").set_value("E05005150").run()
    assert not at.exception
    # a static table (its cells wrap in the narrow profile column): value with its 95% CI
    tables = [t for t in P.tables(P.profile_html(at)) if {"Indicator", "Value (95% CI)"} <= set(t.columns)]
    assert tables, "no indicator table in the ward profile"
    t = tables[0]
    text = t.astype(str).to_string()
    assert f"{expect:.1f}" in text or f"{expect}" in text
    assert any("CI" in str(c) or "interval" in str(c).lower() for c in t.columns)


def test_indicator_choropleth_replaces_the_deprivation_fill(store):
    """Two stacked choropleths cannot both be read: with an indicator drawn, the LSOA
    deprivation fill steps aside (legend says so), the Core20 outline stays on top."""
    at = _run()
    dep = set_payload(map_args(at)["feature_group"], "deprivation")
    assert dep["fill"] is True
    at.checkbox(key="indicators_on").check().run()
    assert not at.exception
    args = map_args(at)
    ind = set_payload(args["feature_group"], "indicators")
    assert ind["show"] is True and any(c >= 0 for c in ind["cls"])
    dep = set_payload(args["feature_group"], "deprivation")
    assert dep["fill"] is False and dep["show"] is True
    assert dep["core20"] == [i for i, d in enumerate(store.lsoa25["imd_decile"].astype(int)) if d <= 2]
    legend = " ".join(m.body for m in at.markdown)
    assert "Core20 LSOAs (IMD national deciles 1-2)" in legend
    assert "deprivation colours are hidden while the Indicators layer is shown" in legend
    assert "10 least deprived" not in legend
    at.checkbox(key="indicators_on").uncheck().run()
    assert set_payload(map_args(at)["feature_group"], "deprivation")["fill"] is True
    assert "10 least deprived" in " ".join(m.body for m in at.markdown)


def test_closed_or_off_sections_cost_nothing_and_keep_their_values(store):
    """The access layer's controls are drawn only while it is on (their values come back
    when it is ticked again); the export controls only while their expander is open."""
    at = _run()
    keys = {w.key for w in at.sidebar.get("slider")} | {w.key for w in at.sidebar.get("multiselect")}
    assert "access_thr_km" not in keys and "access_cats" not in keys
    assert not [r for r in at.radio if r.key == "share_level"]          # export expander closed
    at.checkbox(key="access_on").check().run()
    assert not at.exception
    at.slider(key="access_thr_km").set_value(12.5).run()
    at.checkbox(key="access_on").uncheck().run()
    assert not [s for s in at.slider if s.key == "access_thr_km"]
    at.checkbox(key="access_on").check().run()
    assert at.slider(key="access_thr_km").value == 12.5
    at.session_state["share_export_open"] = True
    at.run()
    assert at.radio(key="share_level").value == "ward"
