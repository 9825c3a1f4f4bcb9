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
"""
from __future__ import annotations

import functools
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

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
CORE20_LABEL = "Core20 = national IMD2019 deciles 1-2"
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


# --- travel-time matrix --------------------------------------------------------------

@dataclass
class TravelTimes:
    table: pd.DataFrame                         # lsoa11cd, site_id, minutes
    rejected: pd.DataFrame                      # row, reason
    notes: list[str] = field(default_factory=list)
    file: str = ""


TRAVEL_LIMITS_ROWS = 2_000_000


def read_travel_times(data: bytes | str | Path, filename: str | None = None, *,
                      lsoa_codes=None, site_ids=None) -> TravelTimes:
    """Travel-time matrix CSV/XLSX, long (lsoa11cd, site_id, minutes) or wide (lsoa11cd
    + one column per site id), read by geo.tabular (limits, encodings, decimal commas).
    Rows with unknown LSOA codes / site ids, minutes that are not finite numbers,
    negative, or conflicting duplicates of a pair are listed with the reason; the rest
    load. GeoError (naming the user's file) for whole-file problems."""
    from geo.tabular import Limits, TabularError, display_name, read_tabular
    if isinstance(data, (str, Path)):
        filename = filename or Path(data).name
        try:
            data = Path(data).read_bytes()
        except OSError as e:
            raise GeoError(f"{display_name(filename)}: cannot read ({e.strerror})")
    fname = display_name(filename or "travel_times.csv")
    try:
        t = read_tabular(data, fname, limits=Limits(max_bytes=200_000_000, max_rows=TRAVEL_LIMITS_ROWS,
                                                    max_cols=2_000, max_cells=20_000_000),
                         header_test=lambda cols: bool(_lsoa_col(cols)), what="travel-time file")
    except TabularError as e:
        raise GeoError(str(e))
    raw, notes = t.frame, list(t.notes)
    lcol = _lsoa_col(raw.columns)
    if lcol is None:
        from geo.tabular import describe_columns
        raise GeoError(f"{fname}: no LSOA code column (lsoa11cd) — found {describe_columns(raw.columns, 6)}")
    try:
        long = _travel_long(raw, lcol, np.asarray(t.rownums), notes)
    except (KeyError, ValueError, TypeError) as e:      # never a traceback
        raise GeoError(f"{fname}: could not be read as a travel-time matrix ({type(e).__name__})")
    mins, reason = _travel_minutes(long, t.decimal)
    if lsoa_codes is not None:
        bad = ~long["lsoa11cd"].isin(set(lsoa_codes)) & (reason == "")
        reason[bad] = "unknown LSOA code '" + long["lsoa11cd"].str.slice(0, 12) + "' (not an LSC LSOA 2011)"
    if site_ids is not None:
        bad = ~long["site_id"].isin(set(site_ids)) & (reason == "")
        reason[bad] = "unknown site_id '" + long["site_id"].str.slice(0, 20) + "' (not in the service register)"
    _travel_duplicates(long, mins, reason, notes)
    ok = reason == ""
    table = pd.DataFrame({"lsoa11cd": long["lsoa11cd"][ok], "site_id": long["site_id"][ok],
                          "minutes": mins[ok].astype(float)}).drop_duplicates(["lsoa11cd", "site_id"])
    rej = pd.DataFrame({"file": fname, "row": long["row"][~ok], "reason": reason[~ok]})
    if t.problems:
        rej = pd.concat([pd.DataFrame({"file": fname, "row": [p.row for p in t.problems],
                                       "reason": [p.reason for p in t.problems]}), rej])
    return TravelTimes(table.reset_index(drop=True), rej.sort_values("row", kind="stable").reset_index(drop=True),
                       notes, fname)


def _lsoa_col(cols):
    low = {str(c).strip().lower(): c for c in cols}
    return next((low[c] for c in ("lsoa11cd", "lsoa_code", "lsoa", "lsoa11") if c in low), None)


def _travel_long(raw: pd.DataFrame, lcol, rownum, notes: list) -> pd.DataFrame:
    low = {c.lower(): c for c in raw.columns}
    scol = next((low[c] for c in ("site_id", "site", "id") if c in low), None)
    mcol = next((low[c] for c in ("minutes", "time_min", "travel_time_min", "time") if c in low), None)
    if scol and mcol:
        return pd.DataFrame({"row": rownum, "lsoa11cd": raw[lcol].str.strip().str.upper(),
                             "site_id": raw[scol].str.strip(), "minutes_raw": raw[mcol].str.strip()})
    sites = [c for c in raw.columns if c != lcol]
    long = raw.assign(row=rownum).melt(id_vars=["row", lcol], value_vars=sites, var_name="site_id",
                                       value_name="minutes_raw").rename(columns={lcol: "lsoa11cd"})
    long["lsoa11cd"] = long["lsoa11cd"].str.strip().str.upper()
    long["minutes_raw"] = long["minutes_raw"].str.strip()
    notes.append(f"wide matrix: {len(sites)} site column(s)")
    return long[long["minutes_raw"] != ""].reset_index(drop=True)


def _travel_minutes(long: pd.DataFrame, decimal: str):
    """Minutes as floats and a reason per row ('' = fine): not a finite number, negative."""
    from geo.tabular import parse_number
    vals, reasons = [], []
    for raw in long["minutes_raw"].tolist():
        try:
            x = parse_number(raw, decimal)
            why = "minutes missing" if x is None else ("negative minutes" if x < 0 else "")
        except ValueError as e:
            x, why = None, f"minutes: {e}"
        vals.append(np.nan if x is None else x)
        reasons.append(why)
    return pd.Series(vals, index=long.index, dtype=float), pd.Series(reasons, index=long.index, dtype=object)


def _travel_duplicates(long: pd.DataFrame, mins: pd.Series, reason: pd.Series, notes: list) -> None:
    """A pair given twice: same minutes -> one kept (noted); different -> every copy
    rejected with the rows and values (neither can be trusted)."""
    ok = reason == ""
    key = long["lsoa11cd"] + "\x1f" + long["site_id"]
    dup = key.duplicated(keep=False) & ok
    if not dup.any():
        return
    same = 0
    for _, idx in key[dup].groupby(key[dup]).groups.items():
        vals = mins[idx]
        if vals.nunique() == 1:
            same += len(idx) - 1
            continue
        rows = ", ".join(str(r) for r in long.loc[idx, "row"])
        txt = ", ".join(f"{v:g}" for v in vals)
        reason[idx] = (f"conflicting duplicate pair {long.loc[idx[0], 'lsoa11cd']} / "
                       f"{str(long.loc[idx[0], 'site_id'])[:20]}: rows {rows} give {txt} minutes")
    if same:
        notes.append(f"{same} duplicate row(s) with the same minutes ignored")


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


# --- dated events -----------------------------------------------------------------

def event_categories(config: dict | None = None) -> list[str]:
    """Categories whose rows are dated events (config `kind: event`): the HARI bus."""
    from geo.services import categories
    return [k for k, c in categories(config).items() if c.get("kind") == "event"]


def _iso(d) -> str:
    return (pd.Timestamp(d) if d is not None else pd.Timestamp.today()).date().isoformat()


def event_state(records: pd.DataFrame, as_of=None) -> pd.Series:
    """Per row: "" for fixed sites; for dated events "cancelled" (status closed),
    "visited" (dated before `as_of`), "today" or "upcoming" (dated after it)."""
    day = _iso(as_of)
    if not len(records):
        return pd.Series([], index=records.index, dtype=object, name="event_state")
    d = records["event_date"].fillna("").astype(str).to_numpy()
    ev = d != ""
    closed = records["status"].fillna("").astype(str).str.lower().to_numpy() == "closed"
    out = np.where(d < day, "visited", np.where(d == day, "today", "upcoming")).astype(object)
    out = np.where(closed, "cancelled", out)
    return pd.Series(np.where(ev, out, ""), index=records.index, name="event_state")


def event_window(as_of=None, events_from=None, events_to=None) -> tuple[str, str]:
    """The dates between which events count as sites (default: the as-of day alone)."""
    lo = _iso(events_from) if events_from else _iso(as_of)
    hi = _iso(events_to) if events_to else (lo if events_from else _iso(as_of))
    if hi < lo:
        raise UsageError(f"the event window ends ({hi}) before it starts ({lo})")
    return lo, hi


def sites_for(records: pd.DataFrame, cats, as_of=None, *, subcategories=None, events_from=None,
              events_to=None, config: dict | None = None) -> pd.DataFrame:
    """The sites access is measured to: fixed sites open on `as_of`, plus the events of
    the chosen event categories dated inside the window (cancelled ones never count)."""
    from geo.services import open_sites
    cats = [cats] if isinstance(cats, str) else list(cats)
    evc = set(event_categories(config))
    fixed = [c for c in cats if c not in evc]
    parts = [open_sites(records, fixed, as_of, subcategories=subcategories)] if fixed else []
    ev = records[records["category"].isin([c for c in cats if c in evc])]
    if len(ev):
        lo, hi = event_window(as_of, events_from, events_to)
        d = ev["event_date"].fillna("").astype(str)
        keep = (d >= lo) & (d <= hi) & (event_state(ev, as_of) != "cancelled")
        parts.append(ev[keep])
    if not parts:
        return records.iloc[0:0]
    return pd.concat(parts) if len(parts) > 1 else parts[0]


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


# --- the table as people read it ----------------------------------------------------

DISPLAY_COLUMNS = {            # summarise() column -> heading; shares stand beside their counts
    "name": "Area", "code": "Code", "population": "Population", "core20_population": "Core20 people",
    "pct_core20": "% Core20", "population_beyond": "People beyond", "pct_beyond": "% beyond",
    "core20_population_beyond": "Core20 people beyond", "core20_pct_beyond": "% of Core20 beyond",
    "mean_distance_km": "Mean distance km (straight-line, pop-weighted)",
    "max_distance_km": "Max distance km (straight-line)", "mean_time_min": "Mean travel time (min)",
    "n_lsoa_without_time": "LSOAs without a time", "n_lsoa": "LSOAs", "note": "Note",
}


COUNT_HEADINGS = ("Population", "Core20 people", "People beyond", "Core20 people beyond")


def display_table(summary: pd.DataFrame, by: str = "ward") -> pd.DataFrame:
    """summarise() output for people: readable headings, % beside each count, the
    largest gaps first (then by name), not code order."""
    t = summary.copy()
    t["pct_core20"] = (100 * t["core20_population"] / t["population"].where(t["population"] > 0)).round(1)
    t = t.sort_values(["population_beyond", "core20_population_beyond", "name"], ascending=[False, False, True],
                      kind="mergesort")
    cols = [c for c in DISPLAY_COLUMNS if c in t.columns]
    out = t[cols].rename(columns=DISPLAY_COLUMNS).reset_index(drop=True)
    out = out.rename(columns={"Area": {"lsoa": "LSOA", "ward": "Ward", "district": "District"}.get(by, "Place")})
    return out


def header_lines(res: AccessResult, *, area: str, by: str, threshold_km=None, threshold_min=None,
                 category_labels: dict | None = None) -> list[tuple[str, str]]:
    """(label, text) metadata for an exported access table: what, where, when, how."""
    labels = category_labels or {}
    thr = (f"{threshold_min:g} minutes (travel-time matrix)" if threshold_min is not None else
           f"{threshold_km:g} km straight-line" if threshold_km is not None else "none")
    lines = [("Table", f"Access gaps by {by}: people living beyond the threshold of the nearest site"),
             ("Area", area), ("Categories", ", ".join(labels.get(c, c) for c in res.categories)),
             ("Threshold", thr), ("Sites open on", res.as_of), ("Sites", str(len(res.sites)))]
    if res.subcategories:
        lines.append(("Screening programmes", ", ".join(res.subcategories)))
    if res.event_window:
        lo, hi = res.event_window
        lines.append(("HARI bus stops dated", lo if lo == hi else f"{lo} to {hi}"))
    lines += [("Distance", "time from the uploaded matrix" if res.metric == "time_min" else
               "straight-line distance from population-weighted LSOA points (not road distance)"),
              ("Population basis", res.population_basis), ("Core20", CORE20_LABEL)]
    lines += [("Note", n) for n in res.notes if "ILLUSTRATIVE" in n]
    return lines


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


def ward_services(wards, code: str, records: pd.DataFrame, as_of=None, near_km: float = 1.0,
                  config: dict | None = None) -> pd.DataFrame:
    """Per fixed-site category: how many sites open on `as_of` lie in the ward or within
    `near_km` of its boundary, and the nearest one with its straight-line distance from
    the ward boundary (0 = inside the ward)."""
    from geo.services import categories, open_sites
    geom = _ward_geom_27700(wards, code)
    cats = categories(config)
    rows = []
    for cat, c in cats.items():
        if c.get("kind") == "event":
            continue
        s = open_sites(records, [cat], as_of)
        if not len(s):
            rows.append({"category": cat, "label": c.get("label", cat), "in_or_near": 0, "nearest": "",
                         "nearest_km": None, "illustrative": bool(c.get("illustrative"))})
            continue
        d = _dist_km(geom, s)
        j = int(np.argmin(d))
        rows.append({"category": cat, "label": c.get("label", cat), "in_or_near": int((d <= near_km).sum()),
                     "nearest": str(s["name"].iloc[j]), "nearest_km": round(float(d[j]), 2),
                     "illustrative": bool(c.get("illustrative"))})
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
