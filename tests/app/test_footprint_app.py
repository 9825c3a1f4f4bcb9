"""Any ICB as the footprint (issue #12): the ICB selector, `icb=` in the link, and what the
map gets for Northamptonshire (E54000059) on the real data; LSC keeps its places and
official wards."""
from __future__ import annotations

import json
import re

import pytest
from streamlit.testing.v1 import AppTest

from geo import footprint as F
from tests.appmap import map_args, set_payload
from geo.paths import ROOT
from render.static_files import url_path

APP = str(ROOT / "app.py")
NORTHANTS = "E54000059"


def _commit(fg_js: str) -> dict:
    m = re.search(r"LSC\.commit\((\{.*?\})\);", fg_js, re.S)
    assert m
    return json.loads(m.group(1))


@pytest.fixture(scope="module")
def northants(store):
    return F.footprint(store, NORTHANTS)


def test_footprint_tables_for_northamptonshire(store, northants):
    v = northants
    # ONS: 443 LSOA 2021 in NHS Northamptonshire ICB (North + West Northamptonshire)
    assert len(v.lsoa25) == 443 and v.lsoa25.geometry.notna().all()
    assert set(v.districts["lad19nm"]) == {"North Northamptonshire", "West Northamptonshire"}
    assert set(v.lsoa25["lad19cd"]) == {"E06000061", "E06000062"}
    # every ward the 2021 LSOAs best-fit to, approximate shapes; IoD2025 people add up
    assert v.approximate_wards and v.wards24["approximate_geometry"].all()
    assert set(v.wards24["wd24cd"]) == set(v.lsoa25["wd24cd"])
    from geo.report import build_table
    t = build_table(v, "ward", vintage=2025)
    assert t["population"].sum() == v.lsoa25["pop2021"].sum()
    # the NHSE/I 2021 list names 15 priority wards in Northamptonshire (Dec-2019 codes)
    assert len(v.priority19) == 15 and set(v.priority19["status"]) == {"Priority"}
    assert {"Queensway", "Kings Heath", "Spencer"} <= set(v.priority19["wd19nm"])


def test_resolve_icb_names_and_closest(store):
    assert F.resolve(store, "northamptonshire") == NORTHANTS
    assert F.resolve(store, "E54000059") == NORTHANTS
    with pytest.raises(ValueError, match="closest: E54000059"):
        F.resolve(store, "Northampton shire x")


def test_icb_in_link_opens_that_footprint(store, northants):
    at = AppTest.from_file(APP, default_timeout=180)
    at.query_params["icb"] = NORTHANTS
    at.run()
    assert not at.exception
    assert at.selectbox(key="icb").value == NORTHANTS
    fg = map_args(at)["feature_group"]
    dep = set_payload(fg, "deprivation")
    assert dep["geom"] == "lsoa21" and dep["cls"] == northants.lsoa25["imd_decile"].astype(int).tolist()
    # the geometry file holds the ICB's 2021 LSOAs and its NHSE/I ward shapes; its 2011
    # LSOAs are a file of their own that it names (fetched only when a view draws them)
    geo = json.loads(url_path(_commit(fg)["geo"]).read_text())
    assert len(geo["objects"]["lsoa21"]["geometries"]) == 443
    assert "lsoa" not in geo["objects"]
    geo11 = json.loads(url_path(geo["lsc"]["split"]["lsoa"]).read_text())
    assert len(geo11["objects"]["lsoa"]["geometries"]) == len(northants.lsoa)
    assert geo11["lsc"]["lsoa"] == northants.lsoa["lsoa11cd"].tolist()
    assert geo["lsc"]["lsoa21"] == northants.lsoa25["lsoa21cd"].tolist()
    assert len(geo["objects"]["prio19"]["geometries"]) == 15
    pr = set_payload(fg, "priority")
    assert pr["geoms"]["icb"] == "prio19" and sorted(pr["icb"]) == list(range(15))
    legend = " ".join(m.value for m in at.markdown)
    assert "NHS England/Improvement" in legend and "2021" in legend and "Dec 2019" in legend
    assert "APPROXIMATE" in legend
    # areas: the sub-ICB location and the two districts (LAD 2024)
    opts = at.selectbox(key="area").options
    assert "District: West Northamptonshire" in opts and any(o.startswith("Sub-ICB location") for o in opts)


