"""Inputs of the outreach planner (geo/planner.py): the area, demand weights and
candidate venues, each validated with messages naming the file, row and problem.

Demand points are the population-weighted LSOA points of the store (pwc_easting /
pwc_northing: the mean of the LSOA's live postcode units). Vintages:

- 2019: IoD2019 deciles on LSOA 2011 (store.lsoa), denominator = IoD2019 mid-2015
  population (pop2015, MHCLG's denominators).
- 2025: IoD2025 deciles on LSOA 2021 (store.lsoa25), denominator = Census 2021 usual
  residents (pop2021). LSOA 2021 points are those of the same-code 2011 LSOA or, for
  split/merged codes, of the 2011 best-fit parent (approximate); codes without a
  parent have no point and are left out (counted in the notes).

Core20 = people in LSOAs of national IMD deciles 1-2 (national, never local deciles).

Any ICB: `store` may be a footprint view (geo.footprint.for_icb / footprint): LSC's
view plans on the curated tables exactly as before; another ICB's view plans on its
own LSOAs, places (sub-ICB locations) and districts (LAD 2024). Outside LSC the 2021
LSOA points are the view's own population-weighted points (mean of the LSOA 2021's
postcode units, geo.build_england.population_points) with Census 2021 population,
the default vintage there; 2011 LSOA points outside LSC are ONS label points (said in
the notes). GP and hospital candidates outside LSC come from the England-wide files
(geo/plan_national.py); postcode candidates from the England postcode table.
Pure Python: no streamlit/folium.
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from geo.errors import GeoError, UsageError

LSC_ICB = "E54000048"
WEIGHTS = ("core20", "population", "priority")
WEIGHT_LABELS = {
    "core20": "Core20 people (national IMD deciles 1-2)",
    "population": "all people",
    "priority": "people in the priority wards the map highlights",
}
DENOMINATORS = {2019: ("pop2015", "IoD2019 mid-2015 population (MHCLG denominators)"),
                2025: ("pop2021", "Census 2021 usual residents")}
CANDIDATE_KINDS = ("gp", "hospitals", "postcodes")
MAX_WEIGHT_FILE = 20_000_000


@dataclass
class Area:
    kind: str                      # icb | place5 | place4 | district | custom (geo/areas.py)
    code: str | None
    name: str
    lsoa21: tuple = ()             # custom: its LSOA 2021 codes
    lsoa11: tuple = ()             # custom: the LSOA 2011s whose best-fit 2021 LSOA is in it


@dataclass
class Problem:
    file: str
    row: int
    problem: str

    def __str__(self) -> str:
        return f"{self.file}, row {self.row}: {self.problem}"


@dataclass
class Demand:
    points: pd.DataFrame           # code, name, easting, northing, lat, lon, weight, wd24cd, wd24nm, core20, population
    weight: str                    # core20 | population | priority | file:<name>
    label: str
    denominator: str
    vintage: int
    notes: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


@dataclass
class Candidates:
    venues: pd.DataFrame           # id, name, easting, northing, lat, lon, postcode, wd24cd
    kind: str
    notes: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)     # rows used, with a caveat


# --- area ----------------------------------------------------------------------------

def check_icb(code: str | None) -> None:
    """UsageError (one line, closest matches) unless `code` names one of the 42 ICBs."""
    if code is None:
        return
    from geo.icb import resolve_icb
    resolve_icb(code, allow_england=False)


def is_lsc(store) -> bool:
    """True for the LSC store (or its footprint view), False for another ICB's view."""
    return bool(getattr(store, "is_lsc", True))


def default_vintage(store) -> int:
    """IoD2025 everywhere, as on the map (IoD2019 on 2011 LSOAs stays a choice)."""
    return 2025


