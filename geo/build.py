"""`python -m geo build` — read the source files, validate them, write the store.

The store is written into a temporary sibling folder and swapped in with renames, so
a failed build (bad source, crash, Ctrl-C) leaves the previous store untouched.
"""
from __future__ import annotations

import json
import re
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from geo import sources as S
from geo import storefile
from geo.arrowops import isin
from geo.errors import SourceError
from geo.paths import CONFIG_DIR, ROOT, source_dir, store_dir
from geo.store import MEASURES, STORE_VERSION

# ---------------------------------------------------------------- column maps
IOD19_COLUMNS = {
    "LSOA code (2011)": "lsoa11cd",
    "LSOA name (2011)": "lsoa11nm",
    "Local Authority District code (2019)": "lad19cd",
    "Local Authority District name (2019)": "lad19nm",
    "Index of Multiple Deprivation (IMD) Score": "imd_score",
    "Index of Multiple Deprivation (IMD) Rank (where 1 is most deprived)": "imd_rank",
    "Index of Multiple Deprivation (IMD) Decile (where 1 is most deprived 10% of LSOAs)": "imd_decile",
    "Income Score (rate)": "income_score",
    "Income Rank (where 1 is most deprived)": "income_rank",
    "Income Decile (where 1 is most deprived 10% of LSOAs)": "income_decile",
    "Employment Score (rate)": "employment_score",
    "Employment Rank (where 1 is most deprived)": "employment_rank",
    "Employment Decile (where 1 is most deprived 10% of LSOAs)": "employment_decile",
    "Education, Skills and Training Rank (where 1 is most deprived)": "education_rank",
    "Education, Skills and Training Decile (where 1 is most deprived 10% of LSOAs)": "education_decile",
    "Health Deprivation and Disability Rank (where 1 is most deprived)": "health_rank",
    "Health Deprivation and Disability Decile (where 1 is most deprived 10% of LSOAs)": "health_decile",
    "Crime Rank (where 1 is most deprived)": "crime_rank",
    "Crime Decile (where 1 is most deprived 10% of LSOAs)": "crime_decile",
    "Barriers to Housing and Services Rank (where 1 is most deprived)": "barriers_rank",
    "Barriers to Housing and Services Decile (where 1 is most deprived 10% of LSOAs)": "barriers_decile",
    "Living Environment Rank (where 1 is most deprived)": "living_env_rank",
    "Living Environment Decile (where 1 is most deprived 10% of LSOAs)": "living_env_decile",
    "Total population: mid 2015 (excluding prisoners)": "pop2015",
    "Working age population 18-59/64: for use with Employment Deprivation Domain (excluding prisoners)":
        "pop2015_working_age",
    "Total population: mid 2019 (ONS SAPE22, all residents)": "pop2019",
}
IOD19_OPTIONAL = {  # kept when present, with snake_case names
    "Children and Young People Sub-domain": "cyp", "Adult Skills Sub-domain": "adult_skills",
    "Geographical Barriers Sub-domain": "geo_barriers", "Wider Barriers Sub-domain": "wider_barriers",
    "Indoors Sub-domain": "indoors", "Outdoors Sub-domain": "outdoors",
}
for _k, _v in list(IOD19_OPTIONAL.items()):
    IOD19_OPTIONAL[f"{_k} Rank (where 1 is most deprived)"] = f"{_v}_rank"
    IOD19_OPTIONAL[f"{_k} Decile (where 1 is most deprived 10% of LSOAs)"] = f"{_v}_decile"
    del IOD19_OPTIONAL[_k]
for _k in ("Dependent Children aged 0-15: mid 2015 (excluding prisoners)",
           "Population aged 16-59: mid 2015 (excluding prisoners)",
           "Older population aged 60 and over: mid 2015 (excluding prisoners)"):
    IOD19_OPTIONAL[_k] = {"D": "pop2015_0_15", "P": "pop2015_16_59", "O": "pop2015_60plus"}[_k[0]]

IOD25_MEASURE_PREFIX = {"IMD": "imd", "Income": "income", "Employment": "employment",
                        "Education": "education", "Health": "health", "Crime": "crime",
                        "Housing_and_Services": "barriers", "Environment": "living_env"}

LSOA_RE = re.compile(r"^E01\d{6}$")
N_LSOA11_ENGLAND = 32844
ENGLAND_BBOX = (-6.5, 49.8, 2.1, 55.9)  # lon/lat


