"""`python -m geo report` and `build_table()` — deprivation summaries as tables."""
from __future__ import annotations

import io
import json
import sys

import pandas as pd

from geo import sources as S
from geo.deprivation import rank_within, summarise
from geo.errors import UsageError
from geo.store import MEASURES, Store, load_store

BY_CHOICES = ["lsoa", "ward", "district", "place", "subicb", "icb", "england"]
BY_ENGLAND = ["lsoa", "district", "england"]
GROUPINGS = ["place5", "place4"]
POPULATIONS = {  # option -> (column, label)
    "mid2015": ("pop2015", "IoD2019 denominator: ONS mid-2015 (excl. prisoners)"),
    "mid2019": ("pop2019", "ONS mid-2019 (SAPE22)"),
    "census2021": ("pop2021", "Census 2021 usual residents"),
}
DEFAULT_POP = {2019: "mid2015", 2025: "census2021"}
REQUIRED_COLS = ["code", "name", "population", "imd_score", "pct_core20", "core20_population",
                 "pct_lsoas_most_deprived_10"]
ICB = {"code": "E54000048", "name": "NHS Lancashire and South Cumbria ICB"}


def place_names(store: Store | None = None) -> dict[str, tuple[str, str]]:
    """Every name --place accepts (lower-cased) -> (column, value)."""
    cfg = S.load_places()
    out = {"icb": ("*", "*"), "lsc": ("*", "*"), ICB["name"].lower(): ("*", "*")}
    for g in GROUPINGS:
        for p in cfg["groupings"][g]["places"]:
            out.setdefault(p.lower(), (g, p))
    for code, name in cfg["districts"].items():
        out.setdefault(name.lower(), ("lad19cd", code))
        out[code.lower()] = ("lad19cd", code)
    return out


def resolve_place(name: str | None) -> tuple[str, str] | None:
    if not name:
        return None
    names = place_names()
    hit = names.get(name.strip().lower())
    if hit is None:
        cfg = S.load_places()
        valid = ["ICB"] + [p for g in GROUPINGS for p in cfg["groupings"][g]["places"]] + list(cfg["districts"].values())
        valid = list(dict.fromkeys(valid))
        raise UsageError(f"unknown place {name!r}; valid: {', '.join(valid)}")
    return None if hit[0] == "*" else hit


def lsoa_frame(store: Store, scope: str = "lsc", vintage: int = 2019) -> pd.DataFrame:
    if vintage not in (2019, 2025):
        raise UsageError(f"unknown vintage {vintage!r}; valid: 2019, 2025")
    if scope == "england":
        if vintage != 2019:
            raise UsageError("IoD2025 LSOA data are staged for LSC only; valid for --scope england: --vintage 2019")
        return store.england19
    if scope != "lsc":
        raise UsageError(f"unknown scope {scope!r}; valid: lsc, england")
    return store.lsoa if vintage == 2019 else store.lsoa25