def _points21(store, codes) -> pd.DataFrame | None:
    """Population-weighted points of LSOA 2021 codes from the England-wide `lsoa21` table
    (mean of each LSOA's postcode units), indexed by code; None without England tables."""
    from geo.errors import StoreMissing
    from geo.footprint import national
    try:
        t = national(getattr(store, "base", store), "lsoa21")
    except (StoreMissing, KeyError, OSError):
        return None
    cols = ["pwc_easting", "pwc_northing", "pwc_lat", "pwc_lon"]
    if not set(cols) <= set(t.columns):
        return None
    return pd.DataFrame(t[["lsoa21cd", *cols]]).set_index("lsoa21cd").reindex(list(codes))


def footprint_store(base, icb) -> tuple[object, object]:
    """(footprint view, geo.icb.ICB) for an ICB code or name; UsageError (one line,
    closest matches) when unknown. England is refused: plan per ICB."""
    from geo import footprint as F
    from geo.icb import resolve_icb
    rec = resolve_icb(icb, base, allow_england=False)
    return F.footprint(base, rec.code), rec


def _footprint_areas(store) -> tuple[dict[str, str], dict[str, str]]:
    """(place name -> place, district code -> name) of a non-LSC footprint view."""
    places = {str(p): str(p) for p in store.place5["code"]}
    d = store.districts
    return places, dict(zip(d["lad19cd"].astype(str), d["lad19nm"].astype(str)))


def resolve_area(store, name: str | None) -> Area:
    """A place (legacy five or current four), a district name/code, or the whole ICB.
    Outside LSC (a footprint view): a sub-ICB location, a LAD 2024 district, or the ICB."""
    if name is None or not str(name).strip():
        return Area("icb", None, "the whole ICB")
    if not is_lsc(store):
        return _resolve_area_footprint(store, str(name).strip())
    from geo.sources import load_places
    cfg = load_places()
    n = str(name).strip().lower()
    if n in (cfg["icb"]["name"].lower(), "whole icb", "icb", "lsc", "lancashire and south cumbria", LSC_ICB.lower()):
        return Area("icb", None, "the whole ICB")
    for g in ("place4", "place5"):
        for p in cfg["groupings"][g]["places"]:
            if p.lower() == n:
                return Area(g, p, p)
    for code, dname in cfg["districts"].items():
        if n in (dname.lower(), code.lower()):
            return Area("district", code, dname)
    places = sorted({p for g in ("place5", "place4") for p in cfg["groupings"][g]["places"]})
    raise UsageError(f"--place '{name}' is not valid (choose from {', '.join(places)}, or a district name)")


def _resolve_area_footprint(store, name: str) -> Area:
    n = name.lower()
    code = str(getattr(store, "code", ""))
    vname = str(getattr(store, "name", ""))
    short = vname.lower().removeprefix("nhs ").removesuffix(" icb")
    if n in ("whole icb", "icb", "the whole icb", code.lower(), vname.lower(), short):
        return Area("icb", None, "the whole ICB")
    places, districts = _footprint_areas(store)
    for p in places:
        if p.lower() == n:
            return Area("place5", p, p)
    for c, dn in districts.items():
        if n in (dn.lower(), c.lower()):
            return Area("district", c, dn)
    raise UsageError(f"--place '{name}' is not valid in {vname} (choose from "
                     f"{', '.join(sorted(places))} (sub-ICB locations), {', '.join(sorted(districts.values()))} "
                     f"(districts), or the ICB's name for all of it)")


def _in_area(df: pd.DataFrame, area: Area) -> pd.Series:
    if area.kind == "icb":
        return pd.Series(True, index=df.index)
    if area.kind == "custom":       # an LSOA 2021 or 2011 table, or demand points ("code": either)
        for col, codes in (("lsoa21cd", area.lsoa21), ("lsoa11cd", area.lsoa11),
                           ("code", set(area.lsoa21) | set(area.lsoa11))):
            if col in df.columns:
                return df[col].isin(set(codes))
    col = "lad19cd" if area.kind == "district" else area.kind
    return df[col] == area.code


# --- demand --------------------------------------------------------------------------

