"""The footprint: which ICB (or all England) the map shows, as a view of the store.

Pure Python (no streamlit/folium). The layers read the store through the tables they
always read (lsoa, lsoa25, wards24, wards19, districts, subicb, place5, place4, ...);
`footprint(store, code)` gives an object with those same tables for any of the 42 ICBs
or England, so every layer and geo.report work unchanged:

| code          | tables                                                                     |
|---------------|----------------------------------------------------------------------------|
| E54000048 LSC | the curated LSC store tables (official May-2024 ward polygons, the places   |
|               | of config/places.yaml); lsoa25 drawn on the 2021 LSOA polygons              |
| another ICB   | built from the England-wide tables: its 2011 and 2021 LSOAs, districts      |
|               | (LAD 2024), sub-ICB locations (as the "places"), wards best-fitted from      |
|               | LSOA 2021 and dissolved from them (APPROXIMATE geometry)                    |
| E92000001     | all of England the same way (ICBs as the "places")                          |

Outside LSC the `lad19cd`/`lad19nm` columns (the district key every layer uses) hold
the LAD April-2024 district of the LSOA (for 2011 LSOAs through their 2021 best fit);
IoD2019's own LAD 2019 code stays in `lad19cd_iod`. `place5` and `place4` both hold the
sub-ICB location (England: the ICB).

The England-wide tables come from `python -m geo build` (store tables lsoa21,
lsoa11_england, icb, wards24_england, priority_nhsei, postcodes_england).
"""
from __future__ import annotations

import difflib
import re
from functools import cached_property

import numpy as np
import pandas as pd

from geo.errors import StoreMissing
from geo.footprint_cache import stored
from geo.store import MEASURES

LSC_CODE = "E54000048"
LSC_NAME = "NHS Lancashire and South Cumbria ICB"
ENGLAND_CODE = "E92000001"
ENGLAND_NAME = "England"
_ICB = re.compile(r"^E54\d{6}$")

# England-wide tables (name in the store) and the columns read from each, with the
# spellings accepted for a column (first found wins)
NATIONAL = ("lsoa21", "lsoa11_england", "lsoa11_lsoa21", "icb", "wards24_england", "priority_nhsei",
            "ward19_to_ward24")
_ALIASES = {
    "icb24cd": ("icb24cd", "icb_code", "icb23cd", "icb22cd"),
    "icb24nm": ("icb24nm", "icb_name", "icb23nm", "icb22nm"),
    "sicbl24cd": ("sicbl24cd", "subicb24cd", "sicbl_code"),
    "sicbl24nm": ("sicbl24nm", "subicb24nm", "sicbl_name"),
}


def _col(df: pd.DataFrame, name: str) -> str:
    for c in _ALIASES.get(name, (name,)):
        if c in df.columns:
            return c
    raise StoreMissing(f"store table has no column {name!r} (columns: {', '.join(map(str, df.columns[:12]))}...): "
                       f"rebuild the store with `python -m geo build`")


def national(store, name: str):
    """An England-wide store table (read once per store object)."""
    if name not in NATIONAL and name != "postcodes_england":
        raise KeyError(name)
    cache = store.__dict__.setdefault("_national", {})
    if name not in cache:
        if hasattr(type(store), name):
            if hasattr(type(store), "has_england") and not store.has_england:
                raise StoreMissing(f"the store at {store.path} has no England-wide tables: build it with the "
                                   f"England source files (`python -m geo build`)")
            cache[name] = getattr(store, name)
        else:
            f = store.path / f"{name}.parquet"
            if not f.exists():
                raise StoreMissing(f"store table '{name}' (England-wide) missing in {store.path}: "
                                   f"run `python -m geo build`")
            if name == "postcodes_england":
                cache[name] = pd.read_parquet(f)
            else:
                import geopandas as gpd
                cache[name] = gpd.read_parquet(f)
    return cache[name]


def has_national(store) -> bool:
    try:
        national(store, "icb")
        national(store, "lsoa21")
        return True
    except (StoreMissing, OSError, ValueError):
        return False


def icb_names(store) -> dict[str, str]:
    """ICB code -> name for the 42 ICBs (sorted by name); LSC only when no England tables."""
    try:
        t = national(store, "icb")
    except StoreMissing:
        return {LSC_CODE: LSC_NAME}
    c, n = _col(t, "icb24cd"), _col(t, "icb24nm")
    names = t[n].astype(str).map(short_name)
    if "short_name" in t.columns:
        names = "NHS " + t["short_name"].astype(str) + " ICB"
    pairs = sorted(zip(t[c].astype(str), names), key=lambda kv: kv[1])
    return dict(pairs)


