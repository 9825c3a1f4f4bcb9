"""`python -m geo areas ...`: save, list, show, remove and restore custom areas.

    python -m geo areas save NAME [FILE ...] [--wards CODE,CODE] [--lsoas CODE,CODE]
                             [--icb CODE|NAME]
        build the area from lists of codes (CSV/TXT: ward, LSOA 2021 or LSOA 2011 codes,
        one a line or in a code column) and/or codes given inline, and save it as a new
        version of NAME in the ICB (default LSC). Codes left out are listed by file and
        row on stderr; the rest is saved. Exit 1 when nothing could be kept.
    python -m geo areas list [--icb CODE|NAME] [--format json] [--removed]
    python -m geo areas show NAME [--icb ...] [--vintage 2025|2019] [--format text|json|csv]
        its official measures (as for a place: population-weighted score and rank, % of
        LSOAs in the most deprived 10% and 20%, extent, local concentration, Core20) and
        its wards
    python -m geo areas remove NAME [--icb ...]    (undo: python -m geo areas restore NAME)

Areas are per ICB and kept in the user-data store (geo/userdb.py: LSC_USER_DATA_DIR,
LSC_DATABASE_URL). `python -m geo report --area NAME --by lsoa|ward|place` gives the
report's tables for the area.
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from geo.errors import GeoError


def add_arguments(p) -> None:
    sub = p.add_subparsers(dest="action", metavar="{save,list,show,remove,restore}", required=True)

    def icb(q):
        q.add_argument("--icb", metavar="CODE|NAME", help="the ICB (code or name; default Lancashire and South Cumbria)")
        q.add_argument("--store", metavar="DIR", help="store folder (default data/store)")

    s = sub.add_parser("save", help="Build a custom area from codes and save it")
    s.add_argument("name")
    s.add_argument("files", nargs="*", metavar="FILE", help="CSV/TXT lists of ward or LSOA codes")
    s.add_argument("--wards", default="", help="comma-separated ward codes (E05...)")
    s.add_argument("--lsoas", default="", help="comma-separated LSOA codes (E01..., 2021 or 2011)")
    icb(s)
    ls = sub.add_parser("list", help="List the saved custom areas")
    ls.add_argument("--format", choices=["text", "json"], default="text")
    ls.add_argument("--removed", action="store_true", help="include removed areas")
    icb(ls)
    sh = sub.add_parser("show", help="A saved area's official measures and wards")
    sh.add_argument("name")
    sh.add_argument("--vintage", type=int, choices=[2025, 2019], default=2025)
    sh.add_argument("--format", choices=["text", "json", "csv"], default="text")
    icb(sh)
    for name, helptext in (("remove", "Remove a saved area (undo with restore)"), ("restore", "Bring back a removed area")):
        r = sub.add_parser(name, help=helptext)
        r.add_argument("name")
        icb(r)


def view_for(args):
    """The footprint view of --icb (LSC by default; England refused: areas are per ICB)."""
    from geo import footprint as F
    from geo.store import load_store
    base = load_store(getattr(args, "store", None))
    if not getattr(args, "icb", None):
        return F.footprint(base, F.LSC_CODE)
    from geo.icb import resolve_icb
    return F.footprint(base, resolve_icb(args.icb, base, allow_england=False).code)


def _icb_code(args) -> str:
    """The ICB code without loading the store tables when --icb is a code (list/remove)."""
    from geo import footprint as F
    q = (getattr(args, "icb", None) or "").strip().upper()
    if not q:
        return F.LSC_CODE
    if re.fullmatch(r"E54\d{6}", q):
        return q
    return view_for(args).code


def _save(args) -> int:
    from geo import areas as A
    from geo import userdb
    view = view_for(args)
    parts = []
    for f in args.files:
        try:
            data = Path(f).read_bytes()
        except OSError as e:
            raise GeoError(f"{f}: cannot be read ({e.strerror})") from None
        parts.append(A.parse_codes(view, data, Path(f).name))
    for opt, text in (("--wards", args.wards), ("--lsoas", args.lsoas)):
        codes = [c for c in text.split(",") if c.strip()]
        if codes:
            parts.append(A.classify(view, [(i + 1, c) for i, c in enumerate(codes)], opt))
    if not parts:
        raise GeoError("give a file of codes, --wards or --lsoas")
    for p in parts:
        for m in p.messages():
            print(f"left out: {m}", file=sys.stderr)
        for n in p.notes:
            print(f"note: {p.source}: {n}", file=sys.stderr)
    area = A.make_area(view, args.name, parts)
    saved = A.save_area(area)
    print(f"{A.saved_message(saved, area.name)} In {view.name}: {len(area.lsoa21)} LSOA 2021 "
          f"({A.LSOA_BUILT_NOTE.split(':')[0]}); store: {userdb.open_store().location}")
    return 0


def _entry_json(e) -> dict:
    from geo import areas as A
    return {"name": A.area_name(e), "icb": e.meta.get("icb"), "n_lsoa21": e.rows, "n_wards": e.meta.get("n_wards"),
            "version": e.version, "versions": e.versions, "created_at": e.created_at.isoformat(),
            "created_by": e.created_by, "removed": e.removed}


def _list(args) -> int:
    from geo import areas as A
    icb = _icb_code(args)
    entries = A.list_areas(icb, removed=args.removed)
    if args.format == "json":
        print(json.dumps([_entry_json(e) for e in entries], indent=1, ensure_ascii=False))
        return 0
    if not entries:
        print(f"no saved custom areas for {icb}")
        return 0
    for e in entries:
        gone = f"  REMOVED {e.removed_at:%Y-%m-%d %H:%M}" if e.removed else ""
        print(f"{A.area_name(e)}: {e.rows} LSOA 2021, version {e.version} of {e.versions}, saved "
              f"{e.created_at:%Y-%m-%d %H:%M} UTC by {e.created_by}{gone}")
    return 0


def _show(args) -> int:
    from geo import areas as A
    from geo.report import to_csv_text
    view = view_for(args)
    area = A.load_area(args.name, view.code)
    row = A.summary_row(view, area, args.vintage)
    wards = A.area_wards(view, area)
    if args.format == "csv":
        sys.stdout.write(to_csv_text(row))
        return 0
    if args.format == "json":
        rec = json.loads(row.round(6).to_json(orient="records"))[0]
        rec["wards"] = json.loads(wards.to_json(orient="records"))
        rec["lsoa21"] = list(area.lsoa21)
        rec["version"] = area.version
        print(json.dumps(rec, indent=1, ensure_ascii=False))
        return 0
    r = row.iloc[0]
    print(f"{area.name} ({view.name}), version {area.version}: {int(r['n_lsoas'])} LSOA 2021, "
          f"{int(r['population']):,} people ({r['population_basis']}), {r['vintage']}")
    print(f"  IMD score (population-weighted) {r['imd_score']:.3f}; average rank {r['avg_rank']:.1f}")
    print(f"  LSOAs in the most deprived 10% nationally: {r['pct_lsoas_most_deprived_10']:.1f}%; "
          f"20%: {r['pct_lsoas_most_deprived_20']:.1f}%")
    print(f"  Core20: {int(r['core20_population']):,} people ({r['pct_core20']:.1f}%); extent "
          f"{r['extent']:.4f}; local concentration {r['local_concentration']:.1f}")
    print(f"  {A.LSOA_BUILT_NOTE}")
    print(f"  wards ({len(wards)}): " + "; ".join(
        f"{w.wd24nm} {w.wd24cd} ({w.n_lsoas_in_area} of {w.n_lsoas_in_ward} LSOAs)" for w in wards.itertuples()))
    return 0


def run(args) -> int:
    from geo import areas as A
    if args.action == "save":
        return _save(args)
    if args.action == "list":
        return _list(args)
    if args.action == "show":
        return _show(args)
    icb = _icb_code(args)
    if args.action == "remove":
        e = A.remove_area(args.name, icb)
        print(f"Removed custom area '{A.area_name(e)}' (version {e.version}); undo: "
              f"python -m geo areas restore '{A.area_name(e)}'" + (f" --icb {icb}" if args.icb else ""))
        return 0
    e = A.restore_area(args.name, icb)
    print(f"Restored custom area '{A.area_name(e)}' (version {e.version}).")
    return 0
