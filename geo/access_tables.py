"""Access figures as people read them: geo.access.summarise() output with readable
headings (display_table) and the metadata lines of an exported access table
(header_lines). geo.access re-exports these names.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from geo.access import AccessResult

CORE20_LABEL = "Core20 = national IMD2019 deciles 1-2"


# --- the table as people read it ----------------------------------------------------

DISPLAY_COLUMNS = {            # summarise() column -> heading; shares stand beside their counts
    "name": "Area", "code": "Code", "population": "Population", "core20_population": "Core20 people",
    "pct_core20": "% Core20", "population_beyond": "People beyond", "pct_beyond": "% beyond",
    "core20_population_beyond": "Core20 people beyond", "core20_pct_beyond": "% of Core20 beyond",
    "mean_distance_km": "Mean distance km (straight-line, pop-weighted)",
    "max_distance_km": "Max distance km (straight-line)", "mean_time_min": "Mean travel time (min)",
    "n_lsoa_without_time": "LSOAs without a time", "n_lsoa": "LSOAs", "note": "Note",
}


COUNT_HEADINGS = ("Population", "Core20 people", "People beyond", "Core20 people beyond")


def display_table(summary: pd.DataFrame, by: str = "ward") -> pd.DataFrame:
    """summarise() output for people: readable headings, % beside each count, the
    largest gaps first (then by name), not code order."""
    t = summary.copy()
    t["pct_core20"] = (100 * t["core20_population"] / t["population"].where(t["population"] > 0)).round(1)
    t = t.sort_values(["population_beyond", "core20_population_beyond", "name"], ascending=[False, False, True],
                      kind="mergesort")
    cols = [c for c in DISPLAY_COLUMNS if c in t.columns]
    out = t[cols].rename(columns=DISPLAY_COLUMNS).reset_index(drop=True)
    out = out.rename(columns={"Area": {"lsoa": "LSOA", "ward": "Ward", "district": "District"}.get(by, "Place")})
    return out


def header_lines(res: AccessResult, *, area: str, by: str, threshold_km=None, threshold_min=None,
                 category_labels: dict | None = None) -> list[tuple[str, str]]:
    """(label, text) metadata for an exported access table: what, where, when, how."""
    labels = category_labels or {}
    thr = (f"{threshold_min:g} minutes (travel-time matrix)" if threshold_min is not None else
           f"{threshold_km:g} km straight-line" if threshold_km is not None else "none")
    lines = [("Table", f"Access gaps by {by}: people living beyond the threshold of the nearest site"),
             ("Area", area), ("Categories", ", ".join(labels.get(c, c) for c in res.categories)),
             ("Threshold", thr), ("Sites open on", res.as_of), ("Sites", str(len(res.sites)))]
    if res.subcategories:
        lines.append(("Screening programmes", ", ".join(res.subcategories)))
    if res.event_window:
        lo, hi = res.event_window
        lines.append(("HARI bus stops dated", lo if lo == hi else f"{lo} to {hi}"))
    lines += [("Distance", "time from the uploaded matrix" if res.metric == "time_min" else
               "straight-line distance from population-weighted LSOA points (not road distance)"),
              ("Population basis", res.population_basis), ("Core20", CORE20_LABEL)]
    lines += [("Note", n) for n in res.notes if "ILLUSTRATIVE" in n]
    return lines
