"""The England-wide store tables on the real staged data (issue #12), the LSC build without
the England files, and the England readers on small broken fixtures."""
import gzip

import numpy as np
import pandas as pd
import pytest

from geo.errors import SourceError


def test_lsoa21_every_lsoa_with_every_measure(store, real_source):
    l = store.lsoa21
    assert len(l) == 33755 and l["lsoa21cd"].is_unique
    for m in ("imd", "income", "employment", "education", "health", "crime", "barriers", "living_env"):
        for k in ("score", "rank", "decile"):
            assert l[f"{m}_{k}"].notna().all(), f"{m}_{k}"
    assert l["imd_rank"].min() == 1 and l["imd_rank"].max() == 33755 and l["imd_rank"].is_unique
    # Census 2021 counts are perturbed: the 33,755 LSOAs add to 56,490,056 (SOURCES.md)
    assert int(l["pop2021"].sum()) == 56_490_056
    raw = pd.read_csv(real_source / "population/census2021_usual_residents_lsoa21_england.csv")
    got = l.set_index("lsoa21cd")["pop2021"]
    assert (got.reindex(raw["LSOA21CD"]).values == raw["census2021_usual_residents"].values).all()
    for c in ("wd24cd", "lad24cd", "sicbl24cd", "icb24cd", "lad24nm", "icb24nm"):
        assert l[c].notna().all(), c
    assert l.crs.to_epsg() == 4326 and l.geometry.notna().all()


def test_icb_counts_lsc_and_northamptonshire(store):
    n = store.lsoa21["icb24cd"].value_counts()
    assert len(n) == 42
    assert n["E54000048"] == 1060 and n["E54000059"] == 443
    assert len(store.icb) == 42 and set(store.icb["icb24cd"]) == set(n.index)
    lsc = store.icb.set_index("icb24cd").loc["E54000048"]
    assert lsc["icb24cdh"] == "QE1" and lsc["short_name"] == "Lancashire and South Cumbria"
    assert lsc["n_lsoa21"] == 1060 and lsc["n_subicb"] == 8


def test_district_is_the_lad22_nesting_not_the_ward_best_fit(store):
    """West Northamptonshire 048E best-fits a Cherwell ward but lies in West Northamptonshire
    (MHCLG counts 238 LSOAs there: 5/238 = its published 0.021)."""
    l = store.lsoa21.set_index("lsoa21cd")
    assert l.loc["E01027305", "lad24cd"] == "E06000062" and l.loc["E01027305", "wd24_lad24cd"] == "E07000177"
    assert (store.lsoa21["lad24cd"] == "E06000062").sum() == 238
    assert store.lsoa21["lad24cd"].nunique() == 296
    assert store.lsoa21.groupby("lad22cd")["lad24cd"].nunique().max() == 1


def test_population_points_are_postcode_means_inside_the_lsoa(store):
    import shapely
    l = store.lsoa21
    fb = l["pwc_fallback"]
    assert (fb == (l["n_postcodes"] == 0)).all()
    assert fb.sum() <= 10  # a handful of LSOAs hold no postcode unit
    inside = shapely.contains_xy(l.geometry.values, l["pwc_lon"].values, l["pwc_lat"].values)
    assert inside.mean() > 0.95
    cen = l.geometry.to_crs(27700).centroid
    moved = np.hypot(cen.x - l["pwc_easting"], cen.y - l["pwc_northing"])
    assert (moved[~fb] > 1).mean() > 0.99  # not the polygon centroid
    assert l["n_postcodes"].sum() == store.postcodes_england["lsoa21cd"].notna().sum()