# ---------------------------------------------------------------- readers
def read_csv(path: Path, required: list[str], *, key: str | None = None, label: str | None = None,
             dtype=None) -> pd.DataFrame:
    """Read a CSV and check it has the required columns, is not empty and (optionally)
    that `key` is unique and non-blank. Errors name the file, column and row."""
    name = label or str(path)
    try:
        df = pd.read_csv(path, dtype=dtype, low_memory=False)
    except pd.errors.EmptyDataError:
        raise SourceError(name, "file is empty")
    except (pd.errors.ParserError, UnicodeDecodeError) as e:
        raise SourceError(name, f"cannot be parsed as CSV ({str(e).splitlines()[0]})")
    if df.empty:
        raise SourceError(name, "has a header but no rows")
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise SourceError(name, f"required column(s) missing: {', '.join(repr(m) for m in missing)}; "
                                f"found {len(df.columns)} columns", column=missing[0])
    if key:
        blank = df[key].isna() | (df[key].astype(str).str.strip() == "")
        if blank.any():
            raise SourceError(name, "blank code", column=key, row=int(np.flatnonzero(blank)[0]) + 2)
        dup = df[key].duplicated(keep="first")
        if dup.any():
            i = int(np.flatnonzero(dup)[0])
            raise SourceError(name, f"duplicate code {df[key].iloc[i]!r} ({int(dup.sum())} duplicate rows)",
                              column=key, row=i + 2)
    return df


def _numeric(df: pd.DataFrame, cols, name: str, *, integer=False, lo=None, hi=None, labels=None) -> None:
    """Coerce columns to numbers; errors name the source column (labels maps canonical -> source)."""
    labels = labels or {}
    for c in cols:
        vals = pd.to_numeric(df[c], errors="coerce")
        bad = vals.isna() & df[c].notna() | vals.isna()
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise SourceError(name, f"value {df[c].iloc[i]!r} is not a number", column=labels.get(c, c), row=i + 2)
        if lo is not None and (vals < lo).any() or hi is not None and (vals > hi).any():
            out = (vals < lo) if lo is not None else pd.Series(False, index=vals.index)
            if hi is not None:
                out |= vals > hi
            i = int(np.flatnonzero(out)[0])
            raise SourceError(name, f"value {vals.iloc[i]} outside {lo}..{hi}", column=labels.get(c, c), row=i + 2)
        df[c] = vals.astype("int64") if integer else vals.astype("float64")


def _check_lsoa_codes(df: pd.DataFrame, col: str, name: str, expect="E01") -> None:
    bad = ~df[col].astype(str).str.match(LSOA_RE)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise SourceError(name, f"{df[col].iloc[i]!r} is not an English LSOA code (E01nnnnnn)",
                          column=col, row=i + 2)


def read_iod2019(path: Path, label: str) -> pd.DataFrame:
    df = read_csv(path, list(IOD19_COLUMNS), key="LSOA code (2011)", label=label)
    keep = {**IOD19_COLUMNS, **{k: v for k, v in IOD19_OPTIONAL.items() if k in df.columns}}
    df = df[list(keep)].rename(columns=keep)
    _check_lsoa_codes(df, "lsoa11cd", label)
    n = len(df)
    src = {v: k for k, v in keep.items()}
    rank_cols = [c for c in df.columns if c.endswith("_rank")]
    dec_cols = [c for c in df.columns if c.endswith("_decile")]
    _numeric(df, rank_cols, label, integer=True, lo=1, hi=max(n, N_LSOA11_ENGLAND), labels=src)
    _numeric(df, dec_cols, label, integer=True, lo=1, hi=10, labels=src)
    _numeric(df, ["imd_score", "income_score", "employment_score"], label, lo=0, labels=src)
    _numeric(df, [c for c in df.columns if c.startswith("pop")], label, integer=True, lo=0, labels=src)
    return df