def demand_points(store, area: Area, vintage: int = 2025) -> pd.DataFrame:
    """The area's LSOA points: code, name, easting, northing, lat, lon, population,
    core20 (bool), wd24cd, wd24nm, for the chosen IoD vintage."""
    if vintage not in DENOMINATORS:
        raise UsageError(f"vintage {vintage} is not valid (choose from 2019, 2025)")
    lsoa = pd.DataFrame(store.lsoa.drop(columns="geometry"))
    pts = lsoa.set_index("lsoa11cd")[["pwc_easting", "pwc_northing", "pwc_lat", "pwc_lon"]]
    if vintage == 2019:
        src = lsoa.assign(code=lsoa["lsoa11cd"], name=lsoa["lsoa11nm"])
        parent = src["lsoa11cd"]
    else:
        l25 = pd.DataFrame(store.lsoa25.drop(columns="geometry"))
        src = l25.assign(code=l25["lsoa21cd"], name=l25["lsoa21nm"])
        parent = src["lsoa11cd"]
    own = vintage == 2025 and not is_lsc(store) and "pwc_easting" in src.columns
    col = DENOMINATORS[vintage][0]
    out = pd.DataFrame({
        "code": src["code"].to_numpy(), "name": src["name"].to_numpy(),
        "population": pd.to_numeric(src[col], errors="coerce").fillna(0).to_numpy(float),
        "core20": (pd.to_numeric(src["imd_decile"], errors="coerce") <= 2).to_numpy(),
        "imd_decile": pd.to_numeric(src["imd_decile"], errors="coerce").to_numpy(),
        "wd24cd": src["wd24cd"].to_numpy(), "wd24nm": src["wd24nm"].to_numpy(),
        "lad19cd": src["lad19cd"].to_numpy(), "place5": src["place5"].to_numpy(),
        "place4": src["place4"].to_numpy(),
        "wd19cd": src["wd19cd"].to_numpy() if "wd19cd" in src.columns else None,
    })
    # outside LSC the LSOA 2021 rows carry their own population-weighted points; in LSC
    # they come from the England-wide lsoa21 table (else the 2011 parent's point)
    own21 = _points21(store, src["code"]) if vintage == 2025 and not own else None
    if own:
        p = src.set_index("code")[pts.columns]
    elif own21 is not None:
        p = own21[list(pts.columns)]
        miss = p["pwc_easting"].isna().to_numpy()
        if miss.any():
            p = p.copy()
            p.iloc[miss] = pts.reindex(parent.to_numpy()[miss]).to_numpy()
    else:
        p = pts.reindex(parent.to_numpy())
    out["easting"], out["northing"] = p["pwc_easting"].to_numpy(), p["pwc_northing"].to_numpy()
    out["lat"], out["lon"] = p["pwc_lat"].to_numpy(), p["pwc_lon"].to_numpy()
    return out[_in_area(out, area).to_numpy()].reset_index(drop=True)


def priority_wards(store, config_path=None) -> tuple[set[str], str]:
    """The wards the map's priority layer highlights by default: the ICB and exemplar
    lists (a filled config/priority_wards.yaml, else the NHSE/I 2021 list of the
    footprint, see geo.priority.listed_wd24) and the deprivation-derived candidates.
    Returns the May-2024 ward codes and a label saying which lists they come from."""
    from geo.paths import CONFIG_DIR
    from geo.priority import NHSEI_LIST, derive_candidates, listed_wd24, load_config, place_groupings
    from geo.report import build_table
    cfg = load_config(config_path or CONFIG_DIR / "priority_wards.yaml", tuple(store.wards24["wd24cd"]))
    codes, parts = set(), []
    for kind, (src, wards) in listed_wd24(cfg, store).items():
        if not wards:
            continue
        codes |= set(wards)
        if src == "config":
            lst = cfg.lists[kind]
            parts.append(f"{lst.name} ({len(wards)}{', ' + str(lst.date) if lst.date else ''})")
        else:
            what = "priority" if kind == "icb" else "exemplar"
            parts.append(f"NHSE/I {what} wards ({len(wards)} May-2024 wards; list {NHSEI_LIST['date']})")
    if cfg.rule.enabled:
        t = build_table(store, "ward", vintage=cfg.rule.vintage)
        cand = derive_candidates(t, cfg.rule)
        codes |= set(cand["code"])
        per = place_groupings(store).get(cfg.rule.per, cfg.rule.per)
        parts.append(f"derived candidates ({len(cand)}: top {cfg.rule.n} per {per} by {cfg.rule.measure}, "
                     f"IoD{cfg.rule.vintage})")
    return codes, "; ".join(parts) or "no priority wards configured"


