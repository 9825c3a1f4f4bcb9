"""Access gaps: how far each LSOA's population lives from the nearest open service site.

Distances are STRAIGHT-LINE (Euclidean on British National Grid metres, EPSG:27700)
from each LSOA's population-weighted point (the store's pwc_easting/pwc_northing: mean
of the LSOA's live postcode units, not the polygon centroid) to the nearest open site
of the chosen categories, found with a KD-tree (scipy cKDTree), not all pairs.

Where a travel-time matrix (LSOA x site minutes) is supplied it is used instead:
each LSOA takes the minimum minutes over the open sites in the matrix.

Population: the IoD2019 denominators (ONS mid-2015, as `geo report` and the app's ward
table use by default), or ONS mid-2019 on request; every result states which.
Core20 = LSOAs in national IMD2019 deciles 1-2.

Dated events (HARI bus stops, `kind: event` in config/services.yaml) are not open sites:
a stop is *visited* once its date has passed, *upcoming* before it, *today* on it and
*cancelled* when its status is closed. For access, only the stops dated inside a window
(default: the as-of day alone) count as sites; the window is stated in the notes.
Wards: each LSOA counts wholly in its best-fit May-2024 ward (LSOAs do not nest in
wards; the best fit is by share of postcodes), so ward figures are approximate, but
they add up exactly to district/place totals.

This module computes (nearest site, per-LSOA access, summaries, compute_access); beside
it: geo.access_travel (reading a travel-time matrix), geo.access_events (dated events
as sites), geo.access_tables (the tables as people read them), geo.access_ward (one
ward's services and outreach history). Their public names are re-exported here.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

# The pieces that live beside this module, re-exported so `geo.access.X` keeps working:
from geo.access_events import _iso, event_categories, event_state, event_window, sites_for  # noqa: F401
from geo.access_tables import CORE20_LABEL, COUNT_HEADINGS, DISPLAY_COLUMNS, display_table, header_lines  # noqa: F401
from geo.access_travel import TRAVEL_LIMITS_ROWS, TravelTimes, read_travel_times  # noqa: F401
from geo.access_ward import outreach_recency, ward_services, ward_stops  # noqa: F401
from geo.errors import GeoError, UsageError

DISTANCE_LABEL = "straight-line distance"
POP_COL = "pop2019"                          # kept for callers; the figures use "population"
POP_LABEL = "ONS mid-2019 population"
POPULATIONS = {"mid2015": ("pop2015", "IoD2019 denominator: ONS mid-2015 (excl. prisoners)"),
               "mid2019": ("pop2019", "ONS mid-2019 (SAPE22)")}
DEFAULT_POPULATION = "mid2015"
EVENT_STATES = ("visited", "today", "upcoming", "cancelled")
THR_KM = (0.5, 40.0, 5.0, 0.5)                # the app's slider: min, max, default, step
DEFAULT_CATS = ["screening"]
BY_CHOICES = ("lsoa", "ward", "district", "place", "place4")
GROUP_KEYS = {
    "lsoa": ("lsoa11cd", "lsoa11nm"),
    "ward": ("wd24cd", "wd24nm"),
    "district": ("lad19cd", "lad19nm"),
    "place": ("place5", "place5"),
    "place4": ("place4", "place4"),
}
LSOA_COLS = ["lsoa11cd", "lsoa11nm", "lad19cd", "lad19nm", "wd24cd", "wd24nm", "place5", "place4",
             "imd_decile", "pop2015", POP_COL, "pwc_easting", "pwc_northing", "pwc_lat", "pwc_lon"]


def population_option(population: str | None) -> tuple[str, str]:
    """(column, label) of a population option (mid2015 / mid2019)."""
    key = population or DEFAULT_POPULATION
    if key not in POPULATIONS:
        raise UsageError(f"--population '{key}' is not valid (choose from {', '.join(POPULATIONS)})")
    return POPULATIONS[key]


def lsoa_points(store=None, population: str | None = None) -> pd.DataFrame:
    """The 1,049 LSC LSOAs with population-weighted points, Core20 flag and `population`
    (the chosen denominator, default the IoD2019 mid-2015 one; pop2015/pop2019 kept)."""
    if store is None:
        from geo.store import load_store
        store = load_store()
    col, label = population_option(population)
    df = pd.DataFrame(store.lsoa[LSOA_COLS]).copy()
    df["core20"] = df["imd_decile"] <= 2
    df["population"] = df[col].astype(float)
    df["population_basis"] = label
    return df.reset_index(drop=True)


def _pop(df: pd.DataFrame) -> pd.Series:
    return (df["population"] if "population" in df else df[POP_COL]).astype(float)


# --- nearest site ------------------------------------------------------------------

def nearest_kdtree(points_xy: np.ndarray, sites_xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distance (same units as input) and index of the nearest site for every point."""
    points_xy = np.asarray(points_xy, dtype=float)
    sites_xy = np.asarray(sites_xy, dtype=float)
    if len(sites_xy) == 0:
        return np.full(len(points_xy), np.nan), np.full(len(points_xy), -1)
    tree = cKDTree(sites_xy)
    d, i = tree.query(points_xy, k=1)
    return d, i