def test_postcodes_england_agree_with_ons_lsoa_in_lsc(store):
    """Point-in-polygon LSOAs against the ONS May-2022 postcode lookup (LSC file), where the
    2011 LSOA is unchanged in 2021 (same code)."""
    pc = store.postcodes_england
    assert len(pc) == 1_489_121 and pc["postcode_key"].is_unique
    lsc = store.postcodes.dropna(subset=["lsoa11cd"])
    m = lsc.merge(pc[["postcode_key", "lsoa21cd", "latitude"]], on="postcode_key", suffixes=("", "_e"))
    assert len(m) == len(lsc)
    assert (m["latitude"] - m["latitude_e"]).abs().max() < 1e-9
    same = m[m["lsoa11cd"].isin(set(store.lsoa21["lsoa21cd"]))]
    ok = same["lsoa11cd"] == same["lsoa21cd"].astype(str)
    # super-generalised (BSC, ~200 m) polygons move edge postcodes into a neighbour: in LSC
    # about 89% agree; the others lie within a few hundred metres of their ONS LSOA
    assert ok.mean() > 0.85
    import geopandas as gpd
    bad = same[~ok & same["lsoa21cd"].notna()]
    polys = store.lsoa21.set_index("lsoa21cd").geometry.to_crs(27700)
    pts = gpd.GeoSeries(gpd.points_from_xy(bad["easting"], bad["northing"]), crs=27700)
    dist = pts.distance(gpd.GeoSeries(polys.reindex(bad["lsoa11cd"]).values, crs=27700), align=False)
    assert (dist < 500).mean() > 0.95 and dist.median() < 100


def test_lsoa11_england_and_the_2011_2021_pairs(store):
    l11 = store.lsoa11_england
    assert len(l11) == 32844 and set(l11["lsoa11cd"]) == set(store.england19["lsoa11cd"])
    assert l11["wd19cd"].notna().all() and l11["icb22cd"].notna().all()
    assert (l11["icb22cd"] == "E54000048").sum() == 1058  # SOURCES.md: LSC = 1,058 LSOA 2011
    p = store.lsoa11_lsoa21
    assert len(p) == 33855 and set(p["chgind"]) == {"U", "S", "M", "X"}


def test_wards24_england_dissolved_and_flagged(store):
    w = store.wards24_england
    assert w["approximate_geometry"].all() and w["wd24cd"].is_unique
    assert set(store.lsoa21["wd24cd"]) == set(w["wd24cd"])
    assert w["n_lsoa21"].sum() == 33755 and w["pop2021"].sum() == 56_490_056
    assert w.geometry.is_valid.mean() > 0.99
    # a dissolved ward covers the area of its LSOAs
    code = w.loc[w["n_lsoa21"].idxmax(), "wd24cd"]
    parts = store.lsoa21[store.lsoa21["wd24cd"] == code].to_crs(27700).area.sum()
    assert w[w["wd24cd"] == code].to_crs(27700).area.iloc[0] == pytest.approx(parts, rel=1e-3)


def test_priority_table_distinct_wards(store):
    p = store.priority_nhsei
    assert len(p) == 838 and p["wd19cd"].is_unique
    assert (p["n_rows"] == 2).sum() == 10
    ladywood = p[p["wd19nm"] == "Ladywood"].iloc[0]
    assert ladywood["n_rows"] == 2 and ";" in ladywood["ccg19cd"]
    assert p["icb24cd"].notna().all() and p["approximate_geometry"].all()


def test_official_summaries(store):
    assert len(store.lad24_official) == 296 and len(store.icb_official) == 42
    assert store.manifest["england"]["lsoa21"] == 33755


def test_lsc_store_builds_without_the_england_files(tmp_path, real_source):
    """The England files are optional: an LSC-only source folder still builds the LSC store."""
    from geo import sources as S
    from geo.build import build
    from geo.store import load_store
    src = tmp_path / "src"
    eng = {s.path for s in S.load_sources().values() if s.group == "england"}
    for f in real_source.rglob("*"):
        rel = str(f.relative_to(real_source))
        if f.is_file() and rel not in eng:
            (src / rel).parent.mkdir(parents=True, exist_ok=True)
            (src / rel).symlink_to(f)
    msgs = []
    man = build(src, tmp_path / "store", log=msgs.append)
    s = load_store(tmp_path / "store")
    assert len(s.lsoa) == 1049 and len(s.lsoa25) == 1051 and not s.has_england
    assert man["england"] is None
    assert any("England-wide tables not built" in w and "iod2025_lsoa21_england.csv" in w for w in man["warnings"])