def build_demand(store, area: Area, weight: str = "core20", *, vintage: int | None = None,
                 weights_file: str | Path | None = None, weights_bytes: bytes | None = None,
                 weights_name: str | None = None) -> Demand:
    """Demand points of `area` weighted by Core20 people, all people, people in
    priority wards, or a file of counts per LSOA. vintage None: default_vintage(store)."""
    vintage = default_vintage(store) if vintage is None else vintage
    pts = demand_points(store, area, vintage)
    col, denom = DENOMINATORS[vintage]
    notes, problems = [], []
    nopt = pts["easting"].isna()
    if nopt.any():
        notes.append(f"{int(nopt.sum())} LSOA(s) without a population-weighted point left out "
                     f"({int(pts.loc[nopt, 'population'].sum()):,} people): new LSOA 2021 codes with no 2011 parent")
    if vintage == 2025 and is_lsc(store) and _points21(store, []) is None:
        notes.append("LSOA 2021 points: the same-code LSOA 2011 point, or the 2011 best-fit parent's (approximate)")
    elif vintage == 2025 and is_lsc(store):
        notes.append(f"{len(pts)} LSOA 2021 population-weighted points (mean of each LSOA's postcode units, "
                     f"Code-Point Open); denominator {denom}")
    elif vintage == 2025:
        notes.append(f"{getattr(store, 'name', 'ICB')}: {len(pts)} LSOA 2021 population-weighted points (mean of "
                     f"each LSOA's postcode units, Code-Point Open); denominator {denom}")
    elif not is_lsc(store):
        notes.append("LSOA 2011 points outside LSC are ONS label points, not population-weighted: "
                     "prefer --vintage 2025 (LSOA 2021 population-weighted points, Census 2021)")
    if weights_file is not None or weights_bytes is not None:
        fname = weights_name or Path(str(weights_file)).name
        counts, problems = read_weights(weights_file if weights_bytes is None else weights_bytes, fname,
                                        known=set(pts["code"]), all_codes=_all_codes(store, vintage),
                                        other_vintage=_all_codes(store, 2025 if vintage == 2019 else 2019),
                                        where="an LSC LSOA" if is_lsc(store) else
                                        f"an LSOA of {getattr(store, 'name', 'this ICB')}")
        pts["weight"] = pts["code"].map(counts).fillna(0.0).astype(float)
        w_name, label = f"file:{fname}", f"counts per LSOA from {fname}"
        denom = f"{fname} ({len(counts)} LSOA rows used)"
        outside = len(counts) - int(pts["code"].isin(counts.index).sum())
        if outside:
            notes.append(f"{fname}: {outside} row(s) for LSOAs outside {area.name} (not counted here)")
    elif weight == "core20":
        pts["weight"] = np.where(pts["core20"], pts["population"], 0.0)
        w_name, label = weight, WEIGHT_LABELS[weight] + f", IoD{vintage}"
    elif weight == "population":
        pts["weight"] = pts["population"]
        w_name, label = weight, WEIGHT_LABELS[weight]
    elif weight == "priority" and not is_lsc(store):
        pr = getattr(store, "priority19", None)
        codes = set(pr["wd19cd"]) if pr is not None else set()
        pts["weight"] = np.where(pts["wd19cd"].isin(codes), pts["population"], 0.0)
        w_name = weight
        label = WEIGHT_LABELS[weight] + f" (NHS England/Improvement priority & exemplar wards 2021: {len(codes)})"
        notes.append("priority wards: each LSOA counts wholly in its best-fit Dec-2019 ward")
    elif weight == "priority":
        codes, which = priority_wards(store)
        pts["weight"] = np.where(pts["wd24cd"].isin(codes), pts["population"], 0.0)
        w_name, label = weight, WEIGHT_LABELS[weight] + f" ({which})"
        notes.append("priority wards: each LSOA counts wholly in its best-fit May-2024 ward")
    else:
        raise UsageError(f"--weight '{weight}' is not valid (choose from {', '.join(WEIGHTS)} or a file)")
    pts = pts[~nopt].reset_index(drop=True)
    return Demand(pts, w_name, label, denom, vintage, notes, problems)