def short_name(name: str) -> str:
    """'NHS Northamptonshire Integrated Care Board' -> 'NHS Northamptonshire ICB'."""
    name = re.sub(r"\s+Integrated Care Board$", " ICB", str(name).strip())
    return name if name.startswith("NHS ") else f"NHS {name}"


def closest(store, text: str, n: int = 3) -> list[tuple[str, str]]:
    """The ICBs whose code or name is closest to `text` (for "did you mean")."""
    names = icb_names(store)
    t = str(text).strip().lower()
    by_name = {v.lower(): k for k, v in names.items()}
    hits = difflib.get_close_matches(t, list(by_name), n=n, cutoff=0.3)
    codes = [by_name[h] for h in hits]
    codes += [c for c in difflib.get_close_matches(t.upper(), list(names), n=n, cutoff=0.6) if c not in codes]
    contains = [c for c, v in names.items() if t and t in v.lower() and c not in codes]
    return [(c, names[c]) for c in (contains + codes)[:n]]


def resolve(store, text: str | None) -> str:
    """An ICB code (or England) from a code or a name; ValueError naming the closest."""
    if text is None or not str(text).strip():
        return LSC_CODE
    t = str(text).strip()
    if t.upper() in (ENGLAND_CODE, "ENGLAND"):
        return ENGLAND_CODE
    names = icb_names(store)
    if t.upper() in names:
        return t.upper()
    low = t.lower()
    for c, nm in names.items():
        if low in (nm.lower(), nm.lower().removeprefix("nhs ").removesuffix(" icb")):
            return c
    near = closest(store, t)
    hint = "; closest: " + ", ".join(f"{c} {n}" for c, n in near) if near else ""
    raise ValueError(f"unknown ICB {t!r}{hint}")


def footprint(store, code: str | None):
    """The store as seen for one ICB (LSC: the curated tables) or England."""
    code = (code or LSC_CODE).upper()
    cache = store.__dict__.setdefault("_footprints", {})
    if code not in cache:
        if code == LSC_CODE:
            cache[code] = LscView(store)
        else:
            if code != ENGLAND_CODE and code not in icb_names(store):
                raise ValueError(f"unknown ICB code {code!r}")
            cache[code] = IcbView(store, code)
    return cache[code]


def fingerprint(store_fp: str, code: str | None) -> str:
    """The cache key of a footprint view: the store's, plus the ICB outside LSC."""
    code = (code or LSC_CODE).upper()
    return store_fp if code == LSC_CODE else f"{store_fp}-{code}"


class _View:
    """What every footprint view shares: the store's own files and national tables."""
    approximate_wards = False
    code = LSC_CODE
    name = LSC_NAME

    def __init__(self, store):
        self.base = store
        self.path = store.path
        self.manifest = store.manifest

    def table(self, name: str):
        return getattr(self, name)

    @property
    def attribution(self) -> str:
        return self.base.attribution

    @property
    def is_lsc(self) -> bool:
        return self.code == LSC_CODE

    @cached_property
    def england19(self):
        return self.base.england19

    @cached_property
    def lad19_official(self):
        return self.base.lad19_official

    @cached_property
    def postcodes(self):
        try:
            return national(self.base, "postcodes_england")
        except StoreMissing:
            return self.base.postcodes

    @cached_property
    def priority19(self):
        """The NHS England/Improvement 2021 priority & exemplar wards (Dec-2019 codes)
        that lie in this footprint, with their APPROXIMATE 2019 ward shapes."""
        try:
            p = national(self.base, "priority_nhsei")
        except StoreMissing:
            return None
        if "icb24cd" in p.columns and self.code != ENGLAND_CODE:
            out = p[p["icb24cd"] == self.code]
        elif self.code == ENGLAND_CODE:
            out = p
        else:
            out = p[p["wd19cd"].isin(set(self.lsoa["wd19cd"].dropna()))]
        return out.drop_duplicates("wd19cd").sort_values("wd19cd").reset_index(drop=True)

    def _polygons21(self, codes: pd.Series):
        """2021 LSOA polygons for `codes` (None where there is none)."""
        g = national(self.base, "lsoa21").set_index("lsoa21cd").geometry
        return codes.map(g)


