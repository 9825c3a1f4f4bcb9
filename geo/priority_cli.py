"""`python -m geo priority --icb CODE|NAME` — the priority & exemplar wards listed for an
ICB, each with the May-2024 ward(s) it maps to (Census 2021 population shares)."""
from __future__ import annotations

import json
import sys

import pandas as pd

from geo.report import to_csv_text
from geo.store import load_store


def add_arguments(p):
    p.add_argument("--icb", required=True, metavar="CODE|NAME",
                   help="ICB code (E54..., QE1), name (partial words ok) or 'england'")
    p.add_argument("--list", dest="which", default="auto", choices=["auto", "nhsei", "local"],
                   help="auto: the local list of config/priority_wards.yaml when filled (LSC), else NHSE/I 2021")
    p.add_argument("--config", metavar="FILE", help="priority wards YAML (default config/priority_wards.yaml)")
    p.add_argument("--format", default="csv", choices=["csv", "json"])
    p.add_argument("--store", metavar="DIR", help="store folder (default data/store)")


def to_json_obj(lw) -> dict:
    rows = json.loads(lw.wards.to_json(orient="records"))
    by = {}
    if lw.mapping is not None:
        for r in lw.mapping.itertuples():
            by.setdefault(r.wd19cd, []).append({"wd24cd": r.wd24cd, "wd24nm": r.wd24nm,
                                                "population2021": round(float(r.pop2021)),
                                                "share": round(float(r.share), 4)})
    for r in rows:
        r["wd24"] = (by.get(r["wd19cd"], []) if lw.kind == "national" else
                     [{"wd24cd": r["wd24cd"], "wd24nm": r["wd24nm"], "share": 1.0}] if r["wd24cd"] else [])
    return {"list": {"name": lw.name, "date": lw.date, "ward_vintage": lw.ward_vintage, "source": lw.source,
                     "kind": lw.kind, "icb": lw.icb_code},
            "counts": lw.wards["status"].value_counts().to_dict(),
            "not_drawn": int((~lw.wards["drawn"].astype(bool)).sum()),
            "problems": [str(p) for p in lw.problems], "wards": rows}


def run(args) -> int:
    from geo.priority import priority_list
    store = load_store(args.store)
    lw = priority_list(store, args.icb, args.config, which=args.which)
    for p in lw.problems:
        print(f"warning: {p}", file=sys.stderr)
    n = lw.wards["status"].value_counts()
    print(f"{lw.label}: {int(n.get('Priority', 0))} priority + {int(n.get('Exemplar', 0))} exemplar wards "
          f"({int((~lw.wards['drawn'].astype(bool)).sum())} not drawn)", file=sys.stderr)
    if args.format == "csv":
        sys.stdout.write(to_csv_text(pd.DataFrame(lw.wards)))
    else:
        sys.stdout.write(json.dumps(to_json_obj(lw), indent=1) + "\n")
    return 0
