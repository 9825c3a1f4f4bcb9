"""Exports of a view (geo.viewstate.ViewState): ward/LSOA tables as CSV and XLSX, layers as
a GeoPackage, and the data behind a one-page ward profile.

Pure Python (no streamlit/folium). Every file is written to a temporary file beside the
target and renamed into place (`write_atomic`), so a failed export never leaves a partial
file. Every text cell goes through geo.csvsafe (formula injection), and every table
carries a header block stating sources, vintages and filters.

Selections: "area" (every ward/LSOA in the view's place filter), "priority" (only the
highlighted priority wards in it) or "ward" (the selected ward / its LSOAs). An empty
selection raises EmptySelection with a message saying why; no file is written.

The CSV/XLSX bytes and the GeoPackage's QGIS styles are in geo.export_formats
(re-exported here).
"""
from __future__ import annotations

import datetime as _dt
import os
import re
from dataclasses import replace
from pathlib import Path

import pandas as pd

from geo.atomic import atomic_path, write_atomic as _write_atomic
from geo.csvsafe import neutralise_cell
from geo.errors import GeoError, UsageError
# The file formats live beside this module (re-exported so `geo.export.X` keeps working):
from geo.export_formats import (_add_styles, csv_bytes, header_line, qml_categorised,  # noqa: F401
                                qml_single, xlsx_bytes)
from geo.store import MEASURE_LABELS, Store
from geo.viewstate import ViewState, to_query_string, view_name

LEVELS = ("ward", "lsoa")
SELECTIONS = ("area", "priority", "ward")
CRS = "EPSG:4326"
PRIORITY_LABELS = {"icb": "ICB list", "exemplar": "Exemplar", "candidate": "Derived candidate"}
DEFAULT_PALETTE = ["#081d58", "#22318d", "#2355a4", "#1f80b8", "#31a6c2",
                   "#5dc0c0", "#97d6b9", "#cfecb3", "#eff9b5", "#ffffd9"]


class EmptySelection(GeoError):
    """The view's selection has no rows: nothing is written."""


# ---------------------------------------------------------------- files
def write_atomic(path: str | os.PathLike, data: bytes) -> Path:
    """Write `data` to `path` via a temp file in the same folder + os.replace."""
    return _write_atomic(path, data)


# ---------------------------------------------------------------- view pieces
def footprint_label(store=None) -> str:
    """The footprint in a few words: 'Lancashire and South Cumbria', 'Northamptonshire', 'England'."""
    name = getattr(store, "name", None) or "NHS Lancashire and South Cumbria ICB"
    return re.sub(r"\s+(ICB|Integrated Care Board)$", "", re.sub(r"^NHS\s+", "", str(name).strip()))


def area_name(state: ViewState, store: Store | None = None) -> str:
    """The view's area as exports and title bars name it (the footprint's own name for a
    whole ICB; a district by its name when the store knows it)."""
    if state.area_kind == "icb" or not state.area_code:
        if getattr(store, "code", None) == "E92000001":
            return "All of England"
        return f"Whole ICB ({footprint_label(store)})"
    if state.area_kind == "district":
        name = None
        d = getattr(store, "districts", None) if store is not None else None
        if d is not None and "lad19nm" in d.columns:
            hit = d.loc[d["lad19cd"] == state.area_code, "lad19nm"]
            name = str(hit.iloc[0]) if len(hit) else None
        if name is None:
            from geo.sources import load_places
            name = load_places()["districts"].get(state.area_code, state.area_code)
        return f"District: {name}"
    if state.area_kind == "custom":
        return f"Custom area: {state.area_code}"
    groupings = {"place5": "Place (legacy five)", "place4": "Place (current four)"} \
        if getattr(store, "is_lsc", True) else {"place5": "Sub-ICB location", "place4": "Sub-ICB location"}
    return f"{groupings.get(state.area_kind, state.area_kind)}: {state.area_code}"


def _in_area(df: pd.DataFrame, state: ViewState) -> pd.DataFrame:
    if state.area_kind == "district" and state.area_code:
        return df[df["lad19cd"] == state.area_code]
    if state.area_kind in ("place5", "place4") and state.area_code:
        return df[df[state.area_kind] == state.area_code]
    if state.area_kind == "custom" and state.area_code:     # a saved custom area (geo/areas.py)
        from geo.areas import frame_in_area, saved_in_link
        return frame_in_area(df, saved_in_link(state.area_code, state.icb))
    return df