# ---------------------------------------------------------------- readers on fixtures
def _pc_file(tmp_path, rows):
    p = tmp_path / "pc.csv.gz"
    head = "postcode,latitude,longitude,easting,northing,positional_quality_indicator,lad24cd,ward24cd\n"
    with gzip.open(p, "wt") as f:
        f.write(head + "".join(r + "\n" for r in rows))
    return p


def test_postcode_reader_names_row_of_swapped_lat_lon(tmp_path):
    from geo.build_england import read_postcodes_england
    p = _pc_file(tmp_path, ["BB2 3HH,53.74,-2.48,368000,428000,10,E06000008,E05001621",
                            "BB2 3HJ,-2.48,53.74,368010,428010,10,E06000008,E05001621"])
    with pytest.raises(SourceError, match=r"row 3: latitude/longitude .*swapped"):
        read_postcodes_england(p, "pc.csv.gz")


def test_postcode_reader_names_row_of_non_number_and_duplicates(tmp_path):
    from geo.build_england import read_postcodes_england
    p = _pc_file(tmp_path, ["BB2 3HH,53.74,-2.48,368000,428000,10,E,E", "BB2 3HJ,53.74,-2.48,x,428000,10,E,E"])
    with pytest.raises(SourceError, match=r"column 'easting', row 3: value 'x' is not a number"):
        read_postcodes_england(p, "pc.csv.gz")
    p = _pc_file(tmp_path, ["BB2 3HH,53.74,-2.48,368000,428000,10,E,E", "bb23hh,53.74,-2.48,368000,428000,10,E,E"])
    with pytest.raises(SourceError, match=r"row 3: duplicate postcode"):
        read_postcodes_england(p, "pc.csv.gz")
    ok = read_postcodes_england(_pc_file(tmp_path, ["bb2 3hh,53.74,-2.48,368000,428000,10,E,E"]), "pc")
    assert ok["postcode_key"].tolist() == ["BB23HH"]


def test_points_in_polygons_on_a_fixture():
    import shapely
    from geo.build_england import dissolve, points_in_polygons
    sq = [shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1), shapely.box(0, 1, 1, 2)]
    x = np.array([0.5, 1.5, 0.5, 5.0, 1.0])
    y = np.array([0.5, 0.5, 1.5, 5.0, 0.5])
    idx = points_in_polygons(np.array(sq, dtype=object), x, y)
    assert idx.tolist() == [0, 1, 2, -1, 0]  # outside -> -1; on a shared edge -> the first polygon
    keys, geoms = dissolve(sq, ["a", "b", "a"])
    assert list(keys) == ["a", "b"] and geoms[0].area == pytest.approx(2.0)


def test_bad_england_lookup_stops_the_build_naming_file_and_row(tmp_path, real_source):
    from geo.build import build
    src = tmp_path / "src"
    for f in real_source.rglob("*"):
        if f.is_file():
            (src / f.relative_to(real_source)).parent.mkdir(parents=True, exist_ok=True)
            (src / f.relative_to(real_source)).symlink_to(f)
    rel = "lookups/lsoa21_icb24_england.csv"
    df = pd.read_csv(real_source / rel)
    df.loc[99, "LSOA21CD"] = "E01999999"
    (src / rel).unlink()
    df.to_csv(src / rel, index=False)
    with pytest.raises(SourceError, match=r"lsoa21_icb24_england.csv, column 'LSOA21CD', row 101: .*'E01999999'"):
        build(src, tmp_path / "store", allow_changed=True, log=lambda m: None)
    assert not (tmp_path / "store").exists() and not [p for p in tmp_path.iterdir() if ".tmp-" in p.name]


def test_england_inputs_recorded_apart_with_checksums(store):
    m = store.manifest
    assert "iod2025_england" in m["inputs_england"] and "iod2025_england" not in m["inputs"]
    assert all(v["matches_config"] for v in m["inputs_england"].values())