def _all_codes(store, vintage: int) -> set[str]:
    return set(store.lsoa["lsoa11cd"]) if vintage == 2019 else set(store.lsoa25["lsoa21cd"])


def read_weights(data, filename: str, *, known: set[str], all_codes: set[str] | None = None,
                 other_vintage: set[str] | None = None,
                 where: str = "an LSC LSOA") -> tuple[pd.Series, list[Problem]]:
    """A team's own counts per LSOA (CSV: LSOA code, count; e.g. an SMI register).
    Rows with unknown codes, duplicates, non-numeric, negative or NaN counts are listed
    (file, row, problem) and skipped; the rest are used. Returns counts by code."""
    from geo.services import ImportFailure, _decode, _sniff_delimiter
    if isinstance(data, (str, Path)):
        try:
            data = Path(data).read_bytes()
        except OSError as e:
            raise GeoError(f"{filename}: cannot read ({e.strerror})")
    if not data or not data.strip():
        raise GeoError(f"{filename}: the weights file is empty")
    if len(data) > MAX_WEIGHT_FILE:
        raise GeoError(f"{filename}: weights file above {MAX_WEIGHT_FILE // 1_000_000} MB")
    try:
        text, _ = _decode(data, filename)
    except ImportFailure as e:
        raise GeoError(str(e))
    try:
        raw = pd.read_csv(io.StringIO(text), sep=_sniff_delimiter(text), dtype=str, keep_default_na=False,
                          skip_blank_lines=True)
    except (pd.errors.ParserError, ValueError) as e:
        raise GeoError(f"{filename}: not a readable CSV ({str(e).splitlines()[0]})")
    cols = [str(c).strip().lower().lstrip("\ufeff") for c in raw.columns]
    ccol = next((i for i, c in enumerate(cols) if c in ("lsoa11cd", "lsoa21cd", "lsoa_code", "lsoa", "code",
                                                       "lsoa11", "lsoa21")), None)
    ncol = next((i for i, c in enumerate(cols) if i != ccol and c in ("count", "n", "weight", "value", "people",
                                                                     "patients", "number")), None)
    if ccol is None or ncol is None:
        if len(cols) == 2:
            ccol, ncol = 0, 1
        else:
            raise GeoError(f"{filename}: needs an LSOA code column and a count column "
                           f"(e.g. lsoa11cd,count) — found {', '.join(map(str, raw.columns[:6]))}")
    problems, counts, seen = [], {}, {}
    for i, (code, val) in enumerate(zip(raw.iloc[:, ccol], raw.iloc[:, ncol]), start=2):
        code = str(code).strip().upper()
        val = str(val).strip()
        short = code[:12]
        if not code:
            problems.append(Problem(filename, i, "no LSOA code"))
            continue
        if code in seen:
            problems.append(Problem(filename, i, f"duplicate LSOA code {short} (first at row {seen[code]})"))
            continue
        universe = all_codes if all_codes is not None else known
        if code not in universe:
            if other_vintage and code in other_vintage:
                problems.append(Problem(filename, i, f"LSOA code {short} is of the other LSOA vintage "
                                                     f"(choose the IoD vintage that matches the file)"))
            else:
                problems.append(Problem(filename, i, f"unknown LSOA code '{short}' (not {where})"))
            continue
        try:
            x = float(val.replace(",", "")) if val else float("nan")
        except ValueError:
            problems.append(Problem(filename, i, f"count is not a number: '{val[:20]}'"))
            continue
        if not np.isfinite(x):
            problems.append(Problem(filename, i, "count is missing or NaN" if not val or val.lower() == "nan"
                                    else f"count is not finite: '{val[:20]}'"))
            continue
        if x < 0:
            problems.append(Problem(filename, i, f"negative count {x:g}"))
            continue
        seen[code] = i
        counts[code] = x
    if not counts:
        first = f" (first: {problems[0]})" if problems else ""
        raise GeoError(f"{filename}: no usable rows{first}")
    return pd.Series(counts, dtype=float), problems


