"""Benchmark of the outreach planner (geo/planner.py). Prints numbers; asserts nothing.

1. Solve time (exact MILP with HiGHS, and greedy) against k and the number of candidate
   venues, for the whole LSC ICB: demand = the 1,049 population-weighted LSOA points
   weighted by Core20 people (IoD2019, mid-2015 population), candidates = live postcode
   units thinned on a 400 m grid, randomly sampled (fixed seed) down to N. Includes the
   target case: k = 10, 5,000 candidates, exact in <= 2 s.
2. Covered Core20 against a naive baseline in the same run: stops at the k most deprived
   LSOA points (lowest IMD2019 rank), same radius; ratio planner / naive.
3. The largest ICB next to LSC: North East and North Cumbria (E54000050), its footprint
   view (geo/footprint.py), demand = its LSOA 2021 population-weighted points weighted
   by Core20 people (IoD2025 national deciles, Census 2021), candidates = its postcode
   units on a 400 m grid sampled to 5,000; k = 10, exact solve time beside LSC's.
"""
from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from geo import plan_inputs as pi  # noqa: E402
from geo import planner as pl  # noqa: E402


def _median_time(fn, repeat: int):
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def solve_times(demand, venues, radius_km: float, ks, ns, repeat: int = 3) -> None:
    w = demand["weight"].to_numpy(float)
    dxy = demand[["easting", "northing"]].to_numpy(float)
    rng = np.random.default_rng(0)
    print(f"radius {radius_km:g} km straight-line; {len(demand)} demand points; weight = Core20 people")
    print(f"{'candidates':>10} {'k':>3} {'exact s':>8} {'greedy s':>8} {'status':>8} {'gap':>8} "
          f"{'exact':>9} {'greedy':>9} {'greedy/exact':>12}")
    for n in ns:
        sub = venues.iloc[np.sort(rng.choice(len(venues), size=min(n, len(venues)), replace=False))]
        cxy = sub[["easting", "northing"]].to_numpy(float)
        cover = pl.coverage_by_distance(dxy, cxy, radius_km * 1000)
        for k in ks:
            te, ex = _median_time(lambda: pl.solve_exact(cover, w, k), repeat)
            tg, gr = _median_time(lambda: pl.greedy(cover, w, k), repeat)
            print(f"{len(sub):>10} {k:>3} {te:>8.3f} {tg:>8.3f} {ex.status[:8]:>8} {ex.gap or 0:>8.1e} "
                  f"{ex.covered:>9,.0f} {gr.covered:>9,.0f} {gr.covered / ex.covered if ex.covered else 1:>12.4f}")


def full_plan_time(demand, venues, k: int, radius_km: float, repeat: int = 3) -> None:
    rng = np.random.default_rng(1)
    sub = venues.iloc[np.sort(rng.choice(len(venues), size=min(5000, len(venues)), replace=False))]
    t, r = _median_time(lambda: pl.plan(demand, sub, k, radius_km=radius_km), repeat)
    print(f"\nTARGET LSC k={k}, {len(sub)} candidates, {radius_km:g} km: plan() {t:.3f} s end to end "
          f"(MILP {r.seconds:.3f} s), {r.status}, gap {r.gap}, target <= 2 s")


def naive_ratio(store, area, k: int, radius_km: float, cand) -> None:
    d = pi.build_demand(store, area, "core20")
    pts = d.points
    ranks = store.lsoa.set_index("lsoa11cd")["imd_rank"]
    naive = pts.assign(rank=pts["code"].map(ranks)).sort_values("rank").head(k)
    naive = naive.assign(id=naive["code"])
    got_naive = pl.covered_by_sites(pts, naive, radius_km=radius_km)
    r = pl.plan(pts, cand.venues, k, radius_km=radius_km)
    ratio = r.covered_weight / got_naive if got_naive else float("inf")
    print(f"{area.name:>22} k={k:<3} r={radius_km:g} km  Core20 {r.total_weight:>9,.0f}  planner "
          f"{r.covered_weight:>9,.0f} ({100 * r.share:5.1f}%)  naive (k most deprived LSOA points) "
          f"{got_naive:>9,.0f} ({100 * got_naive / r.total_weight:5.1f}%)  ratio {ratio:.2f}  "
          f"[{cand.kind}: {len(cand.venues)}]")


def largest_icb_row(store, lsc_demand, lsc_venues, k: int = 10, n: int = 5000, radius_km: float = 2.0,
                    repeat: int = 3) -> None:
    """Exact solve time, k = 10 with 5,000 postcode-grid candidates: LSC and NENC."""
    from geo import footprint as F
    view = F.footprint(store, "E54000050")
    t0 = time.perf_counter()
    area = pi.resolve_area(view, None)
    dem = pi.build_demand(view, area, "core20").points
    ven = pi.postcode_candidates(view, area, 400).venues
    prep = time.perf_counter() - t0
    print(f"\nLargest ICB: {view.name} ({view.code}): {len(dem)} demand points (of "
          f"{len(view.lsoa25)} LSOA 2021; weight = Core20 people, IoD2025 national deciles, Census 2021), {len(ven)} postcode points (400 m grid); "
          f"inputs {prep:.1f} s (footprint view + demand + candidates, first call)")
    print(f"{'footprint':>28} {'demand':>7} {'cands':>6} {'k':>3} {'exact s':>8} {'status':>8} {'gap':>8} "
          f"{'covered':>9} {'share':>6}")
    for name, d, v in (("LSC (E54000048, IoD2019)", lsc_demand, lsc_venues), ("NENC (E54000050, IoD2025)", dem, ven)):
        rng = np.random.default_rng(0)
        sub = v.iloc[np.sort(rng.choice(len(v), size=min(n, len(v)), replace=False))]
        w = d["weight"].to_numpy(float)
        cover = pl.coverage_by_distance(d[["easting", "northing"]].to_numpy(float),
                                        sub[["easting", "northing"]].to_numpy(float), radius_km * 1000)
        te, ex = _median_time(lambda: pl.solve_exact(cover, w, k), repeat)
        print(f"{name:>28} {len(d):>7} {len(sub):>6} {k:>3} {te:>8.3f} {ex.status[:8]:>8} {ex.gap or 0:>8.1e} "
              f"{ex.covered:>9,.0f} {100 * ex.covered / w.sum():>5.1f}%")


def main(argv=None) -> int:
    from geo.store import load_store
    store = load_store()
    icb = pi.resolve_area(store, None)
    demand = pi.build_demand(store, icb, "core20").points
    venues = pi.postcode_candidates(store, icb, 400).venues
    print(f"candidate pool: {len(venues)} postcode points (400 m grid) in the LSC ICB")
    solve_times(demand, venues, 2.0, ks=(1, 5, 10, 20), ns=(500, 2000, 5000))
    solve_times(demand, venues, 5.0, ks=(10,), ns=(5000,))
    full_plan_time(demand, venues, 10, 2.0)
    largest_icb_row(store, demand, venues)
    print("\nCovered Core20: planner vs naive baseline (same radius, same k)")
    naive_ratio(store, icb, 10, 2.0, pi.Candidates(venues, "postcodes 400 m"))
    for place in ("Blackpool", "Pennine Lancashire"):
        a = pi.resolve_area(store, place)
        naive_ratio(store, a, 3 if place == "Blackpool" else 10, 1.0, pi.postcode_candidates(store, a, 400))
    return 0


if __name__ == "__main__":
    sys.exit(main())