def best_fit_links(store) -> tuple[pd.Series, pd.Series]:
    """(parent, successor): LSOA 2021 -> the 2011 LSOA it came from and LSOA 2011 -> the
    2021 LSOA it went to, from the ONS all-pairs lookup (one per code: unchanged and split
    codes are exact; a merged 2021 LSOA takes its first 2011 code, a split 2011 LSOA its
    first 2021 code)."""
    cache = store.__dict__.setdefault("_national", {})
    if "_links" not in cache:
        lk = national(store, "lsoa11_lsoa21")[["lsoa11cd", "lsoa21cd"]]
        parent = lk.sort_values(["lsoa21cd", "lsoa11cd"]).drop_duplicates("lsoa21cd").set_index("lsoa21cd")["lsoa11cd"]
        succ = lk.sort_values(["lsoa11cd", "lsoa21cd"]).drop_duplicates("lsoa11cd").set_index("lsoa11cd")["lsoa21cd"]
        cache["_links"] = (parent, succ)
    return cache["_links"]


class LscView(_View):
    """LSC: the curated store tables; IoD2025 on the 2021 LSOA polygons."""

    def __getattr__(self, name):          # lsoa, wards24, districts, place5, ... as built
        if name.startswith("_") or name == "base":
            raise AttributeError(name)
        return getattr(self.base, name)

    @stored
    def lsoa25(self):
        import geopandas as gpd
        l25 = self.base.lsoa25
        try:
            geom = self._polygons21(l25["lsoa21cd"])
        except StoreMissing:
            return l25
        out = pd.DataFrame(l25.drop(columns="geometry"))
        return gpd.GeoDataFrame(out, geometry=gpd.GeoSeries(geom.values, crs=4326), crs=4326)


def _local_deciles(rank: pd.Series) -> pd.Series:
    """Deciles within the footprint, 1 = most deprived (as geo.build does for LSC)."""
    order = rank.rank(method="first")
    return np.ceil(order * 10 / max(len(rank), 1)).clip(1, 10).astype("int64")


def _subicb_label(name: str) -> str:
    """'NHS Northamptonshire ICB - 78H' -> 'Northamptonshire 78H'."""
    s = re.sub(r"^NHS\s+", "", str(name))
    return re.sub(r"\s+ICB\s+-\s+", " ", s)


