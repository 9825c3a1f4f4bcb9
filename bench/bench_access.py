"""Benchmarks for access gaps and service import. Prints numbers; asserts nothing.

1. Nearest site for all 32,844 England LSOAs (ONS label points BNG_E/BNG_N from
   boundaries/lsoa2011_bsc_england.geojson) x 10,000 sites: scipy cKDTree (build +
   query) vs an all-pairs numpy version, same run, ratio printed. Target <= 0.2 s.
   SITES ARE SYNTHETIC: 10,000 random points within England (random LSOA label points
   jittered uniformly by up to +/-2 km), for timing only.
2. A 5,000-row service import (CSV) with validation and postcode geocoding: real LSC
   postcodes sampled from Code-Point Open, plus lat/lon and easting/northing rows and a
   few bad rows. Target <= 2 s (warm: lookup tables cached, as in the app).
"""
from __future__ import annotations

import io
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from geo.access import nearest_allpairs, nearest_kdtree  # noqa: E402
from geo.paths import source_dir  # noqa: E402


def _england_points() -> np.ndarray:
    p = source_dir() / "boundaries/lsoa2011_bsc_england.geojson"
    with open(p, encoding="utf-8") as fh:
        fc = json.load(fh)
    xy = np.array([(f["properties"]["BNG_E"], f["properties"]["BNG_N"]) for f in fc["features"]], dtype=float)
    return xy


def _timeit(fn, repeat: int) -> tuple[float, object]:
    ts, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        ts.append(time.perf_counter() - t)
    return statistics.median(ts), out


def bench_nearest(n_sites: int = 10_000, seed: int = 2019) -> dict:
    pts = _england_points()
    rng = np.random.default_rng(seed)
    sites = pts[rng.integers(0, len(pts), n_sites)] + rng.uniform(-2000, 2000, (n_sites, 2))
    t_kd, (d_kd, i_kd) = _timeit(lambda: nearest_kdtree(pts, sites), repeat=5)
    t_ap, (d_ap, i_ap) = _timeit(lambda: nearest_allpairs(pts, sites), repeat=3)
    same = bool(np.allclose(d_kd, d_ap))
    print(f"nearest site: {len(pts):,} England LSOA label points x {n_sites:,} SYNTHETIC random sites in England")
    print(f"  cKDTree build+query  {t_kd:8.3f} s   (median of 5; target <= 0.2 s)")
    print(f"  all-pairs numpy      {t_ap:8.3f} s   (median of 3; one matrix product per 1,024 points)")
    print(f"  ratio all-pairs / KD-tree: {t_ap / t_kd:,.0f}x; identical distances: {same}")
    print(f"  median nearest distance {np.median(d_kd) / 1000:.2f} km (straight-line)")
    return {"kdtree_s": t_kd, "allpairs_s": t_ap, "ratio": t_ap / t_kd, "identical": same}


def _import_csv(n: int = 5000, seed: int = 7) -> bytes:
    from geo.geocode import postcode_lookup
    rng = np.random.default_rng(seed)
    lk = postcode_lookup().table
    pcs = lk.index.to_numpy()[rng.integers(0, len(lk), n)]
    rows = []
    for i, pc in enumerate(pcs):
        r = {"id": f"B{i:05d}", "name": f"Bench site {i}", "category": ["gp", "hospital", "screening"][i % 3],
             "postcode": "", "lat": "", "lon": "", "easting": "", "northing": "", "opened": "2020-01-01",
             "status": "open", "source": "benchmark (synthetic rows at real postcodes)"}
        k = i % 10
        if k < 6:
            r["postcode"] = pc
        elif k < 8:
            r["lat"], r["lon"] = lk.at[pc, "latitude"], lk.at[pc, "longitude"]
        else:
            r["easting"], r["northing"] = lk.at[pc, "easting"], lk.at[pc, "northing"]
        if i % 250 == 0:
            r["postcode"], r["lat"], r["lon"] = "ZZ9 9ZZ", "", ""          # unknown postcode
            r["easting"] = r["northing"] = ""
        if i % 333 == 0:
            r["name"] = ""                                                 # missing name
        rows.append(r)
    buf = io.StringIO()
    pd.DataFrame(rows).to_csv(buf, index=False)
    return buf.getvalue().encode()


def bench_import(n: int = 5000) -> dict:
    from geo import services as sv
    data = _import_csv(n)
    t0 = time.perf_counter()
    first = sv.import_bytes(data, "bench.csv")              # cold: loads lookup + footprint
    t_cold = time.perf_counter() - t0
    t_warm, res = _timeit(lambda: sv.import_bytes(data, "bench.csv"), repeat=3)
    print(f"service import: {n:,} CSV rows ({len(data) / 1e6:.2f} MB), validation + geocoding")
    print(f"  warm  {t_warm:8.3f} s   (median of 3; target <= 2 s)")
    print(f"  cold  {t_cold:8.3f} s   (first call: loads postcode lookup + footprint)")
    print(f"  {len(res.records):,} loaded, {len(res.rejected):,} rejected, {len(res.warnings):,} warnings")
    return {"warm_s": t_warm, "cold_s": t_cold, "loaded": len(first.records), "rejected": len(first.rejected)}


def main() -> dict:
    out = {"nearest": bench_nearest(), "import": bench_import()}
    return out


if __name__ == "__main__":
    main()