def read_geojson(path: Path, label: str, code_col: str, *, columns=None):
    import geopandas as gpd
    import pyogrio
    try:
        gdf = gpd.read_file(path, columns=columns, engine="pyogrio", use_arrow=True)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, ValueError, OSError) as e:
        raise SourceError(label, f"cannot be read as GeoJSON ({str(e).splitlines()[0][:200]})")
    if gdf.empty:
        raise SourceError(label, "has no features")
    if code_col not in gdf.columns:
        raise SourceError(label, f"property '{code_col}' missing", column=code_col)
    if gdf.crs is None:
        raise SourceError(label, "no CRS declared (expected WGS84 lon/lat, EPSG:4326/CRS84)")
    if not gdf.crs.equals("EPSG:4326") and gdf.crs.to_epsg() != 4326 and not gdf.crs.equals("OGC:CRS84"):
        gdf = gdf.to_crs(4326)
    nulls = gdf.geometry.isna() | gdf.geometry.is_empty
    if nulls.any():
        i = int(np.flatnonzero(nulls)[0])
        raise SourceError(label, f"feature {gdf[code_col].iloc[i]!r} has no geometry", row=i + 1)
    minx, miny, maxx, maxy = gdf.total_bounds
    x0, y0, x1, y1 = ENGLAND_BBOX
    if minx < x0 or maxx > x1 or miny < y0 or maxy > y1:
        raise SourceError(label, f"coordinates ({minx:.1f},{miny:.1f})-({maxx:.1f},{maxy:.1f}) are not "
                                 f"lon/lat in England: wrong CRS declared ({gdf.crs.to_string()})?")
    dup = gdf[code_col].duplicated()
    if dup.any():
        i = int(np.flatnonzero(dup)[0])
        raise SourceError(label, f"duplicate code {gdf[code_col].iloc[i]!r}", column=code_col, row=i + 1)
    gdf = gdf.set_crs(4326, allow_override=True)
    return gdf


# ---------------------------------------------------------------- build steps
def _local_deciles(rank: pd.Series) -> pd.Series:
    """Deciles within the given set of LSOAs, 1 = most deprived (lowest national rank)."""
    order = rank.rank(method="first")
    return (np.ceil(order * 10 / len(rank))).clip(1, 10).astype("int64")