# --- candidates ----------------------------------------------------------------------

def _attach_ward(v: pd.DataFrame, store) -> pd.DataFrame:
    import geopandas as gpd
    w = store.wards24[["wd24cd", "wd24nm", "geometry"]]
    w = w[w.geometry.notna()].to_crs(27700)
    g = gpd.GeoDataFrame(v, geometry=gpd.points_from_xy(v["easting"], v["northing"]), crs=27700)
    j = gpd.sjoin(g, w, how="left", predicate="within")
    j = j[~j.index.duplicated()]
    v = v.copy()
    v["wd24cd"], v["wd24nm"] = j["wd24cd"].to_numpy(), j["wd24nm"].to_numpy()
    return v


def _area_lsoas(store, area: Area) -> set[str]:
    l = store.lsoa
    return set(l.loc[_in_area(l, area), "lsoa11cd"])


def _area_lsoas21(store, area: Area) -> pd.DataFrame:
    l = pd.DataFrame(store.lsoa25.drop(columns="geometry"))
    return l.loc[_in_area(l, area), ["lsoa21cd", "wd24cd", "wd24nm"]]


def _clip_to_area(v: pd.DataFrame, store, area: Area) -> pd.DataFrame:
    """Venues inside the area's wards (LSOA polygons), or all for the whole ICB."""
    if area.kind == "icb" or not len(v):
        return v
    import geopandas as gpd
    import shapely
    polys = store.lsoa if is_lsc(store) else store.lsoa25        # outside LSC: areas are made of LSOA 2021
    l = polys[_in_area(polys, area)].to_crs(27700)
    shape = shapely.union_all(l.geometry.values).buffer(50)
    inside = shapely.contains_xy(shape, v["easting"].to_numpy(float), v["northing"].to_numpy(float))
    del gpd
    return v[inside].reset_index(drop=True)


VENUE_COLS = ["id", "name", "easting", "northing", "lat", "lon", "postcode"]


def register_candidates(store, area: Area, kind: str, register=None, as_of=None) -> Candidates:
    """Open GP practices or NHS hospital sites of the service register in the area
    (LSC); outside LSC those of the ICB from the England-wide files (geo/plan_national.py)."""
    if not is_lsc(store):
        from geo import plan_national as N
        v, notes = N.sites(kind, store.code)
        n_icb = len(v)
        v = _clip_to_area(v, store, area)
        if area.kind != "icb":
            notes = notes + [f"{len(v)} of them in {area.name}"] if len(v) < n_icb else notes
        return Candidates(_attach_ward(v, store) if len(v) else v.assign(wd24cd=None, wd24nm=None), kind, notes)
    from geo.saved_services import load_register   # shipped + saved files (user-data store)
    from geo.services import open_sites
    cat = {"gp": "gp", "hospitals": "hospital"}[kind]
    reg = register if register is not None else load_register()
    s = open_sites(reg.records, [cat], as_of)
    v = _clip_to_area(s[VENUE_COLS].reset_index(drop=True), store, area)
    label = "GP practices" if kind == "gp" else "NHS hospital sites"
    return Candidates(_attach_ward(v, store), kind, [f"{len(v)} open {label} in {area.name} (service register)"])


