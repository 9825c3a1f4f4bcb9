"""Access gaps on real data: KD-tree nearest site vs independent haversine, totals that
add up, travel-time matrices, outreach recency and the `python -m geo access` CLI."""
from __future__ import annotations

import io
import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from geo import access as ac
from geo import services as sv
from geo.geocode import haversine_km
from geo.paths import ROOT

AS_OF = "2025-06-01"


@pytest.fixture(scope="module")
def register(store):
    return sv.load_register(include_user=False)


@pytest.fixture(scope="module")
def lsoa(store):
    # mid-2019 here: the independent totals below are read from the mid-2019 population file
    return ac.lsoa_points(store, population="mid2019")


def test_lsoa_points_are_population_weighted_not_centroids(lsoa, store, real_source):
    assert len(lsoa) == 1049
    # independent: mean of the LSOA's postcode units from the raw Code-Point file
    pc = pd.read_csv(real_source / "lookups/postcodes_codepoint_open_2025_lsc.csv",
                     usecols=["lsoa11cd", "easting", "northing"])
    m = pc.groupby("lsoa11cd")[["easting", "northing"]].mean()
    j = lsoa.set_index("lsoa11cd").join(m, how="inner")
    assert len(j) >= 1040
    assert np.allclose(j["pwc_easting"], j["easting"], atol=1) and np.allclose(j["pwc_northing"], j["northing"], atol=1)
    cen = store.lsoa.to_crs(27700).geometry.centroid
    assert np.hypot(cen.x.to_numpy() - store.lsoa["pwc_easting"].to_numpy(),
                    cen.y.to_numpy() - store.lsoa["pwc_northing"].to_numpy()).mean() > 50


def test_kdtree_equals_all_pairs(lsoa, register):
    sites = sv.open_sites(register.records, ["gp", "hospital"], AS_OF)
    p = lsoa[["pwc_easting", "pwc_northing"]].to_numpy()
    s = sites[["easting", "northing"]].to_numpy()
    d1, i1 = ac.nearest_kdtree(p, s)
    d2, i2 = ac.nearest_allpairs(p, s, chunk=97)
    assert np.allclose(d1, d2)
    # indices may differ only between equidistant sites (practices sharing a postcode)
    diff = i1 != i2
    alt = np.hypot(*(p[diff] - s[i2[diff]]).T)
    assert np.allclose(alt, d1[diff])


@pytest.mark.parametrize("cats", [["gp"], ["hospital"], ["screening"], ["act"]])
def test_nearest_distance_matches_independent_haversine(lsoa, register, cats):
    sites = sv.open_sites(register.records, cats, AS_OF)
    per = ac.access_by_lsoa(lsoa, sites)
    # independent: great-circle distance from each LSOA's lat/lon to every site's lat/lon
    hv = haversine_km(lsoa["pwc_lat"].to_numpy()[:, None], lsoa["pwc_lon"].to_numpy()[:, None],
                      sites["lat"].to_numpy()[None, :], sites["lon"].to_numpy()[None, :])
    best = hv.min(axis=1)
    # BNG scale error (< 0.05% here) + sphere vs ellipsoid (< 0.6%)
    assert np.allclose(per["distance_km"], best, rtol=0.006, atol=0.02)
    # the chosen site is the haversine-nearest, or equidistant with it (practices sharing a
    # postcode have identical coordinates): within 20 m
    pos = pd.Series(np.arange(len(sites)), index=sites["id"].to_numpy())
    picked = hv[np.arange(len(lsoa)), pos.loc[per["nearest_site_id"]].to_numpy()]
    assert np.all(picked - best < 0.02)


