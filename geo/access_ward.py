"""Access around one ward: the services open in or near it, its outreach (HARI bus)
history and plan, and for every ward the days since the last stop.

Distances are straight-line, from the ward boundary (0 = inside), in British National
Grid. geo.access re-exports these names.
"""
from __future__ import annotations

import functools
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd

from geo.access_events import event_state
from geo.errors import UsageError


# --- outreach recency --------------------------------------------------------------

def outreach_recency(wards, stops: pd.DataFrame, as_of=None, near_km: float = 1.0,
                     code_col: str = "wd24cd") -> pd.DataFrame:
    """For each ward polygon: the last HARI bus stop on/before `as_of` in the ward or
    within `near_km` of it, days since then, and the next scheduled stop."""
    import geopandas as gpd
    import shapely
    asof = (pd.Timestamp(as_of) if as_of is not None else pd.Timestamp.today()).normalize()
    w = gpd.GeoDataFrame(wards[[code_col, "geometry"]].copy(), geometry="geometry", crs=wards.crs).to_crs(27700)
    cols = [code_col, "last_stop_date", "days_since_last_stop", "last_stop_name", "next_stop_date", "n_stops_near",
            "illustrative"]
    st = stops[stops["event_date"].notna() & (stops["event_date"] != "")] if len(stops) else stops
    if len(st) and "status" in st:           # a cancelled stop was never a visit
        st = st[st["status"].fillna("").astype(str).str.lower() != "closed"]
    if len(st) == 0:
        out = pd.DataFrame({code_col: w[code_col].to_numpy()})
        for c in cols[1:]:
            out[c] = None
        out["n_stops_near"] = 0
        out["illustrative"] = False
        return out[cols]
    pts = shapely.points(st["easting"].to_numpy(float), st["northing"].to_numpy(float))
    dates = pd.to_datetime(st["event_date"]).to_numpy()
    names = st["name"].to_numpy(dtype=object)
    illus = st["illustrative"].to_numpy(bool) if "illustrative" in st else np.zeros(len(st), bool)
    tree = shapely.STRtree(pts)
    pairs = tree.query(w.geometry.to_numpy(), predicate="dwithin", distance=near_km * 1000.0)
    rows = []
    for wi, geom_code in enumerate(w[code_col].to_numpy()):
        sel = pairs[1][pairs[0] == wi]
        rec = {code_col: geom_code, "last_stop_date": None, "days_since_last_stop": None, "last_stop_name": None,
               "next_stop_date": None, "n_stops_near": int(len(sel)), "illustrative": bool(illus[sel].any())}
        if len(sel):
            d = dates[sel]
            past = sel[d <= np.datetime64(asof)]
            fut = sel[d > np.datetime64(asof)]
            if len(past):
                j = past[np.argmax(dates[past])]
                last = pd.Timestamp(dates[j])
                rec.update(last_stop_date=last.date().isoformat(), days_since_last_stop=int((asof - last).days),
                           last_stop_name=names[j])
            if len(fut):
                rec["next_stop_date"] = pd.Timestamp(dates[fut].min()).date().isoformat()
        rows.append(rec)
    out = pd.DataFrame(rows, columns=cols)
    out["days_since_last_stop"] = out["days_since_last_stop"].astype("Int64")
    return out


# --- one ward: services and outreach history ----------------------------------------

def _ward_geom_27700(wards, code: str, code_col: str = "wd24cd"):
    """The ward's polygon in British National Grid (GeoSeries.to_crs), remembered."""
    import shapely
    m = (wards[code_col] == code).to_numpy()
    if not m.any():
        raise UsageError(f"ward '{code}' is not a May 2024 LSC ward")
    return _bng(shapely.to_wkb(wards.geometry.to_numpy()[m][0]), wards.crs.srs)


# PROJ sets up a context per thread on its first transform (~190 ms of CPU), and every
# Streamlit rerun runs on a new thread: a ward profile paid that each time it opened.
# The transforms run on one long-lived thread instead (each takes about a millisecond).
_PROJ_THREAD = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lsc-proj")


