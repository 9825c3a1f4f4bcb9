"""Ward profile: each indicator for one ward with CI-based comparisons."""
from __future__ import annotations

import math
import pandas as pd
from geo.errors import SourceError, UsageError


# ----------------------------------------------------------------------------- ward profile

def compare_to(value, lower, upper, comp, polarity) -> str:
    """'worse/better/similar than the comparator' from the 95% CI (no CI: not tested)."""
    if comp is None or value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if lower is None or upper is None or any(isinstance(x, float) and math.isnan(x) for x in (lower, upper)):
        return "no CI: not tested"
    if lower > comp:
        side = "higher"
    elif upper < comp:
        side = "lower"
    else:
        return "similar (95% CI includes it)"
    if polarity == "higher_is_worse":
        return f"{side} = worse"
    if polarity == "higher_is_better":
        return f"{side} = {'better' if side == 'higher' else 'worse'}"
    return side


def ward_profile_rows(datasets, wd24cd: str, store) -> pd.DataFrame:
    """One row per indicator for a May-2024 ward: the ward's own value where the data are
    on May-2024 ward codes, else its district's value (labelled), with 95% CI, LSC and
    England comparators and a CI-based comparison with England."""
    w = store.wards24
    hit = w[w["wd24cd"] == wd24cd]
    if hit.empty:
        raise UsageError(f"ward {wd24cd!r} is not a May-2024 LSC ward")
    lad, ladnm = hit["lad19cd"].iloc[0], hit["lad19nm"].iloc[0]
    rows = []
    for d in datasets:
        if d.target == "wd24":
            code, level = wd24cd, "Ward"
        elif d.target == "lad19":
            code, level = lad, f"District: {ladnm}"
        else:
            continue
        for ind in d.indicators():
            # the latest period with a value for THIS area (periods can differ by area)
            pers = d.periods(ind)
            per = next((p for p in reversed(pers) if code in d.values(ind, p).index
                        and d.values(ind, p).loc[code, "status"] == "ok"), pers[-1] if pers else None)
            v = d.values(ind, per)
            meta = d.meta.get(ind, {})
            eng, _ = d.comparator(ind, per, "England")
            lsc, _ = d.comparator(ind, per, "LSC")
            base = {"Indicator": meta.get("label", ind), "Level": level, "Period": per, "Unit": meta.get("unit", ""),
                    "LSC": lsc, "England": eng}
            if code not in v.index or v.loc[code, "status"] != "ok":
                why = ("no value on this May-2024 ward code (the Census used 2022 ward codes; "
                       "boundaries reviewed since)" if d.target == "wd24" and code not in v.index
                       else str(v.loc[code, "status"]) if code in v.index else "no value")
                rows.append({**base, "Value": None, "Lower 95% CI": None, "Upper 95% CI": None,
                             "Compared with LSC": "", "Compared with England": "", "Note": why})
                continue
            r = v.loc[code]
            lo = None if pd.isna(r["lower"]) else float(r["lower"])
            hi = None if pd.isna(r["upper"]) else float(r["upper"])
            rows.append({**base, "Value": float(r["value"]), "Lower 95% CI": lo, "Upper 95% CI": hi,
                         "Compared with LSC": compare_to(float(r["value"]), lo, hi, lsc, meta.get("polarity")),
                         "Compared with England": compare_to(float(r["value"]), lo, hi, eng,
                                                             meta.get("polarity")),
                         "Note": "" if d.target == "wd24" else "district value (no ward-level data)"})
    cols = ["Indicator", "Level", "Period", "Value", "Lower 95% CI", "Upper 95% CI", "LSC", "England",
            "Compared with LSC", "Compared with England", "Unit", "Note"]
    return pd.DataFrame(rows, columns=cols)