def build_table(store: Store, by: str, scope: str = "lsc", vintage: int = 2019, place: str | None = None,
                grouping: str = "place5", population: str | None = None, ward_vintage: int | None = None,
                measures=tuple(MEASURES), icb: str | None = None) -> pd.DataFrame:
    """Summary table, one row per area. Percentages are 0-100.

    icb (a code or name, see geo.icb.resolve_icb) or scope="england" with vintage=2025
    take the England-wide tables (any ICB; LSOA 2021 for IoD2025); see national_table."""
    if by not in BY_CHOICES:
        raise UsageError(f"unknown --by {by!r}; valid: {', '.join(BY_CHOICES)}")
    if icb is not None or (scope == "england" and vintage == 2025):
        if icb is not None and scope == "england":
            raise UsageError("give either --icb or --scope england, not both")
        if place:
            raise UsageError("--place applies to the LSC footprint without --icb; use --by district or place")
        from geo.report_national import national_table
        return national_table(store, by, icb=icb, vintage=vintage, population=population,
                              ward_vintage=ward_vintage, measures=measures)
    ward_vintage = ward_vintage or 2024
    if scope == "england" and by not in BY_ENGLAND:
        raise UsageError(f"--by {by} is not available for --scope england; valid: {', '.join(BY_ENGLAND)}")
    if grouping not in GROUPINGS:
        raise UsageError(f"unknown grouping {grouping!r}; valid: {', '.join(GROUPINGS)}")
    population = population or DEFAULT_POP[vintage]
    if population not in POPULATIONS:
        raise UsageError(f"unknown population {population!r}; valid: {', '.join(POPULATIONS)}")
    pop_col, pop_label = POPULATIONS[population]
    df = lsoa_frame(store, scope, vintage)
    if pop_col not in df.columns:
        valid = [k for k, (c, _) in POPULATIONS.items() if c in df.columns]
        raise UsageError(f"population {population!r} not available for vintage {vintage}; valid: {', '.join(valid)}")
    flt = resolve_place(place)
    if flt is not None:
        if scope == "england":
            raise UsageError("--place applies to --scope lsc only")
        df = df[df[flt[0]] == flt[1]]
    code_col = {"lsoa": "lsoa11cd" if vintage == 2019 else "lsoa21cd",
                "ward": "wd24cd" if ward_vintage == 2024 else "wd19cd",
                "district": "lad19cd", "place": grouping, "subicb": "subicb_code",
                "icb": None, "england": None}[by]
    t = summarise(df, code_col, pop=pop_col, vintage=vintage, measures=measures)
    t = t.reset_index().rename(columns={t.index.name: "code"})
    names = _names(store, df, by, vintage, ward_vintage, grouping)
    if by == "icb":     # the footprint's own ICB (a footprint view names it; the bare store is LSC)
        t["code"], t["name"] = getattr(store, "code", ICB["code"]), getattr(store, "name", ICB["name"])
    elif by == "england":
        t["code"], t["name"] = "E92000001", "England"
    else:
        t["name"] = t["code"].map(names["name"]) if "name" in names else t["code"]
    if by == "ward":
        extra = names.drop(columns=["name"])
        t = t.merge(extra, left_on="code", right_index=True, how="left")
        if ward_vintage == 2024:
            # wards with no best-fit LSOA still appear (population 0, with a note), so the table
            # covers every ward of the area
            w = store.wards24 if flt is None else store.wards24[store.wards24[flt[0]] == flt[1]]
            empty = w[~w["wd24cd"].isin(t["code"])]
            if len(empty):
                add = pd.DataFrame({"code": empty["wd24cd"].values, "name": empty["wd24nm"].values,
                                    "n_lsoas": 0, "population": 0.0, "lad19cd": empty["lad19cd"].values,
                                    "lad19nm": empty["lad19nm"].values, "place5": empty["place5"].values,
                                    "place4": empty["place4"].values})
                t = pd.concat([t, add], ignore_index=True)
            from geo.wardfit import NO_LSOA_NOTE
            t["note"] = t["code"].isin(empty["wd24cd"]).map({True: NO_LSOA_NOTE, False: ""})
        t["imd_rank_in_lsc"] = rank_within(t["imd_score"])
    t["population_basis"] = pop_label
    t["vintage"] = f"IoD{vintage}"
    lead = REQUIRED_COLS + [c for c in ("lad19cd", "lad19nm", "place5", "place4", "imd_rank_in_lsc", "n_lsoas",
                                        "avg_rank", "pct_decile1", "decile1_population", "extent",
                                        "local_concentration") if c in t.columns]
    rest = [c for c in t.columns if c not in lead]
    return t[lead + rest].sort_values("code").reset_index(drop=True)


