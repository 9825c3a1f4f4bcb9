"""The indicator layer's data: cached look-ups (built-in and uploaded datasets, their
aggregation, area frames and codes), the classification of every drawn area, the hover
values file and the indicator-by-IMD-decile table. The matching and classing themselves
are in geo/ (pure); `classify_areas` is pure too, so the instant-restyle worker
(layers/indicators_instant.py) calls it off the script thread.
"""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import streamlit as st

from geo import classify as C
from geo import indicators as I
from layers.base import NODATA_FILL, NODATA_LINE, hot

# drawn vintage -> (JS object in the static TopoJSON, store table, code column, label)
OBJECTS = {
    "lsoa11": ("lsoa", "lsoa", "lsoa11cd", "LSOA 2011 boundaries"),
    "wd24": ("wards", "wards24", "wd24cd", "May-2024 ward boundaries"),
    "wd19": ("wards19", "wards19", "wd19cd", "Dec-2019 wards (approximate LSOA-built shapes)"),
    "lad19": ("districts", "districts", "lad19cd", "district boundaries (2019-2023 codes)"),
    "place5": ("place5", "place5", "code", "places (legacy five)"),
    "place4": ("place4", "place4", "code", "places (current four)"),
    "sicbl22": ("subicb", "subicb", "sicbl22cd", "sub-ICB locations (Jul 2022)"),
}
EXTRA_OBJECTS = ("wards19", "subicb")
MISSING = -1
SUPPRESSED = -2
COMPARATORS = ["England", "Region", "ICB", "LSC"]
# no data: hatched grey as everywhere on the map (layers.base), with the dashed outline
MISSING_STYLE = {**C.MISSING_STYLE, "fillColor": NODATA_FILL, "color": NODATA_LINE}


# ------------------------------------------------------------------ cached data
@hot(maxsize=16)
@st.cache_resource(show_spinner="Loading indicators…", max_entries=16)
def _builtin(_store, fp: str, name: str, ward_vintage: str | None) -> I.IndicatorData:
    return I.load_builtin(name, _store, ward_vintage=ward_vintage).prepare()


@st.cache_resource(show_spinner="Matching the file to the map…", max_entries=8)
def _uploaded(_store, fp: str, digest: str, filename: str, data: bytes, ward_vintage: str | None):
    # read from the bytes: messages name the user's file, never a server temp path
    return I.import_bytes(data, filename, I.reference(_store), ward_vintage=ward_vintage).prepare()


@hot(maxsize=32)
@st.cache_resource(show_spinner=False, max_entries=32)
def _aggregated(_data, key: str, _store, by: str, ward_vintage: str | None) -> I.IndicatorData:
    return I.aggregate(_data, by, _store, ward_vintage=ward_vintage).prepare()


@hot
@st.cache_resource(show_spinner=False)
def _area_frame(_store, fp: str, target: str) -> pd.DataFrame:
    return I.area_frame(_store, target)


@hot
@st.cache_resource(show_spinner=False)
def _codes(_store, fp: str, target: str) -> list:
    _, table, col, _ = OBJECTS[target]
    return _store.table(table)[col].tolist()


@hot
@st.cache_resource(show_spinner=False)
def extra_geometry_url(_store, fp: str) -> str:
    """Static TopoJSON with the Dec-2019 wards and sub-ICB locations (store order)."""
    import topojson as tp

    from render.static_files import GEN_DIR, QUANTIZE, _url, write_hashed
    w19 = _store.wards19[["geometry"]].reset_index(drop=True)
    sub = _store.subicb[["geometry"]].reset_index(drop=True)
    topo = tp.Topology([w19, sub], object_name=list(EXTRA_OBJECTS), prequantize=QUANTIZE, topology=True)
    d = topo.to_dict()
    for obj in d["objects"].values():
        for g in obj.get("geometries", []):
            g.pop("properties", None)
            g.pop("id", None)
    data = json.dumps(d, separators=(",", ":"), allow_nan=False).encode()
    return _url(write_hashed("indgeo", data, GEN_DIR))


@hot
@st.cache_data(show_spinner=False, max_entries=256)
def _classified(_data, data_key: str, _store, fp: str, indicator: str, period: str | None, method: str, k: int,
                thresholds: tuple, scheme: str, palette_name: str | None, comparator: str | None,
                mode: str) -> dict:
    """Everything one rerun needs for the map and legend (small, JSON-able)."""
    share = None
    if mode == "bivariate":
        share = _area_frame(_store, fp, _data.target)["core20_share"]
    return classify_areas(_data, _codes(_store, fp, _data.target), share, indicator, period, method, k,
                          thresholds, scheme, palette_name, comparator, mode)