def test_unknown_icb_in_link_names_closest_and_falls_back(store):
    at = AppTest.from_file(APP, default_timeout=180)
    at.query_params["icb"] = "E54000999"
    at.run()
    assert not at.exception
    text = " ".join(m.value for m in at.markdown) + " ".join(w.value for w in at.warning)
    assert "not one of the 42 ICBs" in text and "closest" in text
    assert at.selectbox(key="icb").value == F.LSC_CODE
    dep = set_payload(map_args(at)["feature_group"], "deprivation")
    assert len(dep["cls"]) == len(store.lsoa25)


def test_icb_selector_switches_footprint_and_back(store, northants):
    at = AppTest.from_file(APP, default_timeout=180).run()
    a1 = map_args(at)
    assert "place5:Fylde Coast" in at.selectbox(key="area").options or \
        "Place (legacy five): Fylde Coast" in at.selectbox(key="area").options
    at.selectbox(key="area").set_value("district:E06000009").run()
    at.selectbox(key="icb").set_value(NORTHANTS).run()
    assert not at.exception
    a2 = map_args(at)
    assert a2["script"] == a1["script"]            # same base map: the iframe is not remounted
    fg = a2["feature_group"]
    assert _commit(fg)["fit"]["key"] == f"icb:{NORTHANTS}"         # the area filter starts afresh
    assert at.selectbox(key="area").value == "icb"
    assert len(set_payload(fg, "deprivation")["cls"]) == 443
    qp = at.query_params["icb"]
    assert (qp if isinstance(qp, str) else qp[-1]) == NORTHANTS      # the link holds the footprint
    wards = at.selectbox(key="ward_search").options
    assert len(wards) == len(northants.wards24)
    # a Northamptonshire ward profile opens from the ward search
    code = northants.wards24.loc[northants.wards24["wd24nm"] == "Kingsthorpe North", "wd24cd"]
    code = code.iloc[0] if len(code) else northants.wards24["wd24cd"].iloc[0]
    at.selectbox(key="ward_search").set_value(code).run()
    assert not at.exception and at.session_state["selected_ward"] == code
    # back to LSC: its places and official May-2024 ward polygons
    at.selectbox(key="icb").set_value(F.LSC_CODE).run()
    assert not at.exception
    assert any("Fylde Coast" in o for o in at.selectbox(key="area").options)
    assert any("Blackburn with Darwen" in o for o in at.selectbox(key="area").options)
    legend = " ".join(m.value for m in at.markdown)
    assert "Wards May 2024 (BSC)" in legend
    assert "Electoral wards (approximate shapes)" not in legend
    # LSC's own NHSE/I 2021 list: 33 priority + 11 exemplar wards (config list empty)
    pr = set_payload(map_args(at)["feature_group"], "priority")
    assert len(pr["icb"]) == 33 and len(pr["exemplar"]) == 11


def test_vintage_switch_changes_polygons(store):
    at = AppTest.from_file(APP, default_timeout=180)
    at.query_params["icb"] = NORTHANTS
    at.query_params["vintage"] = "2019"
    at.run()
    assert not at.exception
    dep = set_payload(map_args(at)["feature_group"], "deprivation")
    v = F.footprint(store, NORTHANTS)
    assert dep["geom"] == "lsoa" and dep["cls"] == v.lsoa["imd_decile"].astype(int).tolist()
    assert dep["instant"]["geoms"] == {"2019": "lsoa", "2025": "lsoa21"}


def test_change_since_2019_view(store, northants):
    """The third view: IoD2025 minus IoD2019 national decile per 2021 LSOA, split/merged
    LSOAs outlined; checked against geo.change for the same ICB."""
    from geo.change import change_since_2019
    at = AppTest.from_file(APP, default_timeout=180)
    at.query_params["icb"] = NORTHANTS
    at.run()
    at.checkbox(key="deprivation_change").check().run()
    assert not at.exception
    dep = set_payload(map_args(at)["feature_group"], "deprivation")
    ch = change_since_2019(store, NORTHANTS).reindex(northants.lsoa25["lsoa21cd"])
    want = (ch["decile_change"].clip(-3, 3) + 4).astype(int).tolist()
    assert dep["geom"] == "lsoa21" and dep["cls"] == want and len(want) == 443
    flagged = [i for i, ok in enumerate(ch["comparable"]) if not ok]
    assert dep["core20"] == flagged and len(flagged) > 0
    assert dep["instant"] is None          # no instant restyle: the rerun paints it
    legend = " ".join(m.value for m in at.markdown)
    assert "change in national decile since IoD2019" in legend and "split, merged or redrawn" in legend
