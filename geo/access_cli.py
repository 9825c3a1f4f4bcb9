"""`python -m geo access` — straight-line distance to the nearest open service site,
summarised by LSOA / ward / district / place.

    python -m geo access --category screening --threshold-km 10 --by ward --format csv
    python -m geo access --category act --by place --place "Pennine Lancashire" --format json
    python -m geo access --category gp --travel-times times.csv --threshold-min 20 --by district

Columns: code, name, population, core20_population, population_beyond,
core20_population_beyond, mean_distance_km (population-weighted, straight-line km),
max_distance_km, n_lsoa, pct_beyond, core20_pct_beyond (+ mean_time_min,
n_lsoa_without_time with --travel-times), and with --by ward a `note` (the two May-2024
wards no LSOA is best-fitted to are listed with population 0 and the reason, so the
wards are the same as `geo report --by ward`). Population = the IoD2019 denominators
(ONS mid-2015) unless --population mid2019; Core20 = national IMD2019 deciles 1-2.

HARI bus stops are dated events: only the stops dated inside --events-from/--events-to
(default: the --as-of day alone) count as sites.

    python -m geo access --category hari_bus --events-from 2025-01-01 --events-to 2025-03-31 --by ward
"""
from __future__ import annotations

import argparse
import json
import math
import sys

from geo.errors import UsageError

FORMATS = ("csv", "json")


def _category_choices() -> list[str]:
    from geo.services import category_names
    return category_names()


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--category", required=True, action="append",
                   help="service category (repeat or comma-separate for several): "
                        + ", ".join(_category_choices()))
    g = p.add_mutually_exclusive_group()
    g.add_argument("--threshold-km", type=float, help="count population beyond N km (straight-line)")
    g.add_argument("--threshold-min", type=float, help="count population beyond N minutes (needs --travel-times)")
    p.add_argument("--by", default="ward", help="lsoa, ward, district, place (legacy five) or place4")
    p.add_argument("--place", help="restrict to one place (legacy-five or current-four name)")
    p.add_argument("--format", default="csv", help="csv or json")
    p.add_argument("--as-of", help="date (YYYY-MM-DD) for which sites count as open; default today")
    p.add_argument("--travel-times", metavar="CSV",
                   help="LSOA x site minutes (long: lsoa11cd,site_id,minutes; or wide); used instead of distance")
    p.add_argument("--subcategory", action="append", help="screening subcategory filter (repeatable)")
    p.add_argument("--events-from", metavar="DATE", help="first date (YYYY-MM-DD) of HARI bus stops that count "
                                                         "as sites (default: --as-of)")
    p.add_argument("--events-to", metavar="DATE", help="last date of HARI bus stops that count (default: "
                                                       "--events-from, or --as-of)")
    p.add_argument("--population", default="mid2015",
                   help="mid2015 (IoD2019 denominator, as `geo report`) or mid2019 (ONS mid-2019)")


def _parse(args) -> tuple[list[str], str, str]:
    valid = _category_choices()
    cats = [c.strip() for v in args.category for c in v.split(",") if c.strip()]
    bad = [c for c in cats if c not in valid]
    if bad or not cats:
        raise UsageError(f"argument --category: invalid choice '{','.join(bad)}' (choose from {', '.join(valid)})")
    from geo.access import BY_CHOICES
    if args.by not in BY_CHOICES:
        raise UsageError(f"argument --by: invalid choice '{args.by}' (choose from {', '.join(BY_CHOICES)})")
    if args.format not in FORMATS:
        raise UsageError(f"argument --format: invalid choice '{args.format}' (choose from {', '.join(FORMATS)})")
    for name in ("threshold_km", "threshold_min"):
        v = getattr(args, name)
        if v is not None and (not math.isfinite(v) or v < 0):
            raise UsageError(f"argument --{name.replace('_', '-')}: must be a number >= 0 (got {v})")
    if args.threshold_min is not None and not args.travel_times:
        raise UsageError("argument --threshold-min: needs --travel-times CSV (no travel-time matrix given); "
                         "use --threshold-km for straight-line distance")
    import datetime as dt
    for name in ("as_of", "events_from", "events_to"):
        v = getattr(args, name, None)
        if v:
            try:
                dt.date.fromisoformat(v)
            except ValueError:
                raise UsageError(f"argument --{name.replace('_', '-')}: '{v}' is not a date (YYYY-MM-DD)")
    if args.events_from and args.events_to and args.events_to < args.events_from:
        raise UsageError(f"argument --events-to: {args.events_to} is before --events-from {args.events_from}")
    from geo.access import POPULATIONS
    if args.population not in POPULATIONS:
        raise UsageError(f"argument --population: invalid choice '{args.population}' "
                         f"(choose from {', '.join(POPULATIONS)})")
    if args.subcategory:
        from geo.services import categories
        subs = list((categories().get("screening") or {}).get("subcategories") or {})
        bad = [s for s in args.subcategory if s not in subs]
        if bad:
            raise UsageError(f"argument --subcategory: invalid choice '{bad[0]}' (choose from {', '.join(subs)})")
    return cats, args.by, args.format


def run(args) -> int:
    cats, by, fmt = _parse(args)
    from geo.access import compute_access, read_travel_times, summarise, lsoa_points
    from geo.csvsafe import safe_csv_bytes
    from geo.saved_services import load_register       # shipped + saved files (user-data store)
    reg = load_register()
    travel = None
    if args.travel_times:
        from geo.errors import GeoError
        try:
            travel = read_travel_times(args.travel_times, lsoa_codes=set(lsoa_points()["lsoa11cd"]),
                                       site_ids=set(reg.records["id"]))
        except OSError as e:
            raise GeoError(f"{args.travel_times}: cannot read ({e.strerror})")
        for r in travel.rejected.head(20).itertuples():
            print(f"{r.file}, row {r.row}: {r.reason} (row skipped)", file=sys.stderr)
        if len(travel.rejected) > 20:
            print(f"... and {len(travel.rejected) - 20} more rejected row(s)", file=sys.stderr)
    from geo.store import load_store
    store = load_store()
    res = compute_access(cats, store=store, register=reg, as_of=args.as_of, travel=travel, place=args.place,
                         subcategories=args.subcategory, events_from=args.events_from, events_to=args.events_to,
                         population=args.population)
    wards = store.wards24
    if args.place:
        p = args.place.strip().lower()
        wards = wards[(wards["place5"].str.lower() == p) | (wards["place4"].str.lower() == p)]
    table = summarise(res.per_lsoa, by, threshold_km=args.threshold_km, threshold_min=args.threshold_min,
                      wards=wards)
    out = sys.stdout
    if fmt == "csv":
        out.buffer.write(safe_csv_bytes(table, encoding="utf-8")) if hasattr(out, "buffer") else \
            out.write(safe_csv_bytes(table, encoding="utf-8").decode())
    else:
        meta = {
            "category": cats, "by": by, "place": args.place, "as_of": res.as_of,
            "threshold_km": args.threshold_km, "threshold_min": args.threshold_min,
            "distance": "straight-line (British National Grid), population-weighted LSOA points",
            "metric": res.metric, "n_sites": int(len(res.sites)), "notes": res.notes,
            "population_basis": res.population_basis, "subcategories": res.subcategories,
            "event_window": list(res.event_window) if res.event_window else None,
        }
        rows = json.loads(table.to_json(orient="records"))
        json.dump({"meta": meta, "rows": rows}, out, indent=1)
        out.write("\n")
    out.flush()
    return 0