class Builder:
    def __init__(self, src_root: Path, config_dir: Path = CONFIG_DIR, *, allow_changed: bool = False,
                 log=print):
        self.root = Path(src_root)
        self.config_dir = Path(config_dir)
        self.sources = S.load_sources(str(self.config_dir))
        self.places = S.load_places(str(self.config_dir))
        self.allow_changed = allow_changed
        self.log = log
        self.inputs: dict[str, dict] = {}
        self.inputs_england: dict[str, dict] = {}
        self.warnings: list[str] = []

    def path(self, key: str) -> Path | None:
        src = self.sources[key]
        p = S.resolve(src, self.root)
        if p is None:
            return None
        digest = S.sha256_file(p)
        changed = bool(src.sha256) and digest != src.sha256
        if changed and not self.allow_changed:
            raise SourceError(p, "sha256 differs from config/sources.yaml (file changed or truncated?); "
                                 "rebuild with --allow-changed to accept it")
        if changed:
            self.warnings.append(f"{src.path}: sha256 differs from config (accepted with --allow-changed)")
        # files only the England-wide tables read are recorded apart, so the LSC tables'
        # provenance (manifest "inputs", quoted in exports) lists only what they are made of
        target = self.inputs_england if src.group == "england" and key != "lsoa11_polygons_england" else self.inputs
        target[key] = {"path": src.path, "sha256": digest, "bytes": p.stat().st_size,
                       "vintage": src.vintage, "matches_config": not changed}
        return p

    def label(self, key: str) -> str:
        return str(self.root / self.sources[key].path)

    def lsoa11_england_polygons(self):
        """The England LSOA 2011 polygons with ONS label points, read once per build
        (the LSC tables take the label points, the England tables the polygons)."""
        if not hasattr(self, "_l11_england"):
            p = self.path("lsoa11_polygons_england")
            self._l11_england = None if p is None else read_geojson(
                p, self.label("lsoa11_polygons_england"), "LSOA11CD",
                columns=["LSOA11CD", "LSOA11NM", "BNG_E", "BNG_N", "LONG", "LAT"])
        return self._l11_england

    # ------------------------------------------------------------
    def run(self) -> dict[str, object]:
        t0 = time.perf_counter()
        footprint = list(self.places["districts"])
        out: dict[str, object] = {}
        eng = out["england19"] = self._england19(footprint)
        lsoa = self._lsc_lsoa(eng, footprint)
        lsoa, out["postcodes"] = self._postcode_points(lsoa)
        lsoa = out["lsoa"] = self._lsoa_polygons(lsoa, eng)
        out.update(self._boundaries(lsoa, footprint))

        # IoD2025 on LSOA 2021
        out["lsoa25"] = self._iod2025(lsoa, footprint)

        off = read_csv(self.path("iod2019_lad_summaries"), ["ltla19_code", "Score", "Proportion", "Extent"],
                       key="ltla19_code", label=self.label("iod2019_lad_summaries"))
        out["lad19_official"] = off.rename(columns={"ltla19_code": "lad19cd"})
        self.log(f"read and validated LSC sources in {time.perf_counter() - t0:.2f} s")

        # England-wide tables (skipped, with a warning, when their sources are absent)
        from geo.build_england import EnglandBuild
        out.update(EnglandBuild(self, eng).run())
        self.log(f"read and validated sources in {time.perf_counter() - t0:.2f} s")
        return out

    def _england19(self, footprint: list) -> pd.DataFrame:
        """IoD2019 for all of England (with the ONS label points where staged)."""
        # IoD2019, England
        eng = read_iod2019(self.path("iod2019_england"), self.label("iod2019_england"))
        if len(eng) != N_LSOA11_ENGLAND:
            raise SourceError(self.label("iod2019_england"),
                              f"has {len(eng):,} LSOA rows; IoD2019 covers all {N_LSOA11_ENGLAND:,} LSOAs in England "
                              f"(file truncated or filtered?)")
        pts = self.lsoa11_england_polygons()
        if pts is not None:
            pts = pd.DataFrame(pts[["LSOA11CD", "BNG_E", "BNG_N", "LONG", "LAT"]])
            pts = pts.rename(columns={"LSOA11CD": "lsoa11cd", "BNG_E": "label_easting", "BNG_N": "label_northing",
                                      "LONG": "label_lon", "LAT": "label_lat"})
            eng = eng.merge(pts, on="lsoa11cd", how="left")
        eng_lads = set(eng["lad19cd"].unique())
        missing_lads = [c for c in footprint if c not in eng_lads]
        if missing_lads:
            raise SourceError(self.label("iod2019_england"), f"footprint district(s) {missing_lads} have no LSOAs",
                              column="Local Authority District code (2019)")

        return eng

    def _lsc_lsoa(self, eng: pd.DataFrame, footprint: list) -> pd.DataFrame:
        """The footprint's LSOAs: sub-ICB, mid-2017 population, 2019 and May-2024 wards,
        places and local deciles."""
        # LSC extras: SICBL
        lscp = self.path("iod2019_lsc")
        lsc = read_csv(lscp, ["LSOA code (2011)", "SICBL22CD", "SICBL22NM"], key="LSOA code (2011)",
                       label=self.label("iod2019_lsc"))
        lsc = lsc.rename(columns={"LSOA code (2011)": "lsoa11cd", "SICBL22CD": "sicbl22cd", "SICBL22NM": "sicbl22nm"})
        lsoa = eng[isin(eng["lad19cd"], footprint)].drop(
            columns=[c for c in eng.columns if c.startswith("label_")]).copy()
        lsoa = lsoa.merge(lsc[["lsoa11cd", "sicbl22cd", "sicbl22nm"]], on="lsoa11cd", how="left")
        nos = lsoa["sicbl22cd"].isna()
        if nos.any():
            raise SourceError(self.label("iod2019_lsc"), f"{int(nos.sum())} footprint LSOAs have no sub-ICB, "
                                                         f"e.g. {lsoa.loc[nos, 'lsoa11cd'].iloc[0]}")
        lsoa["subicb_code"] = lsoa["sicbl22nm"].str.extract(r"- (\w{3})\b", expand=False)

        # populations (mid-2017 extra)
        popp = self.path("population11")
        pop = read_csv(popp, ["LSOA11CD", "pop_mid2017_all_ages_ons_sape20"], key="LSOA11CD",
                       label=self.label("population11"))
        pop = pop.rename(columns={"LSOA11CD": "lsoa11cd", "pop_mid2017_all_ages_ons_sape20": "pop2017"})
        lsoa = lsoa.merge(pop[["lsoa11cd", "pop2017"]], on="lsoa11cd", how="left")

        # wards: 2019 (ONS best fit) and May 2024 (postcode best fit)
        w19 = read_csv(self.path("lsoa11_ward2019"), ["LSOA11CD", "WD19CD", "WD19NM"], key="LSOA11CD",
                       label=self.label("lsoa11_ward2019"))
        w19 = w19.rename(columns={"LSOA11CD": "lsoa11cd", "WD19CD": "wd19cd", "WD19NM": "wd19nm"})
        w24 = read_csv(self.path("lsoa11_ward2024"), ["LSOA11CD", "WD24CD", "WD24NM", "share_postcodes_in_best_ward"],
                       key="LSOA11CD", label=self.label("lsoa11_ward2024"))
        w24 = w24.rename(columns={"LSOA11CD": "lsoa11cd", "WD24CD": "wd24cd", "WD24NM": "wd24nm",
                                  "share_postcodes_in_best_ward": "wd24_share"})
        for df, key, lbl in ((w19, "wd19cd", "lsoa11_ward2019"), (w24, "wd24cd", "lsoa11_ward2024")):
            unknown = ~isin(df["lsoa11cd"], eng["lsoa11cd"])
            if unknown.any():
                i = int(np.flatnonzero(unknown)[0])
                raise SourceError(self.label(lbl), f"LSOA code {df['lsoa11cd'].iloc[i]!r} is not an LSOA 2011 code "
                                                   f"in IoD2019 (boundary vintage mismatch?)", column="LSOA11CD", row=i + 2)
        lsoa = lsoa.merge(w19[["lsoa11cd", "wd19cd", "wd19nm"]], on="lsoa11cd", how="left")
        lsoa = lsoa.merge(w24[["lsoa11cd", "wd24cd", "wd24nm", "wd24_share"]], on="lsoa11cd", how="left")
        for c, lbl in (("wd19cd", "lsoa11_ward2019"), ("wd24cd", "lsoa11_ward2024")):
            miss = lsoa[c].isna()
            if miss.any():
                raise SourceError(self.label(lbl), f"{int(miss.sum())} footprint LSOAs have no ward, e.g. "
                                                   f"{lsoa.loc[miss, 'lsoa11cd'].iloc[0]}")

        # places
        for g in ("place5", "place4"):
            lsoa[g] = lsoa["lad19cd"].map(S.district_to_place(g, str(self.config_dir)))

        # local deciles (within the footprint)
        for m in MEASURES:
            lsoa[f"{m}_local_decile"] = _local_deciles(lsoa[f"{m}_rank"])

        return lsoa

    def _postcode_points(self, lsoa: pd.DataFrame):
        """(lsoa with each LSOA's mean postcode-unit point, the postcode table)."""
        # population-weighted proxy point from postcode units
        pcp = self.path("postcodes")
        pc = read_csv(pcp, ["postcode", "latitude", "longitude", "easting", "northing", "lsoa11cd", "ward24cd",
                            "lad19cd"], key="postcode", label=self.label("postcodes"))
        _numeric(pc, ["latitude", "longitude"], self.label("postcodes"))
        _numeric(pc, ["easting", "northing"], self.label("postcodes"), lo=0, hi=1_300_000)
        pc["postcode_key"] = pc["postcode"].str.replace(r"\s+", "", regex=True).str.upper()
        grp = pc.dropna(subset=["lsoa11cd"]).groupby("lsoa11cd")
        pwc = grp.agg(pwc_easting=("easting", "mean"), pwc_northing=("northing", "mean"),
                      pwc_lat=("latitude", "mean"), pwc_lon=("longitude", "mean"),
                      n_postcodes=("postcode", "size")).reset_index()
        lsoa = lsoa.merge(pwc, on="lsoa11cd", how="left")
        lsoa["n_postcodes"] = lsoa["n_postcodes"].fillna(0).astype("int64")
        return lsoa, pc

    def _lsoa_polygons(self, lsoa: pd.DataFrame, eng: pd.DataFrame):
        """The footprint's LSOA 2011 polygons; an LSOA with no postcode gets a point inside it."""
        # polygons
        import geopandas as gpd
        polys = read_geojson(self.path("lsoa11_polygons"), self.label("lsoa11_polygons"), "LSOA11CD",
                             columns=["LSOA11CD"])
        unknown = ~isin(polys["LSOA11CD"], eng["lsoa11cd"])
        if unknown.any():
            i = int(np.flatnonzero(unknown)[0])
            raise SourceError(self.label("lsoa11_polygons"),
                              f"{int(unknown.sum())} polygon codes are not LSOA 2011 codes in IoD2019, e.g. "
                              f"{polys['LSOA11CD'].iloc[i]!r} (boundary vintage mismatch?)",
                              column="LSOA11CD", row=i + 1)
        nopoly = ~isin(lsoa["lsoa11cd"], polys["LSOA11CD"])
        if nopoly.any():
            raise SourceError(self.label("lsoa11_polygons"), f"{int(nopoly.sum())} footprint LSOAs have no polygon, "
                                                             f"e.g. {lsoa.loc[nopoly, 'lsoa11cd'].iloc[0]}")
        geom = polys.set_index("LSOA11CD").geometry
        lsoa = gpd.GeoDataFrame(lsoa, geometry=geom.reindex(lsoa["lsoa11cd"]).values, crs=4326)
        # LSOAs without postcodes fall back to a point inside the polygon (flagged by n_postcodes == 0)
        nopc = lsoa["pwc_easting"].isna()
        if nopc.any():
            rp = lsoa.loc[nopc].geometry.representative_point()
            bng = gpd.GeoSeries(rp, crs=4326).to_crs(27700)
            lsoa.loc[nopc, "pwc_lon"], lsoa.loc[nopc, "pwc_lat"] = rp.x.values, rp.y.values
            lsoa.loc[nopc, "pwc_easting"], lsoa.loc[nopc, "pwc_northing"] = bng.x.values, bng.y.values
            self.warnings.append(f"{int(nopc.sum())} LSOAs have no postcode: polygon point used")
        return lsoa.reset_index(drop=True)

    def _boundaries(self, lsoa, footprint: list) -> dict:
        """May-2024 and Dec-2019 wards, districts, places and sub-ICBs of the footprint."""
        out: dict[str, object] = {}
        # wards 2024 polygons
        wards = read_geojson(self.path("wards2024"), self.label("wards2024"), "WD24CD")
        wl = read_csv(self.path("ward2024_lookup"), ["WD24CD", "LAD19CD_former", "in_lsc_footprint"], key="WD24CD",
                      label=self.label("ward2024_lookup"))
        wards = wards.rename(columns={"WD24CD": "wd24cd", "WD24NM": "wd24nm", "LAD24CD": "lad24cd",
                                      "LAD24NM": "lad24nm", "LAD19CD_former": "lad19cd"})
        if "lad19cd" not in wards.columns:
            wards = wards.merge(wl.rename(columns={"WD24CD": "wd24cd", "LAD19CD_former": "lad19cd"})[
                ["wd24cd", "lad19cd"]], on="wd24cd", how="left")
        wards = wards[isin(wards["lad19cd"], footprint)].copy()
        wards["lad19nm"] = wards["lad19cd"].map(self.places["districts"])
        for g in ("place5", "place4"):
            wards[g] = wards["lad19cd"].map(S.district_to_place(g, str(self.config_dir)))
        orphan = ~isin(lsoa["wd24cd"], wards["wd24cd"])
        if orphan.any():
            raise SourceError(self.label("lsoa11_ward2024"),
                              f"{int(orphan.sum())} LSOAs point at wards with no May-2024 polygon, e.g. "
                              f"{lsoa.loc[orphan, 'wd24cd'].iloc[0]} (ward vintage mismatch?)", column="WD24CD")
        wards["n_lsoa11"] = wards["wd24cd"].map(lsoa["wd24cd"].value_counts()).fillna(0).astype("int64")
        keep = ["wd24cd", "wd24nm", "lad24cd", "lad24nm", "lad19cd", "lad19nm", "place5", "place4", "n_lsoa11",
                "geometry"]
        out["wards24"] = wards[[c for c in keep if c in wards.columns]].reset_index(drop=True)

        w19g = read_geojson(self.path("wards2019_approx"), self.label("wards2019_approx"), "WD19CD")
        w19g = w19g.rename(columns={"WD19CD": "wd19cd", "WD19NM": "wd19nm", "LAD19CD": "lad19cd", "LAD19NM": "lad19nm"})
        w19g["approximate_geometry"] = True
        out["wards19"] = w19g[[c for c in ["wd19cd", "wd19nm", "lad19cd", "lad19nm", "approximate_geometry",
                                           "geometry"] if c in w19g.columns]]

        d = read_geojson(self.path("districts2019"), self.label("districts2019"), "LAD19CD")
        d = d.rename(columns={"LAD19CD": "lad19cd", "LAD19NM": "lad19nm"})
        d = d[isin(d["lad19cd"], footprint)]
        if len(d) != len(footprint):
            raise SourceError(self.label("districts2019"), f"{len(d)} of {len(footprint)} footprint districts found")
        for g in ("place5", "place4"):
            d[g] = d["lad19cd"].map(S.district_to_place(g, str(self.config_dir)))
        out["districts"] = d[["lad19cd", "lad19nm", "place5", "place4", "geometry"]].reset_index(drop=True)
        for g in ("place5", "place4"):
            pl = d.dissolve(by=g, as_index=False)[[g, "geometry"]].rename(columns={g: "name"})
            pl["code"] = pl["name"]
            out[g] = pl[["code", "name", "geometry"]]

        sub = read_geojson(self.path("subicb2022"), self.label("subicb2022"), "SICBL22CD")
        sub = sub.rename(columns={"SICBL22CD": "sicbl22cd", "SICBL22NM": "sicbl22nm"})
        sub["subicb_code"] = sub["sicbl22nm"].str.extract(r"- (\w{3})\b", expand=False)
        out["subicb"] = sub[["sicbl22cd", "sicbl22nm", "subicb_code", "geometry"]]

        return out

    def _iod2025(self, lsoa, footprint):
        import geopandas as gpd
        label = self.label("iod2025_lsc")
        df = read_csv(self.path("iod2025_lsc"), ["LSOA21CD", "LSOA21NM", "LAD22CD", "census2021_usual_residents",
                                                 "same_code_as_lsoa2011", "IMD_score", "IMD_rank", "IMD_decile"],
                      key="LSOA21CD", label=label)
        ren = {"LSOA21CD": "lsoa21cd", "LSOA21NM": "lsoa21nm", "LAD22CD": "lad22cd", "LAD22NM": "lad22nm",
               "census2021_usual_residents": "pop2021", "LAD24CD": "lad24cd"}
        for pre, m in IOD25_MEASURE_PREFIX.items():
            for kind in ("score", "rank", "decile"):
                ren[f"{pre}_{kind}"] = f"{m}_{kind}"
        df = df.rename(columns=ren)
        _check_lsoa_codes(df, "lsoa21cd", label)
        _numeric(df, [c for c in df.columns if c.endswith("_rank") or c.endswith("_decile")], label, integer=True, lo=1)
        _numeric(df, ["pop2021"], label, lo=0)
        lk = read_csv(self.path("lsoa11_lsoa21"), ["LSOA11CD", "LSOA21CD"], label=self.label("lsoa11_lsoa21"))
        same = df["same_code_as_lsoa2011"].astype(str).str.lower().isin(["true", "1"])
        df["drawable"] = same & isin(df["lsoa21cd"], lsoa["lsoa11cd"])
        # geography via the 2011 LSOA: same code, else the 2011 LSOA whose best fit is this 2021 LSOA
        parent = lk.drop_duplicates("LSOA21CD").set_index("LSOA21CD")["LSOA11CD"]
        df["lsoa11cd"] = np.where(df["drawable"], df["lsoa21cd"], df["lsoa21cd"].map(parent))
        geo_cols = ["lsoa11cd", "lad19cd", "lad19nm", "wd19cd", "wd19nm", "wd24cd", "wd24nm", "sicbl22cd",
                    "subicb_code", "place5", "place4"]
        df = df.merge(pd.DataFrame(lsoa[geo_cols]), on="lsoa11cd", how="left")
        # 2021 LSOAs with no 2011 parent (new codes from splits): district and places from
        # LAD 2022 (identical to the 2019 codes for the footprint); ward left blank and counted
        orphan = df["lad19cd"].isna() & isin(df["lad22cd"], footprint)
        df.loc[orphan, "lad19cd"] = df.loc[orphan, "lad22cd"]
        df.loc[orphan, "lad19nm"] = df.loc[orphan, "lad19cd"].map(self.places["districts"])
        for g in ("place5", "place4"):
            df.loc[orphan, g] = df.loc[orphan, "lad19cd"].map(S.district_to_place(g, str(self.config_dir)))
        if orphan.any():
            self.warnings.append(f"IoD2025: {int(orphan.sum())} LSOA 2021 codes have no 2011 best-fit parent; "
                                 f"district/place from LAD 2022, no ward")
        for m in MEASURES:
            if f"{m}_rank" in df.columns:
                df[f"{m}_local_decile"] = _local_deciles(df[f"{m}_rank"])
        geom = lsoa.set_index("lsoa11cd").geometry
        g = gpd.GeoSeries(np.where(df["drawable"], df["lsoa21cd"].map(geom), None), crs=4326)
        nd = int((~df["drawable"]).sum())
        self.log(f"IoD2025: {len(df)} LSOA 2021, {len(df) - nd} drawable with 2011 polygons, {nd} not drawable")
        return gpd.GeoDataFrame(df, geometry=g.values, crs=4326)


