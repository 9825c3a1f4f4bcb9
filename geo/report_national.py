"""Deprivation summaries for any ICB in England, or England as a whole, on the
England-wide store tables (`geo report --icb ...`, `geo report --scope england
--vintage 2025`).

IoD2025 works on LSOA 2021 (store.lsoa21: ICB/sub-ICB April 2024, ward/LAD May 2024
by the ONS best fits); IoD2019 on LSOA 2011 (store.lsoa11_england: ward Dec 2019, sub-ICB/
ICB July 2022). Population-weighted figures use the population named in
`population_basis`: for IoD2025 that is Census 2021 usual residents, NOT MHCLG's own
denominators (which are not published with the LSOA file), so a population-weighted
average score differs a little from MHCLG's published one; the `published_*` columns
and `imd_score_vs_published` show by how much. Unweighted measures (proportion of LSOAs
in the most deprived 10% nationally) reproduce MHCLG exactly.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from geo.deprivation import rank_within, summarise
from geo.errors import UsageError
from geo.store import MEASURES

# by -> (code column, name column) per IoD vintage
GROUP_COLS = {
    2025: {"lsoa": ("lsoa21cd", "lsoa21nm"), "ward": ("wd24cd", "wd24nm"), "district": ("lad24cd", "lad24nm"),
           "place": ("sicbl24cd", "sicbl24nm"), "subicb": ("sicbl24cd", "sicbl24nm"), "icb": ("icb24cd", "icb24nm"),
           "england": (None, None)},
    2019: {"lsoa": ("lsoa11cd", "lsoa11nm"), "ward": ("wd19cd", "wd19nm"), "district": ("lad19cd", "lad19nm"),
           "place": ("sicbl22cd", "sicbl22nm"), "subicb": ("sicbl22cd", "sicbl22nm"), "icb": ("icb22cd", "icb22nm"),
           "england": (None, None)},
}
# extra descriptive columns carried onto the rows of each --by
EXTRA = {
    2025: {"lsoa": ["imd_rank", "imd_decile", "wd24cd", "wd24nm", "lad24cd", "lad24nm", "sicbl24cdh", "icb24cd"],
           "ward": ["lad24cd", "lad24nm", "icb24cd"], "district": [], "place": ["sicbl24cdh", "icb24cd"],
           "subicb": ["sicbl24cdh", "icb24cd"], "icb": ["icb24cdh"], "england": []},
    2019: {"lsoa": ["imd_rank", "imd_decile", "wd19cd", "wd19nm", "lad19cd", "lad19nm", "sicbl22cdh", "icb22cd"],
           "ward": ["lad19cd", "lad19nm", "icb22cd"], "district": [], "place": ["sicbl22cdh", "icb22cd"],
           "subicb": ["sicbl22cdh", "icb22cd"], "icb": ["icb22cdh"], "england": []},
}
PROP_COL = "imd_proportion_of_lso_as_in_most_deprived_10_percent_nationally"
LEAD = ["code", "name", "population", "imd_score", "pct_core20", "core20_population", "pct_lsoas_most_deprived_10"]


def _frame(store, icb, vintage: int) -> tuple[pd.DataFrame, object]:
    from geo.icb import ENGLAND, lsoas, resolve_icb
    area = ENGLAND if icb is None else resolve_icb(icb, store)
    df = lsoas(store, area, vintage)
    return pd.DataFrame(df.drop(columns="geometry")), area


def national_table(store, by: str, *, icb=None, vintage: int = 2025, population: str | None = None,
                   ward_vintage: int | None = None, measures=tuple(MEASURES)) -> pd.DataFrame:
    """One row per area of `by` within the ICB (or England when icb is None)."""
    from geo.report import DEFAULT_POP, POPULATIONS
    if vintage not in GROUP_COLS:
        raise UsageError(f"unknown vintage {vintage!r}; valid: 2019, 2025")
    df, area = _frame(store, icb, vintage)
    want = {2025: 2024, 2019: 2019}[vintage]
    if by == "ward" and ward_vintage not in (None, want):
        raise UsageError(f"with --icb/--scope england, IoD{vintage} wards are the {want} wards of the ONS best fit; "
                         f"use --ward-vintage {want}")
    population = population or DEFAULT_POP[vintage]
    if population not in POPULATIONS:
        raise UsageError(f"unknown population {population!r}; valid: {', '.join(POPULATIONS)}")
    pop_col, pop_label = POPULATIONS[population]
    if pop_col not in df.columns:
        valid = [k for k, (c, _) in POPULATIONS.items() if c in df.columns]
        raise UsageError(f"population {population!r} not available for vintage {vintage}; valid: {', '.join(valid)}")
    code_col, name_col = GROUP_COLS[vintage][by]
    t = summarise(df, code_col, pop=pop_col, vintage=vintage, measures=measures)
    t = t.reset_index().rename(columns={t.index.name: "code"})
    if code_col is None:
        t["code"], t["name"] = area.code, area.name
    else:
        first = df.drop_duplicates(code_col).set_index(code_col)
        t["name"] = t["code"].map(first[name_col])
        for c in EXTRA[vintage][by]:
            if c in first.columns:
                t[c] = t["code"].map(first[c])
    if by == "ward" and vintage == 2025:  # the ward's own district (an LSOA may best-fit a ward next door)
        w = pd.DataFrame(store.wards24_england[["wd24cd", "lad24cd", "lad24nm"]]).set_index("wd24cd")
        t["lad24cd"], t["lad24nm"] = t["code"].map(w["lad24cd"]), t["code"].map(w["lad24nm"])
    if by == "ward" and not area.is_england:
        t["imd_rank_in_icb"] = rank_within(t["imd_score"])
    if by == "district" and not area.is_england:
        lad_all = (store.lsoa21 if vintage == 2025 else store.england19).groupby(code_col).size()
        t["whole_district"] = t["n_lsoas"].values == t["code"].map(lad_all).values
    if vintage == 2025:
        _add_published(store, t, by)
    t["population_basis"] = pop_label
    t["vintage"] = f"IoD{vintage}"
    t["area"] = area.name
    lead = LEAD + [c for c in EXTRA[vintage][by] + ["whole_district", "imd_rank_in_icb", "n_lsoas", "avg_rank",
                                                    "pct_decile1", "decile1_population", "extent",
                                                    "local_concentration"] if c in t.columns and c not in LEAD]
    rest = [c for c in t.columns if c not in lead]
    return t[lead + rest].sort_values("code").reset_index(drop=True)


def _add_published(store, t: pd.DataFrame, by: str) -> None:
    """MHCLG's own summaries beside ours, for whole districts and ICBs (IoD2025)."""
    if by == "district":
        off = store.lad24_official.set_index("lad24cd")
    elif by == "icb":
        off = store.icb_official.set_index("icb24cd")
    else:
        return
    ok = t["whole_district"].to_numpy(bool) if "whole_district" in t.columns else np.ones(len(t), dtype=bool)
    pub = t["code"].map(off["imd_average_score"]).where(ok)
    t["published_imd_average_score"] = pub
    t["imd_score_vs_published"] = t["imd_score"] - pub
    t["published_imd_average_rank"] = t["code"].map(off["imd_average_rank"]).where(ok)
    t["published_prop_most_deprived_10"] = t["code"].map(off[PROP_COL]).where(ok)


def published_note(t: pd.DataFrame) -> str:
    """One line: how far the Census-2021-weighted scores are from MHCLG's published ones,
    and whether the unweighted proportion reproduces MHCLG at its 4 dp."""
    d = t["imd_score_vs_published"].dropna()
    prop = (t["imd_prop_most_deprived_10"] - t["published_prop_most_deprived_10"]).abs().dropna()
    worst = t.loc[d.abs().idxmax()]
    return (f"note: population-weighted IMD scores use {t['population_basis'].iloc[0]}; MHCLG's published average "
            f"score uses its own denominators: difference over {len(d)} areas mean {d.abs().mean():.3f}, max "
            f"{d.abs().max():.3f} ({worst['name']}); proportion of LSOAs in the most deprived 10% nationally "
            f"matches MHCLG to 4 dp for {int((prop <= 0.00005).sum())} of {len(prop)}")