def postcode_candidates(store, area: Area, grid_m: float = 500.0) -> Candidates:
    """Live postcode units of the area thinned on a grid: per grid cell, the postcode
    nearest the mean of the cell's postcodes (a real address point, central to the cell)."""
    if not np.isfinite(grid_m) or grid_m < 50:
        raise UsageError(f"grid size must be at least 50 m (got {grid_m:g})")
    pc = store.postcodes
    if "lsoa11cd" not in pc.columns and is_lsc(store) and hasattr(store, "base"):
        pc = store.base.postcodes          # LSC's view: the curated LSC postcodes, as the plain store
    if "lsoa11cd" in pc.columns:
        pc = pc[pc["lsoa11cd"].isin(_area_lsoas(store, area))]
    else:                                  # England postcodes: by LSOA 2021, ward by its best fit
        l21 = _area_lsoas21(store, area)
        pc = pc[pc["lsoa21cd"].isin(set(l21["lsoa21cd"]))]
        by = l21.set_index("lsoa21cd")
        pc = pc.assign(ward24cd=pc["lsoa21cd"].map(by["wd24cd"]), ward24nm=pc["lsoa21cd"].map(by["wd24nm"]))
    pc = pc[pc["easting"].notna() & pc["northing"].notna()]
    e, n = pc["easting"].to_numpy(float), pc["northing"].to_numpy(float)
    cell = pd.Series(list(zip(np.floor(e / grid_m).astype(np.int64), np.floor(n / grid_m).astype(np.int64))),
                     index=pc.index)
    df = pd.DataFrame({"cell": cell, "e": e, "n": n}, index=pc.index)
    m = df.groupby("cell")[["e", "n"]].transform("mean")
    df["d"] = np.hypot(df["e"] - m["e"], df["n"] - m["n"])
    pick = df.sort_values(["cell", "d"]).drop_duplicates("cell").index
    p = pc.loc[pick].sort_values("postcode")
    v = pd.DataFrame({"id": p["postcode"].to_numpy(), "name": ("Postcode " + p["postcode"]).to_numpy(),
                      "easting": p["easting"].to_numpy(float), "northing": p["northing"].to_numpy(float),
                      "lat": p["latitude"].to_numpy(float), "lon": p["longitude"].to_numpy(float),
                      "postcode": p["postcode"].to_numpy(), "wd24cd": p["ward24cd"].to_numpy(),
                      "wd24nm": p["ward24nm"].to_numpy()})
    notes = [f"{len(v)} postcode-unit points ({len(pc):,} postcodes thinned on a {grid_m:g} m grid, "
             f"Code-Point Open) in {area.name}"]
    if "lsoa11cd" not in store.postcodes.columns and not is_lsc(store):
        notes.append("postcode wards: the best-fit May-2024 ward of the postcode's LSOA 2021")
    return Candidates(v, "postcodes", notes)


def venue_candidates(store, area: Area, data: bytes, filename: str) -> Candidates:
    """An uploaded venues file (id, name, and a postcode, lat/lon or easting/northing),
    validated by the service register's own row checks (geo.services)."""
    from geo import services as sv
    cfg = dict(sv.config_for(getattr(store, "code", None)))     # rows checked against this footprint
    cfg["categories"] = {"venue": {"label": "Candidate venue", "kind": "site"}}
    fname = Path(filename).name or "venues"
    try:
        table = sv.read_table(data, fname, cfg)
    except sv.ImportFailure as e:
        raise GeoError(str(e))
    for drop in ("category", "subcategory", "event_date", "status", "opened", "closed"):
        if drop in table.columns:                # a venue is a place, whatever else the file says
            i = table.columns.index(drop)
            table.columns = table.columns[:i] + table.columns[i + 1:]
            table.rows = [r[:i] + r[i + 1:] for r in table.rows]
    res = sv.validate_rows(table, fname, default_category="venue", config=cfg)
    problems = [Problem(fname, int(r.row), f"{r.reason}" + (f" (id {r.id})" if r.id else ""))
                for r in res.rejected.itertuples()]
    warnings = [Problem(fname, int(r.row), f"warning: {r.warning}") for r in res.warnings.itertuples()]
    rec = res.records
    v = pd.DataFrame({c: rec[c] for c in VENUE_COLS}) if len(rec) else pd.DataFrame(columns=VENUE_COLS)
    v = v.astype({"easting": float, "northing": float, "lat": float, "lon": float})
    n_all = len(v)
    v = _clip_to_area(v, store, area)
    notes = [f"{fname}: {n_all} venue(s) accepted, {len(res.rejected)} rejected"]
    if len(v) < n_all:
        notes.append(f"{fname}: {n_all - len(v)} venue(s) outside {area.name} left out")
    return Candidates(_attach_ward(v, store) if len(v) else v.assign(wd24cd=None, wd24nm=None),
                      f"file:{fname}", notes, problems, warnings)


