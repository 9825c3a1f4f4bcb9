"""Matching a long frame to the store's areas: geography, vintage, lookups, duplicates."""
from __future__ import annotations

import math
import re
from pathlib import Path
import numpy as np
import pandas as pd
from geo.errors import SourceError, UsageError

from geo.indicators.config import apply_config
from geo.indicators.model import IndicatorData, Report, TABLE_COLUMNS
from geo.tabular import display_name
from geo.indicators.read import read_bytes, normalise_frame, parse_number, read_table
from geo.indicators.refs import Reference, reference
from geo.indicators.vocab import FAMILY_LABEL, FAMILY_TARGETS, ICB_CODE, VINTAGES, _norm, code_kind


# ----------------------------------------------------------------------------- matching

def _family_of(kind: str) -> str | None:
    if kind in ("lsoa", "ward", "district", "subicb", "icb"):
        return kind
    if kind == "subicb_ods":
        return "subicb"
    return None


def _candidates_for(code, fam, ref: Reference) -> list[str]:
    return [v for v, (f, _) in VINTAGES.items() if f == fam and code in ref.names.get(v, {})]


def _same_name_elsewhere(code, name, ref: Reference) -> str | None:
    if not name:
        return None
    nm = _norm(name)
    for v in ("wd24", "wd19"):
        for c, n in ref.names[v].items():
            if _norm(n) == nm or _norm(re.sub(r"\s*\(.*\)$", "", n)) == nm:
                return f"a {VINTAGES[v][1]} ward of the same name exists ({c} {n})"
    return None


def _unmatched_reason(code, name, kind, fam, target, ref: Reference, main_family) -> str:
    fam = fam if isinstance(fam, str) else None
    name = name if isinstance(name, str) else ""
    if fam is None:
        what = {
            "msoa": "MSOA code: MSOAs are not mapped (no MSOA polygons in the store)",
            "oa": "output-area code: OAs are not mapped",
            "county": "county code: counties are not mapped (use the district rows)",
            "metcounty": "metropolitan county code: not mapped",
            "practice": "GP practice code: practice-level values are not mapped as areas",
            "lsoa_wales": "Welsh LSOA: outside LSC",
            "ward_wales": "Welsh ward: outside LSC",
            "district_wales": "Welsh district: outside LSC",
            "nhsregion": "NHS region code: used only as a comparator",
            "unknown": "not an ONS area code (expected e.g. E01012345, E05001234, E07000117)",
        }
        return what.get(kind, f"{kind} code: not a geography this map draws")
    if main_family and fam != main_family:
        return (f"mixed area types: this row is a {FAMILY_LABEL[fam]}, the file is mostly "
                f"{FAMILY_LABEL[main_family]} rows (put these rows in a file of their own to map them)")
    if code in ref.outside:
        return "outside the LSC footprint: " + ref.outside[code]
    if fam == "lsoa":
        if code in ref.england_lsoa11:
            return "LSOA outside the LSC footprint (an England LSOA 2011 not in the 16 districts)"
        if code in ref.names["lsoa21"]:
            return ("LSOA 2021 code (split or new in 2021) with no 2011 polygon: not the ONS best fit of any "
                    "2011 LSOA, so it is not drawn")
        return "LSOA code not in the LSC footprint (neither LSOA 2011 nor LSOA 2021 of the 16 districts)"
    if fam == "ward":
        other = [v for v in ("wd19", "wd24") if v != target and code in ref.names[v]]
        if other:
            v = other[0]
            return (f"{VINTAGES[v][1]} code: not in the {VINTAGES[target][1]} wards drawn "
                    f"(ward boundaries reviewed in between; no ONS ward-to-ward lookup) — choose ward vintage "
                    f"{'2019' if v == 'wd19' else '2024'} to draw it")
        hint = _same_name_elsewhere(code, name, ref)
        base = ("ward code in neither the Dec-2019 nor the May-2024 ward lists (e.g. a 2020-2023 code replaced by "
                "a later review)")
        if hint:
            return base + f"; {hint}, but no ONS lookup links the codes, so it is not mapped"
        return base + "; not mapped"
    if fam == "district":
        if kind == "district" and code.startswith(("E06", "E07", "E08", "E09")):
            return "district outside the LSC footprint"
    if fam == "subicb":
        return "sub-ICB code not in LSC (expected one of " + ", ".join(sorted(ref.names["sicbl22"])) + ")"
    if fam == "icb":
        return "ICB code other than LSC (E54000048)"
    return "code not found in the store"


