"""England-wide store tables (issue #12): every ICB on IoD2025 / 2021 LSOAs.

Called by `geo.build.Builder.run` after the LSC tables. All sources used here are marked
`group: england` (and `optional: true`) in config/sources.yaml: when any is absent the
LSC store is still built, without these tables, and the build says which file is missing.

Tables (see geo/store.py for the columns): lsoa21, lsoa11_england, lsoa11_lsoa21, icb,
lad24_official, icb_official, wards24_england, ward19_to_ward24, priority_nhsei,
postcodes_england.
"""
from __future__ import annotations

import re
import time

import numpy as np
import pandas as pd

from geo.arrowops import isin
from geo.errors import SourceError
from geo.store import MEASURES

N_LSOA21 = 33755
N_ICB = 42
SUBDOMAINS = ["children_and_young_people", "adult_skills", "geographical_barriers", "wider_barriers", "indoors",
              "outdoors"]
PRIORITY_STATUS = ("Priority", "Exemplar")
WARD_RE = re.compile(r"^E05\d{6}$")


def _first_bad(mask) -> int:
    return int(np.flatnonzero(np.asarray(mask))[0])


def _require_codes(df: pd.DataFrame, col: str, known, label: str, what: str, *, row_offset: int = 2,
                   source_col: str | None = None) -> None:
    """Every code in df[col] must be in `known`; else name the first offending row."""
    bad = ~isin(df[col], known)
    if bad.any():
        i = _first_bad(bad)
        raise SourceError(label, f"{int(bad.sum())} code(s) are not {what}, e.g. {df[col].iloc[i]!r} "
                                 f"(boundary or lookup vintage mismatch?)", column=source_col or col,
                          row=i + row_offset)


def _require_all(codes, present, label: str, what: str) -> None:
    """Every code in `codes` must appear in `present` (the file named by label)."""
    miss = ~isin(codes, present)
    if miss.any():
        ex = pd.Series(codes)[miss].iloc[0]
        raise SourceError(label, f"{int(miss.sum())} {what} missing, e.g. {ex!r} (file truncated or filtered?)")


def short_icb_name(name: str) -> str:
    """'NHS Lancashire and South Cumbria Integrated Care Board' -> 'Lancashire and South Cumbria'."""
    s = re.sub(r"^NHS\s+", "", str(name).strip())
    return re.sub(r"\s+(Integrated Care Board|ICB)$", "", s)


# ---------------------------------------------------------------- readers
def read_iod2025_england(b, key="iod2025_england") -> pd.DataFrame:
    from geo.build import IOD25_MEASURE_PREFIX, _check_lsoa_codes, _numeric, read_csv
    label = b.label(key)
    df = read_csv(b.path(key), ["LSOA21CD", "LSOA21NM", "LAD22CD", "LAD24CD", "same_code_as_lsoa2011",
                                "IMD_score", "IMD_rank", "IMD_decile"], key="LSOA21CD", label=label)
    ren = {"LSOA21CD": "lsoa21cd", "LSOA21NM": "lsoa21nm", "LAD22CD": "lad22cd", "LAD24CD": "lad24cd"}
    for pre, m in IOD25_MEASURE_PREFIX.items():
        for kind in ("score", "rank", "decile"):
            ren[f"{pre}_{kind}"] = f"{m}_{kind}"
    src = {v: k for k, v in ren.items()}
    df = df.rename(columns=ren)
    missing = [src[f"{m}_{k}"] for m in MEASURES for k in ("score", "rank", "decile") if f"{m}_{k}" not in df]
    if missing:
        raise SourceError(label, f"required column(s) missing: {', '.join(map(repr, missing))}", column=missing[0])
    if len(df) != N_LSOA21:
        raise SourceError(label, f"has {len(df):,} LSOA rows; IoD2025 covers all {N_LSOA21:,} LSOAs 2021 in "
                                 f"England (file truncated or filtered?)")
    _check_lsoa_codes(df, "lsoa21cd", label)
    ranks = [c for c in df.columns if c.endswith("_rank")]
    deciles = [c for c in df.columns if c.endswith("_decile")]
    scores = [c for c in df.columns if c.endswith("_score")]
    _numeric(df, ranks, label, integer=True, lo=1, hi=N_LSOA21, labels=src)
    _numeric(df, deciles, label, integer=True, lo=1, hi=10, labels=src)
    _numeric(df, scores, label, labels=src)
    df["same_code_as_lsoa2011"] = df["same_code_as_lsoa2011"].astype(str).str.lower().isin(["true", "1"])
    keep = (["lsoa21cd", "lsoa21nm", "lad22cd", "lad24cd", "same_code_as_lsoa2011"]
            + [f"{m}_{k}" for m in MEASURES for k in ("score", "rank", "decile")]
            + [f"{s}_{k}" for s in SUBDOMAINS for k in ("score", "rank", "decile") if f"{s}_{k}" in df.columns])
    df = df[keep].copy()
    for c in df.columns:
        if c.endswith("_rank"):
            df[c] = df[c].astype("int32")
        elif c.endswith("_decile"):
            df[c] = df[c].astype("int8")
    return df