def test_closed_sites_are_not_counted(lsoa, register):
    before = ac.access_by_lsoa(lsoa, sv.open_sites(register.records, "act", "2024-06-01"))
    after = ac.access_by_lsoa(lsoa, sv.open_sites(register.records, "act", "2025-06-01"))
    blackburn = lsoa["lad19nm"] == "Blackburn with Darwen"
    assert (after["distance_km"] >= before["distance_km"] - 1e-9).all()
    assert after.loc[blackburn, "distance_km"].mean() > before.loc[blackburn, "distance_km"].mean() + 10


@pytest.mark.parametrize("threshold", [1.0, 2.5, 10.0])
def test_beyond_threshold_totals_add_up(lsoa, register, real_source, threshold):
    per = ac.access_by_lsoa(lsoa, sv.open_sites(register.records, "gp", AS_OF))
    cols = ["population", "core20_population", "population_beyond", "core20_population_beyond"]
    by = {b: ac.summarise(per, b, threshold_km=threshold) for b in ac.BY_CHOICES}
    icb = by["lsoa"][cols].sum()
    for b in ("ward", "district", "place", "place4"):
        assert (by[b][cols].sum() == icb).all(), b
    # wards add up to each place
    wards = by["ward"].merge(lsoa[["wd24cd", "place5"]].drop_duplicates(), left_on="code", right_on="wd24cd")
    per_place = wards.groupby("place5")[cols].sum()
    assert (per_place.sort_index().to_numpy() == by["place"].set_index("code")[cols].sort_index().to_numpy()).all()
    # independent totals from the raw IoD2019 + population files
    imd = pd.read_csv(real_source / "imd/iod2019_lsoa11_lsc.csv")
    imd = imd[imd["in_lsc_16_lads"]]
    dec = imd.set_index("LSOA code (2011)")["Index of Multiple Deprivation (IMD) Decile (where 1 is most deprived 10% of LSOAs)"]
    pop = pd.read_csv(real_source / "population/lsoa11_population_mid2015_2017_2019_lsc.csv")
    popcol = next(c for c in pop.columns if c.startswith("pop_mid2019"))
    pop = pop.set_index(pop.columns[0])[popcol]
    assert icb["population"] == int(pop.reindex(dec.index).sum())
    assert icb["core20_population"] == int(pop.reindex(dec.index[dec <= 2]).sum())
    far = per.set_index("lsoa11cd")["distance_km"] > threshold
    assert icb["core20_population_beyond"] == int(pop.reindex(far.index[far & (dec.reindex(far.index) <= 2)]).sum())


def test_population_beyond_falls_as_threshold_rises(lsoa, register):
    per = ac.access_by_lsoa(lsoa, sv.open_sites(register.records, "screening", AS_OF))
    totals = [ac.summarise(per, "district", threshold_km=t)["population_beyond"].sum() for t in (0, 2, 5, 10, 20, 200)]
    assert totals == sorted(totals, reverse=True)
    assert totals[0] == per["pop2019"].sum() and totals[-1] == 0


def test_mean_distance_is_population_weighted_and_by_decile(lsoa, register):
    per = ac.access_by_lsoa(lsoa, sv.open_sites(register.records, "hospital", AS_OF))
    s = ac.summarise(per, "place").set_index("code")
    for place, g in per.groupby("place5"):
        assert s.loc[place, "mean_distance_km"] == pytest.approx(np.average(g["distance_km"], weights=g["pop2019"]), abs=1e-3)
    d = ac.mean_distance_by_decile(per, "place").set_index("code")
    g = per[(per["place5"] == "Fylde Coast") & (per["imd_decile"] == 1)]
    assert d.loc["Fylde Coast", "decile_1"] == pytest.approx(np.average(g["distance_km"], weights=g["pop2019"]), abs=1e-3)