def _prepare(long: pd.DataFrame, ref: Reference, report: Report) -> pd.DataFrame:
    """Category breakdown rows out; code kind and family per row; ODS/CCG sub-ICB codes
    mapped to SICBL22 codes (reported)."""
    df = long.copy()
    # category breakdown rows (Fingertips "Category Type" set) are not area values
    cat = (df["category_type"].astype(str).str.strip() != "") | (df["category"].astype(str).str.strip() != "")
    if cat.any():
        report.skipped["category breakdown rows (e.g. by deprivation decile), not area values"] = int(cat.sum())
        df = df[~cat]
    df["kind"] = df["code"].map(code_kind)
    df["family"] = df["kind"].map(_family_of)
    ods = df["kind"].eq("subicb_ods") | (df["kind"].eq("subicb") & ~df["code"].isin(ref.names["sicbl22"].keys()))
    mapped_via = pd.Series("", index=df.index)
    if ods.any():
        newc = df.loc[ods, "code"].map(ref.sicbl_ods)
        ok = newc.notna()
        for c, n in zip(df.loc[ods][ok]["code"], newc[ok]):
            if c != n:
                report.map_code(c, n, "ODS/CCG 2020 code -> sub-ICB location (ONS lookup)")
        mapped_via.loc[newc[ok].index] = "ONS CCG20/ODS -> SICBL22"
        df.loc[newc[ok].index, "source_code_orig"] = df.loc[newc[ok].index, "code"]
        df.loc[newc[ok].index, "code"] = newc[ok]
        df.loc[newc[ok].index, "family"] = "subicb"
    df["mapped_via"] = mapped_via
    return df


def _main_family(df: pd.DataFrame, family: str | None):
    """(main family, its row counts by family, rows that are comparators)."""
    is_eng = df["kind"].eq("england")
    is_reg = df["kind"].isin(["region", "nhsregion"])
    counts = df.loc[df["family"].notna() & ~is_eng & ~is_reg, "family"].value_counts()
    fam_counts = {f: int(n) for f, n in counts.items()}
    main = family or (None if counts.empty else counts.index[0])
    if main == "icb" and len(counts) > 1:
        main = counts.index[1]
    is_icb_comp = df["family"].eq("icb") & df["code"].eq(ICB_CODE) & (main != "icb")
    return main, fam_counts, is_eng | is_reg | is_icb_comp


def _comparators(df: pd.DataFrame, comp_rows: pd.Series) -> list[dict]:
    """England / region / ICB rows and 'england value' / 'region value' columns."""
    comps = []
    for r in df[comp_rows].to_dict("records"):
        v, st = parse_number(r["value_raw"])
        if st == "ok":
            which = "England" if r["kind"] == "england" else ("ICB" if r["family"] == "icb" else "Region")
            nm = r["name"] or which
            comps.append({"indicator": r["indicator"], "period": r["period"], "comparator": which, "value": v,
                          "how": f"{nm} row in the file"})
    for col, which in (("england_value", "England"), ("region_value", "Region")):
        if df[col].astype(str).str.strip().ne("").any():
            g = df[~comp_rows].groupby(["indicator", "period"], sort=False)[col].first()
            for (ind, per), raw in g.items():
                v, st = parse_number(raw)
                if st == "ok":
                    comps.append({"indicator": ind, "period": per, "comparator": which, "value": v,
                                  "how": f"'{which.lower()} value' column in the file"})
    return comps


