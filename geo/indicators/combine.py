"""Aggregating matched values to coarser areas and cross-views by IMD decile."""
from __future__ import annotations

import numpy as np
import pandas as pd
from geo.errors import SourceError, UsageError

from geo.indicators.match import _finish
from geo.indicators.model import IndicatorData
from geo.indicators.refs import reference
from geo.indicators.vocab import BY_LEVELS, FAMILY_LABEL, FAMILY_LEVEL, VINTAGES


# ----------------------------------------------------------------------------- aggregation

def _pooled_scale(g: pd.DataFrame) -> float | None:
    """If value == count/denominator * s for every row (within 0.5%), return s."""
    ok = g["value"].notna() & g["count"].notna() & g["denominator"].notna() & (g["denominator"] > 0)
    if not ok.all() or not len(g):
        return None
    crude = g["count"] / g["denominator"]
    if (crude <= 0).any():
        return None
    s = (g["value"] / crude).median()
    for cand in (1, 100, 1000, 10000, 100000):
        if abs(s - cand) / cand < 0.005:
            s = cand
            break
    rel = ((crude * s) - g["value"]).abs() / g["value"].abs().clip(lower=1e-9)
    return float(s) if (rel < 0.005).all() else None


def area_frame(store, level: str, ward_vintage: str = "wd24") -> pd.DataFrame:
    """Per-area population, IMD score and Core20 share from geo.report.build_table
    (IoD2019, best-fit LSOAs), indexed by code."""
    from geo.report import build_table
    if level in ("lsoa", "lsoa11"):
        l = pd.DataFrame(store.lsoa.drop(columns="geometry"))
        return pd.DataFrame({"name": l.lsoa11nm.values, "population": l.pop2015.values,
                             "imd_score": l.imd_score.values, "imd_decile": l.imd_decile.values,
                             "core20_share": (l.imd_decile <= 2).astype(float).values,
                             "lad19cd": l.lad19cd.values}, index=l.lsoa11cd.values)
    kw = {}
    if level in ("wd19", "wd24"):
        by, kw["ward_vintage"] = "ward", (2019 if level == "wd19" else 2024)
    elif level == "lad19":
        by = "district"
    elif level in ("place5", "place4"):
        by, kw["grouping"] = "place", level
    elif level == "sicbl22":
        by = "subicb"
    else:
        raise UsageError(f"no area table for {level}")
    t = build_table(store, by, **kw).set_index("code")
    out = pd.DataFrame({"name": t["name"], "population": t["population"], "imd_score": t["imd_score"],
                        "core20_share": t["pct_core20"] / 100.0})
    if level == "sicbl22":  # build_table codes sub-ICBs by ODS code (00Q)
        m = dict(zip(store.subicb.subicb_code, store.subicb.sicbl22cd))
        out.index = [m.get(c, c) for c in out.index]
    return out


