"""Cached look-ups shared by layers and app panels (Streamlit caching lives here, not
in geo/). Functions take the store as `_store` (not hashed) plus its fingerprint."""
from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from geo.store import MEASURES
from layers.base import hot
from render.static_files import LSOA_OBJECT


@hot(maxsize=32)
@st.cache_data(max_entries=32, show_spinner=False)
def area_table(_store, fp: str, by: str, vintage: int, grouping: str = "place5") -> pd.DataFrame:
    """geo.report.build_table for the footprint (`_store` is its view: geo.footprint);
    by="england": scope england, from the store's national tables (IoD2025 needs the England
    tables; without them an empty table)."""
    from geo.report import build_table
    if by == "england":
        _store = getattr(_store, "base", _store)
        if vintage != 2019 and not getattr(_store, "has_england", False):
            return pd.DataFrame()
        return build_table(_store, "england", scope="england", vintage=vintage)
    return build_table(_store, by, vintage=vintage, grouping=grouping)


def ward_table(store, fp: str, vintage: int) -> pd.DataFrame:
    return area_table(store, fp, "ward", vintage)


@hot
@st.cache_resource(max_entries=64, show_spinner=False)
def lsoa_classes(_store, fp: str, vintage: int, measure: str, local: bool) -> dict:
    """Per-LSOA class 1-10 (0 = no value), Core20 indices, counts, aligned with the
    vintage's own polygons: IoD2019 in store.lsoa order (LSOA 2011, geometry object
    "lsoa"), IoD2025 in store.lsoa25 order (LSOA 2021, object "lsoa21").
    Shared and read-only (a resource: no copy per call; it is read twice per rerun)."""
    if measure not in MEASURES:
        raise ValueError(f"unknown measure {measure!r}")
    col = f"{measure}_local_decile" if local else f"{measure}_decile"
    t = (_store.lsoa if vintage == 2019 else _store.lsoa25).reset_index(drop=True)
    no_poly = t.geometry.isna() | t.geometry.is_empty
    vals, imd = t[col].where(~no_poly), t["imd_decile"].where(~no_poly)
    cls = pd.to_numeric(vals, errors="coerce").fillna(0).astype(int).clip(0, 10)
    core = np.flatnonzero(pd.to_numeric(imd, errors="coerce").fillna(99).astype(int).le(2).to_numpy())
    return {
        "cls": cls.tolist(),
        "core20": core.tolist(),
        "geom": LSOA_OBJECT[vintage],
        "n_drawn": int((cls > 0).sum()),
        "n_polygons_without_value": int(((cls == 0) & ~no_poly).sum()),
        "n_total": int(len(t)),
        "n_not_drawn": int(no_poly.sum()),
    }


@hot(maxsize=4)
@st.cache_resource(show_spinner=False)
def ward_lookup(_store, fp: str):
    """(codes, STRtree over ward polygons, bounds per ward, index by code)."""
    from shapely import STRtree
    w = _store.wards24.reset_index(drop=True)
    geoms = w.geometry.values
    tree = STRtree(geoms)
    bounds = w.geometry.bounds.round(5)
    idx = {c: i for i, c in enumerate(w["wd24cd"])}
    return w["wd24cd"].tolist(), tree, bounds, idx, geoms


def ward_at(store, fp: str, lat: float, lng: float) -> str | None:
    from shapely import Point
    codes, tree, _, _, geoms = ward_lookup(store, fp)
    hits = tree.query(Point(lng, lat), predicate="intersects")
    return codes[int(hits[0])] if len(hits) else None


def ward_bounds(store, fp: str, code: str):
    codes, _, bounds, idx, _ = ward_lookup(store, fp)
    i = idx.get(code)
    if i is None:
        return None
    b = bounds.iloc[i]
    return [[b.miny, b.minx], [b.maxy, b.maxx]]


@hot
@st.cache_data(show_spinner=False)
def area_bounds(_store, fp: str, kind: str, code: str | None):
    """[[s, w], [n, e]] of an area (icb | place5 | place4 | district)."""
    if kind == "icb" or not code:
        b = _store.districts.total_bounds
    else:
        t = {"place5": _store.place5, "place4": _store.place4}.get(kind)
        if kind == "district":
            g = _store.districts[_store.districts["lad19cd"] == code]
        else:
            g = t[t["code"] == code]
        if g.empty:
            b = _store.districts.total_bounds
        else:
            b = g.total_bounds
    return [[round(float(b[1]), 5), round(float(b[0]), 5)], [round(float(b[3]), 5), round(float(b[2]), 5)]]


@hot
@st.cache_data(show_spinner=False)
def area_index(_store, fp: str, kind: str, code: str | None) -> int:
    """Row of the area in its static TopoJSON object (-1 for the ICB)."""
    if kind == "icb" or not code:
        return -1
    if kind == "district":
        codes = _store.districts["lad19cd"].tolist()
    else:
        codes = {"place5": _store.place5, "place4": _store.place4}[kind]["code"].tolist()
    return codes.index(code) if code in codes else -1


# "Change since IoD2019" view: 2025 decile minus 2019 decile per LSOA 2021 (positive =
# relatively LESS deprived), in 7 classes; split/merged/redrawn LSOAs are flagged
CHANGE_CLASSES = ["3+ deciles more deprived", "2 deciles more deprived", "1 decile more deprived",
                  "same decile", "1 decile less deprived", "2 deciles less deprived", "3+ deciles less deprived"]


@hot
@st.cache_resource(max_entries=32, show_spinner=False)
def lsoa_change(_store, fp: str, measure: str) -> dict:
    """Per LSOA 2021 (store.lsoa25 order, geometry object "lsoa21"): change class 1-7 of
    the national decile from IoD2019 to IoD2025 through the ONS 2011->2021 lookup
    (geo.change: split LSOAs take their parent's 2019 value, merged ones the
    population-weighted mean), 0 = no 2019 value; `flagged` = indices of the LSOAs whose
    2011->2021 change was not "unchanged"."""
    from geo.change import change_table
    from geo.footprint import national
    if measure not in MEASURES:
        raise ValueError(f"unknown measure {measure!r}")
    l25 = pd.DataFrame(_store.lsoa25.drop(columns="geometry")).reset_index(drop=True)
    base = getattr(_store, "base", _store)
    t = change_table(national(base, "lsoa11_lsoa21"), base.england19, l25, measure)
    d = t["decile_change"].reindex(l25["lsoa21cd"]).to_numpy(dtype="float64")
    cls = np.where(np.isnan(d), 0, np.clip(np.nan_to_num(d), -3, 3) + 4).astype(int)
    comparable = t["comparable"].reindex(l25["lsoa21cd"]).fillna(False).to_numpy(dtype=bool)
    return {"cls": cls.tolist(), "flagged": np.flatnonzero(~comparable).tolist(),
            "counts": {lab: int((cls == i + 1).sum()) for i, lab in enumerate(CHANGE_CLASSES)},
            "n_flagged": int((~comparable).sum()), "n_total": int(len(l25))}
