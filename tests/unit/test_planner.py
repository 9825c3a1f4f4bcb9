"""Outreach planner solver (geo/planner.py) on small synthetic instances, checked
against brute force over every combination of stops."""
from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from geo import planner as pl
from geo.errors import UsageError


def _instance(seed: int):
    rng = np.random.default_rng(seed)
    nd, nc = int(rng.integers(4, 30)), int(rng.integers(3, 10))
    d = rng.uniform(0, 10_000, (nd, 2))
    c = rng.uniform(0, 10_000, (nc, 2))
    w = rng.integers(0, 100, nd).astype(float)
    k = int(rng.integers(1, min(4, nc) + 1))
    r = float(rng.uniform(1000, 4000))
    return d, c, w, k, r


def _value(cover, w, comb, already=None):
    hit = np.asarray(cover[:, list(comb)].sum(axis=1)).ravel() > 0
    if already is not None:
        hit &= ~already
    return float(w[hit].sum())


def _brute(cover, w, k, *, conflicts=(), required=(), excluded=(), already=None):
    """Best weight over all k-subsets meeting the constraints (None if none does)."""
    bad = {tuple(p) for p in np.asarray(conflicts).reshape(-1, 2)}
    best = None
    for comb in itertools.combinations(range(cover.shape[1]), k):
        if set(excluded) & set(comb) or not set(required) <= set(comb):
            continue
        if any((a, b) in bad for a, b in itertools.combinations(comb, 2)):
            continue
        v = _value(cover, w, comb, already)
        best = v if best is None or v > best else best
    return best


@pytest.mark.parametrize("seed", range(120))
def test_exact_equals_brute_force_and_greedy_is_not_better(seed):
    d, c, w, k, r = _instance(seed)
    cover = pl.coverage_by_distance(d, c, r)
    best = _brute(cover, w, k)
    s = pl.solve_exact(cover, w, k)
    assert s.optimal and s.gap == pytest.approx(0.0, abs=1e-6)
    assert len(s.chosen) == k == len(set(s.chosen))
    assert s.covered == pytest.approx(best)
    assert _value(cover, w, s.chosen) == pytest.approx(s.covered)       # reported = recomputed
    assert sum(s.marginal) == pytest.approx(s.covered)
    assert all(a >= b for a, b in zip(s.marginal, s.marginal[1:]))     # greedy order within the set
    g = pl.greedy(cover, w, k)
    assert g.covered <= s.covered + 1e-9
    assert g.covered >= (1 - 1 / np.e) * s.covered - 1e-9


@pytest.mark.parametrize("seed", range(60))
def test_constraints_match_brute_force(seed):
    """Minimum distance, required and excluded venues and already-covered demand."""
    d, c, w, k, r = _instance(1000 + seed)
    rng = np.random.default_rng(seed)
    cover = pl.coverage_by_distance(d, c, r)
    conflicts = pl.conflict_pairs(c, 2500.0)
    n = c.shape[0]
    req = [int(rng.integers(n))] if k > 1 else []
    exc = [j for j in [int(rng.integers(n))] if j not in req]
    already = rng.random(len(w)) < 0.3
    w_free = np.where(already, 0.0, w)
    best = _brute(cover, w, k, conflicts=conflicts, required=req, excluded=exc, already=already)
    if best is None:
        with pytest.raises(UsageError):
            pl.solve_exact(cover, w_free, k, conflicts=conflicts, required=req, excluded=exc)
        return
    s = pl.solve_exact(cover, w_free, k, conflicts=conflicts, required=req, excluded=exc)
    assert s.covered == pytest.approx(best)
    assert set(req) <= set(s.chosen) and not set(exc) & set(s.chosen)
    for a, b in itertools.combinations(s.chosen, 2):
        assert np.hypot(*(c[a] - c[b])) >= 2500.0
    try:
        g = pl.greedy(cover, w_free, k, conflicts=conflicts, required=req, excluded=exc)
    except UsageError:            # greedy can paint itself into a corner with a minimum distance
        return
    assert g.covered <= s.covered + 1e-9
    for a, b in itertools.combinations(g.chosen, 2):
        assert np.hypot(*(c[a] - c[b])) >= 2500.0


def _frames(d, c, w):
    demand = pd.DataFrame({"code": [f"L{i}" for i in range(len(d))], "easting": d[:, 0], "northing": d[:, 1],
                           "lat": 54 + d[:, 1] / 1e6, "lon": -2.5 + d[:, 0] / 1e6, "weight": w})
    cand = pd.DataFrame({"id": [f"V{j}" for j in range(len(c))], "name": [f"Venue {j}" for j in range(len(c))],
                         "easting": c[:, 0], "northing": c[:, 1], "lat": 54 + c[:, 1] / 1e6,
                         "lon": -2.5 + c[:, 0] / 1e6})
    return demand, cand


def _line():
    """Demand on a line: 100 people at x=0, 60 at x=10 km, 50 at x=20 km; a venue at each."""
    d = np.array([[0, 0], [10_000, 0], [20_000, 0]], dtype=float)
    c = d.copy()
    return _frames(d, c, np.array([100.0, 60.0, 50.0]))


