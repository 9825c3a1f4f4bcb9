"""Any ICB in England (or England as a whole): find it by code or name, and get its areas.

    icb = resolve_icb("lancashire")            # -> ICB(code="E54000048", ...)
    lsoas(store, icb)                         # its 1,060 LSOA 2021 rows with IoD2025
    districts(store, icb)                     # LAD 2024 parts inside the ICB
    places(store, icb)                        # its sub-ICB locations (former CCGs)
    wards(store, icb)                         # May-2024 wards (official polygons for LSC)
    boundary(store, icb)                      # the ICB polygon

Needs the England tables of the store (`python -m geo build` with the England-wide
source files). Pure pandas/geopandas; no UI imports.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

import pandas as pd

from geo.errors import StoreMissing, UsageError

ENGLAND_CODE = "E92000001"
_STOP = {"nhs", "icb", "integrated", "care", "board", "and", "the", "of", "&"}


@dataclass(frozen=True)
class ICB:
    code: str          # ONS code, E54xxxxxx (E92000001 for England)
    name: str          # "NHS Lancashire and South Cumbria Integrated Care Board"
    short_name: str    # "Lancashire and South Cumbria"
    nhs_code: str = ""  # NHS ODS code, e.g. QE1

    @property
    def is_england(self) -> bool:
        return self.code == ENGLAND_CODE

    @property
    def is_lsc(self) -> bool:
        return self.code == lsc_code()


ENGLAND = ICB(ENGLAND_CODE, "England", "England", "")


def lsc_code() -> str:
    from geo import sources as S
    return str((S.load_places().get("icb") or {}).get("code", "E54000048"))


def _need_england(store) -> None:
    if not store.has_england:
        raise StoreMissing(f"the store at {store.path} has no England-wide tables: put the England files "
                           f"in the source folder and run `python -m geo build`")


def icb_list(store) -> pd.DataFrame:
    """The 42 ICBs: code, name, short_name, nhs_code, nhser22nm, n_lsoa21, n_subicb, pop2021."""
    _need_england(store)
    t = pd.DataFrame(store.icb.drop(columns="geometry"))
    t = t.rename(columns={"icb24cd": "code", "icb24nm": "name", "icb24cdh": "nhs_code"})
    return t.sort_values("name").reset_index(drop=True)


def _words(s: str) -> list[str]:
    s = str(s).lower().replace("&", " and ")
    return [w for w in re.split(r"[^a-z0-9]+", s) if w]


def _key(s: str) -> str:
    return " ".join(w for w in _words(s) if w not in _STOP)


def resolve_icb(query, store=None, *, allow_england: bool = True) -> ICB:
    """An ICB from its ONS code (E54...), NHS code (QE1), full or short name, or a few
    words of it ("lancashire", "north east london"), case-insensitive. "England" (or
    E92000001) gives ENGLAND when allow_england. Anything else raises UsageError, in one
    line, naming the closest ICBs."""
    if isinstance(query, ICB):
        return query
    if store is None:
        from geo.store import load_store
        store = load_store()
    q = str(query or "").strip()
    if not q:
        raise UsageError("no ICB given; give an ICB code (E54...) or name")
    if allow_england and (q.lower() == "england" or q.upper() == ENGLAND_CODE):
        return ENGLAND
    t = icb_list(store)
    recs = [ICB(r.code, r.name, r.short_name, r.nhs_code) for r in t.itertuples()]
    up = lsc_code() if q.lower() == "lsc" else q.upper()  # the project's own ICB by its usual initials
    for r in recs:
        if up in (r.code, r.nhs_code):
            return r
    qk = _key(q)
    for r in recs:
        if qk and qk in (_key(r.name), _key(r.short_name)):
            return r
    qw = qk.split()
    hits = [r for r in recs if qw and all(any(w.startswith(x) for w in _key(r.short_name).split()) for x in qw)]
    if len(hits) == 1:
        return hits[0]
    if len(hits) > 1:
        raise UsageError(f"ICB {q!r} is ambiguous: matches " + "; ".join(f"{r.short_name} ({r.code})" for r in hits)
                         + ". Give more of the name or the code")
    names = {_key(r.short_name): r for r in recs}
    close = difflib.get_close_matches(qk or q.lower(), list(names), n=3, cutoff=0.3)
    if not close:  # fall back to word overlap
        scored = sorted(recs, key=lambda r: -len(set(qw) & set(_key(r.short_name).split())))
        close = [_key(r.short_name) for r in scored[:3]]
    hint = "; ".join(f"{names[c].short_name} ({names[c].code})" for c in close)
    raise UsageError(f"unknown ICB {q!r}; closest: {hint}")


# ---------------------------------------------------------------- areas
_cache: dict[tuple, object] = {}


def _cached(store, what: str, icb: ICB, make):
    key = (str(store.path), store.manifest.get("built_at"), what, icb.code)
    if key not in _cache:
        if len(_cache) > 64:
            _cache.clear()
        _cache[key] = make()
    return _cache[key].copy()


def lsoas(store, icb, vintage: int = 2025):
    """The ICB's LSOAs with every IoD measure, as a GeoDataFrame (EPSG:4326).

    vintage 2025: rows of store.lsoa21 (LSOA 2021; ICB by the ONS April-2024 lookup).
    vintage 2019: LSOA 2011 polygons (store.lsoa11_england: WD19 best fit, sub-ICB/ICB
    July 2022) joined to the IoD2019 values of store.england19."""
    _need_england(store)
    icb = resolve_icb(icb, store)
    if vintage == 2025:
        df = store.lsoa21
        return (df if icb.is_england else df[df["icb24cd"] == icb.code]).reset_index(drop=True)
    if vintage == 2019:
        import geopandas as gpd
        g = store.lsoa11_england
        if not icb.is_england:
            g = g[g["icb22cd"] == icb.code]
        vals = store.england19.drop(columns=[c for c in ("lsoa11nm",) if c in store.england19.columns])
        vals = vals.drop(columns=[c for c in vals.columns if c in g.columns and c != "lsoa11cd"])
        out = pd.DataFrame(g).merge(vals, on="lsoa11cd", how="left")
        return gpd.GeoDataFrame(out, geometry="geometry", crs=4326)
    raise UsageError(f"unknown vintage {vintage!r}; valid: 2019, 2025")


def _dissolve_frame(l21, key: str, cols: dict[str, str]):
    import geopandas as gpd
    from geo.build_england import dissolve
    d = pd.DataFrame(l21.drop(columns="geometry"))
    keys, geoms = dissolve(l21.geometry.values, d[key].to_numpy(object))
    first = d.drop_duplicates(key).set_index(key)
    out = pd.DataFrame({key: keys})
    for c in cols:
        out[c] = out[key].map(first[c])
    agg = d.groupby(key).agg(n_lsoa21=("lsoa21cd", "size"), pop2021=("pop2021", "sum"))
    out = out.join(agg, on=key)
    return gpd.GeoDataFrame(out.rename(columns=cols | {key: cols.get(key, key)}), geometry=geoms, crs=4326)


def districts(store, icb):
    """LAD 2024 districts of the ICB, each limited to its part inside the ICB (dissolved
    from the ICB's LSOA 2021 polygons): lad24cd, lad24nm, n_lsoa21, pop2021,
    whole_district (True when every LSOA of the district is in this ICB), geometry."""
    icb = resolve_icb(icb, store)

    def make():
        l21 = lsoas(store, icb)
        g = _dissolve_frame(l21, "lad24cd", {"lad24nm": "lad24nm"})
        total = store.lsoa21.groupby("lad24cd").size()
        g["whole_district"] = g["n_lsoa21"].values == g["lad24cd"].map(total).values
        return g.sort_values("lad24cd").reset_index(drop=True)
    return _cached(store, "districts", icb, make)


def places(store, icb):
    """The ICB's sub-ICB locations (SICBL April 2024, the former CCGs) as its places:
    code (E38...), nhs_code (e.g. 00Q), name, n_lsoa21, pop2021, geometry (dissolved from
    LSOA 2021). For England: every sub-ICB location."""
    icb = resolve_icb(icb, store)

    def make():
        l21 = lsoas(store, icb)
        g = _dissolve_frame(l21, "sicbl24cd", {"sicbl24cdh": "nhs_code", "sicbl24nm": "name", "icb24cd": "icb24cd"})
        g = g.rename(columns={"sicbl24cd": "code"})
        return g.sort_values("code").reset_index(drop=True)
    return _cached(store, "places", icb, make)


WARD_NOTE_OFFICIAL = ("May-2024 wards: official ONS BSC polygons; LSOA figures reach them through a postcode "
                      "best fit")
WARD_NOTE_APPROX = ("May-2024 wards: APPROXIMATE shapes dissolved from LSOA 2021 polygons by the ONS LSOA21->WD24 "
                    "best fit (not the official ward boundary); wards that receive no LSOA are not drawn")


def wards(store, icb):
    """May-2024 wards of the ICB: wd24cd, wd24nm, lad24cd, lad24nm, icb24cd, n_lsoa21,
    pop2021, approximate_geometry, geometry. For LSC the official polygons of
    store.wards24 (plus approximate shapes for the few wards of LSC LSOAs outside the 16
    districts); elsewhere LSOA-built approximate shapes. attrs["note"] says which."""
    icb = resolve_icb(icb, store)

    def make():
        _need_england(store)
        w = store.wards24_england
        if not icb.is_england:
            w = w[w["icb24cd"] == icb.code]
        w = w.drop(columns=["n_icb"], errors="ignore")
        if not icb.is_lsc:
            w = w.reset_index(drop=True)
            w.attrs["note"] = WARD_NOTE_APPROX
            return w
        import geopandas as gpd
        off = store.wards24.copy()
        stats = w.set_index("wd24cd")[["icb24cd", "icb24nm", "n_lsoa21", "pop2021"]]
        off = off.join(stats, on="wd24cd")
        off["icb24cd"], off["icb24nm"] = icb.code, icb.name
        off["n_lsoa21"] = off["n_lsoa21"].fillna(0).astype("int32")
        off["pop2021"] = off["pop2021"].fillna(0).astype("int64")
        off["approximate_geometry"] = False
        cols = [c for c in w.columns if c in off.columns]
        extra = w[~w["wd24cd"].isin(set(off["wd24cd"]))]
        out = gpd.GeoDataFrame(pd.concat([off[cols], extra[cols]], ignore_index=True), geometry="geometry", crs=4326)
        out.attrs["note"] = (WARD_NOTE_OFFICIAL + (f"; {len(extra)} ward(s) of LSC LSOAs outside the 16 districts "
                                                   f"have approximate LSOA-built shapes" if len(extra) else ""))
        return out
    out = _cached(store, "wards", icb, make)
    return out


def boundary(store, icb):
    """One-row GeoDataFrame: the ICB polygon (ONS April 2023 = 2024 codes) with code,
    name, short_name, nhs_code, n_lsoa21, pop2021; England: the union of all 42."""
    import geopandas as gpd
    import shapely
    _need_england(store)
    icb = resolve_icb(icb, store)
    g = store.icb.rename(columns={"icb24cd": "code", "icb24nm": "name", "icb24cdh": "nhs_code"})
    if not icb.is_england:
        return g[g["code"] == icb.code].reset_index(drop=True)

    def make():
        geom = shapely.union_all(g.geometry.values)
        return gpd.GeoDataFrame({"code": [ENGLAND_CODE], "name": ["England"], "short_name": ["England"],
                                 "nhs_code": [""], "n_lsoa21": [int(g["n_lsoa21"].sum())],
                                 "pop2021": [int(g["pop2021"].sum())]}, geometry=[geom], crs=4326)
    return _cached(store, "boundary", icb, make)


def summary(store, icb) -> dict:
    """Counts for a heading: code, name, n_lsoa21, pop2021, n_districts, n_places, n_wards."""
    icb = resolve_icb(icb, store)
    l21 = lsoas(store, icb)
    w = store.wards24_england
    return {"code": icb.code, "name": icb.name, "short_name": icb.short_name, "nhs_code": icb.nhs_code,
            "n_lsoa21": int(len(l21)), "pop2021": int(l21["pop2021"].sum()),
            "n_districts": int(l21["lad24cd"].nunique()), "n_places": int(l21["sicbl24cd"].nunique()),
            "n_wards": int(l21["wd24cd"].nunique()) if icb.is_england else int((w["icb24cd"] == icb.code).sum())}