def _names(store, df, by, vintage, ward_vintage, grouping) -> pd.DataFrame:
    if by == "lsoa":
        c = "lsoa11" if vintage == 2019 else "lsoa21"
        return df.drop_duplicates(f"{c}cd").set_index(f"{c}cd")[[f"{c}nm"]].rename(columns={f"{c}nm": "name"})
    if by == "ward":
        if ward_vintage == 2024:
            w = pd.DataFrame(store.wards24.drop(columns="geometry")).set_index("wd24cd")
            return w[["wd24nm", "lad19cd", "lad19nm", "place5", "place4"]].rename(columns={"wd24nm": "name"})
        w = pd.DataFrame(store.lsoa.drop(columns="geometry")).drop_duplicates("wd19cd").set_index("wd19cd")
        return w[["wd19nm", "lad19cd", "lad19nm", "place5", "place4"]].rename(columns={"wd19nm": "name"})
    if by == "district":
        return df.drop_duplicates("lad19cd").set_index("lad19cd")[["lad19nm"]].rename(columns={"lad19nm": "name"})
    if by == "place":
        return pd.DataFrame({"name": df[grouping].dropna().unique()}, index=df[grouping].dropna().unique())
    if by == "subicb":
        s = pd.DataFrame(store.subicb.drop(columns="geometry")).set_index("subicb_code")
        return s[["sicbl22nm"]].rename(columns={"sicbl22nm": "name"})
    return pd.DataFrame()


def to_csv_text(t: pd.DataFrame) -> str:
    from geo.csvsafe import neutralise_frame
    buf = io.StringIO()
    neutralise_frame(t.round(6)).to_csv(buf, index=False)
    return buf.getvalue()


def to_json_text(t: pd.DataFrame) -> str:
    recs = json.loads(t.round(6).to_json(orient="records"))
    return json.dumps(recs, indent=1)


# ---------------------------------------------------------------- CLI
def add_arguments(p):
    p.add_argument("--by", required=True, choices=BY_CHOICES)
    p.add_argument("--scope", default="lsc", choices=["lsc", "england"])
    p.add_argument("--icb", metavar="CODE|NAME",
                   help="any ICB in England by code (E54..., QE1) or name (partial words ok); England-wide tables")
    p.add_argument("--vintage", default=2019, type=int, choices=[2019, 2025])
    p.add_argument("--place", metavar="NAME", help="ICB, a place (either grouping) or a district name")
    p.add_argument("--grouping", default="place5", choices=GROUPINGS,
                   help="place grouping for --by place: place5 = legacy five, place4 = current four")
    p.add_argument("--population", choices=list(POPULATIONS),
                   help="population denominator (default mid2015 for 2019, census2021 for 2025)")
    p.add_argument("--ward-vintage", type=int, choices=[2019, 2024],
                   help="ward codes for --by ward (default 2024; with --icb/--scope england: 2019 wards for "
                        "--vintage 2019, 2024 wards for 2025)")
    p.add_argument("--area", metavar="NAME", help="a saved custom area (python -m geo areas) of the ICB; "
                   "with --by lsoa, ward or place (the area's own row)")
    p.add_argument("--format", default="csv", choices=["csv", "json"])
    p.add_argument("--store", metavar="DIR", help="store folder (default data/store)")


def run(args) -> int:
    store = load_store(args.store)
    if getattr(args, "area", None):
        return _run_area(store, args)
    t = build_table(store, args.by, scope=args.scope, vintage=args.vintage, place=args.place,
                    grouping=args.grouping, population=args.population, ward_vintage=args.ward_vintage,
                    icb=args.icb)
    if "imd_score_vs_published" in t.columns and t["imd_score_vs_published"].notna().any():
        from geo.report_national import published_note
        print(published_note(t), file=sys.stderr)
    sys.stdout.write(to_csv_text(t) if args.format == "csv" else to_json_text(t) + "\n")
    return 0


def _run_area(store, args) -> int:
    from geo import areas as A
    from geo import footprint as F
    if args.scope == "england" or args.place:
        raise UsageError("--area is a custom area of one ICB: give it with --icb (default LSC), not --scope/--place")
    code = F.LSC_CODE
    if args.icb:
        from geo.icb import resolve_icb
        code = resolve_icb(args.icb, store, allow_england=False).code
    view = F.footprint(store, code)
    t = A.report_table(view, A.load_area(args.area, code), args.by, vintage=args.vintage, population=args.population)
    sys.stdout.write(to_csv_text(t) if args.format == "csv" else to_json_text(t) + "\n")
    return 0