def priority_config(store: Store, path=None):
    from geo.paths import CONFIG_DIR
    from geo.priority import load_config
    p = path or os.environ.get("LSC_PRIORITY_WARDS") or CONFIG_DIR / "priority_wards.yaml"
    return load_config(p, tuple(store.wards24["wd24cd"]))


def priority_rule(cfg, state: ViewState):
    r = cfg.rule
    return replace(r, n=state.get("n") or r.n, measure=state.get("rank") or r.measure, per=state.get("per") or r.per)


def priority_membership(store: Store, state: ViewState, cfg=None) -> dict[str, list[str]]:
    """ward code -> kinds it is highlighted as, as the Priority wards layer shows them: a
    filled config/priority_wards.yaml list, else the NHSE/I 2021 list of the footprint."""
    if not state.layer_on("priority", True):
        return {}
    from geo.priority import derive_candidates, listed_wd24
    cfg = cfg or priority_config(store)
    kinds = state.get("prio") if state.get("prio") is not None else (
        ("icb", "exemplar") + (("candidate",) if cfg.rule.enabled else ()))
    out: dict[str, list[str]] = {}
    listed = listed_wd24(cfg, store)
    for k in ("icb", "exemplar"):
        if k in kinds:
            for c in listed[k][1]:
                out.setdefault(c, []).append(k)
    if "candidate" in kinds:
        rule = priority_rule(cfg, state)
        t = ward_table(store, rule.vintage).assign(icb="Whole ICB")
        for c in derive_candidates(t, replace(rule, enabled=True))["code"]:
            out.setdefault(c, []).append("candidate")
    return out


_WARD_TABLES: dict = {}


def ward_table(store: Store, vintage: int) -> pd.DataFrame:
    """geo.report.build_table(store, "ward", vintage) memoised per store object (a store is
    read-only; a rebuilt store is a new object with a new built_at). Returns a copy."""
    from geo.report import build_table
    key = (id(store), store.manifest.get("built_at"), int(vintage))
    if key not in _WARD_TABLES:
        if len(_WARD_TABLES) > 8:
            _WARD_TABLES.clear()
        _WARD_TABLES[key] = build_table(store, "ward", vintage=int(vintage))
    return _WARD_TABLES[key].copy()


def _prio_text(codes, membership) -> list[str]:
    return [", ".join(PRIORITY_LABELS[k] for k in membership.get(c, [])) for c in codes]


def ward_rows(store: Store, state: ViewState, membership: dict | None = None) -> pd.DataFrame:
    """The app's ward table for the view (every May 2024 ward in the area)."""
    t = _in_area(ward_table(store, state.get("vintage")), state).copy()
    membership = priority_membership(store, state) if membership is None else membership
    t.insert(2, "priority", _prio_text(t["code"], membership))
    return t.rename(columns={"code": "wd24cd", "name": "wd24nm"}).reset_index(drop=True)


def lsoa_rows(store: Store, state: ViewState, membership: dict | None = None) -> pd.DataFrame:
    """One row per LSOA in the area: deciles of the view's measure, IMD, Core20, ward."""
    m = state.get("measure")
    if state.get("vintage") == 2019:
        df, code, name, pop = store.lsoa, "lsoa11cd", "lsoa11nm", "pop2015"
    else:
        df, code, name, pop = store.lsoa25, "lsoa21cd", "lsoa21nm", "pop2021"
    df = _in_area(pd.DataFrame(df.drop(columns="geometry", errors="ignore")), state)
    membership = priority_membership(store, state) if membership is None else membership
    cols = {code: "lsoa_code", name: "lsoa_name", "lad19cd": "lad19cd", "lad19nm": "lad19nm",
            "wd24cd": "wd24cd", "wd24nm": "wd24nm", "place5": "place5", "place4": "place4",
            pop: "population", "imd_score": "imd_score", "imd_rank": "imd_rank", "imd_decile": "imd_decile"}
    for suffix in ("score", "rank", "decile", "local_decile"):
        c = f"{m}_{suffix}"
        if c in df.columns and c not in cols:
            cols[c] = c
    out = df[[c for c in cols if c in df.columns]].rename(columns=cols).copy()
    out["core20"] = pd.to_numeric(out["imd_decile"], errors="coerce").le(2)
    out["ward_priority"] = _prio_text(out["wd24cd"], membership)
    out["vintage"] = f"IoD{state.get('vintage')}"
    out["population_basis"] = "IoD2019 denominator: ONS mid-2015" if state.get("vintage") == 2019 \
        else "Census 2021 usual residents"
    return out.sort_values("lsoa_code").reset_index(drop=True)


