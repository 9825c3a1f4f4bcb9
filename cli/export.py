"""`python -m geo export` — the current view's table or layers as a file, for scheduled reports.

    python -m geo export --place "Fylde Coast" --format xlsx --out fylde.xlsx
    python -m geo export --url-state "measure=income&vintage=2025&area=district:E07000117" \\
                         --format gpkg --out burnley.gpkg
    python -m geo export --place Blackpool --format csv --level lsoa --selection priority --out p.csv
    python -m geo export --ward E05012345 --format pdf --out profile.pdf     # one-page ward profile
    python -m geo export --icb E54000059 --place "West Northamptonshire" --format csv --out wn.csv

--url-state takes the app's query string (copy it from the app's "Copy link"); --icb,
--place, --vintage, --measure and --ward override it. --icb takes any of the 42 ICBs (code
or name) or England; LSC is the default. Exit status: 0 written, 2 bad arguments,
1 nothing written (e.g. an empty selection: the message says why).

The html/pdf/png formats draw the map/profile with the app's own layer code (layers/,
which uses folium), imported only when one of those formats is asked for, and this CLI lives in cli/ (above
geo/, render/ and layers/), so geo/ itself never imports streamlit or folium.
"""
from __future__ import annotations

import sys

from geo.errors import UsageError
from geo.viewstate import replace  # layer parameters (vintage=, measure=) by name too

FORMATS = ("csv", "xlsx", "gpkg", "html", "pdf", "png")


def add_arguments(p):
    p.add_argument("--format", required=True, choices=FORMATS,
                   help="csv/xlsx: ward or LSOA table; gpkg: layers; html: standalone offline map; "
                        "pdf/png: one-page ward profile (needs --ward)")
    p.add_argument("--out", required=True, metavar="FILE")
    p.add_argument("--icb", metavar="CODE|NAME", help="the footprint: an ICB code or name, or England "
                                                       "(default: the link's icb=, else Lancashire and South Cumbria)")
    p.add_argument("--place", metavar="NAME", help="ICB, a place (either grouping; outside LSC a sub-ICB "
                                                   "location) or a district name/code")
    p.add_argument("--url-state", metavar="QUERY", default="", help="the app's URL query string (or whole URL)")
    p.add_argument("--level", default="ward", choices=["ward", "lsoa"], help="table rows (csv/xlsx)")
    p.add_argument("--selection", default="area", choices=["area", "priority", "ward"],
                   help="area: every row in the place; priority: highlighted priority wards only; "
                        "ward: the selected ward (--ward)")
    p.add_argument("--vintage", type=int, choices=[2019, 2025])
    p.add_argument("--measure", metavar="M", help="deprivation measure (imd, income, ...)")
    p.add_argument("--ward", metavar="CODE", help="May 2024 ward code (selection/profile)")
    p.add_argument("--width", type=int, default=1000, help="png width (ward profile; height = width x 1.414)")
    p.add_argument("--store", metavar="DIR", help="store folder (default data/store)")
    p.add_argument("--strict", action="store_true", help="fail (exit 2) if --url-state has anything unusable")


def _footprint_place(store, text: str):
    """--place inside a footprint other than LSC: the ICB, a district (code or name) or a
    sub-ICB location; None for the whole ICB; UsageError listing the choices."""
    t = text.strip()
    if t.lower() in ("icb", "whole icb", str(getattr(store, "name", "")).lower(), str(store.code).lower()):
        return None
    d = store.districts
    for code, name in zip(d["lad19cd"].astype(str), d["lad19nm"].astype(str)):
        if t.upper() == code or t.lower() == name.lower():
            return "lad19cd", code
    for name in store.place5["code"].astype(str):
        if t.lower() == name.lower():
            return "place5", name
    choices = ", ".join(list(d["lad19nm"].astype(str)) + list(store.place5["code"].astype(str)))
    raise UsageError(f"unknown --place {text!r} in {store.name}; valid: the ICB, {choices}")


def state_from_args(args, store):
    """ViewState from --url-state plus overrides; notices go to stderr (or fail with --strict)."""
    from geo.report import resolve_place
    from geo.store import MEASURES
    from geo.viewstate import known_from_store, parse_query_string
    state, notices = parse_query_string(args.url_state or "", known_from_store(store))
    for n in notices:
        if getattr(args, "strict", False):
            raise UsageError(f"--url-state: {n}")
        print(f"note: {n}", file=sys.stderr)
    if args.place:
        hit = resolve_place(args.place) if getattr(store, "is_lsc", True) else _footprint_place(store, args.place)
        if hit is None:
            state = replace(state, area_kind="icb", area_code=None)
        else:
            col, val = hit
            state = replace(state, area_kind="district" if col == "lad19cd" else col, area_code=val)
    if getattr(args, "vintage", None):
        state = replace(state, vintage=args.vintage)
    if getattr(args, "measure", None):
        if args.measure not in MEASURES:
            raise UsageError(f"unknown --measure {args.measure!r}; valid: {', '.join(MEASURES)}")
        state = replace(state, measure=args.measure)
    if getattr(args, "ward", None):
        code = args.ward.strip().upper()
        if code not in set(store.wards24["wd24cd"]):
            from geo.export import footprint_label
            raise UsageError(f"unknown --ward {args.ward!r}: not a May 2024 ward code of {footprint_label(store)}")
        state = replace(state, ward=code)
    return state


def run(args) -> int:
    from geo import export as X
    from geo.store import load_store
    store = load_store(args.store)
    from geo import footprint as F
    if getattr(args, "icb", None):
        try:
            code = F.resolve(store, args.icb)
        except ValueError as e:
            raise UsageError(f"--icb: {e}") from None
        store = F.footprint(store, code)
    else:
        store = F.for_link(store, args.url_state)   # the link's icb= (LSC by default)
    state = state_from_args(args, store)
    if not getattr(store, "is_lsc", True):          # the header's link names the footprint
        state = replace(state, icb=store.code)
    fmt = args.format
    if fmt in ("csv", "xlsx"):
        rows, header = X.table_for_view(store, state, args.level, args.selection)
        data = X.csv_bytes(rows, header) if fmt == "csv" else X.xlsx_bytes(
            rows, header, "Wards" if args.level == "ward" else "LSOAs")
        X.write_atomic(args.out, data)
        print(f"wrote {args.out}: {len(rows)} {args.level} rows", file=sys.stderr)
    elif fmt == "gpkg":
        counts = X.write_gpkg(store, state, args.out, args.selection)
        print(f"wrote {args.out}: " + ", ".join(f"{k} {v}" for k, v in counts.items()), file=sys.stderr)
    elif fmt == "html":
        from cli.snapshot import quiet_streamlit
        quiet_streamlit()
        from layers.export_html import standalone_html
        html = standalone_html(store, state)
        X.write_atomic(args.out, html.encode("utf-8"))
        print(f"wrote {args.out}: {len(html) / 1e6:.1f} MB standalone map", file=sys.stderr)
    else:   # pdf / png ward profile
        if not state.ward:
            raise UsageError(f"--format {fmt} is the one-page ward profile: give --ward CODE "
                             "(for a PNG of the map use `python -m geo snapshot`)")
        from cli.snapshot import quiet_streamlit
        from render.png import render_html
        quiet_streamlit()
        from render.export_html import ward_profile_html
        membership = X.priority_membership(store, state)
        html = ward_profile_html(X.ward_profile(store, state.ward, state.get("vintage"), membership))
        render_html(html, args.out, fmt=fmt, width=args.width, height=int(args.width * 1.414))
        print(f"wrote {args.out}: ward profile {state.ward}", file=sys.stderr)
    return 0