# ---------------------------------------------------------------- store writing
def fingerprint(root: Path, config_dir: Path = CONFIG_DIR) -> dict:
    """What a store depends on: source checksums, config files, build code."""
    srcs = S.load_sources(str(config_dir))
    fp = {"store_version": STORE_VERSION, "sources": {}, "config": {}, "code": {}}
    for key, src in srcs.items():
        p = Path(root) / src.path
        fp["sources"][key] = S.sha256_file(p) if p.exists() else None
    for f in ("sources.yaml", "places.yaml"):
        fp["config"][f] = S.sha256_file(Path(config_dir) / f)
    for f in ("build.py", "build_england.py", "wardmap.py", "arrowops.py", "store.py", "sources.py", "storefile.py"):
        fp["code"][f] = S.sha256_file(ROOT / "geo" / f)
    return fp


def is_stale(root: Path, dest: Path, config_dir: Path = CONFIG_DIR) -> str | None:
    """None when the store is current, else the reason it needs building."""
    mf = dest / "manifest.json"
    if not mf.exists():
        return "no store yet"
    try:
        man = json.loads(mf.read_text())
    except (OSError, json.JSONDecodeError):
        return "manifest unreadable"
    if man.get("fingerprint") != fingerprint(root, config_dir):
        return "sources, config or build code changed"
    return storefile.damaged(dest, man)