def read_postcodes_england(path, label: str) -> pd.DataFrame:
    """Code-Point Open, all English units. Typed pyarrow read (fast); on a value pyarrow
    cannot convert, the slower pandas reader finds and names the row."""
    import pyarrow as pa
    import pyarrow.csv as pcsv
    from geo.build import _numeric, read_csv
    cols = {"postcode": pa.string(), "latitude": pa.float64(), "longitude": pa.float64(),
            "easting": pa.int32(), "northing": pa.int32()}
    try:
        tbl = pcsv.read_csv(path, convert_options=pcsv.ConvertOptions(include_columns=list(cols),
                                                                       column_types=cols))
        df = tbl.to_pandas()
    except (pa.ArrowInvalid, KeyError, OSError, EOFError, UnicodeDecodeError):
        df = read_csv(path, list(cols), key="postcode", label=label)
        _numeric(df, ["latitude", "longitude"], label)
        _numeric(df, ["easting", "northing"], label, integer=True)
    if df.empty:
        raise SourceError(label, "has a header but no rows")
    for c in cols:
        if df[c].isna().any():
            raise SourceError(label, "blank value", column=c, row=_first_bad(df[c].isna()) + 2)
    from geo.build import ENGLAND_BBOX
    x0, y0, x1, y1 = ENGLAND_BBOX
    out = ~(df["longitude"].between(x0, x1) & df["latitude"].between(y0, y1))
    if out.any():
        i = _first_bad(out)
        raise SourceError(label, f"latitude/longitude ({df['latitude'].iloc[i]}, {df['longitude'].iloc[i]}) is not "
                                 f"in England (swapped columns?)", column="latitude", row=i + 2)
    out = ~(df["easting"].between(0, 700_000) & df["northing"].between(0, 1_300_000))
    if out.any():
        i = _first_bad(out)
        raise SourceError(label, f"easting/northing ({df['easting'].iloc[i]}, {df['northing'].iloc[i]}) outside the "
                                 f"British National Grid", column="easting", row=i + 2)
    import pyarrow.compute as pc
    key = pc.utf8_upper(pc.replace_substring(pa.array(df["postcode"], from_pandas=True), " ", ""))
    if pc.count_distinct(key).as_py() != len(key):
        dup = pd.Series(key.to_numpy(zero_copy_only=False)).duplicated()
        i = _first_bad(dup)
        raise SourceError(label, f"duplicate postcode {df['postcode'].iloc[i]!r}", column="postcode", row=i + 2)
    df["postcode_key"] = pd.Series(key.to_pandas().values, index=df.index)
    return df


