"""`python -m geo indicator FILE` — match an indicator file to the store.

stdout: the matched table (code, name, geography, indicator, label, period, value,
lower, upper, count, denominator, status, ...) as CSV or JSON.
stderr: the code-vintage report (matched, mapped through lookups, unmatched with
reasons, problems with file/row/column).
Exit status: 0 when at least one row matched, 1 when none did (or the file cannot be
used), 2 for unusable arguments.

FILE may be a CSV/XLSX path or `builtin:NAME` for a shipped dataset
(builtin:iod2019, builtin:iod2025, builtin:census_ward, builtin:fingertips_lad).
"""
from __future__ import annotations

import io
import json
import sys
from pathlib import Path

from geo.errors import UsageError

BY = ["lsoa", "ward", "district", "place"]


def add_arguments(p):
    p.add_argument("file", metavar="FILE", help="CSV/XLSX indicator file (Fingertips export, long or wide "
                                               "layout) or builtin:NAME")
    p.add_argument("--by", choices=BY, help="aggregate to this geography (default: the file's own)")
    p.add_argument("--ward-vintage", choices=["auto", "2019", "2024"], default="auto",
                   help="ward polygons to match ward codes to (auto = the vintage most codes match)")
    p.add_argument("--format", choices=["csv", "json"], default="csv", help="stdout format")
    p.add_argument("--report", choices=["text", "json"], default="text", help="stderr report format")
    p.add_argument("--indicator", metavar="KEY", help="only this indicator (key or label)")
    p.add_argument("--period", metavar="PERIOD", help="only this period")
    p.add_argument("--no-lookup", action="store_true",
                   help="do not map codes through ONS lookups (e.g. LSOA 2021 -> 2011 polygons)")
    p.add_argument("--store", metavar="DIR", help="store folder (default data/store)")


def run(args) -> int:
    from geo import indicators as I
    from geo.csvsafe import neutralise_frame
    from geo.store import load_store

    wv = None if args.ward_vintage == "auto" else args.ward_vintage
    spec = args.file
    if not spec.startswith("builtin:"):
        p = Path(spec)
        if not p.exists():
            raise UsageError(f"FILE {spec!r} not found")
        if p.is_dir():
            raise UsageError(f"FILE {spec!r} is a folder")
        if p.suffix.lower() not in (".csv", ".txt", ".tsv", ".xlsx", ".xlsm"):
            raise UsageError(f"FILE {spec!r}: expected a .csv or .xlsx file")
    else:
        name = spec.split(":", 1)[1]
        if name not in I.BUILTINS:
            raise UsageError(f"unknown builtin {name!r}; valid: {', '.join('builtin:' + b for b in I.BUILTINS)}")
    store = load_store(args.store)
    if spec.startswith("builtin:"):
        data = I.load_builtin(spec.split(":", 1)[1], store, ward_vintage=wv)
    else:
        data = I.import_file(spec, I.reference(store), ward_vintage=wv, use_lookups=not args.no_lookup)
    if args.by:
        data = I.aggregate(data, args.by, store, ward_vintage=wv)
    t = I.output_table(data)
    if args.indicator:
        keys = {args.indicator, args.indicator.lower()}
        m = t["indicator"].isin(keys) | t["label"].str.lower().isin(keys)
        if not m.any():
            raise UsageError(f"no indicator {args.indicator!r} in the file; valid: "
                             + ", ".join(dict.fromkeys(t["indicator"])))
        t = t[m]
    if args.period:
        if not (t["period"] == args.period).any():
            raise UsageError(f"no period {args.period!r}; valid: " + ", ".join(sorted(set(t["period"]))))
        t = t[t["period"] == args.period]
    t = t.round(6)
    if args.format == "csv":
        buf = io.StringIO()
        neutralise_frame(t).to_csv(buf, index=False, lineterminator="\n")
        sys.stdout.write(buf.getvalue())
    else:
        sys.stdout.write(json.dumps(json.loads(t.to_json(orient="records")), indent=1) + "\n")
    sys.stdout.flush()
    rep = data.report
    if args.report == "json":
        sys.stderr.write(json.dumps(rep.to_dict(), indent=1, default=str) + "\n")
    else:
        sys.stderr.write(rep.text() + "\n")
    return 0 if (len(t) and rep.matched_rows > 0) else 1