class IcbView(_View):
    """One ICB (or England) built from the England-wide tables; its derived tables
    (@stored) are kept in the store folder once computed (geo/footprint_cache.py)."""
    approximate_wards = True

    def __init__(self, store, code: str):
        super().__init__(store)
        self.code = code
        self.name = ENGLAND_NAME if code == ENGLAND_CODE else icb_names(store)[code]

    # ---------------------------------------------------------------- LSOA 2021
    @cached_property
    def _l21(self) -> pd.DataFrame:
        t = national(self.base, "lsoa21")
        ic = _col(t, "icb24cd")
        if self.code != ENGLAND_CODE:
            t = t[t[ic] == self.code]
        t = t.sort_values("lsoa21cd").reset_index(drop=True)
        if t.empty:
            raise ValueError(f"no LSOA 2021 in ICB {self.code}")
        return t

    def _place_col(self, t: pd.DataFrame) -> pd.Series:
        if self.code == ENGLAND_CODE:
            return t[_col(t, "icb24nm")].map(short_name)
        return t[_col(t, "sicbl24nm")].map(_subicb_label)

    @stored
    def lsoa25(self):
        import geopandas as gpd
        t = self._l21
        keep = ["lsoa21cd", "lsoa21nm", "pop2021", "lad24cd", "lad24nm", "wd24cd", "wd24nm"]
        keep += [c for m in MEASURES for c in (f"{m}_rank", f"{m}_decile", f"{m}_score") if c in t.columns]
        keep += [c for c in ("pwc_lon", "pwc_lat", "pwc_easting", "pwc_northing") if c in t.columns]
        out = pd.DataFrame(t[keep]).copy()
        out["lad19cd"], out["lad19nm"] = out["lad24cd"], out["lad24nm"]
        out["sicbl22cd"] = t[_col(t, "sicbl24cd")].values
        out["subicb_code"] = out["sicbl22cd"]
        out["icb24cd"] = t[_col(t, "icb24cd")].values
        out["place5"] = out["place4"] = self._place_col(t).values
        parent, _ = best_fit_links(self.base)
        out["lsoa11cd"] = out["lsoa21cd"].map(parent).values
        out["same_code_as_lsoa2011"] = (out["lsoa11cd"] == out["lsoa21cd"]).values
        out["drawable"] = out["same_code_as_lsoa2011"]      # drawable on the 2011 polygon of the same code
        w19 = national(self.base, "lsoa11_england").set_index("lsoa11cd")
        for c in ("wd19cd", "wd19nm"):
            out[c] = out["lsoa11cd"].map(w19[c]) if c in w19.columns else None
        for m in MEASURES:
            if f"{m}_rank" in out.columns:
                out[f"{m}_local_decile"] = _local_deciles(out[f"{m}_rank"])
        return gpd.GeoDataFrame(out, geometry=gpd.GeoSeries(t.geometry.values, crs=4326), crs=4326)

    # ---------------------------------------------------------------- LSOA 2011
    @stored
    def lsoa(self):
        import geopandas as gpd
        e = national(self.base, "lsoa11_england")
        if "imd_rank" not in e.columns:          # IoD2019 values from the England table
            iod = self.base.england19
            e = e[[c for c in e.columns if c not in iod.columns or c == "lsoa11cd"]].merge(iod, on="lsoa11cd")
        l25 = self.lsoa25
        _, succ = best_fit_links(self.base)
        # the 2011 LSOAs of the footprint: best-fit parents of its 2021 LSOAs, plus those
        # whose best-fit successor lies in it
        mine = set(l25["lsoa11cd"].dropna())
        if succ is not None:
            mine |= set(succ.index[succ.isin(set(l25["lsoa21cd"]))])
        e = e[e["lsoa11cd"].isin(mine)] if self.code != ENGLAND_CODE else e
        e = e.sort_values("lsoa11cd").reset_index(drop=True)
        out = pd.DataFrame(e.drop(columns="geometry")).copy()
        drop = [c for c in out.columns if c.startswith(("icb", "label_", "sicbl22", "lad22"))]
        label = e[["label_lon", "label_lat"]] if "label_lon" in e.columns else None
        out = out.drop(columns=drop)
        out["lad19cd_iod"], out["lad19nm_iod"] = out["lad19cd"], out["lad19nm"]
        by21 = pd.DataFrame(l25.drop(columns="geometry")).set_index("lsoa21cd")
        s21 = out["lsoa11cd"].map(succ) if succ is not None else out["lsoa11cd"]
        s21 = s21.where(s21.isin(by21.index), out["lsoa11cd"].map(
            pd.Series(l25["lsoa21cd"].values, index=l25["lsoa11cd"].values).groupby(level=0).first()))
        for c in ("lad19cd", "lad19nm", "lad24cd", "lad24nm", "wd24cd", "wd24nm", "sicbl22cd", "subicb_code",
                  "place5", "place4"):
            out[c] = s21.map(by21[c]).values
        out["wd24_share"] = np.nan
        out["sicbl22nm"] = out["place5"]
        for m in MEASURES:
            out[f"{m}_local_decile"] = _local_deciles(out[f"{m}_rank"])
        self._pwc(out, e, label)
        return gpd.GeoDataFrame(out, geometry=gpd.GeoSeries(e.geometry.values, crs=4326), crs=4326)

    @staticmethod
    def _pwc(out: pd.DataFrame, e, label) -> None:
        """The LSOA's point for distances: the table's population-weighted point where
        given, else the ONS label point, else a point inside the polygon."""
        if "pwc_lon" in e.columns:
            lon, lat = e["pwc_lon"].to_numpy(float), e["pwc_lat"].to_numpy(float)
        elif label is not None:
            lon, lat = label["label_lon"].to_numpy(float), label["label_lat"].to_numpy(float)
        else:
            rp = e.geometry.representative_point()
            lon, lat = rp.x.to_numpy(), rp.y.to_numpy()
        from pyproj import Transformer
        tr = Transformer.from_crs(4326, 27700, always_xy=True)
        x, y = tr.transform(lon, lat)
        out["pwc_lon"], out["pwc_lat"] = np.round(lon, 6), np.round(lat, 6)
        out["pwc_easting"], out["pwc_northing"] = np.round(x, 1), np.round(y, 1)
        out["n_postcodes"] = 0

    # ---------------------------------------------------------------- areas
    @stored
    def wards24(self):
        """Wards (May 2024) the footprint's 2021 LSOAs best-fit to; geometry dissolved
        from those LSOAs (APPROXIMATE, not the official ward boundary)."""
        import geopandas as gpd
        l25 = self.lsoa25
        try:
            w = national(self.base, "wards24_england")
            w = w[w["wd24cd"].isin(set(l25["wd24cd"]))]
            w = w[["wd24cd", "geometry"] + [c for c in ("lad24cd", "lad24nm") if c in w.columns]]
        except StoreMissing:
            w = l25[["wd24cd", "geometry"]].dissolve("wd24cd").reset_index()
        attrs = pd.DataFrame(l25.drop(columns="geometry")).groupby("wd24cd").agg(
            wd24nm=("wd24nm", "first"), lad24cd=("lad24cd", "first"), lad24nm=("lad24nm", "first"),
            place5=("place5", "first"), n_lsoa21=("lsoa21cd", "size")).reset_index()
        n11 = pd.DataFrame(self.lsoa.drop(columns="geometry")).groupby("wd24cd").size().rename("n_lsoa11")
        if "lad24cd" in w.columns:           # the ward's own district (an LSOA may sit in another)
            attrs = attrs.drop(columns=["lad24cd", "lad24nm"])
        out = attrs.merge(w, on="wd24cd", how="left").merge(n11, left_on="wd24cd", right_index=True, how="left")
        out["n_lsoa11"] = out["n_lsoa11"].fillna(0).astype("int64")
        out["lad19cd"], out["lad19nm"], out["place4"] = out["lad24cd"], out["lad24nm"], out["place5"]
        out["approximate_geometry"] = True
        out = out[["wd24cd", "wd24nm", "lad24cd", "lad24nm", "lad19cd", "lad19nm", "place5", "place4",
                   "n_lsoa11", "n_lsoa21", "approximate_geometry", "geometry"]]
        return gpd.GeoDataFrame(out.sort_values("wd24cd").reset_index(drop=True), geometry="geometry", crs=4326)

    def _dissolve(self, by: str, cols: dict):
        """One row per value of `by`: polygons merged as a coverage (LSOAs tile the area,
        so shapely's coverage union is exact and ~50x faster than a general union)."""
        import geopandas as gpd
        import shapely
        l25 = self.lsoa25
        rows = []
        for key, idx in l25.groupby(by, sort=True).indices.items():
            first = l25.iloc[idx[0]]
            parts = np.asarray(l25.geometry.values[idx], dtype=object)
            try:
                geom = shapely.coverage_union_all(parts)
            except shapely.errors.GEOSException:     # BSC polygons not exactly noded
                geom = shapely.union_all(parts, grid_size=1e-6)
            rows.append({by: key, **{new: first[old] for old, new in cols.items()}, "geometry": geom})
        return gpd.GeoDataFrame(rows, geometry="geometry", crs=4326)

    @stored
    def districts(self):
        d = self._dissolve("lad19cd", {"lad19nm": "lad19nm", "place5": "place5", "place4": "place4"})
        return d[["lad19cd", "lad19nm", "place5", "place4", "geometry"]].sort_values("lad19cd").reset_index(drop=True)

    @stored
    def subicb(self):
        d = self._dissolve("subicb_code", {"place5": "sicbl22nm"})
        d["sicbl22cd"] = d["subicb_code"]
        return d[["sicbl22cd", "sicbl22nm", "subicb_code", "geometry"]]

    @stored
    def place5(self):
        import geopandas as gpd
        d = self._dissolve("place5", {})
        d["code"] = d["name"] = d["place5"]
        return gpd.GeoDataFrame(d[["code", "name", "geometry"]], geometry="geometry", crs=4326)

    @property
    def place4(self):
        return self.place5

    @stored
    def wards19(self):
        """Dec-2019 wards of the footprint, dissolved from 2011 LSOAs (APPROXIMATE)."""
        import geopandas as gpd
        l = self.lsoa[["wd19cd", "wd19nm", "lad19cd_iod", "lad19nm_iod", "geometry"]].dropna(subset=["wd19cd"])
        d = l.dissolve("wd19cd", aggfunc="first").reset_index().rename(
            columns={"lad19cd_iod": "lad19cd", "lad19nm_iod": "lad19nm"})
        d["approximate_geometry"] = True
        return gpd.GeoDataFrame(d[["wd19cd", "wd19nm", "lad19cd", "lad19nm", "approximate_geometry", "geometry"]],
                                geometry="geometry", crs=4326)


def for_link(store, query_string: str | None):
    """The footprint a view link (the app's query string) asks for with `icb=`: the
    store's view for that ICB, LSC when absent or unknown (the full parse of the link,
    geo.viewstate.parse_query_string with known_from_store(view), says why)."""
    from geo import viewstate as VS
    from urllib.parse import parse_qs
    q = parse_qs(query_string or "", keep_blank_values=True)
    if "icb" not in q:
        return footprint(store, LSC_CODE)
    known = dict(icb_names(store))
    if len(known) > 1:
        known[ENGLAND_CODE] = ENGLAND_NAME
    state, _ = VS.from_query({"icb": q["icb"][-1]}, VS.Known(icbs=known))
    return footprint(store, state.icb or LSC_CODE)