# ---------------------------------------------------------------- geometry helpers
def points_in_polygons(polys, x, y) -> np.ndarray:
    """Index into `polys` of the polygon holding each point (x, y lon/lat arrays), -1 where
    none does. Bounding-box candidates from an STRtree, then one vectorised exact test
    (shapely.contains_xy on prepared polygons). A point on a shared edge goes to the first."""
    import shapely
    polys = np.asarray(polys)
    tree = shapely.STRtree(polys)
    pts = shapely.points(x, y)
    pi, gi = tree.query(pts)
    del pts
    shapely.prepare(polys)
    hit = shapely.intersects_xy(polys[gi], x[pi], y[pi])
    pi, gi = pi[hit], gi[hit]
    out = np.full(len(x), -1, dtype=np.int64)
    order = np.lexsort((gi, pi))[::-1]  # later writes win: reversed so the lowest polygon index wins
    out[pi[order]] = gi[order]
    return out


def dissolve(geoms, keys) -> tuple[np.ndarray, np.ndarray]:
    """Union of geometries per key -> (unique keys, geometries)."""
    import shapely
    keys = np.asarray(keys, dtype=object)
    order = np.argsort(keys, kind="stable")
    k, g = keys[order], np.asarray(geoms)[order]
    starts = np.flatnonzero(np.r_[True, k[1:] != k[:-1]])
    parts = np.split(g, starts[1:])
    return k[starts], np.array([p[0] if len(p) == 1 else shapely.union_all(p) for p in parts], dtype=object)