def test_travel_time_matrix_is_used_and_bad_rows_listed(lsoa, register, tmp_path):
    sites = sv.open_sites(register.records, "hospital", AS_OF)
    dist = ac.access_by_lsoa(lsoa, sites)
    # matrix: minutes = 2 x straight-line km to every site (so nearest by time = nearest by distance)
    d = np.hypot(lsoa["pwc_easting"].to_numpy()[:, None] - sites["easting"].to_numpy()[None, :],
                 lsoa["pwc_northing"].to_numpy()[:, None] - sites["northing"].to_numpy()[None, :]) / 1000
    long = pd.DataFrame({"lsoa11cd": np.repeat(lsoa["lsoa11cd"].to_numpy(), len(sites)),
                         "site_id": np.tile(sites["id"].to_numpy(), len(lsoa)), "minutes": (2 * d).ravel().round(4)})
    bad = pd.DataFrame({"lsoa11cd": ["E01999999", lsoa["lsoa11cd"][0], lsoa["lsoa11cd"][0], lsoa["lsoa11cd"][1]],
                        "site_id": [sites["id"].iloc[0], "NOPE", sites["id"].iloc[0], sites["id"].iloc[0]],
                        "minutes": ["5", "5", "abc", "-3"]})
    p = tmp_path / "tt.csv"
    pd.concat([long.astype(str), bad]).to_csv(p, index=False)
    tt = ac.read_travel_times(p, lsoa_codes=set(lsoa["lsoa11cd"]), site_ids=set(register.records["id"]))
    assert len(tt.rejected) == 4
    reasons = " | ".join(tt.rejected["reason"])
    for part in ("unknown LSOA code 'E01999999'", "unknown site_id 'NOPE'", "not a number", "negative"):
        assert part in reasons
    per = ac.access_by_lsoa(lsoa, sites, tt)
    assert np.allclose(per["time_min"], 2 * dist["distance_km"], atol=1e-3)
    a = ac.summarise(per, "ward", threshold_min=20)
    b = ac.summarise(dist, "ward", threshold_km=10)
    assert (a["population_beyond"] == b["population_beyond"]).all()
    assert "mean_time_min" in a


def test_outreach_recency(store, register):
    stops = register.category("hari_bus")
    wards = store.wards24
    asof = pd.Timestamp(stops["event_date"].max()) + pd.Timedelta(days=10)
    rec = ac.outreach_recency(wards, stops, asof, near_km=0.0).set_index("wd24cd")
    # independent: which ward polygon contains each stop (spatial join)
    import geopandas as gpd
    pts = gpd.GeoDataFrame(stops, geometry=gpd.points_from_xy(stops["easting"], stops["northing"]), crs=27700)
    hit = gpd.sjoin(pts, wards.to_crs(27700)[["wd24cd", "geometry"]], predicate="within")
    for wd, g in hit.groupby("wd24cd"):
        last = pd.Timestamp(g["event_date"].max())
        assert rec.loc[wd, "last_stop_date"] == last.date().isoformat()
        assert rec.loc[wd, "days_since_last_stop"] == (asof - last).days
        assert bool(rec.loc[wd, "illustrative"])
    others = rec.drop(index=hit["wd24cd"].unique())
    assert others["last_stop_date"].isna().all()
    # before any stop: nothing in the past, next stop known
    early = ac.outreach_recency(wards, stops, "2024-01-01", near_km=0.0).set_index("wd24cd")
    assert early["last_stop_date"].isna().all() and early.loc[hit["wd24cd"].iloc[0], "next_stop_date"] is not None


# --- CLI ---------------------------------------------------------------------------

def _cli(*args):
    env = dict(os.environ)
    return subprocess.run([sys.executable, "-m", "geo", "access", *args], capture_output=True, text=True,
                          cwd=ROOT, env=env, timeout=300)