def select(rows: pd.DataFrame, level: str, selection: str, state: ViewState, store=None) -> pd.DataFrame:
    """Apply the selection; EmptySelection (with the reason) if nothing is left."""
    if selection not in SELECTIONS:
        raise UsageError(f"unknown selection {selection!r}; valid: {', '.join(SELECTIONS)}")
    where = area_name(state, store)
    if selection == "priority":
        col = "priority" if level == "ward" else "ward_priority"
        rows = rows[rows[col].astype(bool)]
        if rows.empty:
            raise EmptySelection(
                f"Nothing to export: no highlighted priority ward in {where}. The NHSE/I 2021 list "
                "names none of the kinds shown here and config/priority_wards.yaml lists none, or the "
                "Priority wards layer / its lists are switched off in this view.")
    elif selection == "ward":
        if not state.ward:
            raise EmptySelection("Nothing to export: no ward is selected in this view (open a ward profile "
                                 "first, or give --ward CODE).")
        rows = rows[rows["wd24cd"] == state.ward]
        if rows.empty:
            raise EmptySelection(f"Nothing to export: ward {state.ward} has no "
                                 f"{'LSOA' if level == 'lsoa' else 'row'} in {where}.")
    if rows.empty:
        raise EmptySelection(f"Nothing to export: the view's area ({where}) has no "
                             f"{'wards' if level == 'ward' else 'LSOAs'}.")
    return rows.reset_index(drop=True)


def sources_text(store: Store, vintage: int) -> str:
    """The vintages of the inputs behind the view: LSC's curated files, or, for any other
    footprint, the England-wide files (manifest inputs_england)."""
    section = "inputs" if getattr(store, "is_lsc", True) else "inputs_england"
    inputs = store.manifest.get(section) or store.manifest.get("inputs", {})
    keys = [k for k in inputs if (("2025" in k) == (vintage == 2025) or "iod" not in k)]
    vint = []
    for k in keys:
        v = inputs[k].get("vintage")
        if v and v not in vint:
            vint.append(v)
    return "; ".join(vint)


def header_block(store: Store, state: ViewState, level: str, selection: str, n_rows: int,
                 membership: dict | None = None, cfg=None) -> list[tuple[str, str]]:
    """(label, text) lines describing what the table is, where it is from and how it was filtered."""
    now = _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0)
    what = ("May 2024 electoral wards, one row per ward (figures from LSOAs by postcode best fit; "
            "approximate)" if level == "ward" else
            f"LSOAs ({'2011' if state.get('vintage') == 2019 else '2021'} boundaries), one row per LSOA")
    sel = {"area": "every row in the area", "priority": "highlighted priority wards only",
           "ward": f"selected ward {state.ward}"}[selection]
    lines = [
        ("Title", view_name(state, area_name(state, store))),
        ("Exported", now.isoformat().replace("+00:00", "Z")),
        ("Table", what),
        ("Filter: area", area_name(state, store)),
        ("Filter: selection", sel),
        ("Rows", str(n_rows)),
        ("Deprivation", f"IoD{state.get('vintage')}; measure {MEASURE_LABELS.get(state.get('measure'), state.get('measure'))}; "
                        f"{state.get('deciles')} deciles (1 = most deprived); Core20 = IMD national deciles 1-2"),
        ("Population basis", "IoD2019 denominator: ONS mid-2015 (excl. prisoners)" if state.get("vintage") == 2019
         else "Census 2021 usual residents"),
    ]
    if state.layer_on("priority", True):
        cfg = cfg or priority_config(store)
        kinds = state.get("prio") if state.get("prio") is not None else (
            ("icb", "exemplar") + (("candidate",) if cfg.rule.enabled else ()))
        from geo.priority import NHSEI_LIST, list_source, nhsei_count, place_groupings
        bits = []
        for k in ("icb", "exemplar"):
            if k not in kinds:
                continue
            wl, src = cfg.lists[k], list_source(cfg, store, k)
            n = sum(k in v for v in (membership or {}).values())
            if src == "nhsei":
                what = "priority" if k == "icb" else "exemplar"
                bits.append(f"NHSE/I {what} wards ({NHSEI_LIST['date']} list, {NHSEI_LIST['ward_vintage']}): "
                            f"{nhsei_count(store, k)} listed, {n} May-2024 wards flagged (most people in a "
                            "listed 2019 ward)")
            elif src == "config" or getattr(store, "is_lsc", True):
                bits.append(f"{wl.name}: {len(wl.wards)} wards ({wl.source or 'source not given'}, "
                            f"{wl.date.isoformat() if wl.date else 'date not given'})")
            else:
                what = "priority" if k == "icb" else "exemplar"
                bits.append(f"NHSE/I {what} wards ({NHSEI_LIST['date']} list): none listed in this ICB")
        if "candidate" in kinds:
            bits.append("Derived candidates: " + priority_rule(cfg, state).describe(place_groupings(store)))
        lines.append(("Priority wards", "; ".join(bits) if bits else "none shown"))
    lines += [
        ("Sources", sources_text(store, state.get("vintage"))),
        ("Store built", str(store.manifest.get("built_at", ""))),
        ("Attribution", store.attribution),
        ("View (URL query)", to_query_string(state)),
    ]
    return lines


