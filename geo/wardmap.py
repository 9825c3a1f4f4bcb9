"""Dec-2019 wards -> May-2024 wards, weighted by where people live (Census 2021).

Ward codes changed in many districts between 2019 and 2024, and neither vintage nests in
the other. ONS publishes best-fit lookups for LSOA 2011 -> WD19 and LSOA 2021 -> WD24 and
the all-pairs LSOA 2011 -> LSOA 2021 table; chaining them gives, for every 2019 ward, the
2024 ward(s) its residents' LSOAs fall in:

    WD19 <- LSOA11 (best fit) -> LSOA21 (all pairs, CHGIND U/S/M/X) -> WD24 (best fit)

A split 2011 LSOA (S) passes each of its 2021 parts whole; a merged (M) or irregular (X)
2021 LSOA has several 2011 parents, and its Census 2021 population is divided among them
in proportion to their mid-2015 (IoD2019) population (equally when that is zero). The
result is approximate twice over (two best fits); it says where a listed 2019 ward's
people are on today's ward map, not that the boundaries match.
"""
from __future__ import annotations

import numpy as np
import pandas as pd


def pair_weights(pairs: pd.DataFrame, pop11: pd.Series) -> pd.Series:
    """Share of each 2021 LSOA's population attributed to each of its 2011 parents."""
    p = pairs["lsoa11cd"].map(pop11).fillna(0).astype("float64")
    tot = p.groupby(pairs["lsoa21cd"]).transform("sum")
    n = pairs.groupby("lsoa21cd")["lsoa11cd"].transform("size").astype("float64")
    return pd.Series(np.where(tot > 0, p / tot.where(tot > 0, 1), 1.0 / n), index=pairs.index)


def ward19_to_ward24(l11: pd.DataFrame, pairs: pd.DataFrame, l21: pd.DataFrame) -> pd.DataFrame:
    """l11: lsoa11cd, wd19cd, wd19nm, pop2015; pairs: lsoa11cd, lsoa21cd (, chgind);
    l21: lsoa21cd, pop2021, wd24cd, wd24nm, icb24cd.
    Returns one row per (wd19cd, wd24cd): wd19cd, wd19nm, wd24cd, wd24nm, icb24cd,
    pop2021 (people attributed), share (of the 2019 ward's attributed people, 0-1),
    n_lsoa21 (2021 LSOAs contributing), sorted by wd19cd then share descending."""
    pr = pairs[["lsoa11cd", "lsoa21cd"]].copy()
    pr["w"] = pair_weights(pr, l11.set_index("lsoa11cd")["pop2015"]).values
    pr = pr.merge(l11[["lsoa11cd", "wd19cd", "wd19nm"]], on="lsoa11cd", how="inner")
    pr = pr.merge(l21[["lsoa21cd", "pop2021", "wd24cd", "wd24nm", "icb24cd"]], on="lsoa21cd", how="inner")
    pr["pop"] = pr["w"] * pr["pop2021"].astype("float64")
    g = pr.groupby(["wd19cd", "wd24cd"], sort=False).agg(
        wd19nm=("wd19nm", "first"), wd24nm=("wd24nm", "first"), icb24cd=("icb24cd", "first"),
        pop2021=("pop", "sum"), n_lsoa21=("lsoa21cd", "nunique")).reset_index()
    tot = g.groupby("wd19cd")["pop2021"].transform("sum")
    g["share"] = np.where(tot > 0, g["pop2021"] / tot.where(tot > 0, 1), 0.0)
    g = g.sort_values(["wd19cd", "share", "wd24cd"], ascending=[True, False, True]).reset_index(drop=True)
    return g[["wd19cd", "wd19nm", "wd24cd", "wd24nm", "icb24cd", "pop2021", "share", "n_lsoa21"]]