@functools.lru_cache(maxsize=512)        # a few KB per ward; geometries are immutable
def _bng(wkb: bytes, crs: str):
    return _PROJ_THREAD.submit(_bng_now, wkb, crs).result()


def _bng_now(wkb: bytes, crs: str):
    import shapely
    tr = _transformer(crs)
    return shapely.transform(shapely.from_wkb(wkb), lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))


@functools.lru_cache(maxsize=8)
def _transformer(crs: str):
    """As GeoSeries.to_crs(27700) makes it (x/y order), made once per source CRS."""
    from pyproj import Transformer
    return Transformer.from_crs(crs, 27700, always_xy=True)


def _dist_km(geom, records: pd.DataFrame) -> np.ndarray:
    import shapely
    if not len(records):
        return np.array([], dtype=float)
    pts = shapely.points(records["easting"].to_numpy(float), records["northing"].to_numpy(float))
    return shapely.distance(geom, pts) / 1000.0


def open_by_category(records: pd.DataFrame, as_of=None, config: dict | None = None) -> dict[str, dict]:
    """Per fixed-site category, the sites open on `as_of`: {cat: {label, illustrative,
    names, pts (shapely points, BNG metres)}}. The same for every ward: ward_services
    takes it (`opened=`) so a profile measures distances only."""
    import shapely
    from geo.services import categories, open_sites
    out = {}
    for cat, c in categories(config).items():
        if c.get("kind") == "event":
            continue
        s = open_sites(records, [cat], as_of)
        out[cat] = {"label": c.get("label", cat), "illustrative": bool(c.get("illustrative")),
                    "names": s["name"].astype(str).to_numpy(),
                    "pts": shapely.points(s["easting"].to_numpy(float), s["northing"].to_numpy(float))}
    return out


def ward_services(wards, code: str, records: pd.DataFrame, as_of=None, near_km: float = 1.0,
                  config: dict | None = None, opened: dict | None = None) -> pd.DataFrame:
    """Per fixed-site category: how many sites open on `as_of` lie in the ward or within
    `near_km` of its boundary, and the nearest one with its straight-line distance from
    the ward boundary (0 = inside the ward). `opened`: open_by_category(records, as_of,
    config), when the caller keeps it."""
    import shapely
    geom = _ward_geom_27700(wards, code)
    rows = []
    for cat, o in (opened if opened is not None else open_by_category(records, as_of, config)).items():
        if not len(o["pts"]):
            rows.append({"category": cat, "label": o["label"], "in_or_near": 0, "nearest": "",
                         "nearest_km": None, "illustrative": o["illustrative"]})
            continue
        d = shapely.distance(geom, o["pts"]) / 1000.0
        j = int(np.argmin(d))
        rows.append({"category": cat, "label": o["label"], "in_or_near": int((d <= near_km).sum()),
                     "nearest": str(o["names"][j]), "nearest_km": round(float(d[j]), 2),
                     "illustrative": o["illustrative"]})
    return pd.DataFrame(rows, columns=["category", "label", "in_or_near", "nearest", "nearest_km", "illustrative"])


def ward_stops(wards, code: str, stops: pd.DataFrame, as_of=None, near_km: float = 1.0) -> pd.DataFrame:
    """The ward's outreach history and plan: every dated stop in the ward or within
    `near_km` of it, newest first, with its state on `as_of` (visited / today /
    upcoming / cancelled) and distance from the ward boundary (0 = inside)."""
    cols = ["event_date", "name", "state", "distance_km", "place", "offer", "illustrative"]
    st = stops[stops["event_date"].fillna("").astype(str) != ""] if len(stops) else stops
    if not len(st):
        return pd.DataFrame(columns=cols)
    geom = _ward_geom_27700(wards, code)
    d = _dist_km(geom, st)
    near = st[d <= near_km].assign(distance_km=np.round(d[d <= near_km], 2))
    near = near.assign(state=event_state(near, as_of))
    for c in ("place", "offer", "illustrative"):
        if c not in near:
            near[c] = "" if c != "illustrative" else False
    return near[cols].sort_values("event_date", ascending=False).reset_index(drop=True)
