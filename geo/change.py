"""Change since IoD2019, per LSOA 2021.

IoD2019 is on 2011 LSOAs and IoD2025 on 2021 LSOAs. The ONS LSOA 2011 -> 2021 lookup
(store.lsoa11_lsoa21, all pairs) says how each 2021 LSOA came about (CHGIND):

  U  unchanged: the same area, so the two deciles compare directly;
  S  split: a 2011 LSOA was divided; each 2021 part takes its parent's 2019 values;
  M  merged: several 2011 LSOAs became one; the 2019 values are population-weighted
     means of the parents (mid-2015 IoD2019 denominators);
  X  irregular (boundaries redrawn): as M, with each parent's population shared equally
     among the 2021 LSOAs it touches.

Deciles are relative positions among all LSOAs in England in each edition, not absolute
levels: a move from decile 2 to 3 means the area ranks less deprived relative to others,
not that deprivation fell. `comparable` is True only for U; S/M/X carry a `note`.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from geo.arrowops import isin

NOTES = {
    "U": "",
    "S": "2011 LSOA split in 2021: the 2019 value is its parent's",
    "M": "2011 LSOAs merged in 2021: the 2019 value is a population-weighted mean of the parents",
    "X": "boundaries redrawn in 2021: the 2019 value is a population-weighted mean of the overlapping 2011 LSOAs",
}


def change_table(pairs: pd.DataFrame, iod19: pd.DataFrame, iod25: pd.DataFrame, measure: str = "imd") -> pd.DataFrame:
    """pairs: lsoa11cd, lsoa21cd, chgind; iod19: lsoa11cd, pop2015, {m}_rank, {m}_decile
    (+ {m}_score); iod25: lsoa21cd (+ lsoa21nm), {m}_rank, {m}_decile, {m}_score.
    Returns a frame indexed by lsoa21cd (see change_since_2019)."""
    m = measure
    p = pairs[["lsoa11cd", "lsoa21cd", "chgind"]].reset_index(drop=True)
    p["n21"] = p.groupby("lsoa11cd")["lsoa21cd"].transform("size")  # 2021 LSOAs each 2011 LSOA touches
    p = p[isin(p["lsoa21cd"], iod25["lsoa21cd"])]
    cols19 = ["lsoa11cd", "pop2015", f"{m}_rank", f"{m}_decile"] + ([f"{m}_score"] if f"{m}_score" in iod19 else [])
    p = p.merge(iod19[cols19], on="lsoa11cd", how="left").reset_index(drop=True)
    w = p["pop2015"].astype("float64") / p["n21"]
    tot = w.groupby(p["lsoa21cd"]).transform("sum")
    cnt = p.groupby("lsoa21cd")["lsoa11cd"].transform("size")
    p["w"] = np.where(tot > 0, w / tot.where(tot > 0, 1), 1.0 / cnt)
    g = p.groupby("lsoa21cd", sort=False)
    out = pd.DataFrame({
        "n_lsoa11": g.size(),
        "lsoa11cds": g["lsoa11cd"].agg("; ".join),
        "chgind": g["chgind"].agg(lambda s: s.iloc[0] if s.nunique() == 1 else "X"),
        f"{m}_rank_2019": (p[f"{m}_rank"] * p["w"]).groupby(p["lsoa21cd"]).sum(),
        f"{m}_decile_2019_min": g[f"{m}_decile"].min(),
        f"{m}_decile_2019_max": g[f"{m}_decile"].max(),
    })
    wd = (p[f"{m}_decile"] * p["w"]).groupby(p["lsoa21cd"]).sum()
    out[f"{m}_decile_2019"] = np.where(out[f"{m}_decile_2019_min"] == out[f"{m}_decile_2019_max"],
                                       out[f"{m}_decile_2019_min"], np.floor(wd + 0.5)).astype("int64")
    if f"{m}_score" in p:
        out[f"{m}_score_2019"] = (p[f"{m}_score"] * p["w"]).groupby(p["lsoa21cd"]).sum()
    cur = iod25.set_index("lsoa21cd")
    out = out.reindex(cur.index)
    if "lsoa21nm" in cur:
        out.insert(0, "lsoa21nm", cur["lsoa21nm"])
    out[f"{m}_decile_2025"] = cur[f"{m}_decile"].astype("int64")
    out[f"{m}_rank_2025"] = cur[f"{m}_rank"].astype("int64")
    if f"{m}_score" in cur:
        out[f"{m}_score_2025"] = cur[f"{m}_score"]
    out["decile_change"] = out[f"{m}_decile_2025"] - out[f"{m}_decile_2019"]
    out["direction"] = np.select([out["decile_change"] > 0, out["decile_change"] < 0],
                                 ["relatively less deprived", "relatively more deprived"], "same decile")
    out["comparable"] = out["chgind"].eq("U")
    out["note"] = out["chgind"].map(NOTES).fillna("no 2011 LSOA in the ONS lookup")
    out.index.name = "lsoa21cd"
    return out


def change_since_2019(store, icb=None, measure: str = "imd") -> pd.DataFrame:
    """Per-LSOA-2021 change since IoD2019 for England or one ICB (code/name), keyed by
    lsoa21cd: lsoa21nm, n_lsoa11, lsoa11cds, chgind (U/S/M/X), {m}_rank_2019,
    {m}_decile_2019 (+ _min/_max over the 2011 parents), {m}_score_2019 (IMD, Income,
    Employment only: IoD2019 domain scores for the others are not staged), the same
    for 2025, decile_change (2025 - 2019; positive = relatively less deprived),
    direction, comparable (True for unchanged LSOAs) and note."""
    from geo.icb import ENGLAND, lsoas, resolve_icb
    area = ENGLAND if icb is None else resolve_icb(icb, store)
    l21 = pd.DataFrame(lsoas(store, area, 2025).drop(columns="geometry"))
    return change_table(store.lsoa11_lsoa21, store.england19, l21, measure)