# ---------------------------------------------------------------- access figures
ACCESS_WARD_COLS = ["population_beyond", "pct_beyond", "core20_population_beyond", "core20_pct_beyond",
                    "mean_distance_km", "max_distance_km"]


def access_for_view(store: Store, state: ViewState, register=None):
    """(AccessResult, settings, problem) when the view's access layer is on, else None.
    The settings are the app's for the same link (geo.access.access_settings); a view whose
    figures cannot be computed (e.g. no open site) gives (None, settings, reason)."""
    if not state.layer_on("access", False):
        return None
    from geo.access import access_settings, compute_access
    from geo.saved_services import load_register   # shipped + saved files (user-data store)
    from geo.services import categories
    cfg = access_settings(state, categories())
    if not cfg["cats"]:
        return None, cfg, "no service category chosen"
    try:
        res = compute_access(cfg["cats"], store=store, register=register or load_register(),
                             population=cfg["population"], subcategories=cfg["subcats"])
    except GeoError as e:
        return None, cfg, str(e)
    return res, cfg, ""


def add_access(rows: pd.DataFrame, level: str, store: Store, state: ViewState, acc) -> tuple[pd.DataFrame, list]:
    """The view's access figures as `access_*` columns of the ward / LSOA rows, and the
    header lines saying what they are (categories, threshold, date, basis)."""
    from geo import access as ac
    from geo.services import categories
    res, cfg, problem = acc
    if res is None:
        return rows, [("Access", f"access layer on, but no figures: {problem}")]
    thr = cfg["threshold_km"]
    labels = {k: c.get("label", k) for k, c in categories().items()}
    head = [(f"Access: {k.lower()}" if not k.startswith("Access") else k, v) for k, v in
            ac.header_lines(res, area=area_name(state, store), by=level, threshold_km=thr, category_labels=labels)]
    head = [h for h in head if not h[0].endswith(": area")]
    per = _in_area(res.per_lsoa, state)
    if level == "ward":
        w = _in_area(store.wards24, state)
        t = ac.summarise(per, "ward", threshold_km=thr, wards=w).set_index("code")
        for c in ACCESS_WARD_COLS:
            rows[f"access_{c}"] = rows["wd24cd"].map(t[c])
        head.append(("Access: columns", f"access_* = figures for people beyond {thr:g} km straight-line of the "
                                        "nearest site, by best-fit ward"))
    elif state.get("vintage") == 2019:
        p = per.set_index("lsoa11cd")
        rows["access_distance_km"] = rows["lsoa_code"].map(p["distance_km"]).round(3)
        rows["access_nearest_site"] = rows["lsoa_code"].map(p["nearest_site_name"])
        rows["access_beyond_threshold"] = rows["access_distance_km"] > thr
    else:
        head.append(("Access: columns", "per-LSOA access figures are on 2011 LSOAs: export the IoD2019 view "
                                        "or the ward table for them"))
    return rows, head


def table_for_view(store: Store, state: ViewState, level: str = "ward", selection: str = "area"):
    """(rows, header lines) for the view; EmptySelection if nothing is selected. With the
    access layer on, its figures are columns of the table (and stated in the header)."""
    if level not in LEVELS:
        raise UsageError(f"unknown level {level!r}; valid: {', '.join(LEVELS)}")
    cfg = priority_config(store)
    membership = priority_membership(store, state, cfg)
    rows = ward_rows(store, state, membership) if level == "ward" else lsoa_rows(store, state, membership)
    rows = select(rows, level, selection, state, store)
    header = header_block(store, state, level, selection, len(rows), membership, cfg)
    acc = access_for_view(store, state)
    if acc is not None:
        rows, extra = add_access(rows.copy(), level, store, state, acc)
        at = next((i for i, (k, _) in enumerate(header) if k == "Sources"), len(header))
        header = header[:at] + extra + header[at:]
    return rows, header


