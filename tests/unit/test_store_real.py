"""The built store on the real staged data: counts, assignments, Core20."""
import pandas as pd
import pytest

from geo.report import build_table

FOOTPRINT_LSOAS = {  # SOURCES.md, checked against IoD2019 File 1
    "Barrow-in-Furness": 49, "Blackburn with Darwen": 91, "Blackpool": 94, "Burnley": 60, "Chorley": 66,
    "Fylde": 51, "Hyndburn": 52, "Lancaster": 89, "Pendle": 57, "Preston": 86, "Ribble Valley": 40,
    "Rossendale": 43, "South Lakeland": 59, "South Ribble": 70, "West Lancashire": 73, "Wyre": 69,
}


def test_lsoa_counts(store):
    assert len(store.england19) == 32844
    assert store.england19["lsoa11cd"].is_unique
    assert len(store.lsoa) == 1049
    assert store.lsoa["lad19nm"].value_counts().to_dict() == FOOTPRINT_LSOAS


def test_ward_counts(store):
    assert len(store.wards24) == 277  # 253 Lancashire-14 wards + 24 W&F wards in former Barrow/South Lakeland
    assert len(store.wards19) == 316
    assert store.lsoa["wd19cd"].nunique() == 316
    # 2 small May-2024 wards receive no LSOA under the postcode best fit (SOURCES.md)
    assert (store.wards24["n_lsoa11"] == 0).sum() == 2


def test_every_lsoa_in_exactly_one_ward_and_place(store):
    l = store.lsoa
    for col in ("wd19cd", "wd24cd", "place5", "place4", "subicb_code", "lad19cd"):
        assert l[col].notna().all(), col
    assert l["lsoa11cd"].is_unique  # one row per LSOA -> exactly one value of each
    assert set(l["wd24cd"]) <= set(store.wards24["wd24cd"])
    assert set(l["place5"]) == {"Central Lancashire", "Fylde Coast", "Morecambe Bay", "Pennine Lancashire",
                                "West Lancashire"}
    assert set(l["place4"]) == {"Lancashire-12", "Blackpool", "Blackburn with Darwen", "South Cumbria"}
    # a place's LSOAs are exactly its districts' LSOAs
    assert l.groupby("lad19cd")["place5"].nunique().max() == 1
    assert set(l["subicb_code"]) == {"00Q", "00R", "00X", "01A", "01E", "01K", "02G", "02M"}


def test_core20_share_of_lsc_population_iod2019_mid2015(store, real_source):
    """IoD2019 national deciles, mid-2015 IoD denominators: computed independently from the raw CSV."""
    raw = pd.read_csv(real_source / "imd/iod2019_lsoa11_lsc.csv")
    raw = raw[raw["in_lsc_16_lads"]]
    pop = raw["Total population: mid 2015 (excluding prisoners)"]
    dec = raw["Index of Multiple Deprivation (IMD) Decile (where 1 is most deprived 10% of LSOAs)"]
    expect = 100 * pop[dec <= 2].sum() / pop.sum()
    icb = build_table(store, "icb").iloc[0]
    assert icb["population"] == pop.sum()
    assert icb["pct_core20"] == pytest.approx(expect)
    assert 28 < icb["pct_core20"] < 31  # about 29% of LSC residents live in Core20 LSOAs
    districts = build_table(store, "district")
    assert districts["core20_population"].sum() == icb["core20_population"]


def test_core20_share_mid2019_denominator_differs_and_is_stated(store):
    a = build_table(store, "icb", population="mid2015").iloc[0]
    b = build_table(store, "icb", population="mid2019").iloc[0]
    assert a["population_basis"] != b["population_basis"]
    assert "mid-2019" in b["population_basis"]
    assert a["population"] != b["population"]


def test_iod2025_drawable_and_listed(store):
    l25 = store.lsoa25
    assert len(l25) == 1051
    assert int(l25["drawable"].sum()) == 1025
    assert l25.loc[~l25["drawable"], "geometry"].isna().all()
    assert l25.loc[l25["drawable"], "geometry"].notna().all()
    listed = store.manifest["footprint"]["lsoa21_not_drawable"]
    assert sorted(listed) == sorted(l25.loc[~l25["drawable"], "lsoa21cd"])
    assert l25["lad19cd"].notna().all() and l25["place4"].notna().all()


def test_local_deciles_are_within_footprint(store):
    l = store.lsoa
    counts = l["imd_local_decile"].value_counts()
    assert counts.max() - counts.min() <= 1  # equal-count deciles of the 1,049 LSOAs
    # local decile 1 holds the LSC LSOAs with the lowest national ranks
    assert l.loc[l["imd_local_decile"] == 1, "imd_rank"].max() < l.loc[l["imd_local_decile"] == 2, "imd_rank"].min()


def test_population_weighted_points_come_from_postcodes(store):
    l = store.lsoa
    assert (l["n_postcodes"] > 0).all()
    import shapely
    inside = shapely.contains_xy(l.geometry.values, l["pwc_lon"].values, l["pwc_lat"].values)
    assert inside.mean() > 0.9  # postcode means fall inside their (generalised) LSOA nearly always
    cen = l.to_crs(27700).centroid
    moved = ((cen.x - l["pwc_easting"]) ** 2 + (cen.y - l["pwc_northing"]) ** 2) ** 0.5
    assert (moved > 1).mean() > 0.99  # not the polygon centroid


def test_manifest_records_inputs_and_checksums(store):
    m = store.manifest
    assert m["inputs"]["iod2019_england"]["sha256"] == "16b340c19cfd1127191be5b8a344e50e3e7b71a08cfef307f05994faf826e44e"
    assert all(v["matches_config"] for v in m["inputs"].values())
    assert "Royal Mail" in m["attribution"] and "Open Government Licence" in m["attribution"]