def nearest_allpairs(points_xy: np.ndarray, sites_xy: np.ndarray, chunk: int = 1024):
    """All-pairs numpy version (baseline for the benchmark and a cross-check): squared
    distances as |p|^2 + |s|^2 - 2 p.s (one matrix product per chunk of points), then
    the exact distance to the chosen site."""
    points_xy = np.asarray(points_xy, dtype=float)
    sites_xy = np.asarray(sites_xy, dtype=float)
    if len(sites_xy) == 0:
        return np.full(len(points_xy), np.nan), np.full(len(points_xy), -1)
    centre = sites_xy.mean(axis=0)                  # centring keeps the expansion precise
    s = sites_xy - centre
    s2 = (s ** 2).sum(axis=1)
    idx = np.empty(len(points_xy), dtype=int)
    for a in range(0, len(points_xy), chunk):
        p = points_xy[a:a + chunk] - centre
        d2 = s2[None, :] - 2.0 * (p @ s.T)          # |p|^2 is constant per row: not needed for argmin
        idx[a:a + chunk] = d2.argmin(axis=1)
    dist = np.hypot(*(points_xy - sites_xy[idx]).T)
    return dist, idx


# --- per-LSOA access -----------------------------------------------------------------

def access_by_lsoa(lsoa: pd.DataFrame, sites: pd.DataFrame, travel: TravelTimes | None = None) -> pd.DataFrame:
    """One row per LSOA: nearest open site and straight-line distance (km); with a
    travel-time matrix also time_min (min over the open sites) and time_site_id."""
    out = lsoa.copy()
    pts = out[["pwc_easting", "pwc_northing"]].to_numpy(dtype=float)
    xy = sites[["easting", "northing"]].to_numpy(dtype=float) if len(sites) else np.empty((0, 2))
    d, i = nearest_kdtree(pts, xy)
    has = i >= 0
    out["distance_km"] = d / 1000.0
    ids = sites["id"].to_numpy(dtype=object) if len(sites) else np.array([], dtype=object)
    names = sites["name"].to_numpy(dtype=object) if len(sites) else np.array([], dtype=object)
    out["nearest_site_id"] = np.where(has, ids[np.clip(i, 0, max(len(ids) - 1, 0))] if len(ids) else None, None)
    out["nearest_site_name"] = np.where(has, names[np.clip(i, 0, max(len(names) - 1, 0))] if len(names) else None, None)
    if travel is not None:
        t = travel.table[travel.table["site_id"].isin(set(sites["id"]))]
        best = t.sort_values("minutes").drop_duplicates("lsoa11cd")
        m = out[["lsoa11cd"]].merge(best, on="lsoa11cd", how="left")
        out["time_min"] = m["minutes"].to_numpy()
        out["time_site_id"] = m["site_id"].to_numpy()
    return out


def _wmean(values: pd.Series, weights: pd.Series) -> float:
    ok = values.notna()
    w = weights[ok]
    return float((values[ok] * w).sum() / w.sum()) if w.sum() > 0 else float("nan")