def aggregate(data: IndicatorData, by: str, store, ward_vintage: str | None = None) -> IndicatorData:
    """Aggregate a matched table to a coarser level (--by). Pooled count/denominator where
    the values are crude rates of them; otherwise population-weighted mean of the area
    values (flagged approximate). An area gets a value only when all its parts have one."""
    if by not in BY_LEVELS:
        raise UsageError(f"unknown --by {by!r}; valid: {', '.join(BY_LEVELS)}")
    fam = data.family
    if fam is None:
        return data
    src_level = FAMILY_LEVEL.get(fam, 9)
    if fam not in ("lsoa", "ward", "district", "place"):
        raise UsageError(f"{FAMILY_LABEL.get(fam, fam)} values cannot be shown by {by}: sub-ICB areas do not nest "
                         f"in wards/districts/places (omit --by)")
    if BY_LEVELS[by] < src_level:
        valid = [b for b, lv in BY_LEVELS.items() if lv >= src_level]
        raise UsageError(f"cannot show {FAMILY_LABEL[fam]} values by {by}: values can only be combined into larger "
                         f"areas, not split; valid --by for this file: {', '.join(valid)}")
    if BY_LEVELS[by] == src_level:
        return data
    src = data.target
    tgt = {"ward": {"2019": "wd19", "2024": "wd24", None: "wd24"}.get(str(ward_vintage) if ward_vintage else None,
                                                                       "wd24"),
           "district": "lad19", "place": "place5"}[by]
    lsoa = pd.DataFrame(store.lsoa.drop(columns="geometry")).set_index("lsoa11cd")
    if src == "lsoa11":
        col = {"wd19": "wd19cd", "wd24": "wd24cd", "lad19": "lad19cd", "place5": "place5"}[tgt]
        parent = lsoa[col]
        pop = lsoa["pop2015"]
        members = lsoa.groupby(col).size()
    else:
        ref = reference(store)
        af = area_frame(store, src)
        if src in ("wd19", "wd24"):
            lad = pd.Series(ref.ward_district[src])
            parent = lad if tgt == "lad19" else lad.map(ref.district_place["place5"])
        elif src == "lad19":
            parent = pd.Series(ref.district_place["place5"])
        else:
            raise UsageError(f"cannot aggregate {src} areas by {by}")
        pop = af["population"].reindex(parent.index)
        members = parent.groupby(parent).size()
    tnames = reference(store).names[tgt]
    recs = []
    t = data.table
    for (ind, per), g in t.groupby(["indicator", "period"], sort=False):
        g = g.drop_duplicates("code").set_index("code")
        g = g.assign(parent=parent.reindex(g.index).values, pop=pop.reindex(g.index).values)
        scale = _pooled_scale(g[g.status == "ok"])
        for pcode, n_members in members.items():
            sub = g[g.parent == pcode]
            okm = sub[sub.status == "ok"]
            rec = {"code": pcode, "name": tnames.get(pcode, pcode), "geography": tgt, "indicator": ind,
                   "label": g["label"].iloc[0], "period": per, "sex": "", "age": "", "source_code": "",
                   "source_name": "", "mapped_via": "", "row": 0, "lower": np.nan, "upper": np.nan,
                   "count": np.nan, "denominator": np.nan}
            if len(okm) < n_members:
                rec.update(value=np.nan, status="suppressed" if (sub.status == "suppressed").any() else "missing",
                           note=f"incomplete: {len(okm)} of {n_members} {FAMILY_LABEL[fam]} areas have a value")
            elif scale is not None:
                rec.update(value=okm["count"].sum() / okm["denominator"].sum() * scale, count=okm["count"].sum(),
                           denominator=okm["denominator"].sum(), status="ok",
                           note=f"pooled count/denominator of {len(okm)} {FAMILY_LABEL[fam]} areas")
            else:
                w = okm["pop"].fillna(0)
                if w.sum() <= 0:
                    rec.update(value=np.nan, status="missing", note="no population to weight by")
                else:
                    rec.update(value=float((okm["value"] * w).sum() / w.sum()), status="ok",
                               note=f"approximate: population-weighted mean of {len(okm)} "
                                    f"{FAMILY_LABEL[fam]} values")
            recs.append(rec)
    out = pd.DataFrame(recs)
    rep = data.report
    rep.notes.append(f"aggregated from {VINTAGES[src][1]} to {VINTAGES[tgt][1]}"
                     + (" (LSOA best-fit lookups, mid-2015 population weights)" if src == "lsoa11" else
                        " (population weights: IoD2019 mid-2015, best-fit LSOAs)"))
    kept = (rep.matched_rows, rep.matched_codes)
    res = _finish(out, [], rep, {"ward": "ward", "district": "district", "place": "place"}[by], tgt, None)
    rep.matched_rows = kept[0]
    rep.n_target_areas = len(tnames)
    rep.matched_codes = int(out.loc[out.status == "ok", "code"].nunique()) if len(out) else 0
    rep.notes.append(f"{rep.matched_codes} of {len(tnames)} {VINTAGES[tgt][1]} areas have a complete value")
    res.comparators = data.comparators
    res.meta = {k: dict(v) for k, v in data.meta.items()}
    res.dataset, res.source = data.dataset, data.source
    return res


# ----------------------------------------------------------------------------- cross-views

def imd_decile_cuts(store) -> pd.Series:
    """Lowest IMD 2019 score in each national decile (all 32,844 England LSOAs)."""
    return store.england19.groupby("imd_decile")["imd_score"].min().sort_index()


def by_imd_decile(data: IndicatorData, indicator: str, period: str | None, store, *, af: pd.DataFrame | None = None,
                  cuts: pd.Series | None = None) -> pd.DataFrame:
    """Indicator by national IMD 2019 decile: for LSOAs their own decile; for larger
    areas the national LSOA decile their population-weighted IMD score falls in
    (cut-offs from all 32,844 England LSOAs). Value = pooled count/denominator where
    possible, else population-weighted mean."""
    v = data.values(indicator, period)
    v = v[v.status == "ok"]
    af = area_frame(store, data.target) if af is None else af
    if data.target == "lsoa11":
        dec = af["imd_decile"]
    else:
        cuts = imd_decile_cuts(store) if cuts is None else cuts   # decile 1 = highest scores
        score = af["imd_score"]
        dec = pd.Series(np.nan, index=af.index)
        for d in range(10, 0, -1):  # ascending thresholds: decile 10 lowest scores
            dec[score >= cuts.get(d, np.inf)] = d
    df = pd.DataFrame({"value": v["value"], "count": v["count"], "denominator": v["denominator"]})
    df["decile"] = dec.reindex(df.index).values
    df["pop"] = af["population"].reindex(df.index).values
    df = df[df.decile.notna()]
    scale = _pooled_scale(v.assign(value=v["value"]))
    rows = []
    for d in range(1, 11):
        g = df[df.decile == d]
        if not len(g):
            rows.append({"imd_decile": d, "n_areas": 0, "value": np.nan, "method": ""})
            continue
        if scale is not None:
            val, how = g["count"].sum() / g["denominator"].sum() * scale, "pooled"
        elif g["pop"].fillna(0).sum() > 0:
            val, how = float((g["value"] * g["pop"].fillna(0)).sum() / g["pop"].fillna(0).sum()), "pop-weighted mean"
        else:
            val, how = float(g["value"].mean()), "mean"
        rows.append({"imd_decile": d, "n_areas": int(len(g)), "value": val, "method": how})
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------------- output

def output_table(data: IndicatorData) -> pd.DataFrame:
    cols = ["code", "name", "geography", "indicator", "label", "period", "value", "lower", "upper", "count",
            "denominator", "status", "mapped_via", "source_code", "row", "note"]
    return data.table[cols]
