"""The outreach planner for any ICB (#14): the CLI and the app on Northamptonshire
(E54000059), on the real England-wide store tables and source files."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import shapely

from geo import footprint as F
from geo import plan_inputs as pi
from geo.errors import UsageError
from geo.paths import ROOT, source_dir

NORTHANTS = "E54000059"


def _cli(*args, timeout=240):
    r = subprocess.run([sys.executable, "-m", "geo", "plan", *args], cwd=ROOT, capture_output=True, text=True,
                       timeout=timeout)
    return r.returncode, r.stdout, r.stderr


def _bng(rows):
    from geo.geocode import lonlat_to_bng
    e, n = lonlat_to_bng([r["lon"] for r in rows], [r["lat"] for r in rows])
    return np.column_stack([np.atleast_1d(e), np.atleast_1d(n)])


@pytest.fixture(scope="module")
def view(store):
    return F.footprint(store, NORTHANTS)


@pytest.fixture(scope="module")
def northants(store):
    rc, out, err = _cli("--icb", "Northamptonshire", "--place", "whole icb", "--stops", "3", "--radius-km", "2",
                        "--candidates", "gp")
    assert rc == 0, err
    return json.loads(out)


def test_northants_json_contract(northants, view):
    doc = northants
    for key in ("radius_km", "weight", "denominator", "vintage", "icb", "total_weight", "covered_weight",
                "optimal", "gap", "stops", "demand", "notes"):
        assert key in doc
    assert doc["icb"] == NORTHANTS and doc["vintage"] == 2025 and doc["optimal"] is True
    assert doc["denominator"] == "Census 2021 usual residents"
    assert len(doc["stops"]) == 3
    for s in doc["stops"]:
        assert set(s) == {"id", "name", "lat", "lon", "marginal_weight"}
    # demand = exactly the ICB's Core20 LSOA 2021 points (national IoD2025 deciles 1-2), Census 2021 people
    l25 = pd.DataFrame(view.lsoa25.drop(columns="geometry"))
    core = l25[l25["imd_decile"] <= 2]
    dem = pd.DataFrame(doc["demand"])
    assert set(dem["code"]) == set(core["lsoa21cd"]) and len(dem) == len(core) > 0
    assert dem.set_index("code")["weight"].to_dict() == core.set_index("lsoa21cd")["pop2021"].astype(float).to_dict()
    assert doc["total_weight"] == pytest.approx(core["pop2021"].sum())
    # the demand points are the LSOA 2021 population-weighted points of the view
    pts = core.set_index("lsoa21cd").loc[dem["code"]]
    assert np.allclose(dem["lat"], pts["pwc_lat"], atol=1e-5) and np.allclose(dem["lon"], pts["pwc_lon"], atol=1e-5)
    # the covered weight recomputed from the stops is the reported one
    d = np.hypot(*(_bng(doc["demand"])[:, None, :] - _bng(doc["stops"])[None, :, :]).transpose(2, 0, 1)).min(axis=1)
    assert dem["weight"][d <= 2000 + 1].sum() == pytest.approx(doc["covered_weight"], abs=1)
    assert sum(s["marginal_weight"] for s in doc["stops"]) == pytest.approx(doc["covered_weight"])


def test_northants_stops_are_its_gp_practices_inside_the_icb(northants, store):
    gp = pd.read_csv(source_dir() / "services/gp_practices_epraccur_2025_england.csv", dtype=str)
    mine = gp[(gp["ICB24CD"] == NORTHANTS) & (gp["is_active_gp_practice"] == "True")]
    assert {s["id"] for s in northants["stops"]} <= set(mine["organisation_code"])
    assert northants["n_candidates"] == len(mine)
    poly = store.icb.loc[store.icb["icb24cd"] == NORTHANTS].geometry.iloc[0]
    for s in northants["stops"]:
        assert shapely.contains_xy(poly, s["lon"], s["lat"]), s


def test_unknown_icb_names_the_closest(store):
    rc, out, err = _cli("--icb", "Northamptonshre", "--place", "x", "--stops", "1", "--radius-km", "1")
    assert rc == 2 and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert "unknown ICB 'Northamptonshre'; closest:" in err and "E54000059" in err


def test_unknown_place_lists_the_icbs_places(view):
    with pytest.raises(UsageError) as e:
        pi.resolve_area(view, "Blackpool")
    msg = str(e.value)
    assert "Northamptonshire 78H" in msg and "West Northamptonshire" in msg and "North Northamptonshire" in msg
    a = pi.resolve_area(view, "west northamptonshire")
    assert a.kind == "district" and a.code == "E06000062"
    assert pi.resolve_area(view, "NHS Northamptonshire ICB").kind == "icb"


def test_district_postcode_candidates_and_existing_sites(view):
    a = pi.resolve_area(view, "North Northamptonshire")
    dem = pi.build_demand(view, a, "population")
    assert dem.vintage == 2025 and len(dem.points) == int((view.lsoa25["lad19cd"] == "E06000061").sum())
    cand = pi.postcode_candidates(view, a, 1000)
    pc = F.national(view.base, "postcodes_england")
    codes = set(view.lsoa25.loc[view.lsoa25["lad19cd"] == "E06000061", "lsoa21cd"])
    assert set(cand.venues["id"]) <= set(pc.loc[pc["lsoa21cd"].isin(codes), "postcode"])
    assert cand.venues["wd24cd"].notna().all()
    ex, notes = pi.existing_sites(["gp", "hospital"], store=view)
    assert set(ex["category"]) == {"gp", "hospital"} and "E54000059" in notes[0]
    with pytest.raises(UsageError, match="'hari_bus' is not valid in NHS Northamptonshire ICB"):
        pi.existing_sites(["hari_bus"], store=view)
    assert pi.existing_categories(view) == ["gp", "hospital", "cdc"]
    # CDCs already cover too: the ICB's rows of the staged GOV.UK list
    cdc = pd.read_csv(source_dir() / "services" / "community_diagnostic_centres_england.csv")
    ex, _ = pi.existing_sites(["cdc"], store=view)
    assert len(ex) == int((cdc["ICB24CD"] == NORTHANTS).sum()) > 0


def test_venue_file_checked_against_the_chosen_icb(view, store):
    """An uploaded venues file is validated against the footprint it plans for: a
    Northamptonshire postcode is a venue there, a Blackburn one is outside it (and the
    reverse in LSC)."""
    data = b"id,name,postcode\nN1,Library,NN5 7LN\nB1,Hall,BB2 3HH\n"
    a = pi.resolve_area(view, None)
    c = pi.venue_candidates(view, a, data, "venues.csv")
    assert list(c.venues["id"]) == ["N1"]
    assert any("row 3" in str(p) and "outside" in str(p) for p in c.problems), c.problems
    c = pi.venue_candidates(store, pi.resolve_area(store, None), data, "venues.csv")
    assert list(c.venues["id"]) == ["B1"]
    assert any("row 2" in str(p) and "outside" in str(p) for p in c.problems), c.problems


def test_lsc_view_plans_as_the_plain_store(store):
    """The app's LSC footprint view gives the planner the same inputs as the store."""
    v = F.footprint(store, F.LSC_CODE)
    for s in (store, v):
        assert pi.default_vintage(s) == 2025          # IoD2025 by default, as on the map
    a = pi.resolve_area(store, "Blackpool")
    d1, d2 = pi.build_demand(store, a), pi.build_demand(v, a)
    pd.testing.assert_frame_equal(d1.points, d2.points)
    c1, c2 = pi.postcode_candidates(store, a), pi.postcode_candidates(v, a)
    pd.testing.assert_frame_equal(c1.venues, c2.venues)