def test_existing_sites_reduce_the_gain_and_change_the_choice():
    demand, cand = _line()
    r = pl.plan(demand, cand, 1, radius_km=1)
    assert [s.id for s in r.stops] == ["V0"] and r.covered_weight == 100
    existing = pd.DataFrame({"id": ["X"], "easting": [200.0], "northing": [0.0]})
    r2 = pl.plan(demand, cand, 1, radius_km=1, existing=existing)
    assert r2.already_covered_weight == 100
    assert [s.id for s in r2.stops] == ["V1"] and r2.covered_weight == 60
    assert r2.covered_weight < r.covered_weight
    # demand lists exactly what the solver used: the covered point is not in it
    assert list(r2.demand["code"]) == ["L1", "L2"]
    assert r2.demand["weight"].sum() + r2.already_covered_weight == r2.total_weight


def test_weights_change_the_choice():
    demand, cand = _line()
    assert pl.plan(demand, cand, 1, radius_km=1).stops[0].id == "V0"
    other = demand.assign(weight=[1.0, 5.0, 80.0])             # e.g. an SMI register's counts
    assert pl.plan(other, cand, 1, radius_km=1).stops[0].id == "V2"


def test_required_and_excluded_venues_are_honoured():
    demand, cand = _line()
    r = pl.plan(demand, cand, 2, radius_km=1, required_ids=["V2"], excluded_ids=["V0"])
    assert {s.id for s in r.stops} == {"V1", "V2"}
    assert [s.id for s in r.stops] == ["V1", "V2"]             # greedy order: 60 before 50
    with pytest.raises(UsageError, match="not among the candidate"):
        pl.plan(demand, cand, 1, radius_km=1, excluded_ids=["NOPE"])
    with pytest.raises(UsageError, match="both required and excluded"):
        pl.plan(demand, cand, 1, radius_km=1, required_ids=["V1"], excluded_ids=["V1"])


def test_minimum_distance_between_stops():
    d = np.array([[0, 0], [500, 0], [5000, 0]], dtype=float)
    demand, cand = _frames(d, d.copy(), np.array([100.0, 90.0, 10.0]))
    free = pl.plan(demand, cand, 2, radius_km=0.2)
    assert {s.id for s in free.stops} == {"V0", "V1"}
    apart = pl.plan(demand, cand, 2, radius_km=0.2, min_distance_km=1)
    assert {s.id for s in apart.stops} == {"V0", "V2"}
    with pytest.raises(UsageError, match="minimum distance|constraints"):
        pl.plan(demand, cand, 3, radius_km=0.2, min_distance_km=1)


def test_travel_time_coverage():
    demand, cand = _line()
    times = pd.DataFrame({"lsoa11cd": ["L0", "L1", "L2", "L2"], "site_id": ["V0", "V1", "V1", "V2"],
                          "minutes": [5.0, 5.0, 12.0, 3.0]})
    r = pl.plan(demand, cand, 1, minutes=15, travel_table=times)
    assert r.stops[0].id == "V1" and r.covered_weight == 110           # V1 reaches L1 and L2
    assert pl.plan(demand, cand, 1, minutes=10, travel_table=times).stops[0].id == "V0"
    with pytest.raises(UsageError, match="travel-time matrix"):
        pl.plan(demand, cand, 1, minutes=10)


def test_whatif_stops_cover_first():
    demand, cand = _line()
    extra = pd.DataFrame({"id": ["W1"], "name": ["Clicked"], "easting": [0.0], "northing": [0.0],
                          "lat": [54.0], "lon": [-2.5]})
    r = pl.plan(demand, cand, 1, radius_km=1, extra_stops=extra)
    assert len(r.stops) == 2 and r.stops[0].whatif and r.stops[0].marginal_weight == 100
    assert r.stops[1].id == "V1" and r.covered_weight == 160


@pytest.mark.parametrize("kw, msg", [
    ({"radius_km": 0}, "positive"), ({"radius_km": -1}, "positive"), ({"radius_km": 51}, "beyond reason"),
    ({"radius_km": float("nan")}, "positive"), ({}, "not both"), ({"radius_km": 1, "minutes": 5}, "not both"),
])
def test_bad_reach(kw, msg):
    demand, cand = _line()
    with pytest.raises(UsageError, match=msg):
        pl.plan(demand, cand, 1, **kw)


@pytest.mark.parametrize("k, msg", [(0, "at least 1"), (-2, "at least 1"), (4, "only 3 candidate")])
def test_bad_k(k, msg):
    demand, cand = _line()
    with pytest.raises(UsageError, match=msg):
        pl.plan(demand, cand, k, radius_km=1)


def test_greedy_method_and_zero_weight():
    demand, cand = _line()
    g = pl.plan(demand, cand, 2, radius_km=1, method="greedy")
    assert g.method == "greedy" and not g.optimal and g.covered_weight == 160
    z = pl.plan(demand.assign(weight=0.0), cand, 2, radius_km=1)
    assert len(z.stops) == 2 and z.covered_weight == 0 and z.optimal