def summarise(per_lsoa: pd.DataFrame, by: str = "ward", *, threshold_km: float | None = None,
              threshold_min: float | None = None, wards: pd.DataFrame | None = None) -> pd.DataFrame:
    """Population and Core20 population beyond the threshold, and the population-weighted
    mean straight-line distance, by lsoa / ward / district / place / place4.

    `wards` (by="ward"): the May-2024 wards the table must list (wd24cd, wd24nm), e.g.
    store.wards24 in the area. Wards that no LSOA is best-fitted to are added with
    population 0, blank figures and a `note` saying why, so the table lists the same
    wards as `geo report --by ward`."""
    if by not in GROUP_KEYS:
        raise UsageError(f"--by '{by}' is not valid (choose from {', '.join(BY_CHOICES)})")
    if threshold_km is not None and threshold_min is not None:
        raise UsageError("give a threshold in km or in minutes, not both")
    if threshold_min is not None and "time_min" not in per_lsoa:
        raise UsageError("a threshold in minutes needs a travel-time matrix")
    code, name = GROUP_KEYS[by]
    df = per_lsoa.copy()
    pop = _pop(df)
    if threshold_min is not None:
        beyond = df["time_min"] > threshold_min            # NaN time (not in matrix) -> not beyond
    elif threshold_km is not None:
        beyond = df["distance_km"] > threshold_km
    else:
        beyond = pd.Series(False, index=df.index)
    df["_pop"] = pop
    df["_core20"] = pop.where(df["core20"], 0.0)
    df["_beyond"] = pop.where(beyond, 0.0)
    df["_core20_beyond"] = df["_core20"].where(beyond, 0.0)
    df["_dw"] = df["distance_km"] * pop
    df["_dwn"] = pop.where(df["distance_km"].notna(), 0.0)
    df["_n"] = 1
    agg = {"_pop": "sum", "_core20": "sum", "_beyond": "sum", "_core20_beyond": "sum",
           "_dw": "sum", "_dwn": "sum", "distance_km": "max", "_n": "sum"}
    if "time_min" in df:
        df["_tw"] = df["time_min"] * pop
        df["_twn"] = pop.where(df["time_min"].notna(), 0.0)
        df["_tmiss"] = df["time_min"].isna().astype(int)
        agg.update({"_tw": "sum", "_twn": "sum", "_tmiss": "sum"})
    g = df.groupby([code, name] if code != name else [code], sort=True, dropna=False).agg(agg).reset_index()
    res = pd.DataFrame({
        "code": g[code],
        "name": g[name],
        "population": g["_pop"].round().astype("int64"),
        "core20_population": g["_core20"].round().astype("int64"),
        "population_beyond": g["_beyond"].round().astype("int64"),
        "core20_population_beyond": g["_core20_beyond"].round().astype("int64"),
        "mean_distance_km": (g["_dw"] / g["_dwn"].where(g["_dwn"] > 0)).round(3),
        "max_distance_km": g["distance_km"].round(3),
        "n_lsoa": g["_n"],
    })
    res["pct_beyond"] = (100 * res["population_beyond"] / res["population"].where(res["population"] > 0)).round(1)
    res["core20_pct_beyond"] = (100 * res["core20_population_beyond"]
                                / res["core20_population"].where(res["core20_population"] > 0)).round(1)
    if "time_min" in df:
        res["mean_time_min"] = (g["_tw"] / g["_twn"].where(g["_twn"] > 0)).round(1)
        res["n_lsoa_without_time"] = g["_tmiss"]
    if by == "ward" and wards is not None:
        res = _with_empty_wards(res, wards)
    return res


def _with_empty_wards(res: pd.DataFrame, wards: pd.DataFrame) -> pd.DataFrame:
    from geo.wardfit import NO_LSOA_NOTE
    missing = wards[~wards["wd24cd"].isin(res["code"])]
    res = res.assign(note="")
    if len(missing):
        add = pd.DataFrame({"code": missing["wd24cd"].to_numpy(), "name": missing["wd24nm"].to_numpy(),
                            "n_lsoa": 0, "note": NO_LSOA_NOTE})
        for c in ("population", "core20_population", "population_beyond", "core20_population_beyond"):
            add[c] = 0
        res = pd.concat([res, add], ignore_index=True)
        for c in ("population", "core20_population", "population_beyond", "core20_population_beyond", "n_lsoa"):
            res[c] = res[c].astype("int64")
    return res.sort_values("code").reset_index(drop=True)

def mean_distance_by_decile(per_lsoa: pd.DataFrame, by: str = "place") -> pd.DataFrame:
    """Population-weighted mean straight-line distance (km) by national IMD decile,
    one row per area, columns decile_1 .. decile_10 (blank where an area has none)."""
    if by not in GROUP_KEYS:
        raise UsageError(f"--by '{by}' is not valid (choose from {', '.join(BY_CHOICES)})")
    code, name = GROUP_KEYS[by]
    df = per_lsoa.assign(_w=_pop(per_lsoa))
    df["_dw"] = df["distance_km"] * df["_w"]
    keys = [code, name] if code != name else [code]
    g = df.groupby(keys + ["imd_decile"]).agg(_dw=("_dw", "sum"), _w=("_w", "sum")).reset_index()
    g["mean"] = (g["_dw"] / g["_w"]).round(3)
    wide = g.pivot_table(index=keys, columns="imd_decile", values="mean").reindex(columns=range(1, 11))
    wide.columns = [f"decile_{c}" for c in wide.columns]
    wide = wide.reset_index().rename(columns={code: "code"})
    if code == name:
        wide.insert(1, "name", wide["code"])
    else:
        wide = wide.rename(columns={name: "name"})
    return wide