EXISTING_OUTSIDE_LSC = {"gp": "gp", "hospital": "hospitals", "cdc": "cdc"}


def existing_categories(store) -> list[str]:
    """The --existing categories valid for this footprint: LSC's curated service
    categories in LSC; elsewhere only what the England files give (gp, hospital, cdc)."""
    if is_lsc(store):
        from geo.services import category_names
        return list(category_names(None))
    return list(EXISTING_OUTSIDE_LSC)


def existing_sites(categories, register=None, as_of=None, recent_days: int = 90,
                   store=None) -> tuple[pd.DataFrame, list[str]]:
    """Open sites of the chosen categories on `as_of` (today), plus HARI bus stops
    visited in the last `recent_days` days: they already cover their surroundings.
    With a non-LSC footprint view as `store`: that ICB's GP practices and NHS hospital
    sites (England-wide files), the only categories known outside LSC."""
    if store is not None and not is_lsc(store):
        return _existing_outside_lsc(categories, store)
    import datetime as dt
    from geo.saved_services import load_register   # shipped + saved files (user-data store)
    from geo.services import category_names, open_sites
    cats = [c for c in categories if c and c != "none"]
    valid = category_names(register.config if register is not None else None)
    bad = [c for c in cats if c not in valid]
    if bad:
        raise UsageError(f"--existing '{bad[0]}' is not valid (choose from none, {', '.join(valid)})")
    if not cats:
        return pd.DataFrame(columns=["id", "name", "easting", "northing", "category"]), []
    reg = register if register is not None else load_register()
    day = dt.date.fromisoformat(as_of) if as_of else dt.date.today()
    frm = (day - dt.timedelta(days=int(recent_days))).isoformat()
    s = open_sites(reg.records, cats, day.isoformat(), events_from=frm, events_to=day.isoformat())
    notes = [f"{len(s)} existing site(s) already cover ({', '.join(cats)}; open on {day.isoformat()}"
             + (f"; HARI stops from {frm}" if "hari_bus" in cats else "") + ")"]
    if len(s) and s["illustrative"].astype(bool).any():
        notes.append("existing sites include ILLUSTRATIVE example data (the HARI bus schedule is not real)")
    return s[["id", "name", "easting", "northing", "category"]].reset_index(drop=True), notes


def _existing_outside_lsc(categories, store) -> tuple[pd.DataFrame, list[str]]:
    from geo import plan_national as N
    cats = [c for c in categories if c and c != "none"]
    bad = [c for c in cats if c not in EXISTING_OUTSIDE_LSC]
    if bad:
        raise UsageError(f"--existing '{bad[0]}' is not valid in {getattr(store, 'name', 'this ICB')} (choose from "
                         f"none, {', '.join(EXISTING_OUTSIDE_LSC)}; the other categories are LSC's curated lists)")
    cols = ["id", "name", "easting", "northing", "category"]
    if not cats:
        return pd.DataFrame(columns=cols), []
    frames, n = [], []
    for c in cats:
        v, _ = N.sites(EXISTING_OUTSIDE_LSC[c], store.code)
        frames.append(v.assign(category=c)[cols])
        n.append(f"{c} {len(v)}")
    s = pd.concat(frames, ignore_index=True)
    return s, [f"{len(s)} existing site(s) already cover ({', '.join(n)}; England-wide files, ICB {store.code})"]
