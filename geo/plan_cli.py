"""`python -m geo plan` — where the HARI bus should stop to reach the most people
(maximal covering location problem, exact MILP with HiGHS; see geo/planner.py).

    python -m geo plan --place Blackpool --stops 3 --radius-km 1.5 --weight core20
    python -m geo plan --icb E54000048 --place "Fylde Coast" --stops 5 --minutes 15 \\
        --travel-times times.csv --weight smi_register.csv --candidates venues.csv --format csv
    python -m geo plan --place Burnley --stops 4 --radius-km 2 --weight population \\
        --candidates postcodes --existing gp,hari_bus --recent-days 60
    python -m geo plan --icb Northamptonshire --place "West Northamptonshire" --stops 3 --radius-km 2

Any of the 42 ICBs (--icb code, NHS code or name; default LSC): the plan runs on that
ICB's footprint view of the store (geo/footprint.py). Outside LSC the default vintage
is 2025 (LSOA 2021 population-weighted points, Census 2021 population), --place is one
of its sub-ICB locations or districts (LAD 2024), GP/hospital candidates and --existing
gp,hospital come from the England-wide files (geo/plan_national.py).

Coverage is STRAIGHT-LINE distance on the British National Grid from population-weighted
LSOA points (or minutes from a travel-time matrix: LSOA x venue). JSON: radius_km,
minutes, weight, total_weight, already_covered_weight, covered_weight, optimal, gap,
stops [{id, name, lat, lon, marginal_weight}] in greedy order of marginal gain, and
demand [{code, lat, lon, weight}]: exactly the points and weights the solver used
(points already covered by existing sites are not in it). CSV: one row per stop.
Rejected rows of input files are listed on stderr (file, row, problem); the rest is used.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

from geo.errors import GeoError, UsageError

FORMATS = ("json", "csv")
MAX_LISTED = 20


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--icb", help="ICB code (E54...), NHS code or name; default E54000048 (Lancashire and "
                                 "South Cumbria)")
    p.add_argument("--place", required=True,
                   help="place (legacy five or current four), district, or the ICB's name for all of it")
    p.add_argument("--stops", type=int, required=True, help="number of stops k")
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--radius-km", type=float, help="reach of a stop: straight-line km (British National Grid)")
    g.add_argument("--minutes", type=float, help="reach of a stop in minutes (needs --travel-times)")
    p.add_argument("--travel-times", metavar="FILE", help="LSOA x venue minutes (lsoa11cd,site_id,minutes or wide)")
    p.add_argument("--weight", default="core20", help="core20, population, priority, or a CSV of LSOA code,count")
    p.add_argument("--candidates", default="gp", help="gp, hospitals, postcodes, or a venues file (CSV/XLSX/GeoJSON)")
    p.add_argument("--existing", default="none",
                   help="none, or service categories whose open sites already cover (comma-separated)")
    p.add_argument("--recent-days", type=int, default=90,
                   help="with --existing hari_bus: stops of the last N days count as covering (default 90)")
    p.add_argument("--vintage", type=int, default=None,
                   help="IoD vintage: 2019 (pop mid-2015) or 2025 (Census 2021); default 2025")
    p.add_argument("--grid-m", type=float, default=500.0, help="--candidates postcodes: grid size in metres")
    p.add_argument("--min-distance-km", type=float, default=0.0, help="minimum distance between chosen stops")
    p.add_argument("--require", action="append", default=[], metavar="ID", help="venue id that must be a stop")
    p.add_argument("--exclude", action="append", default=[], metavar="ID", help="venue id that must not be a stop")
    p.add_argument("--method", default="exact", help="exact (MILP, HiGHS) or greedy")
    p.add_argument("--as-of", help="date (YYYY-MM-DD) for open sites and recent stops; default today")
    p.add_argument("--format", default="json", help="json or csv")


def _report(problems, what: str) -> None:
    for pr in problems[:MAX_LISTED]:
        print(f"{pr} ({what})", file=sys.stderr)
    if len(problems) > MAX_LISTED:
        print(f"... and {len(problems) - MAX_LISTED} more", file=sys.stderr)


def _check(args) -> None:
    from geo.planner import validate_radius
    if args.format not in FORMATS:
        raise UsageError(f"argument --format: invalid choice '{args.format}' (choose from {', '.join(FORMATS)})")
    if args.stops <= 0:
        raise UsageError(f"argument --stops: must be at least 1 (got {args.stops})")
    if args.vintage is not None and args.vintage not in (2019, 2025):
        raise UsageError(f"argument --vintage: invalid choice '{args.vintage}' (choose from 2019, 2025)")
    if args.method not in ("exact", "greedy"):
        raise UsageError(f"argument --method: invalid choice '{args.method}' (choose from exact, greedy)")
    if args.minutes is not None and not args.travel_times:
        raise UsageError("argument --minutes: needs --travel-times FILE (no travel-time matrix given); "
                         "use --radius-km for straight-line distance")
    if args.travel_times and args.minutes is None:
        raise UsageError("argument --travel-times: give --minutes with a travel-time matrix")
    for name in ("min_distance_km", "grid_m"):
        v = getattr(args, name)
        if not math.isfinite(v) or v < 0:
            raise UsageError(f"argument --{name.replace('_', '-')}: must be a number >= 0 (got {v})")
    if args.recent_days < 0:
        raise UsageError(f"argument --recent-days: must be >= 0 (got {args.recent_days})")
    try:
        validate_radius(args.radius_km, args.minutes)
    except UsageError as e:
        raise UsageError(f"argument --{'radius-km' if args.radius_km is not None else 'minutes'}: {e}")
    if args.as_of:
        import datetime as dt
        try:
            dt.date.fromisoformat(args.as_of)
        except ValueError:
            raise UsageError(f"argument --as-of: '{args.as_of}' is not a date (YYYY-MM-DD)")


def _read(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as e:
        raise GeoError(f"{path}: cannot read ({e.strerror})")


def run(args) -> int:
    _check(args)
    from geo import plan_inputs as pi
    from geo.planner import plan
    from geo.store import load_store
    base = load_store()
    if args.icb is None:
        store = base
    else:
        store, _ = pi.footprint_store(base, args.icb)
        if store.is_lsc:
            store = base               # LSC: the curated store itself, exactly as without --icb
    if args.vintage is None:
        args.vintage = pi.default_vintage(store)
    area = pi.resolve_area(store, args.place)
    if args.weight in pi.WEIGHTS:
        dem = pi.build_demand(store, area, args.weight, vintage=args.vintage)
    else:
        if not Path(args.weight).exists():
            raise UsageError(f"argument --weight: '{args.weight}' is neither {', '.join(pi.WEIGHTS)} "
                             f"nor an existing file")
        dem = pi.build_demand(store, area, vintage=args.vintage, weights_bytes=_read(args.weight),
                              weights_name=Path(args.weight).name)
    _report(dem.problems, "row skipped")
    reg = None
    if pi.is_lsc(store) and (args.candidates in ("gp", "hospitals") or args.existing != "none"):
        from geo.saved_services import load_register
        reg = load_register()
    if args.candidates in ("gp", "hospitals"):
        cand = pi.register_candidates(store, area, args.candidates, register=reg, as_of=args.as_of)
    elif args.candidates == "postcodes":
        cand = pi.postcode_candidates(store, area, args.grid_m)
    elif Path(args.candidates).exists():
        cand = pi.venue_candidates(store, area, _read(args.candidates), Path(args.candidates).name)
        _report(cand.problems, "row skipped")
        _report(cand.warnings, "row used")
    else:
        raise UsageError(f"argument --candidates: '{args.candidates}' is neither gp, hospitals, postcodes "
                         f"nor an existing file")
    n = len(cand.venues)
    if n == 0:
        raise GeoError(f"no candidate venues in {area.name} ({'; '.join(cand.notes)})")
    if args.stops > n:
        raise UsageError(f"argument --stops: {args.stops} stops asked for but there are only {n} candidate "
                         f"venue(s) in {area.name}")
    existing, ex_notes = pi.existing_sites(args.existing.split(","), register=reg, as_of=args.as_of,
                                           recent_days=args.recent_days, store=store)
    travel = None
    if args.travel_times:
        from geo.access import read_travel_times
        travel = read_travel_times(_read(args.travel_times), Path(args.travel_times).name,
                                   lsoa_codes=pi._all_codes(store, args.vintage),
                                   site_ids=set(cand.venues["id"]) | set(existing["id"]))
        for r in travel.rejected.head(MAX_LISTED).itertuples():
            print(f"{r.file}, row {r.row}: {r.reason} (row skipped)", file=sys.stderr)
        if len(travel.rejected) > MAX_LISTED:
            print(f"... and {len(travel.rejected) - MAX_LISTED} more rejected row(s)", file=sys.stderr)
        travel = travel.table
    res = plan(dem.points, cand.venues, args.stops, radius_km=args.radius_km, minutes=args.minutes,
               travel_table=travel, existing=existing, required_ids=args.require, excluded_ids=args.exclude,
               min_distance_km=args.min_distance_km, method=args.method, weight=dem.weight,
               weight_label=dem.label)
    notes = dem.notes + cand.notes + ex_notes + res.notes
    _write(args, res, dem, cand, area, notes, store)
    return 0


def _write(args, res, dem, cand, area, notes, store=None) -> None:
    out = sys.stdout
    stops = [{"id": s.id, "name": s.name, "lat": round(s.lat, 6), "lon": round(s.lon, 6),
              "marginal_weight": s.marginal_weight} for s in res.stops]
    if args.format == "csv":
        import pandas as pd
        from geo.csvsafe import safe_csv_bytes
        t = pd.DataFrame(stops, columns=["id", "name", "lat", "lon", "marginal_weight"])
        t.insert(0, "order", range(1, len(t) + 1))
        t["cumulative_weight"] = t["marginal_weight"].cumsum()
        t["share_of_uncovered"] = (t["cumulative_weight"] / (res.total_weight - res.already_covered_weight)).round(4) \
            if res.total_weight - res.already_covered_weight > 0 else float("nan")
        data = safe_csv_bytes(t, encoding="utf-8")
        out.buffer.write(data) if hasattr(out, "buffer") else out.write(data.decode())
        for n in notes:
            print(f"note: {n}", file=sys.stderr)
    else:
        doc = {
            "radius_km": res.radius_km, "minutes": res.minutes, "weight": res.weight,
            "weight_label": res.weight_label, "denominator": dem.denominator, "vintage": dem.vintage,
            "icb": getattr(store, "code", "E54000048"), "icb_name": getattr(store, "name", None) or
            "NHS Lancashire and South Cumbria ICB", "place": area.name, "candidates": cand.kind, "n_candidates": res.n_candidates,
            "total_weight": res.total_weight, "already_covered_weight": res.already_covered_weight,
            "covered_weight": res.covered_weight, "greedy_covered_weight": res.greedy_covered_weight,
            "optimal": res.optimal, "gap": res.gap, "status": res.status, "method": res.method,
            "distance": "straight-line (British National Grid) from population-weighted LSOA points"
                        if res.radius_km is not None else "travel-time matrix minutes",
            "notes": notes, "stops": stops,
            "demand": [{"code": r.code, "lat": round(float(r.lat), 6), "lon": round(float(r.lon), 6),
                        "weight": float(r.weight)} for r in res.demand.itertuples()],
        }
        json.dump(doc, out, indent=1)
        out.write("\n")
    out.flush()