def population_points(polys: "gpd.GeoDataFrame", codes, pc: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """Mean of the postcode units inside each polygon (a population-weighted proxy point),
    in lon/lat and BNG. Returns (per-polygon frame, index of each postcode's polygon).
    Polygons with no postcode get their representative point, flagged by pwc_fallback."""
    import geopandas as gpd
    x, y = pc["longitude"].to_numpy("float64"), pc["latitude"].to_numpy("float64")
    idx = points_in_polygons(polys.geometry.values, x, y)
    ok = idx >= 0
    n = len(polys)
    cnt = np.bincount(idx[ok], minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = {c: np.bincount(idx[ok], weights=pc[c].to_numpy("float64")[ok], minlength=n) / cnt
                 for c in ("longitude", "latitude", "easting", "northing")}
    out = pd.DataFrame({"pwc_lon": means["longitude"], "pwc_lat": means["latitude"],
                        "pwc_easting": means["easting"], "pwc_northing": means["northing"],
                        "n_postcodes": cnt.astype("int32")}, index=pd.Index(codes))
    out["pwc_fallback"] = cnt == 0
    if out["pwc_fallback"].any():
        rp = gpd.GeoSeries(polys.geometry.values[cnt == 0], crs=4326).representative_point()
        bng = rp.to_crs(27700)
        fb = out["pwc_fallback"].to_numpy()
        out.loc[fb, "pwc_lon"], out.loc[fb, "pwc_lat"] = rp.x.values, rp.y.values
        out.loc[fb, "pwc_easting"], out.loc[fb, "pwc_northing"] = bng.x.values, bng.y.values
    return out, idx


# ---------------------------------------------------------------- the build
class EnglandBuild:
    KEYS = ["iod2025_england", "census2021_england", "lsoa21_polygons_england", "lsoa21_ward24_england",
            "lsoa21_icb24_england", "postcodes_england", "lsoa11_polygons_england", "lsoa11_ward2019_england",
            "lsoa11_icb22_england", "lsoa11_lsoa21_england", "icb_polygons", "iod2025_lad_summaries_england",
            "iod2025_icb_summaries", "priority_nhsei", "priority_nhsei_shapes"]

    def __init__(self, builder, england19: pd.DataFrame):
        self.b = builder
        self.eng19 = england19
        self.out: dict[str, object] = {}

    def available(self) -> bool:
        missing = [k for k in self.KEYS if self.b.path(k) is None]
        if missing:
            self.b.warnings.append("England-wide tables not built: source file(s) missing: "
                                   + ", ".join(self.b.sources[k].path for k in missing))
            return False
        return True

    def _t(self, msg, t0):
        self.b.log(f"England: {msg} in {time.perf_counter() - t0:.2f} s")

    def run(self) -> dict[str, object]:
        if not self.available():
            return {}
        t0 = time.perf_counter()
        l21 = self._lsoa21()
        self._t(f"{len(l21):,} LSOA 2021 with IoD2025, population-weighted points", t0)
        t1 = time.perf_counter()
        self._lsoa11()
        self._icb(l21)
        self._official()
        self._wards24(l21)
        self._ward19_to_ward24(l21)
        self._priority()
        self._t("LSOA 2011, ICBs, wards, priority list", t1)
        return self.out

    # -------------------------------------------------------- lsoa21 + postcodes
    def _lsoa21(self):
        import geopandas as gpd
        from geo.build import read_csv, read_geojson, _numeric
        b = self.b
        df = read_iod2025_england(b)
        codes = df["lsoa21cd"]
        lbl = b.label("census2021_england")
        pop = read_csv(b.path("census2021_england"), ["LSOA21CD", "census2021_usual_residents"], key="LSOA21CD",
                       label=lbl)
        _numeric(pop, ["census2021_usual_residents"], lbl, integer=True, lo=0)
        _require_codes(pop, "LSOA21CD", codes, lbl, "LSOA 2021 codes in IoD2025")
        _require_all(codes, pop["LSOA21CD"], lbl, "IoD2025 LSOAs")
        df["pop2021"] = df["lsoa21cd"].map(pop.set_index("LSOA21CD")["census2021_usual_residents"]).astype("int32")

        lbl = b.label("lsoa21_ward24_england")
        w = read_csv(b.path("lsoa21_ward24_england"), ["LSOA21CD", "WD24CD", "WD24NM", "LAD24CD", "LAD24NM"],
                     key="LSOA21CD", label=lbl)
        _require_codes(w, "LSOA21CD", codes, lbl, "LSOA 2021 codes in IoD2025")
        _require_all(codes, w["LSOA21CD"], lbl, "IoD2025 LSOAs")
        w = w.rename(columns={"LSOA21CD": "lsoa21cd", "WD24CD": "wd24cd", "WD24NM": "wd24nm", "LAD24CD": "lad24cd_w",
                              "LAD24NM": "lad24nm"})
        df = df.merge(w[["lsoa21cd", "wd24cd", "wd24nm", "lad24cd_w"]], on="lsoa21cd", how="left")
        # LSOAs nest in LAD 2022, and each LAD22 lies in one LAD24 (2023 changes were whole
        # mergers), so the LSOA's district is its LAD22's LAD24, as MHCLG counts it. The
        # staged LAD24CD comes from the ward best fit, which puts a few LSOAs in the district
        # of their best-fit ward (West Northamptonshire 048E in Cherwell): kept as wd24_lad24cd.
        lad_of_22 = df.groupby("lad22cd")["lad24cd_w"].agg(lambda s: s.value_counts().index[0])
        df["lad24cd"] = df["lad22cd"].map(lad_of_22)
        lad_names = w.drop_duplicates("lad24cd_w").set_index("lad24cd_w")["lad24nm"]
        df["lad24nm"] = df["lad24cd"].map(lad_names)
        df = df.rename(columns={"lad24cd_w": "wd24_lad24cd"})
        moved = df["lad24cd"] != df["wd24_lad24cd"]
        if moved.any():
            b.log(f"England: {int(moved.sum())} LSOA 2021 best-fit to a ward of another district "
                  f"(e.g. {df.loc[moved, 'lsoa21nm'].iloc[0]}): district from LAD 2022, ward kept")

        lbl = b.label("lsoa21_icb24_england")
        ic = read_csv(b.path("lsoa21_icb24_england"), ["LSOA21CD", "SICBL24CD", "SICBL24CDH", "SICBL24NM", "ICB24CD",
                                                       "ICB24CDH", "ICB24NM"], key="LSOA21CD", label=lbl)
        _require_codes(ic, "LSOA21CD", codes, lbl, "LSOA 2021 codes in IoD2025")
        _require_all(codes, ic["LSOA21CD"], lbl, "IoD2025 LSOAs")
        ic = ic.rename(columns={c: c.lower() for c in ic.columns}).rename(columns={"lsoa21cd": "lsoa21cd"})
        df = df.merge(ic.drop(columns=["lsoa21nm"], errors="ignore"), on="lsoa21cd", how="left")

        lbl = b.label("lsoa21_polygons_england")
        polys = read_geojson(b.path("lsoa21_polygons_england"), lbl, "LSOA21CD", columns=["LSOA21CD"])
        _require_codes(polys, "LSOA21CD", codes, lbl, "LSOA 2021 codes in IoD2025", row_offset=1)
        _require_all(codes, polys["LSOA21CD"], lbl, "IoD2025 LSOA polygons")
        polys = polys.set_index("LSOA21CD").reindex(codes.values)
        polys = gpd.GeoDataFrame(geometry=polys.geometry.values, crs=4326)

        pc = read_postcodes_england(b.path("postcodes_england"), b.label("postcodes_england"))
        pwc, idx = population_points(polys, codes.values, pc)
        df = df.join(pwc, on="lsoa21cd")
        nfb = int(df["pwc_fallback"].sum())
        if nfb:
            b.warnings.append(f"England: {nfb} LSOA 2021 contain no postcode unit: representative point used "
                              f"(pwc_fallback)")
        outside = int((idx < 0).sum())
        b.log(f"England: {len(pc) - outside:,} of {len(pc):,} postcode units placed in an LSOA 2021 polygon "
              f"({outside:,} fall outside every generalised polygon, mostly on the coast)")
        # categorical: 33,755 codes shared by 1.5M rows (small in memory and in parquet)
        pc["lsoa21cd"] = pd.Categorical.from_codes(idx, categories=pd.Index(codes.values, dtype="str"))
        self.out["postcodes_england"] = pc[["postcode", "postcode_key", "latitude", "longitude", "easting",
                                            "northing", "lsoa21cd"]]
        l21 = gpd.GeoDataFrame(df, geometry=polys.geometry.values, crs=4326)
        self.out["lsoa21"] = l21
        return l21

    # -------------------------------------------------------- lsoa11
    def _lsoa11(self):
        import geopandas as gpd
        from geo.build import read_csv
        b = self.b
        codes = self.eng19["lsoa11cd"]
        lbl = b.label("lsoa11_polygons_england")
        g = b.lsoa11_england_polygons()[["LSOA11CD", "LSOA11NM", "geometry"]]
        _require_codes(g, "LSOA11CD", codes, lbl, "LSOA 2011 codes in IoD2019", row_offset=1)
        _require_all(codes, g["LSOA11CD"], lbl, "IoD2019 LSOA polygons")
        g = g.rename(columns={"LSOA11CD": "lsoa11cd", "LSOA11NM": "lsoa11nm"})
        lbl = b.label("lsoa11_ward2019_england")
        w = read_csv(b.path("lsoa11_ward2019_england"), ["LSOA11CD", "WD19CD", "WD19NM", "LAD19CD", "LAD19NM"],
                     key="LSOA11CD", label=lbl)
        _require_codes(w, "LSOA11CD", codes, lbl, "LSOA 2011 codes in IoD2019", source_col="LSOA11CD")
        _require_all(codes, w["LSOA11CD"], lbl, "IoD2019 LSOAs")
        lbl = b.label("lsoa11_icb22_england")
        ic = read_csv(b.path("lsoa11_icb22_england"), ["LSOA11CD", "SICBL22CD", "SICBL22CDH", "SICBL22NM", "ICB22CD",
                                                       "ICB22CDH", "ICB22NM", "LAD22CD", "LAD22NM"],
                      key="LSOA11CD", label=lbl)
        _require_codes(ic, "LSOA11CD", codes, lbl, "LSOA 2011 codes in IoD2019")
        _require_all(codes, ic["LSOA11CD"], lbl, "IoD2019 LSOAs")
        look = w.drop(columns=["LSOA11NM"], errors="ignore").merge(
            ic.drop(columns=["LSOA11NM"], errors="ignore"), on="LSOA11CD")
        look = look.rename(columns={c: c.lower() for c in look.columns})
        g = g.merge(look, on="lsoa11cd", how="left")
        self.out["lsoa11_england"] = gpd.GeoDataFrame(g, geometry="geometry", crs=4326)

        lbl = b.label("lsoa11_lsoa21_england")
        pairs = read_csv(b.path("lsoa11_lsoa21_england"), ["LSOA11CD", "LSOA21CD", "CHGIND"], label=lbl)
        _require_codes(pairs, "LSOA11CD", codes, lbl, "LSOA 2011 codes in IoD2019")
        _require_codes(pairs, "LSOA21CD", self.out["lsoa21"]["lsoa21cd"], lbl, "LSOA 2021 codes in IoD2025")
        bad = ~isin(pairs["CHGIND"], ["U", "S", "M", "X"])
        if bad.any():
            i = _first_bad(bad)
            raise SourceError(lbl, f"change indicator {pairs['CHGIND'].iloc[i]!r} is not U, S, M or X",
                              column="CHGIND", row=i + 2)
        dup = pairs.duplicated(["LSOA11CD", "LSOA21CD"])
        if dup.any():
            raise SourceError(lbl, "duplicate (LSOA11CD, LSOA21CD) pair", row=_first_bad(dup) + 2)
        _require_all(codes, pairs["LSOA11CD"], lbl, "IoD2019 LSOAs")
        _require_all(self.out["lsoa21"]["lsoa21cd"], pairs["LSOA21CD"], lbl, "IoD2025 LSOAs")
        self.out["lsoa11_lsoa21"] = pairs[["LSOA11CD", "LSOA21CD", "CHGIND"]].rename(
            columns={"LSOA11CD": "lsoa11cd", "LSOA21CD": "lsoa21cd", "CHGIND": "chgind"})

    # -------------------------------------------------------- ICBs
    def _icb(self, l21):
        import geopandas as gpd
        from geo.build import read_geojson
        b = self.b
        lbl = b.label("icb_polygons")
        g = read_geojson(b.path("icb_polygons"), lbl, "ICB23CD")
        known = l21["icb24cd"].unique()
        _require_codes(g, "ICB23CD", known, lbl, "ICB codes of the LSOA 2021 -> ICB 2024 lookup", row_offset=1)
        _require_all(known, g["ICB23CD"], lbl, "ICBs")
        names = (l21.drop_duplicates("icb24cd").set_index("icb24cd")[["icb24cdh", "icb24nm"]])
        agg = pd.DataFrame(l21[["icb24cd", "pop2021"]]).groupby("icb24cd").agg(
            n_lsoa21=("pop2021", "size"), pop2021=("pop2021", "sum"), n_subicb=("pop2021", "size"))
        agg["n_subicb"] = l21.groupby("icb24cd")["sicbl24cd"].nunique()
        g = g.rename(columns={"ICB23CD": "icb24cd", "NHSER22CD": "nhser22cd", "NHSER22NM": "nhser22nm"})
        g = g.join(names, on="icb24cd").join(agg, on="icb24cd")
        g["short_name"] = g["icb24nm"].map(short_icb_name)
        cols = ["icb24cd", "icb24cdh", "icb24nm", "short_name", "nhser22cd", "nhser22nm", "n_lsoa21", "n_subicb",
                "pop2021", "geometry"]
        self.out["icb"] = gpd.GeoDataFrame(g[[c for c in cols if c in g.columns]], geometry="geometry",
                                           crs=4326).sort_values("icb24cd").reset_index(drop=True)

    def _official(self):
        from geo.build import read_csv
        b = self.b
        prop = "imd_proportion_of_lso_as_in_most_deprived_10_percent_nationally"
        for key, code, name, n, table, new in (
                ("iod2025_lad_summaries_england", "ltla24_code", "ltla24_name", 296, "lad24_official", "lad24"),
                ("iod2025_icb_summaries", "icb24_code", "icb24_name", N_ICB, "icb_official", "icb24")):
            lbl = b.label(key)
            df = read_csv(b.path(key), [code, name, "imd_average_score", "imd_average_rank", prop], key=code,
                          label=lbl)
            if len(df) != n:
                raise SourceError(lbl, f"has {len(df)} rows; expected all {n} in England (truncated or filtered?)")
            self.out[table] = df.rename(columns={code: f"{new}cd", name: f"{new}nm"})

    # -------------------------------------------------------- wards
    def _wards24(self, l21):
        import geopandas as gpd
        d = pd.DataFrame(l21.drop(columns="geometry"))
        keys, geoms = dissolve(l21.geometry.values, d["wd24cd"].to_numpy(object))
        pop_icb = d.groupby(["wd24cd", "icb24cd"])["pop2021"].sum().reset_index()
        pop_icb = pop_icb.sort_values(["wd24cd", "pop2021", "icb24cd"], ascending=[True, False, True])
        n_icb = pop_icb.groupby("wd24cd").size()
        main = pop_icb.drop_duplicates("wd24cd").set_index("wd24cd")["icb24cd"]
        first = d.drop_duplicates("wd24cd").set_index("wd24cd")
        agg = d.groupby("wd24cd").agg(n_lsoa21=("lsoa21cd", "size"), pop2021=("pop2021", "sum"))
        w = pd.DataFrame({"wd24cd": keys})
        w["wd24nm"] = w["wd24cd"].map(first["wd24nm"])
        w["lad24cd"] = w["wd24cd"].map(first["wd24_lad24cd"])
        lad_names = d.drop_duplicates("lad24cd").set_index("lad24cd")["lad24nm"]
        w["lad24nm"] = w["lad24cd"].map(lad_names)
        w["icb24cd"] = w["wd24cd"].map(main)
        w["icb24nm"] = w["icb24cd"].map(d.drop_duplicates("icb24cd").set_index("icb24cd")["icb24nm"])
        w["n_icb"] = w["wd24cd"].map(n_icb).astype("int8")
        w["n_lsoa21"] = w["wd24cd"].map(agg["n_lsoa21"]).astype("int32")
        w["pop2021"] = w["wd24cd"].map(agg["pop2021"]).astype("int64")
        w["approximate_geometry"] = True
        self.out["wards24_england"] = gpd.GeoDataFrame(w, geometry=geoms, crs=4326)

    def _ward19_to_ward24(self, l21):
        """Every Dec-2019 ward -> the May-2024 ward(s) its people live in now, with Census 2021
        population shares: LSOA11 -> WD19 (ONS best fit), LSOA11 -> LSOA21 (ONS, all pairs; a
        merged/irregular LSOA21's people split across its 2011 parents by their mid-2015
        population), LSOA21 -> WD24 (ONS best fit)."""
        from geo.wardmap import ward19_to_ward24
        l11 = pd.DataFrame(self.out["lsoa11_england"].drop(columns="geometry"))[["lsoa11cd", "wd19cd", "wd19nm"]]
        l11 = l11.merge(self.eng19[["lsoa11cd", "pop2015"]], on="lsoa11cd", how="left")
        d = pd.DataFrame(l21[["lsoa21cd", "pop2021", "wd24cd", "wd24nm", "icb24cd"]])
        self.out["ward19_to_ward24"] = ward19_to_ward24(l11, self.out["lsoa11_lsoa21"], d)

    # -------------------------------------------------------- priority list
    def _priority(self):
        import geopandas as gpd
        from geo.build import read_csv, read_geojson
        b = self.b
        lbl = b.label("priority_nhsei")
        p = read_csv(b.path("priority_nhsei"), ["STP", "CCG19CD", "CCG19NM", "status", "WD19NM", "WD19CD"],
                     label=lbl)
        for col in ("WD19CD", "status"):
            blank = p[col].isna()
            if blank.any():
                raise SourceError(lbl, "blank value", column=col, row=_first_bad(blank) + 2)
        bad = ~p["WD19CD"].astype(str).str.match(WARD_RE)
        if bad.any():
            i = _first_bad(bad)
            raise SourceError(lbl, f"{p['WD19CD'].iloc[i]!r} is not an English ward code (E05nnnnnn)",
                              column="WD19CD", row=i + 2)
        bad = ~isin(p["status"], PRIORITY_STATUS)
        if bad.any():
            i = _first_bad(bad)
            raise SourceError(lbl, f"status {p['status'].iloc[i]!r} is not Priority or Exemplar", column="status",
                              row=i + 2)
        clash = p.groupby("WD19CD")["status"].nunique()
        if (clash > 1).any():
            code = clash[clash > 1].index[0]
            i = _first_bad(p["WD19CD"] == code)
            raise SourceError(lbl, f"ward {code} is listed as both Priority and Exemplar", column="status",
                              row=i + 2)
        p["CCG19CD"] = p["CCG19CD"].fillna("").astype(str)
        p["CCG19NM"] = p["CCG19NM"].fillna("").astype(str)
        grp = p.groupby("WD19CD", sort=False)
        pr = grp.agg(wd19nm=("WD19NM", "first"), status=("status", "first"), stp=("STP", "first"),
                     ccg19cd=("CCG19CD", lambda s: "; ".join(dict.fromkeys(s))),
                     ccg19nm=("CCG19NM", lambda s: "; ".join(dict.fromkeys(s))),
                     n_rows=("status", "size")).reset_index().rename(columns={"WD19CD": "wd19cd"})
        lbl = b.label("priority_nhsei_shapes")
        shp = read_geojson(b.path("priority_nhsei_shapes"), lbl, "WD19CD", columns=["WD19CD", "LAD19CD", "LAD19NM"])
        _require_codes(shp, "WD19CD", pr["wd19cd"], lbl, "ward codes in the priority list", row_offset=1)
        geom = shp.set_index("WD19CD").geometry
        lad = pd.DataFrame(shp.drop(columns="geometry")).set_index("WD19CD")
        pr["lad19cd"] = pr["wd19cd"].map(lad["LAD19CD"])
        pr["lad19nm"] = pr["wd19cd"].map(lad["LAD19NM"])
        m = self.out["ward19_to_ward24"]
        icb = m.groupby(["wd19cd", "icb24cd"])["pop2021"].sum().reset_index()
        icb = icb.sort_values(["wd19cd", "pop2021"], ascending=[True, False]).drop_duplicates("wd19cd")
        pr["icb24cd"] = pr["wd19cd"].map(icb.set_index("wd19cd")["icb24cd"])
        pr["icb_basis"] = np.where(pr["icb24cd"].notna(), "population (LSOA 2021 -> ICB 2024)", "")
        # a ward with no best-fit LSOA has no population to place it: take the ICB most of
        # the other listed wards of its CCG (else STP) fall in, and say so
        for col in ("ccg19cd", "stp"):
            miss = pr["icb24cd"].isna()
            if not miss.any():
                break
            by = pr[~miss].groupby(col)["icb24cd"].agg(lambda s: s.value_counts().index[0])
            pr.loc[miss, "icb24cd"] = pr.loc[miss, col].map(by)
            pr.loc[miss & pr["icb24cd"].notna(), "icb_basis"] = f"most listed wards of the same {col[:3].upper()}"
        pr["n_lsoa11_bestfit"] = pr["wd19cd"].map(
            self.out["lsoa11_england"]["wd19cd"].value_counts()).fillna(0).astype("int32")
        pr["approximate_geometry"] = True
        self.out["priority_nhsei"] = gpd.GeoDataFrame(pr, geometry=pr["wd19cd"].map(geom).values, crs=4326)