def _target(df: pd.DataFrame, main: str, ref: Reference, report: Report, ward_vintage) -> str:
    """Vintage detection within the family and the drawn vintage."""
    codes = set(df.loc[df["family"] == main, "code"])
    vm = {v: len(codes & set(ref.names.get(v, {}))) for v, (f, _) in VINTAGES.items() if f == main}
    report.vintage_matches = {VINTAGES[v][1]: n for v, n in vm.items()}
    report.detected = max(vm, key=lambda v: (vm[v], v in FAMILY_TARGETS[main])) if vm else None
    if main != "ward":
        return FAMILY_TARGETS[main][0]
    if ward_vintage:
        target = {"2019": "wd19", "2024": "wd24", "wd19": "wd19", "wd24": "wd24"}.get(str(ward_vintage))
        if target is None:
            raise UsageError(f"unknown ward vintage {ward_vintage!r}; valid: 2019, 2024")
        return target
    return "wd24" if vm.get("wd24", 0) >= vm.get("wd19", 0) else "wd19"


def _matched(df, main, target, ref: Reference, report: Report, use_lookups: bool) -> list:
    """(row, drawn code, mapped via) for every row that is drawn; the rest reported."""
    tnames = ref.names[target]
    out = []
    for r in df.to_dict("records"):
        code, fam = r["code"], r["family"]
        if fam != main:
            report.unmatch(int(r["row"]), code, r["name"],
                           _unmatched_reason(code, r["name"], r["kind"], fam, target, ref, main))
            continue
        if code in tnames:
            out.append((r, code, r["mapped_via"]))
        elif main == "lsoa" and code in ref.lsoa21_to_11 and use_lookups:
            targets = [c for c in ref.lsoa21_to_11[code]]
            for c11 in targets:
                out.append((r, c11, "ONS LSOA11->LSOA21 best fit"))
            report.map_code(code, ", ".join(targets),
                            "ONS LSOA 2011 -> 2021 best-fit lookup (the 2011 polygon shows its 2021 successor's value)")
        else:
            report.unmatch(int(r["row"]), code, r["name"],
                           _unmatched_reason(code, r["name"], r["kind"], fam, target, ref, main))
    return out


def _records(out: list, tnames: dict, target: str, report: Report) -> pd.DataFrame:
    recs = []
    for r, code, via in out:
        soc = r.get("source_code_orig")
        rec = {"code": code, "name": tnames.get(code, ""), "geography": target, "indicator": r["indicator"],
               "label": r["label"], "period": r["period"], "sex": r["sex"], "age": r["age"],
               "source_code": soc if isinstance(soc, str) else r["code"],
               "source_name": r["name"], "mapped_via": via or "", "row": int(r["row"]), "note": r["note"],
               "unit": r["unit"], "source": r["source"]}
        v, st = parse_number(r["value_raw"])
        if st == "invalid":
            report.problem(int(r["row"]), "value", f"non-numeric value {str(r['value_raw'])!r}: drawn as no data")
        if st == "missing" and r["note"] and "suppress" in r["note"].lower():
            st = "suppressed"
        rec["value"], rec["status"] = v, st
        for role in ("lower", "upper", "count", "denominator"):
            x, s2 = parse_number(r[f"{role}_raw"])
            if s2 == "invalid":
                report.problem(int(r["row"]), role, f"non-numeric {role} {str(r[f'{role}_raw'])!r}: ignored")
            rec[role] = x
        recs.append(rec)
    t = pd.DataFrame(recs)
    # indicator identity: split by sex/age when they vary within an indicator
    for dim in ("sex", "age"):
        nun = t.groupby("indicator")[dim].nunique()
        multi = nun[nun > 1].index
        if len(multi):
            m = t["indicator"].isin(multi)
            t.loc[m, "indicator"] = t.loc[m, "indicator"] + " | " + t.loc[m, dim]
            t.loc[m, "label"] = t.loc[m, "label"] + " (" + t.loc[m, dim] + ")"
    return t