def test_cli_csv_by_ward_adds_up_to_place(store):
    r = _cli("--category", "gp", "--threshold-km", "2", "--by", "ward", "--format", "csv")
    assert r.returncode == 0, r.stderr
    t = pd.read_csv(io.StringIO(r.stdout.lstrip("\ufeff")))
    need = ["code", "name", "population", "core20_population", "population_beyond", "core20_population_beyond",
            "mean_distance_km"]
    assert list(t.columns[:7]) == need
    r2 = _cli("--category", "gp", "--threshold-km", "2", "--by", "place", "--format", "json")
    assert r2.returncode == 0, r2.stderr
    j = json.loads(r2.stdout)
    assert "straight-line" in j["meta"]["distance"]
    p = pd.DataFrame(j["rows"])
    for c in need[2:6]:
        assert t[c].sum() == p[c].sum()


def test_cli_place_filter(store):
    r = _cli("--category", "screening", "--by", "district", "--place", "blackpool", "--format", "json",
             "--threshold-km", "5")
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)["rows"]
    assert [x["name"] for x in rows] == ["Blackpool"]


@pytest.mark.parametrize("args,expect", [
    (["--category", "spaceport", "--by", "ward"], "gp, hospital, act, screening, hari_bus"),
    (["--category", "gp", "--by", "county"], "lsoa, ward, district, place"),
    (["--category", "gp", "--format", "xml"], "csv, json"),
    pytest.param(["--category", "gp", "--place", "Narnia"], "Pennine Lancashire",
                 marks=pytest.mark.real_data),     # the CLI reads the store before the place
    (["--category", "gp", "--threshold-min", "10"], "--travel-times"),
    (["--category", "gp", "--threshold-km", "-1"], ">= 0"),
])
def test_cli_bad_values_exit_2_with_one_line(args, expect):
    r = _cli(*args)
    assert r.returncode == 2
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and expect in lines[0], r.stderr


# --- dated events, one ward list, one denominator ---------------------------------

def _stops_fixture():
    """Three HARI bus stops around 2025-03-01 (a past one, one on the day, a future one
    marked open) and a cancelled one, at real LSC points."""
    base = dict(category="hari_bus", subcategory="", opened="", closed="", illustrative=False)
    rows = [dict(id="P", name="past", event_date="2025-02-01", status="open", easting=331000, northing=436000),
            dict(id="T", name="today", event_date="2025-03-01", status="open", easting=355000, northing=432000),
            dict(id="F", name="future", event_date="2025-04-01", status="open", easting=347000, northing=464000),
            dict(id="C", name="cancelled", event_date="2025-03-01", status="closed", easting=360000, northing=440000)]
    return pd.DataFrame([{**base, **r} for r in rows])


def test_event_states_are_visited_today_upcoming_cancelled():
    st = ac.event_state(_stops_fixture(), "2025-03-01").tolist()
    assert st == ["visited", "today", "upcoming", "cancelled"]


def test_only_stops_inside_the_window_count_as_sites():
    rec = _stops_fixture()
    # default: the as-of day alone (a past stop is not open today, a future one not yet)
    assert ac.sites_for(rec, ["hari_bus"], "2025-03-01")["id"].tolist() == ["T"]
    assert ac.sites_for(rec, ["hari_bus"], "2025-03-10")["id"].tolist() == []
    w = ac.sites_for(rec, ["hari_bus"], "2025-03-01", events_from="2025-01-01", events_to="2025-12-31")
    assert sorted(w["id"]) == ["F", "P", "T"]                  # the cancelled stop never counts
    with pytest.raises(Exception, match="before it starts"):
        ac.event_window("2025-03-01", "2025-03-05", "2025-03-01")


def test_access_to_the_bus_uses_the_window(store, register):
    stops = register.category("hari_bus")
    first, last = stops["event_date"].min(), stops["event_date"].max()
    after = (pd.Timestamp(last) + pd.Timedelta(days=30)).date().isoformat()
    with pytest.raises(Exception, match="choose a wider date window"):
        ac.compute_access("hari_bus", store=store, register=register, as_of=after)
    res = ac.compute_access("hari_bus", store=store, register=register, as_of=after, events_from=first,
                            events_to=last)
    assert len(res.sites) == len(stops) and res.event_window == (first, last)
    assert any("count as sites" in n for n in res.notes)
    one = ac.compute_access("hari_bus", store=store, register=register, as_of=first)
    assert len(one.sites) == int((stops["event_date"] == first).sum())


