"""Deprivation summary measures for any grouping of LSOAs.

Definitions follow the MHCLG English Indices of Deprivation technical report
(local-authority summary measures), computed here for any grouping (ward, district,
place, sub-ICB, ICB, England):

- population-weighted average score: sum(score x pop) / sum(pop). MHCLG weights the
  Employment domain by the working-age denominator; all other measures by total pop.
- average rank: population-weighted average of the national LSOA ranks. As MHCLG
  publishes it, ranks are reversed first (N + 1 - rank), so a HIGHER average rank means
  MORE deprived (checked against the IoD2025 LAD summaries).
- proportion of LSOAs in the most deprived 10% nationally: unweighted count share.
- extent: population share living in the most deprived 30% of LSOAs nationally, with
  weight 1 for national percentiles 1-10 and a linear sliding weight from 0.95
  (percentile 11) to 0.05 (percentile 30); percentile = ceil(100 x rank / N).
  With IoD2019 mid-2015 denominators this reproduces File 10 to its 4 dp.
- local concentration: population-weighted average rank of the group's most deprived
  LSOAs that together hold exactly 10% of the group's population (the last LSOA counted
  in part); reported on the same reversed scale as average rank (higher = more deprived).
- Core20: people in LSOAs in national IMD deciles 1-2 (never local deciles).
"""
from __future__ import annotations

import numpy as np
import pandas as pd


N_LSOA = {2019: 32844, 2025: 33755}  # LSOAs in England per IoD vintage


def extent_weight(rank, n_lsoa: int):
    """MHCLG extent weight for national rank(s) (1 = most deprived)."""
    pct = np.ceil(np.asarray(rank, dtype="float64") * 100.0 / n_lsoa)
    return np.where(pct <= 10, 1.0, np.where(pct <= 30, 0.95 - (pct - 11) * 0.9 / 19, 0.0))


def _local_concentration(rank: np.ndarray, pop: np.ndarray) -> float:
    if len(rank) == 0 or pop.sum() <= 0:
        return float("nan")
    order = np.argsort(rank, kind="stable")
    r, p = rank[order].astype("float64"), pop[order].astype("float64")
    target = 0.10 * p.sum()
    before = np.concatenate([[0.0], np.cumsum(p)[:-1]])
    take = np.clip(target - before, 0, p)
    return float((r * take).sum() / take.sum())


def _local_concentration_by(g: pd.Series, rank: pd.Series, pop: pd.Series) -> pd.Series:
    """Vectorised _local_concentration for every group at once."""
    f = pd.DataFrame({"g": g.values, "r": rank.astype("float64").values, "p": pop.astype("float64").values})
    f = f.sort_values(["g", "r"], kind="stable")
    cum = f.groupby("g", sort=False)["p"].cumsum()
    target = 0.10 * f.groupby("g", sort=False)["p"].transform("sum")
    take = (target - (cum - f["p"])).clip(lower=0).clip(upper=f["p"])
    num = (f["r"] * take).groupby(f["g"]).sum()
    return num / take.groupby(f["g"]).sum()


def summarise(df: pd.DataFrame, by: str | None, *, pop: str = "pop2015", vintage: int = 2019,
              measures=("imd",), working_age_pop: str | None = "pop2015_working_age",
              n_lsoa: int | None = None) -> pd.DataFrame:
    """One row per group of `by` (or one row for all when by is None), indexed by group.

    Columns: n_lsoas, population, and for each measure m:
      m_score (where LSOA scores exist), m_avg_rank, m_prop_most_deprived_10,
    for IMD also: pct_core20, core20_population, pct_decile1, decile1_population,
      pct_lsoas_most_deprived_10 (0-100), extent, local_concentration, imd_score.
    """
    n_lsoa = n_lsoa or N_LSOA[vintage]
    d = pd.DataFrame(df.drop(columns="geometry", errors="ignore"))
    key = d[by] if by else pd.Series("all", index=d.index)
    d = d.assign(_g=key.values, _pop=d[pop].astype("float64"))
    if d["_pop"].isna().any():
        raise ValueError(f"{int(d['_pop'].isna().sum())} LSOAs have no '{pop}' population")
    d = d[d["_g"].notna()]
    cols = {"n_lsoas": d.groupby("_g").size(), "population": d.groupby("_g")["_pop"].sum()}
    popsum = cols["population"]
    for m in measures:
        if f"{m}_rank" not in d.columns:
            continue
        wpop = "_pop"
        if m == "employment" and working_age_pop and working_age_pop in d.columns:
            wpop = working_age_pop
        wsum = d.groupby("_g")[wpop].sum().astype("float64")
        if f"{m}_score" in d.columns and d[f"{m}_score"].notna().all():
            cols[f"{m}_score"] = (d[f"{m}_score"] * d[wpop]).groupby(d["_g"]).sum() / wsum
        cols[f"{m}_avg_rank"] = n_lsoa + 1 - (d[f"{m}_rank"] * d["_pop"]).groupby(d["_g"]).sum() / popsum
        cols[f"{m}_prop_most_deprived_10"] = (d[f"{m}_decile"] == 1).groupby(d["_g"]).mean()
        if m == "imd":
            d1 = d["_pop"].where(d["imd_decile"] == 1, 0.0)
            c20 = d["_pop"].where(d["imd_decile"] <= 2, 0.0)
            cols["decile1_population"] = d1.groupby(d["_g"]).sum()
            cols["core20_population"] = c20.groupby(d["_g"]).sum()
            cols["pct_decile1"] = 100 * cols["decile1_population"] / popsum
            cols["pct_core20"] = 100 * cols["core20_population"] / popsum
            cols["pct_lsoas_most_deprived_10"] = 100 * cols["imd_prop_most_deprived_10"]
            ew = extent_weight(d["imd_rank"], n_lsoa) * d["_pop"]
            cols["extent"] = ew.groupby(d["_g"]).sum() / popsum
            cols["local_concentration"] = n_lsoa + 1 - _local_concentration_by(d["_g"], d["imd_rank"], d["_pop"])
    out = pd.DataFrame(cols)
    if "imd_avg_rank" in out:
        out["avg_rank"] = out["imd_avg_rank"]
    out.index.name = by or "group"
    return out


def rank_within(values: pd.Series, *, most_deprived_first=True) -> pd.Series:
    """Rank 1..n within a set (1 = most deprived = highest score), ties share the lowest rank."""
    return values.rank(ascending=not most_deprived_first, method="min").astype("Int64")