write_store = storefile.write_store      # temp folder, per-table sha256, atomic exchange (geo/storefile.py)


def prewarm_footprints(dest: Path, log=print, codes=("E92000001",)) -> None:
    """England's footprint tables (the largest: ~8 s to derive) computed once into the
    new store's footprint cache (geo/footprint_cache.py), so no server derives them;
    the other ICBs are cached on first use. A failure here only costs that time later."""
    from geo.footprint_cache import prewarm
    from geo.store import load_store
    try:
        prewarm(load_store(dest), codes, log=log)
    except Exception as e:          # the store itself is written and sound
        log(f"warning: footprint tables not precomputed ({type(e).__name__}: {e}); computed on first use")


def build(src_root=None, dest=None, *, config_dir: Path = CONFIG_DIR, allow_changed=False, log=print,
          prewarm: bool = True) -> dict:
    root = source_dir(src_root)
    dest = store_dir(dest)
    t0 = time.perf_counter()
    b = Builder(root, config_dir, allow_changed=allow_changed, log=log)
    tables = b.run()
    manifest = {
        "store_version": STORE_VERSION,
        "built_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "source_dir": str(root),
        "inputs": b.inputs,
        "inputs_england": b.inputs_england,
        "warnings": b.warnings,
        "attribution": S.attribution(str(config_dir)),
        "fingerprint": fingerprint(root, config_dir),
        "footprint": {"districts": len(b.places["districts"]), "lsoa11": int(len(tables["lsoa"])),
                      "lsoa21": int(len(tables["lsoa25"])),
                      "lsoa21_not_drawable": tables["lsoa25"].loc[~tables["lsoa25"]["drawable"], "lsoa21cd"].tolist(),
                      "wards24": int(len(tables["wards24"]))},
        "england": ({"lsoa21": int(len(tables["lsoa21"])), "lsoa11": int(len(tables["lsoa11_england"])),
                     "icb": int(len(tables["icb"])), "wards24": int(len(tables["wards24_england"])),
                     "priority_wards": int(len(tables["priority_nhsei"])),
                     "postcodes": int(len(tables["postcodes_england"])),
                     "lsoa21_pwc_fallback": tables["lsoa21"].loc[tables["lsoa21"]["pwc_fallback"],
                                                                 "lsoa21cd"].tolist()}
                    if "lsoa21" in tables else None),
    }
    write_store(tables, dest, manifest)
    if "lsoa21" in tables and prewarm:
        prewarm_footprints(dest, log)
    for w in b.warnings:
        log(f"warning: {w}")
    log(f"store written to {dest} in {time.perf_counter() - t0:.2f} s "
        f"({len(tables['lsoa'])} LSOAs, {len(tables['wards24'])} wards, {len(tables['england19'])} England LSOAs"
        + (f"; England: {len(tables['lsoa21'])} LSOA 2021, {len(tables['icb'])} ICBs, "
           f"{len(tables['wards24_england'])} wards" if "lsoa21" in tables else "") + ")")
    return manifest


# ---------------------------------------------------------------- CLI
def add_arguments(p):
    p.add_argument("--source", metavar="DIR", help="folder of source files (default ../shared/data or $LSC_DATA_DIR)")
    p.add_argument("--store", metavar="DIR", help="store folder (default data/store or $LSC_STORE_DIR)")
    p.add_argument("--if-stale", action="store_true", help="only build when the store is missing or out of date")
    p.add_argument("--allow-changed", action="store_true",
                   help="accept source files whose sha256 differs from config/sources.yaml")
    p.add_argument("--no-prewarm", action="store_true",
                   help="do not precompute England's footprint tables (they are then derived on first use)")


def run(args) -> int:
    root, dest = source_dir(args.source), store_dir(args.store)
    if args.if_stale:
        why = is_stale(root, dest)
        if why is None:
            print(f"store at {dest} is up to date")
            return 0
        print(f"building store: {why}")
    build(root, dest, allow_changed=args.allow_changed, log=lambda m: print(m, file=sys.stderr),
          prewarm=not getattr(args, "no_prewarm", False))
    return 0