def test_ward_access_lists_the_same_wards_as_the_report(store, register):
    from geo.report import build_table
    from geo.wardfit import NO_LSOA_NOTE
    rep = build_table(store, "ward")
    per = ac.compute_access("act", store=store, register=register, as_of=AS_OF).per_lsoa
    acc = ac.summarise(per, "ward", threshold_km=10, wards=store.wards24)
    assert len(rep) == len(acc) == len(store.wards24) == 277
    assert sorted(rep["code"]) == sorted(acc["code"])
    empty = rep[rep["n_lsoas"] == 0]["code"].tolist()
    assert len(empty) == 2
    assert (rep.set_index("code").loc[empty, "note"] == NO_LSOA_NOTE).all()
    assert (acc.set_index("code").loc[empty, "note"] == NO_LSOA_NOTE).all()
    assert (rep.set_index("code").drop(index=empty)["note"] == "").all()
    # a place filter keeps its empty ward too (Whalley Nethertown is in Ribble Valley)
    rv = build_table(store, "ward", place="Ribble Valley")
    assert rv["note"].astype(bool).sum() == int((store.wards24.loc[
        store.wards24["wd24cd"].isin(empty), "lad19nm"] == "Ribble Valley").sum())


def test_default_denominator_is_the_ward_tables(store, register):
    from geo.report import build_table
    per = ac.compute_access("act", store=store, register=register, as_of=AS_OF).per_lsoa
    acc = ac.summarise(per, "district", threshold_km=10).set_index("code")
    rep = build_table(store, "district").set_index("code")
    assert (acc["population"] == rep["population"].round().astype("int64")).all()
    assert (acc["core20_population"] == rep["core20_population"].round().astype("int64")).all()


def test_screening_programme_filter_and_shares(store, register):
    allp = ac.compute_access("screening", store=store, register=register, as_of=AS_OF)
    bowel = ac.compute_access("screening", store=store, register=register, as_of=AS_OF, subcategories=["bowel"])
    assert set(bowel.sites["subcategory"]) == {"bowel"} and len(bowel.sites) < len(allp.sites)
    assert any("bowel" in n for n in bowel.notes)
    t = ac.display_table(ac.summarise(bowel.per_lsoa, "district", threshold_km=10), "district")
    cols = list(t.columns)
    assert cols.index("% beyond") == cols.index("People beyond") + 1
    assert cols.index("% of Core20 beyond") == cols.index("Core20 people beyond") + 1
    r = t.iloc[0]
    assert r["% beyond"] == pytest.approx(100 * r["People beyond"] / r["Population"], abs=0.05)
    assert t["People beyond"].is_monotonic_decreasing          # largest gap first, not code order


def test_cli_events_window_and_same_wards_as_report(store):
    r = _cli("--category", "hari_bus", "--events-from", "2025-01-01", "--events-to", "2025-12-31",
             "--by", "ward", "--threshold-km", "5", "--format", "csv")
    assert r.returncode == 0, r.stderr
    t = pd.read_csv(io.StringIO(r.stdout.lstrip("\ufeff")))
    rep = subprocess.run([sys.executable, "-m", "geo", "report", "--by", "ward"], capture_output=True, text=True,
                         cwd=ROOT, timeout=300)
    w = pd.read_csv(io.StringIO(rep.stdout))
    assert sorted(t["code"]) == sorted(w["code"]) and len(t) == 277
    assert t["note"].fillna("").str.contains("no LSOA").sum() == 2
    bad = _cli("--category", "hari_bus", "--events-from", "2025-03-01", "--events-to", "2025-01-01")
    assert bad.returncode == 2 and "before" in bad.stderr