def test_app_plans_on_the_chosen_footprint(store):
    from streamlit.testing.v1 import AppTest
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.query_params["icb"] = NORTHANTS
    at.session_state["planner_on"] = True
    at.session_state["planner_k"] = 3
    at.run()
    assert not at.exception, at.exception
    tables = [d for d in at.dataframe if "marginal gain" in d.value.columns]
    assert len(tables) == 1
    t = tables[0].value
    assert len(t) == 3
    gp = pd.read_csv(source_dir() / "services/gp_practices_epraccur_2025_england.csv", dtype=str)
    mine = set(gp.loc[(gp["ICB24CD"] == NORTHANTS) & (gp["is_active_gp_practice"] == "True"), "organisation_code"])
    assert set(t["id"]) <= mine
    legend = " ".join(m.value for m in at.markdown)
    assert "Plan outreach: 3 stops in the whole ICB" in legend
    assert at.radio(key="planner_vintage").value == 2025


def test_app_on_england_says_to_choose_an_icb(store):
    from streamlit.testing.v1 import AppTest
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.query_params["icb"] = "E92000001"
    at.session_state["planner_on"] = True
    at.run()
    assert not at.exception, at.exception
    assert any("the planner works per ICB" in w.value for w in at.warning)


def test_lsc_2025_demand_uses_population_weighted_2021_points(store):
    """In LSC, IoD2025 demand points are each LSOA 2021's own population-weighted point
    (the England lsoa21 table), not its 2011 parent's; every LSC LSOA 2021 has one."""
    from geo.footprint import national
    a = pi.resolve_area(store, None)
    d = pi.build_demand(store, a)
    assert d.vintage == 2025 and d.denominator == "Census 2021 usual residents"
    t = national(store, "lsoa21").set_index("lsoa21cd")
    pts = d.points.set_index("code")
    assert len(pts) == len(store.lsoa25) and pts["easting"].notna().all()
    assert (pts["easting"] == t.loc[pts.index, "pwc_easting"]).all()
    assert (pts["northing"] == t.loc[pts.index, "pwc_northing"]).all()
    assert "approximate" not in " ".join(d.notes)