def geo_layers(store: Store, state: ViewState, selection: str = "area") -> dict:
    """{layer name: GeoDataFrame in EPSG:4326} for the view; EmptySelection if nothing."""
    import geopandas as gpd
    cfg = priority_config(store)
    membership = priority_membership(store, state, cfg)
    wards = select(ward_rows(store, state, membership), "ward", selection, state, store)
    acc = access_for_view(store, state)
    if acc is not None:
        wards = add_access(wards.copy(), "ward", store, state, acc)[0]
    wgeo = store.wards24[["wd24cd", "geometry"]]
    wards_g = gpd.GeoDataFrame(wards.merge(wgeo, on="wd24cd", how="left"), geometry="geometry", crs=CRS)
    lsoa = lsoa_rows(store, state, membership)
    if acc is not None:
        lsoa = add_access(lsoa, "lsoa", store, state, acc)[0]
    if selection != "area":
        lsoa = lsoa[lsoa["wd24cd"].isin(wards["wd24cd"])]
    # polygons of the vintage's own LSOAs: 2011 for IoD2019, 2021 for IoD2025 (the footprint
    # views hold every 2021 polygon; the bare LSC store only those whose code is unchanged)
    if state.get("vintage") == 2025:
        l25 = store.lsoa25
        has = l25.geometry.notna() & ~l25.geometry.is_empty
        poly = l25.loc[has, ["lsoa21cd", "geometry"]].rename(columns={"lsoa21cd": "lsoa_code"})
    else:
        poly = store.lsoa[["lsoa11cd", "geometry"]].rename(columns={"lsoa11cd": "lsoa_code"})
    lsoa_g = gpd.GeoDataFrame(lsoa.merge(poly, on="lsoa_code", how="inner"), geometry="geometry", crs=CRS)
    dec = f"{state.get('measure')}_local_decile" if state.get('deciles') == "local" else f"{state.get('measure')}_decile"
    lsoa_g["decile"] = pd.to_numeric(lsoa_g.get(dec), errors="coerce").astype("Int64")
    out = {"lsoa_deprivation": lsoa_g, "wards": wards_g}
    pw = wards_g[wards_g["priority"].astype(bool)]
    if len(pw):
        pw = pw.assign(priority_kind=[membership[c][0] for c in pw["wd24cd"]])
        out["priority_wards"] = pw
    if state.area_kind != "icb" and state.area_code:
        if state.area_kind == "district":
            a = store.districts[store.districts["lad19cd"] == state.area_code][["lad19cd", "lad19nm", "geometry"]]
        elif state.area_kind == "custom":
            a = _in_area(store.lsoa25, state)
        else:
            t = store.table(state.area_kind)
            a = t[t["code"] == state.area_code]
        out["area"] = gpd.GeoDataFrame(pd.DataFrame({"name": [area_name(state, store)]}),
                                       geometry=[a.geometry.union_all()], crs=CRS)
    for k, g in out.items():
        for c in g.columns:
            if c != "geometry" and (g[c].dtype == object):
                g[c] = g[c].map(lambda v: neutralise_cell(v) if isinstance(v, str) else v)
    return out


def write_gpkg(store: Store, state: ViewState, path, selection: str = "area", palette=None) -> dict[str, int]:
    """GeoPackage of the view's layers with QGIS default styles; returns rows per layer."""
    import pyogrio
    layers = geo_layers(store, state, selection)
    pal = list(palette or DEFAULT_PALETTE)
    with atomic_path(path, suffix=".gpkg", create=False) as tmp:   # GDAL creates the file itself
        for name, g in layers.items():
            pyogrio.write_dataframe(g, tmp, layer=name, driver="GPKG", append=False)
        kind = "local" if state.get("deciles") == "local" else "national"
        cats = [(d, f"{d}" + (" most deprived" if d == 1 else " least deprived" if d == 10 else ""),
                 pal[d - 1], "#ffffff", 0.1, False) for d in range(1, 11)]
        styles = {
            "lsoa_deprivation": (f"IoD{state.get('vintage')} {state.get('measure')} {kind} decile",
                                 qml_categorised("decile", cats)),
            "wards": ("Ward outlines", qml_single("#2b2b2b", 0.3)),
            "area": ("Area outline", qml_single("#000000", 0.8)),
            "priority_wards": ("Priority wards", qml_categorised("priority_kind", [
                ("icb", "ICB list", None, "#c51b7d", 1.2, False),
                ("exemplar", "Exemplar", None, "#c51b7d", 0.9, True),
                ("candidate", "Derived candidate", None, "#111111", 0.7, True)], alpha=1.0)),
        }
        _add_styles(Path(tmp), {k: v for k, v in styles.items() if k in layers})
    return {k: len(v) for k, v in layers.items()}