def _duplicates(t: pd.DataFrame, report: Report) -> pd.DataFrame:
    """Same indicator/area/period twice (after mapping): same value -> one kept; merged
    2021 best fits or different values -> drawn as no data, every row reported."""
    key = ["indicator", "code", "period"]
    dup = t.duplicated(key, keep=False)
    if dup.any():
        drop = []
        for _, g in t[dup].groupby(key, sort=False):
            mapped_only = g["mapped_via"].str.startswith("ONS LSOA11")
            if mapped_only.all():
                # several 2021 successors best-fit to one 2011 polygon: cannot pick one honestly
                drop.extend(g.index)
                report.unmatch(int(g["row"].iloc[0]), g["code"].iloc[0], g["name"].iloc[0],
                               "several LSOA 2021 rows map to this 2011 polygon (merged in 2021 best fit): "
                               "values not combined, drawn as no data")
                continue
            rows = ", ".join(str(x) for x in g["row"])
            vals = g["value"].tolist()
            same = all((a == b) or (math.isnan(a) and math.isnan(b)) for a, b in zip(vals, vals[1:]))
            if same:
                drop.extend(g.index[1:])
                report.problem(int(g["row"].iloc[1]), None,
                               f"duplicate rows {rows} for {g['code'].iloc[0]} / {g['indicator'].iloc[0]} / "
                               f"{g['period'].iloc[0]} with the same value: kept row {g['row'].iloc[0]}")
            else:
                drop.extend(g.index)
                report.problem(int(g["row"].iloc[0]), "value",
                               f"duplicate rows {rows} for {g['code'].iloc[0]} / {g['indicator'].iloc[0]} / "
                               f"{g['period'].iloc[0]} with different values ({', '.join(f'{v:g}' for v in vals)}): "
                               f"none used, the area is drawn as no data")
                for i in g.index:
                    report.unmatch(int(t.loc[i, "row"]), t.loc[i, "code"], t.loc[i, "source_name"],
                                   "conflicting duplicate row for the same area/indicator/period")
        keep_missing = t.loc[drop].drop_duplicates(key)
        t = t.drop(index=drop)
        # areas whose duplicates conflicted still appear, as invalid (drawn as no data)
        conflicting = keep_missing[~keep_missing.set_index(key).index.isin(t.set_index(key).index)]
        if len(conflicting):
            conflicting = conflicting.assign(value=np.nan, status="invalid", lower=np.nan, upper=np.nan,
                                             note="conflicting duplicate rows")
            t = pd.concat([t, conflicting], ignore_index=True)
    return t


def import_frame(long: pd.DataFrame, ref: Reference, report: Report, *, ward_vintage: str | None = None,
                 family: str | None = None, use_lookups: bool = True) -> IndicatorData:
    """Match a normalised long frame to the store. Returns IndicatorData (table at the
    file's own geography, drawn vintage chosen automatically unless ward_vintage)."""
    report.rows_read = int(long["row"].nunique())
    df = _prepare(long, ref, report)
    main, fam_counts, comp_rows = _main_family(df, family)
    comps = _comparators(df, comp_rows)
    report.comparator_rows = int(comp_rows.sum())
    df = df[~comp_rows]
    if len(fam_counts) > 1:
        others = ", ".join(f"{n} {FAMILY_LABEL.get(f, f)}" for f, n in fam_counts.items() if f != main)
        report.problem(None, None, f"mixed area types: {fam_counts.get(main, 0)} {FAMILY_LABEL.get(main, main)} rows "
                                   f"and {others} rows; mapping the {FAMILY_LABEL.get(main, main)} rows, "
                                   f"the others are listed as unmatched")
    report.family = main
    if main is None:
        for r in df.to_dict("records"):
            report.unmatch(int(r["row"]), r["code"], r["name"],
                           _unmatched_reason(r["code"], r["name"], r["kind"], r["family"], None, ref, None))
        return _finish(pd.DataFrame(columns=TABLE_COLUMNS), comps, report, None, None, ref)
    if main == "icb":
        for r in df.to_dict("records"):
            report.unmatch(int(r["row"]), r["code"], r["name"],
                           "ICB-level value: one area, not mapped as a choropleth (kept as the ICB comparator)")
            v, st = parse_number(r["value_raw"])
            if st == "ok" and r["code"] == ICB_CODE:
                comps.append({"indicator": r["indicator"], "period": r["period"], "comparator": "ICB", "value": v,
                              "how": "ICB row in the file"})
        return _finish(pd.DataFrame(columns=TABLE_COLUMNS), comps, report, main, None, ref)
    target = _target(df, main, ref, report, ward_vintage)
    report.target = target
    report.n_target_areas = len(ref.names[target])
    out = _matched(df, main, target, ref, report, use_lookups)
    if not out:
        return _finish(pd.DataFrame(columns=TABLE_COLUMNS), comps, report, main, target, ref)
    t = _duplicates(_records(out, ref.names[target], target, report), report)
    return _finish(t, comps, report, main, target, ref)