def classify_areas(data: I.IndicatorData, codes: list, core20_share: pd.Series | None, indicator: str,
                   period: str | None, method: str, k: int, thresholds: tuple, scheme: str,
                   palette_name: str | None, comparator: str | None, mode: str) -> dict:
    """The class of every area (`codes`, store order) and the colours/legend rows: pure
    (no Streamlit), so the instant-restyle file can be built off the script thread."""
    target = data.target
    v = data.values(indicator, period)
    meta = data.meta.get(indicator, {})
    polarity = meta.get("polarity", "neutral")
    vals = v["value"].reindex(codes).to_numpy(float)
    status = v["status"].reindex(codes).fillna("missing").to_numpy(str)
    ok = status == "ok"
    vals = np.where(ok, vals, np.nan)
    supp = status == "suppressed"
    out = {"target": target, "object": OBJECTS[target][0], "n_areas": len(codes), "polarity": polarity,
           "n_suppressed": int(supp.sum()), "n_missing": int((~ok & ~supp).sum()), "error": None}
    if not ok.any():
        out.update(cls=[MISSING] * len(codes), colors=[], rows=[], error="no values to map for this selection")
        return out
    centre, centre_how = (None, "")
    if scheme == "diverging" and comparator:
        centre, centre_how = data.comparator(indicator, period, comparator)
        if centre is None:
            out.update(cls=[MISSING] * len(codes), colors=[], rows=[],
                       error=f"no {comparator} value for this indicator/period: choose another comparator "
                             f"or a sequential palette")
            return out
    if mode == "bivariate":
        t = C.tertiles(vals, polarity)
        core = C.core20_level(core20_share.reindex(codes).to_numpy(float))
        cell = C.bivariate_class(t, core)
        cls = np.where(cell >= 0, cell, np.where(supp, SUPPRESSED, MISSING))
        colors = [C.BIVARIATE[i // 3][i % 3] for i in range(9)]
        q = C.classify(vals, "quantiles", 3)
        out.update(cls=cls.astype(int).tolist(), colors=colors, tertile_bins=q.bins.tolist(),
                   tertile_min=q.minimum,
                   cell_counts=[int((cell == i).sum()) for i in range(9)], centre=None, centre_how="",
                   rows=[], decimals=C.decimals_for(vals[ok]),
                   n_no_core20=int(((t >= 0) & (core < 0)).sum()))
        return out
    try:
        cl = C.classify(vals, method, k, thresholds=list(thresholds) or None, centre=centre)
        colors = C.palette(cl, scheme, palette_name, polarity if polarity in C.POLARITIES else "neutral")
    except C.ClassifyError as e:
        out.update(cls=[MISSING] * len(codes), colors=[], rows=[], error=str(e))
        return out
    cls = np.where(cl.yb >= 0, cl.yb, np.where(supp, SUPPRESSED, MISSING))
    dec = C.decimals_for(vals[ok], cl.bins)
    rows = C.legend_rows(cl, colors, dec, n_suppressed=int(supp.sum()))
    out.update(cls=cls.astype(int).tolist(), colors=colors, rows=rows, centre=centre, centre_how=centre_how,
               notes=list(cl.notes), decimals=dec)
    return out


# ------------------------------------------------------------------ hover values
@hot(maxsize=64)
@st.cache_resource(show_spinner=False, max_entries=64)
def hover_url(_data, data_key: str, _store, fp: str, indicator: str, period: str | None) -> str:
    """A static file (static/gen/indhover.<sha>.json) with what the ward hover shows while
    this indicator is drawn: the value, name and Core20 share of every drawn area (store
    order), fetched by the map frame on first hover (a rerun carries only its URL; the
    standalone export inlines it). Suppressed values are the string "suppressed"."""
    from render.static_files import _url, write_hashed
    target = _data.target
    codes = _codes(_store, fp, target)
    v = _data.values(indicator, period)
    vals = v["value"].reindex(codes)
    status = v["status"].reindex(codes).fillna("missing")
    ok = status == "ok"
    dec = min(max(C.decimals_for(vals[ok].to_numpy(float)), 0), 3) if ok.any() else 1
    af = _area_frame(_store, fp, target).reindex(codes)
    meta = _data.meta.get(indicator, {})
    out = {"label": str(meta.get("label", indicator)), "unit": str(meta.get("unit") or ""),
           "period": str(period or ""), "dp": int(dec), "object": OBJECTS[target][0],
           "what": OBJECTS[target][3],
           "names": [("" if pd.isna(n) else str(n)) for n in af["name"]],
           "values": [round(float(x), dec) if k and pd.notna(x) else ("suppressed" if s == "suppressed" else None)
                      for x, k, s in zip(vals, ok, status)],
           "core20": [None if pd.isna(x) else round(float(x) * 100, 1) for x in af["core20_share"]]}
    return _url(write_hashed("indhover", json.dumps(out, separators=(",", ":"), allow_nan=False).encode()))


@hot
@st.cache_resource(show_spinner=False)
def _cuts(_store, fp: str) -> pd.Series:
    return I.imd_decile_cuts(_store)


@hot
@st.cache_data(show_spinner=False, max_entries=64)
def _decile_table(_data, data_key: str, _store, fp: str, ind: str, per: str, target: str) -> pd.DataFrame:
    return I.by_imd_decile(_data, ind, per, _store, af=_area_frame(_store, fp, target),
                           cuts=_cuts(_store, fp) if target != "lsoa11" else None)