# ---------------------------------------------------------------- ward profile
def ward_profile(store: Store, code: str, vintage: int = 2019, membership: dict | None = None) -> dict:
    """Everything the one-page ward profile shows (mirrors the app's ward panel)."""
    from geo.report import build_table
    w = store.wards24
    row = w[w["wd24cd"] == code]
    if row.empty:
        raise EmptySelection(f"Nothing to export: {code} is not a May 2024 LSC ward.")
    r = row.iloc[0]
    lsoa = store.lsoa if vintage == 2019 else store.lsoa25
    pop = "pop2015" if vintage == 2019 else "pop2021"
    ccol, ncol = ("lsoa11cd", "lsoa11nm") if vintage == 2019 else ("lsoa21cd", "lsoa21nm")
    mine = pd.DataFrame(lsoa[lsoa["wd24cd"] == code].drop(columns="geometry", errors="ignore"))
    counts = mine.groupby("imd_decile").agg(n=("imd_decile", "size"), pop=(pop, "sum"))
    deciles = [{"decile": d, "n": int(counts["n"].get(d, 0)), "population": float(counts["pop"].get(d, 0.0))}
               for d in range(1, 11)]
    wt = ward_table(store, vintage)
    places = build_table(store, "place", vintage=vintage, grouping="place5")
    icb = build_table(store, "icb", vintage=vintage)
    base = getattr(store, "base", store)        # England-wide tables live in the store itself
    eng = (build_table(base, "england", scope="england", vintage=vintage)
           if vintage == 2019 or getattr(base, "has_england", False) else pd.DataFrame())
    comp = []
    for label, df in ((f"Ward: {r['wd24nm']}", wt[wt["code"] == code]),
                      (f"Place: {r['place5']}", places[places["code"] == r["place5"]]),
                      (f"ICB: {getattr(store, 'name', 'NHS Lancashire and South Cumbria ICB')}", icb),
                      ("England", eng)):
        x = df.iloc[0] if len(df) else {}
        comp.append({"area": label, **{k: (None if not len(df) or pd.isna(x.get(k)) else float(x.get(k)))
                                       for k in ("population", "imd_score", "pct_core20", "pct_decile1")}})
    lsoas = (mine[[ccol, ncol, "imd_decile", "imd_score", pop]]
             .rename(columns={ccol: "code", ncol: "name", pop: "population"})
             .sort_values("imd_score", ascending=False))
    services, outreach = _profile_services(store, code)
    return {
        "services": services, "outreach": outreach,
        "code": code, "name": r["wd24nm"], "district": r["lad19nm"], "place5": r["place5"],
        "place4": r["place4"], "vintage": vintage, "priority": list((membership or {}).get(code, [])),
        "deciles": deciles, "comparison": comp, "lsoas": lsoas.to_dict("records"),
        "population_basis": "IoD2019 denominator: ONS mid-2015" if vintage == 2019 else "Census 2021",
        "attribution": store.attribution, "built_at": store.manifest.get("built_at", ""),
    }


def _profile_services(store: Store, code: str, as_of=None) -> tuple[list[dict], list[dict]]:
    """The ward's services in or near it and its HARI bus stops (as the app's profile);
    empty lists, not a failure, when the register cannot be read."""
    from geo.access import ward_services, ward_stops
    from geo.saved_services import load_register   # shipped + saved files (user-data store)
    try:
        reg = load_register()
        svc = ward_services(store.wards24, code, reg.records, as_of, config=reg.config)
        stops = ward_stops(store.wards24, code, reg.category("hari_bus"), as_of)
    except (GeoError, OSError, ValueError):
        return [], []
    return json_records(svc), json_records(stops)


def json_records(df: pd.DataFrame) -> list[dict]:
    """Records with NaN as None and numpy scalars as Python values."""
    import json
    return json.loads(df.to_json(orient="records"))