def _finish(t, comps, report, family, target, ref) -> IndicatorData:
    t = t.copy()
    for c in TABLE_COLUMNS:
        if c not in t.columns:
            t[c] = np.nan if c in ("value", "lower", "upper", "count", "denominator") else ""
    extra = [c for c in ("unit", "source") if c in t.columns]
    t = t[TABLE_COLUMNS + extra].reset_index(drop=True)
    report.matched_rows = int(t["row"].nunique()) if len(t) else 0
    report.matched_codes = int(t["code"].nunique()) if len(t) else 0
    report.status_counts = {k: int(v) for k, v in t["status"].value_counts().items()} if len(t) else {}
    cdf = pd.DataFrame(comps, columns=["indicator", "period", "comparator", "value", "how"]).drop_duplicates(
        ["indicator", "period", "comparator"])
    meta = {}
    for ind, g in t.groupby("indicator", sort=False):
        unit = next((u for u in g.get("unit", pd.Series(dtype=str)) if isinstance(u, str) and u), "")
        src = next((u for u in g.get("source", pd.Series(dtype=str)) if isinstance(u, str) and u), "")
        meta[ind] = {"label": g["label"].iloc[0], "unit": unit, "source": src}
    return IndicatorData(t, cdf, meta, report, family, target)


def import_file(path, ref: Reference | None = None, *, ward_vintage: str | None = None, family: str | None = None,
                use_lookups: bool = True, store=None) -> IndicatorData:
    """Read and match one indicator file (CSV/XLSX)."""
    return _import_raw(read_table(path), str(path), Path(path).name, ref, ward_vintage=ward_vintage, family=family,
                       use_lookups=use_lookups, store=store)


def import_bytes(data: bytes, filename: str, ref: Reference | None = None, *, ward_vintage: str | None = None,
                 family: str | None = None, use_lookups: bool = True, store=None) -> IndicatorData:
    """Read and match an uploaded indicator file. Messages name the user's file (never
    a server path); SourceError / UsageError for whole-file problems."""
    name = display_name(filename)
    return _import_raw(read_bytes(data, name), name, name, ref, ward_vintage=ward_vintage, family=family,
                       use_lookups=use_lookups, store=store)


def _import_raw(raw, file: str, name: str, ref, *, ward_vintage, family, use_lookups, store) -> IndicatorData:
    if ref is None:
        ref = reference(store)
    report = Report(file=file)
    if not len(raw):
        raise SourceError(file, "no data rows under the header")
    for p in raw.attrs.get("problems", []):
        report.problem(p.row, p.field or None, p.reason)
    report.notes.extend(n for n in raw.attrs.get("notes", []) if n.startswith(("read sheet", "delimiter", "not valid")))
    try:
        long = normalise_frame(raw, file, report)
        data = import_frame(long, ref, report, ward_vintage=ward_vintage, family=family, use_lookups=use_lookups)
    except (SourceError, UsageError):
        raise
    except (KeyError, ValueError, TypeError, IndexError, AttributeError) as e:   # never a traceback
        raise SourceError(file, f"could not be read as an indicator table ({type(e).__name__})")
    data.dataset = name
    data.source = f"user file {name}"
    apply_config(data)
    return data
