"""Outreach planner: where the HARI bus should stop to reach the most people (MCLP).

The maximal covering location problem: choose k stops from candidate venues so that the
largest weight of demand lies within r km (STRAIGHT LINE on the British National Grid)
or within t minutes (a travel-time matrix, demand LSOA x venue) of a chosen stop.

- Demand = population-weighted LSOA points (store.lsoa pwc_easting/pwc_northing, the
  mean of the LSOA's postcode units; see geo/access.py), weighted by Core20 people, all
  people, people in priority wards or a team's own counts (geo/plan_inputs.py).
- Existing open sites and recent stops count as already covering: their demand is not
  gained again. Venues may be required or excluded; chosen stops may be kept a minimum
  distance apart.
- Exact solver: a MILP (scipy.optimize.milp, HiGHS) with binary x_j per candidate and a
  continuous y_i in [0, 1] per demand point that some candidate covers and nothing
  covers already (y_i <= sum_j a_ij x_j; maximise sum w_i y_i; sum x_j = k). Sparse
  constraint matrices. A greedy solution (within 1 - 1/e of the optimum) is computed too,
  and the stops of either are listed in greedy order of marginal gain within the set.

Pure Python: no streamlit/folium.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.spatial import cKDTree

from geo.errors import UsageError

MAX_RADIUS_KM = 50.0
MAX_MINUTES = 240.0


# --- coverage ----------------------------------------------------------------------

def coverage_by_distance(demand_xy, sites_xy, radius_m: float) -> sparse.csc_matrix:
    """Boolean demand x site matrix: True where the straight-line distance <= radius_m."""
    demand_xy = np.asarray(demand_xy, dtype=float).reshape(-1, 2)
    sites_xy = np.asarray(sites_xy, dtype=float).reshape(-1, 2)
    n, m = len(demand_xy), len(sites_xy)
    if n == 0 or m == 0:
        return sparse.csc_matrix((n, m), dtype=bool)
    pairs = cKDTree(sites_xy).query_ball_point(demand_xy, r=float(radius_m))
    rows = np.repeat(np.arange(n), [len(p) for p in pairs])
    cols = np.fromiter((j for p in pairs for j in p), dtype=np.int64, count=len(rows))
    return sparse.csc_matrix((np.ones(len(rows), dtype=bool), (rows, cols)), shape=(n, m))


def coverage_by_minutes(demand_codes, site_ids, table: pd.DataFrame, minutes: float) -> sparse.csc_matrix:
    """Boolean demand x site matrix from a travel-time table (lsoa11cd, site_id, minutes):
    True where the time is <= minutes. Pairs missing from the table do not cover."""
    codes = pd.Index(pd.Series(demand_codes, dtype=object))
    ids = pd.Index(pd.Series(site_ids, dtype=object))
    t = table[table["minutes"] <= float(minutes)]
    r = codes.get_indexer(t["lsoa11cd"])
    c = ids.get_indexer(t["site_id"])
    ok = (r >= 0) & (c >= 0)
    m = sparse.csc_matrix((np.ones(int(ok.sum()), dtype=bool), (r[ok], c[ok])), shape=(len(codes), len(ids)))
    m.sum_duplicates()
    return m.astype(bool)


def conflict_pairs(sites_xy, min_sep_m: float) -> np.ndarray:
    """Pairs (j, l), j < l, of sites closer than min_sep_m (they cannot both be stops)."""
    if not min_sep_m or min_sep_m <= 0 or len(sites_xy) < 2:
        return np.empty((0, 2), dtype=np.int64)
    p = cKDTree(np.asarray(sites_xy, dtype=float)).query_pairs(r=float(min_sep_m) * (1 - 1e-12),
                                                              output_type="ndarray")
    return np.sort(p, axis=1) if len(p) else np.empty((0, 2), dtype=np.int64)


# --- solutions ---------------------------------------------------------------------

@dataclass
class Solution:
    chosen: list[int]                 # candidate indices, in greedy order of marginal gain
    marginal: list[float]             # gain of each stop given the ones before it
    covered: float                    # weight newly covered by the chosen stops
    status: str                       # "optimal", "time limit (feasible)", "greedy", ...
    optimal: bool
    gap: float | None                 # relative MIP gap (0 when proven optimal)
    seconds: float = 0.0


def order_by_gain(cover: sparse.csc_matrix, weights: np.ndarray, chosen) -> tuple[list[int], list[float]]:
    """The chosen stops in greedy order: each next is the one adding most weight not
    yet covered by the ones before (ties: lower index first)."""
    w = np.asarray(weights, dtype=float)
    left = [int(j) for j in chosen]
    covered = np.zeros(cover.shape[0], dtype=bool)
    order, gains = [], []
    cols = {j: cover.indices[cover.indptr[j]:cover.indptr[j + 1]] for j in left}
    while left:
        g = [float(w[cols[j][~covered[cols[j]]]].sum()) for j in left]
        best = int(np.argmax(g))
        j = left.pop(best)
        covered[cols[j]] = True
        order.append(j)
        gains.append(g[best])
    return order, gains


def _validate(n_cand: int, k: int, required, excluded):
    req = sorted({int(j) for j in (required or [])})
    exc = sorted({int(j) for j in (excluded or [])})
    bad = [j for j in req + exc if j < 0 or j >= n_cand]
    if bad:
        raise UsageError(f"candidate index {bad[0]} out of range (0..{n_cand - 1})")
    both = set(req) & set(exc)
    if both:
        raise UsageError(f"candidate {min(both)} is both required and excluded")
    if k <= 0:
        raise UsageError(f"the number of stops must be at least 1 (got {k})")
    avail = n_cand - len(exc)
    if k > avail:
        raise UsageError(f"{k} stops asked for but only {avail} candidate venue(s) are available")
    if len(req) > k:
        raise UsageError(f"{len(req)} required venues do not fit in {k} stops")
    return req, exc


def greedy(cover: sparse.csc_matrix, weights, k: int, *, required=(), excluded=(), conflicts=None) -> Solution:
    """Greedy MCLP: required stops first, then repeatedly the candidate adding the most
    uncovered weight (lazy evaluation of the gains), skipping excluded candidates and
    those closer than the minimum distance to a chosen one."""
    t0 = time.perf_counter()
    cover = sparse.csc_matrix(cover, dtype=bool)
    w = np.asarray(weights, dtype=float)
    n_cand = cover.shape[1]
    req, exc = _validate(n_cand, k, required, excluded)
    nbr = _neighbours(n_cand, conflicts)
    banned = np.zeros(n_cand, dtype=bool)
    banned[exc] = True
    covered = np.zeros(cover.shape[0], dtype=bool)
    chosen = []

    def col(j):
        return cover.indices[cover.indptr[j]:cover.indptr[j + 1]]

    def take(j):
        chosen.append(j)
        covered[col(j)] = True
        banned[j] = True
        for l in nbr.get(j, ()):
            banned[l] = True
    for j in req:
        if banned[j]:
            raise UsageError(f"required venues {j} and another required venue are closer than the minimum distance")
        take(j)
    # lazy greedy: gains only ever fall, so a stale upper bound that still wins is exact
    gain = np.asarray(cover.T @ w, dtype=float).ravel() if cover.nnz else np.zeros(n_cand)
    gain = gain.copy()
    stale = np.ones(n_cand, dtype=bool)
    while len(chosen) < k:
        gain[banned] = -np.inf
        if not np.isfinite(gain).any():
            raise UsageError(f"only {len(chosen)} stops can be placed at least the minimum distance apart; "
                             f"{k} asked for")
        while True:
            j = int(np.argmax(gain))
            if not stale[j]:
                break
            c = col(j)
            gain[j] = float(w[c[~covered[c]]].sum())
            stale[j] = False
        take(j)
        stale[:] = True
    order, gains = order_by_gain(cover, w, chosen)
    return Solution(order, gains, float(sum(gains)), "greedy", False, None, time.perf_counter() - t0)


def _neighbours(n_cand: int, conflicts) -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    if conflicts is None:
        return out
    for a, b in np.asarray(conflicts, dtype=np.int64).reshape(-1, 2):
        out.setdefault(int(a), []).append(int(b))
        out.setdefault(int(b), []).append(int(a))
    return out


def dominated(cover: sparse.csc_matrix, weights, protect=()) -> np.ndarray:
    """True for candidates whose covered demand (positive weight only) is a subset of
    another candidate's (ties: the lower index is kept) or empty. Swapping such a stop
    for the one dominating it never loses weight, so (without a minimum distance
    between stops) they can be left out of the MILP. `protect`ed ones are never flagged."""
    w = np.asarray(weights, dtype=float)
    a = sparse.csc_matrix(cover.multiply((w > 0)[:, None]), dtype=np.float64)
    a.eliminate_zeros()
    size = np.diff(a.indptr).astype(float)
    inter = (a.T @ a).tocoo()
    r, c, v = inter.row, inter.col, inter.data
    m = (r != c) & (v == size[r]) & ((size[c] > size[r]) | ((size[c] == size[r]) & (c < r)))
    out = size == 0
    out[r[m]] = True
    out[list(protect)] = False
    return out


def solve_exact(cover: sparse.csc_matrix, weights, k: int, *, required=(), excluded=(), conflicts=None,
                time_limit: float = 30.0, mip_rel_gap: float = 1e-7) -> Solution:
    """The MCLP as a MILP, solved by HiGHS through scipy.optimize.milp.

    Exact reductions first: only demand points with positive weight that some candidate
    covers get a variable, points covered by the same candidates are merged, excluded
    candidates are dropped and (without a minimum distance) so are dominated ones; the
    MILP takes at most k stops and any left over are filled with venues that add
    nothing. Raises UsageError when the constraints cannot all hold."""
    from scipy.optimize import Bounds, LinearConstraint, milp
    t0 = time.perf_counter()
    cover = sparse.csc_matrix(cover, dtype=bool)
    w = np.asarray(weights, dtype=float)
    n_cand = cover.shape[1]
    req, exc = _validate(n_cand, k, required, excluded)
    pairs = np.asarray(conflicts if conflicts is not None else np.empty((0, 2)), dtype=np.int64).reshape(-1, 2)
    drop = np.zeros(n_cand, dtype=bool)
    drop[exc] = True
    if not len(pairs):
        keep0 = np.flatnonzero(~drop)
        dom = dominated(cover[:, keep0], w, protect=[i for i, j in enumerate(keep0) if j in set(req)])
        drop[keep0[dom]] = True
    cols = np.flatnonzero(~drop)                               # candidates in the MILP
    pos = {int(j): i for i, j in enumerate(cols)}
    if len(pairs):
        pairs = pairs[~drop[pairs].any(axis=1)]
        pairs = np.vectorize(pos.get)(pairs) if len(pairs) else pairs
    a = cover[:, cols].tocsr()
    rows = np.flatnonzero((w > 0) & (np.diff(a.indptr) > 0))
    a = a[rows]
    # merge demand points covered by exactly the same candidates
    keys = [a.indices[a.indptr[i]:a.indptr[i + 1]].tobytes() for i in range(a.shape[0])]
    codes, first, inv = np.unique(np.array(keys, dtype=object), return_index=True, return_inverse=True) \
        if len(keys) else (np.array([]), np.array([], dtype=int), np.array([], dtype=int))
    wm = np.bincount(inv, weights=w[rows], minlength=len(first)) if len(first) else np.zeros(0)
    a = a[first].astype(float)
    nc, nd = len(cols), a.shape[0]
    nv = nc + nd
    c = np.concatenate([np.zeros(nc), -wm])                   # milp minimises
    cov = sparse.hstack([-a, sparse.identity(nd, format="csr")], format="csr")   # y_i - sum a_ij x_j <= 0
    cons = [LinearConstraint(cov, -np.inf, 0.0),
            LinearConstraint(sparse.csr_matrix(np.r_[np.ones(nc), np.zeros(nd)]), k if len(pairs) else len(req), k)]
    if len(pairs):
        m = len(pairs)
        pm = sparse.csr_matrix((np.ones(2 * m), (np.repeat(np.arange(m), 2), pairs.ravel())), shape=(m, nv))
        cons.append(LinearConstraint(pm, -np.inf, 1.0))
    lb, ub = np.zeros(nv), np.ones(nv)
    lb[[pos[j] for j in req]] = 1.0
    if nd == 0 and not len(pairs):             # nothing left to gain: any venues will do
        chosen = _fill(list(req), k, n_cand, exc, conflicts)
        order, gains = order_by_gain(cover, w, chosen)
        return Solution(order, gains, float(sum(gains)), "optimal", True, 0.0, time.perf_counter() - t0)
    res = milp(c, constraints=cons, integrality=np.r_[np.ones(nc), np.zeros(nd)], bounds=Bounds(lb, ub),
               options={"time_limit": float(time_limit), "mip_rel_gap": float(mip_rel_gap), "disp": False})
    if res.x is None:
        if res.status == 2:
            raise UsageError(f"no set of {k} stops meets the constraints (required venues, exclusions, "
                             f"minimum distance between stops)")
        raise UsageError(f"the MILP solver stopped without a solution ({res.message})")
    chosen = cols[np.flatnonzero(res.x[:nc] > 0.5)].tolist()
    chosen = _fill(chosen, k, n_cand, exc, conflicts)
    order, gains = order_by_gain(cover, w, chosen)
    gap = getattr(res, "mip_gap", None)
    gap = float(gap) if gap is not None and np.isfinite(gap) else None
    optimal = res.status == 0
    status = "optimal" if optimal else ("time limit (best found)" if res.status == 1 else str(res.message))
    if optimal and gap is None:
        gap = 0.0
    return Solution(order, gains, float(sum(gains)), status, optimal, gap, time.perf_counter() - t0)


def _fill(chosen: list[int], k: int, n_cand: int, excluded, conflicts) -> list[int]:
    """Top up to k stops with venues that add nothing (lowest index first), keeping the
    minimum distance."""
    if len(chosen) >= k:
        return chosen
    nbr = _neighbours(n_cand, conflicts)
    banned = np.zeros(n_cand, dtype=bool)
    banned[list(excluded)] = True
    for j in chosen:
        banned[j] = True
        banned[nbr.get(j, [])] = True
    out = list(chosen)
    for j in range(n_cand):
        if len(out) >= k:
            break
        if not banned[j]:
            out.append(j)
            banned[j] = True
            banned[nbr.get(j, [])] = True
    if len(out) < k:
        raise UsageError(f"only {len(out)} stops can be placed at least the minimum distance apart; {k} asked for")
    return out


# --- the planner result ------------------------------------------------------------

@dataclass
class Stop:
    id: str
    name: str
    lat: float
    lon: float
    easting: float
    northing: float
    marginal_weight: float
    index: int = -1                   # row in the candidate table
    postcode: str = ""
    whatif: bool = False              # added by hand (map click), not chosen by the solver


@dataclass
class PlanResult:
    stops: list[Stop]
    total_weight: float               # all demand weight in the area
    already_covered_weight: float     # covered by existing sites / recent stops
    covered_weight: float             # newly covered by the stops (sum of marginal_weight)
    optimal: bool
    gap: float | None
    status: str
    method: str                       # "exact" | "greedy"
    greedy_covered_weight: float | None
    demand: pd.DataFrame              # code, lat, lon, weight: exactly what the solver used
    radius_km: float | None = None
    minutes: float | None = None
    weight: str = ""
    weight_label: str = ""
    n_candidates: int = 0
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    covered_mask: np.ndarray | None = None     # per demand row: covered by the stops

    @property
    def share(self) -> float:
        free = self.total_weight - self.already_covered_weight
        return self.covered_weight / free if free > 0 else float("nan")


def validate_radius(radius_km=None, minutes=None) -> None:
    if (radius_km is None) == (minutes is None):
        raise UsageError("give a radius in km or a time in minutes (with a travel-time matrix), not both")
    if radius_km is not None:
        if not np.isfinite(radius_km) or radius_km <= 0:
            raise UsageError(f"the radius must be a positive number of km (got {radius_km:g})")
        if radius_km > MAX_RADIUS_KM:
            raise UsageError(f"a radius of {radius_km:g} km is beyond reason for a bus stop's reach "
                             f"(at most {MAX_RADIUS_KM:g} km)")
    if minutes is not None:
        if not np.isfinite(minutes) or minutes <= 0:
            raise UsageError(f"the time must be a positive number of minutes (got {minutes:g})")
        if minutes > MAX_MINUTES:
            raise UsageError(f"{minutes:g} minutes is beyond reason for a bus stop's reach "
                             f"(at most {MAX_MINUTES:g})")


def plan(demand: pd.DataFrame, candidates: pd.DataFrame, k: int, *, radius_km: float | None = None,
         minutes: float | None = None, travel_table: pd.DataFrame | None = None,
         existing: pd.DataFrame | None = None, required_ids=(), excluded_ids=(), min_distance_km: float = 0.0,
         method: str = "exact", time_limit: float = 30.0, weight: str = "", weight_label: str = "",
         extra_stops: pd.DataFrame | None = None) -> PlanResult:
    """Choose k stops.

    demand      code, easting, northing, lat, lon, weight (one row per demand point)
    candidates  id, name, easting, northing, lat, lon (+ postcode)
    existing    id, easting, northing of sites that already cover (open sites, recent
                stops); with minutes, their ids must be in the travel-time table
    extra_stops what-if stops added by hand (id, name, easting, northing, lat, lon): they
                cover first, then the solver places k more stops around them
    """
    validate_radius(radius_km, minutes)
    if int(k) != k or k <= 0:
        raise UsageError(f"the number of stops must be at least 1 (got {k})")
    if minutes is not None and travel_table is None:
        raise UsageError("a time in minutes needs a travel-time matrix (LSOA x venue minutes)")
    if method not in ("exact", "greedy"):
        raise UsageError(f"method '{method}' is not valid (choose from exact, greedy)")
    notes = []
    d = demand.reset_index(drop=True)
    cand = candidates.reset_index(drop=True)
    w_all = d["weight"].to_numpy(dtype=float)
    dxy = d[["easting", "northing"]].to_numpy(dtype=float)

    def cov(xy, ids):
        if radius_km is not None:
            return coverage_by_distance(dxy, xy, radius_km * 1000.0)
        return coverage_by_minutes(d["code"], ids, travel_table, minutes)

    already = np.zeros(len(d), dtype=bool)
    if existing is not None and len(existing):
        ecov = cov(existing[["easting", "northing"]].to_numpy(float), existing["id"])
        already |= np.asarray(ecov.sum(axis=1)).ravel() > 0
        if minutes is not None:
            missing = ~pd.Series(existing["id"]).isin(set(travel_table["site_id"]))
            if missing.any():
                notes.append(f"{int(missing.sum())} existing site(s) have no times in the matrix: "
                             "they cover nothing here")
    whatif = []
    if extra_stops is not None and len(extra_stops):
        xcov = cov(extra_stops[["easting", "northing"]].to_numpy(float), extra_stops["id"]).tocsc()
        w_free = np.where(already, 0.0, w_all)
        order, gains = order_by_gain(xcov, w_free, range(xcov.shape[1]))
        for j, g in zip(order, gains):
            r = extra_stops.iloc[j]
            whatif.append(Stop(str(r["id"]), str(r["name"]), float(r["lat"]), float(r["lon"]), float(r["easting"]),
                               float(r["northing"]), g, -1, str(r.get("postcode", "") or ""), True))
        already_plus = already | (np.asarray(xcov.sum(axis=1)).ravel() > 0)
    else:
        already_plus = already
    total = float(w_all.sum())
    w = np.where(already_plus, 0.0, w_all)
    ids = cand["id"].astype(str)
    req = _indices(ids, required_ids, "required")
    exc = _indices(ids, excluded_ids, "excluded")
    k_solver = k                      # what-if stops come on top of the k the solver places
    stops: list[Stop] = list(whatif)
    sol = gsol = None
    cover = None
    if k_solver > 0:
        cover = cov(cand[["easting", "northing"]].to_numpy(float), cand["id"])
        conflicts = conflict_pairs(cand[["easting", "northing"]].to_numpy(float), min_distance_km * 1000.0)
        try:
            gsol = greedy(cover, w, k_solver, required=req, excluded=exc, conflicts=conflicts)
        except UsageError:
            if method == "greedy":
                raise
            gsol = None
            notes.append("the greedy heuristic could not place all stops the minimum distance apart")
        sol = gsol if method == "greedy" else solve_exact(cover, w, k_solver, required=req, excluded=exc,
                                                          conflicts=conflicts, time_limit=time_limit)
        for j, g in zip(sol.chosen, sol.marginal):
            r = cand.iloc[j]
            stops.append(Stop(str(r["id"]), str(r["name"]), float(r["lat"]), float(r["lon"]), float(r["easting"]),
                              float(r["northing"]), float(g), int(j), str(r.get("postcode", "") or "")))
    idle = [s.id for s in stops if s.marginal_weight <= 0]
    if idle:
        notes.append(f"{len(idle)} stop(s) add no weight (nothing left within reach): {', '.join(idle[:5])}")
    covered_mask = already_plus & ~already
    if cover is not None and sol is not None and sol.chosen:
        covered_mask = covered_mask | (np.asarray(cover[:, sol.chosen].sum(axis=1)).ravel() > 0) & ~already
    used = ~already & (w_all > 0)
    dem = d.loc[used, ["code", "lat", "lon", "weight"]].reset_index(drop=True)
    return PlanResult(
        stops=stops, total_weight=total, already_covered_weight=float(w_all[already].sum()),
        covered_weight=float(sum(s.marginal_weight for s in stops)),
        optimal=bool(sol.optimal) if sol is not None else True,
        gap=(sol.gap if sol is not None else 0.0), status=sol.status if sol is not None else "what-if stops only",
        method=method, greedy_covered_weight=(gsol.covered + sum(s.marginal_weight for s in whatif)) if gsol else None,
        demand=dem, radius_km=radius_km, minutes=minutes, weight=weight, weight_label=weight_label,
        n_candidates=len(cand), seconds=(sol.seconds if sol is not None else 0.0), notes=notes,
        covered_mask=covered_mask)


def _indices(ids: pd.Series, wanted, what: str) -> list[int]:
    wanted = [str(x) for x in (wanted or [])]
    if not wanted:
        return []
    pos = {v: i for i, v in enumerate(ids)}
    bad = [x for x in wanted if x not in pos]
    if bad:
        raise UsageError(f"{what} venue '{bad[0]}' is not among the candidate venues")
    return [pos[x] for x in wanted]


def coverage_curve(demand: pd.DataFrame, candidates: pd.DataFrame, ks, **kw) -> pd.DataFrame:
    """Covered weight and share (of the weight not already covered) for each k."""
    rows = []
    for k in ks:
        r = plan(demand, candidates, int(k), **kw)
        rows.append({"k": int(k), "covered_weight": r.covered_weight, "share": r.share, "optimal": r.optimal})
    return pd.DataFrame(rows)


def covered_by_sites(demand: pd.DataFrame, sites: pd.DataFrame, *, radius_km=None, minutes=None,
                     travel_table=None) -> float:
    """Weight of demand within reach of any of `sites` (e.g. the current HARI schedule)."""
    if sites is None or not len(sites):
        return 0.0
    if radius_km is not None:
        m = coverage_by_distance(demand[["easting", "northing"]].to_numpy(float),
                                 sites[["easting", "northing"]].to_numpy(float), radius_km * 1000.0)
    else:
        m = coverage_by_minutes(demand["code"], sites["id"], travel_table, minutes)
    hit = np.asarray(m.sum(axis=1)).ravel() > 0
    return float(demand["weight"].to_numpy(float)[hit].sum())


# --- a plan as a HARI bus schedule -----------------------------------------------------

HARI_COLUMNS = ["id", "name", "category", "event_date", "start_time", "end_time", "place", "postcode", "lat", "lon",
                "operator", "offer", "status", "source"]      # data/templates/hari_bus_template.csv


def schedule_dates(first, n: int, per_week: int = 1) -> list[str]:
    """Dates of n stops from `first`, `per_week` a week: stop i falls in week i // per_week,
    spread over the week (per_week 2: +0, +3 days; 3: +0, +2, +4; 5: Mon-Fri from a Monday)."""
    import datetime as dt
    if not 1 <= int(per_week) <= 7:
        raise UsageError(f"stops per week must be 1 to 7 (got {per_week})")
    d0 = dt.date.fromisoformat(str(first)) if not isinstance(first, dt.date) else first
    step = 7 // int(per_week)
    return [(d0 + dt.timedelta(days=7 * (i // per_week) + step * (i % per_week))).isoformat() for i in range(n)]


def schedule_frame(result: PlanResult, first_date, per_week: int = 1, *, start_time: str = "10:00",
                   end_time: str = "15:00", operator: str = "", offer: str = "",
                   prefix: str = "PLAN") -> pd.DataFrame:
    """The plan's stops as HARI bus events in the upload template's schema (round-trips
    through geo.services' validator). Stops keep their greedy order."""
    dates = schedule_dates(first_date, len(result.stops), per_week)
    reach = f"{result.radius_km:g} km straight-line" if result.radius_km is not None else f"{result.minutes:g} min"
    src = (f"Outreach planner (MCLP, {result.method}, {'optimal' if result.optimal else result.status}); "
           f"weight: {result.weight_label or result.weight}; reach {reach}")
    rows = []
    for i, (s, day) in enumerate(zip(result.stops, dates), start=1):
        rows.append({"id": f"{prefix}-{i:02d}", "name": f"Planned stop {i} - {s.name}", "category": "hari_bus",
                     "event_date": day, "start_time": start_time, "end_time": end_time, "place": s.name,
                     "postcode": s.postcode or "", "lat": round(s.lat, 6), "lon": round(s.lon, 6),
                     "operator": operator, "offer": offer, "status": "open",
                     "source": src + (" (what-if stop added by hand)" if s.whatif else "")})
    return pd.DataFrame(rows, columns=HARI_COLUMNS)