def access_settings(view, categories: dict) -> dict:
    """The access layer's settings for a geo.viewstate.ViewState (the app's "Copy link"):
    categories `acc` (unknown ones dropped; default screening), straight-line threshold
    `thr` in km (clamped to the slider's range and step), no travel-time matrix."""
    on = view.layer_on("access", False)
    chosen = [c for c in (view.get("acc") if view.get("acc") is not None else DEFAULT_CATS) if c in categories]
    lo, hi, default, step = THR_KM
    thr = default if view.get("thr") is None else round(min(max(float(view.get("thr")), lo), hi) / step) * step
    return {"on": on, "cats": chosen, "travel": None, "threshold_km": float(thr), "threshold_min": None,
            "by": "ward", "subcats": None, "events": None, "population": DEFAULT_POPULATION}


# --- one call for the app and the CLI ----------------------------------------------

@dataclass
class AccessResult:
    per_lsoa: pd.DataFrame
    sites: pd.DataFrame
    categories: list[str]
    as_of: str
    metric: str                     # "distance_km" or "time_min"
    notes: list[str]
    event_window: tuple | None = None         # (from, to) when an event category is chosen
    population_basis: str = ""
    subcategories: list | None = None


def compute_access(categories, *, store=None, register=None, as_of=None, travel: TravelTimes | None = None,
                   place: str | None = None, subcategories=None, events_from=None, events_to=None,
                   population: str | None = None) -> AccessResult:
    from geo.saved_services import load_register       # shipped + saved files (user-data store)
    from geo.services import category_names
    cats = [categories] if isinstance(categories, str) else list(categories)
    valid = category_names(register.config if register is not None else None)
    bad = [c for c in cats if c not in valid]
    if bad or not cats:
        raise UsageError(f"--category '{','.join(bad) or ''}' is not valid (choose from {', '.join(valid)})")
    reg = register if register is not None else load_register()
    asof = _iso(as_of)
    evc = [c for c in cats if c in event_categories(reg.config)]
    window = event_window(asof, events_from, events_to) if evc else None
    sites = sites_for(reg.records, cats, asof, subcategories=subcategories, events_from=events_from,
                      events_to=events_to, config=reg.config)
    lsoa = lsoa_points(store, population)
    if place:
        names = sorted(set(lsoa["place5"]) | set(lsoa["place4"]))
        match = next((n for n in names if n.lower() == place.strip().lower()), None)
        if match is None:
            raise UsageError(f"--place '{place}' is not valid (choose from {', '.join(names)})")
        lsoa = lsoa[(lsoa["place5"] == match) | (lsoa["place4"] == match)].reset_index(drop=True)
    win_txt = (f"HARI bus stops dated {window[0]}" + (f" to {window[1]}" if window[1] != window[0] else "")
               + " count as sites (a stop is a site only on its date)") if window else ""
    if sites.empty:
        if window and len(evc) == len(cats):
            raise GeoError(f"no HARI bus stop dated {window[0]}" + (f" to {window[1]}" if window[1] != window[0]
                           else "") + ": stops count as sites only on their dates; choose a wider date window")
        raise GeoError(f"no open sites in category {', '.join(cats)} on {asof}: nothing to measure distance to")
    timed_note = None
    if travel is not None:
        timed = set(travel.table["site_id"]) & set(sites["id"])
        if not timed:
            raise GeoError(f"{travel.file}: the travel-time matrix has no times for the {len(sites)} open site(s) "
                           f"chosen ({', '.join(cats)}); nothing can be measured in minutes (upload times for "
                           f"these site ids, or choose the categories the matrix covers)")
        if len(timed) < len(sites):
            timed_note = (f"travel times for {len(timed)} of the {len(sites)} open sites chosen; the others are "
                          f"not counted in minutes")
    per = access_by_lsoa(lsoa, sites, travel)
    if travel is not None and per["time_min"].isna().all():
        raise GeoError(f"{travel.file}: no LSOA in the area has a travel time to the chosen sites")
    basis = str(lsoa["population_basis"].iloc[0]) if len(lsoa) else population_option(population)[1]
    notes = [f"{DISTANCE_LABEL} from population-weighted LSOA points (postcode means) to the nearest open site",
             f"{len(sites)} site(s): open on {asof}" + (f"; {win_txt}" if win_txt else ""),
             f"population: {basis}", CORE20_LABEL, "wards: best-fit May-2024 ward per LSOA (approximate)"]
    if subcategories:
        notes.append("screening programmes: " + ", ".join(subcategories))
    if timed_note:
        notes.append(timed_note)
    if reg.records[reg.records["category"].isin(cats)]["illustrative"].any():
        notes.append("includes ILLUSTRATIVE example data (HARI bus schedule is not real)")
    return AccessResult(per, sites, cats, asof, "time_min" if travel is not None else "distance_km", notes,
                        window, basis, list(subcategories) if subcategories else None)

