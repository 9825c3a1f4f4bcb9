"""Travel-time matrices for access (geo.access): an uploaded LSOA x site table of minutes,
long (lsoa11cd, site_id, minutes) or wide (lsoa11cd + one column per site id), read
through geo.tabular with every row it cannot use listed with the reason.

geo.access re-exports these names (TravelTimes, read_travel_times, TRAVEL_LIMITS_ROWS).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from geo.errors import GeoError


# --- travel-time matrix --------------------------------------------------------------

@dataclass
class TravelTimes:
    table: pd.DataFrame                         # lsoa11cd, site_id, minutes
    rejected: pd.DataFrame                      # row, reason
    notes: list[str] = field(default_factory=list)
    file: str = ""


TRAVEL_LIMITS_ROWS = 2_000_000


def read_travel_times(data: bytes | str | Path, filename: str | None = None, *,
                      lsoa_codes=None, site_ids=None) -> TravelTimes:
    """Travel-time matrix CSV/XLSX, long (lsoa11cd, site_id, minutes) or wide (lsoa11cd
    + one column per site id), read by geo.tabular (limits, encodings, decimal commas).
    Rows with unknown LSOA codes / site ids, minutes that are not finite numbers,
    negative, or conflicting duplicates of a pair are listed with the reason; the rest
    load. GeoError (naming the user's file) for whole-file problems."""
    from geo.tabular import Limits, TabularError, display_name, read_tabular
    if isinstance(data, (str, Path)):
        filename = filename or Path(data).name
        try:
            data = Path(data).read_bytes()
        except OSError as e:
            raise GeoError(f"{display_name(filename)}: cannot read ({e.strerror})")
    fname = display_name(filename or "travel_times.csv")
    try:
        t = read_tabular(data, fname, limits=Limits(max_bytes=200_000_000, max_rows=TRAVEL_LIMITS_ROWS,
                                                    max_cols=2_000, max_cells=20_000_000),
                         header_test=lambda cols: bool(_lsoa_col(cols)), what="travel-time file")
    except TabularError as e:
        raise GeoError(str(e))
    raw, notes = t.frame, list(t.notes)
    lcol = _lsoa_col(raw.columns)
    if lcol is None:
        from geo.tabular import describe_columns
        raise GeoError(f"{fname}: no LSOA code column (lsoa11cd) — found {describe_columns(raw.columns, 6)}")
    try:
        long = _travel_long(raw, lcol, np.asarray(t.rownums), notes)
    except (KeyError, ValueError, TypeError) as e:      # never a traceback
        raise GeoError(f"{fname}: could not be read as a travel-time matrix ({type(e).__name__})")
    mins, reason = _travel_minutes(long, t.decimal)
    if lsoa_codes is not None:
        bad = ~long["lsoa11cd"].isin(set(lsoa_codes)) & (reason == "")
        reason[bad] = "unknown LSOA code '" + long["lsoa11cd"].str.slice(0, 12) + "' (not an LSC LSOA 2011)"
    if site_ids is not None:
        bad = ~long["site_id"].isin(set(site_ids)) & (reason == "")
        reason[bad] = "unknown site_id '" + long["site_id"].str.slice(0, 20) + "' (not in the service register)"
    _travel_duplicates(long, mins, reason, notes)
    ok = reason == ""
    table = pd.DataFrame({"lsoa11cd": long["lsoa11cd"][ok], "site_id": long["site_id"][ok],
                          "minutes": mins[ok].astype(float)}).drop_duplicates(["lsoa11cd", "site_id"])
    rej = pd.DataFrame({"file": fname, "row": long["row"][~ok], "reason": reason[~ok]})
    if t.problems:
        rej = pd.concat([pd.DataFrame({"file": fname, "row": [p.row for p in t.problems],
                                       "reason": [p.reason for p in t.problems]}), rej])
    return TravelTimes(table.reset_index(drop=True), rej.sort_values("row", kind="stable").reset_index(drop=True),
                       notes, fname)


def _lsoa_col(cols):
    low = {str(c).strip().lower(): c for c in cols}
    return next((low[c] for c in ("lsoa11cd", "lsoa_code", "lsoa", "lsoa11") if c in low), None)


def _travel_long(raw: pd.DataFrame, lcol, rownum, notes: list) -> pd.DataFrame:
    low = {c.lower(): c for c in raw.columns}
    scol = next((low[c] for c in ("site_id", "site", "id") if c in low), None)
    mcol = next((low[c] for c in ("minutes", "time_min", "travel_time_min", "time") if c in low), None)
    if scol and mcol:
        return pd.DataFrame({"row": rownum, "lsoa11cd": raw[lcol].str.strip().str.upper(),
                             "site_id": raw[scol].str.strip(), "minutes_raw": raw[mcol].str.strip()})
    sites = [c for c in raw.columns if c != lcol]
    long = raw.assign(row=rownum).melt(id_vars=["row", lcol], value_vars=sites, var_name="site_id",
                                       value_name="minutes_raw").rename(columns={lcol: "lsoa11cd"})
    long["lsoa11cd"] = long["lsoa11cd"].str.strip().str.upper()
    long["minutes_raw"] = long["minutes_raw"].str.strip()
    notes.append(f"wide matrix: {len(sites)} site column(s)")
    return long[long["minutes_raw"] != ""].reset_index(drop=True)


def _travel_minutes(long: pd.DataFrame, decimal: str):
    """Minutes as floats and a reason per row ('' = fine): not a finite number, negative."""
    from geo.tabular import parse_number
    vals, reasons = [], []
    for raw in long["minutes_raw"].tolist():
        try:
            x = parse_number(raw, decimal)
            why = "minutes missing" if x is None else ("negative minutes" if x < 0 else "")
        except ValueError as e:
            x, why = None, f"minutes: {e}"
        vals.append(np.nan if x is None else x)
        reasons.append(why)
    return pd.Series(vals, index=long.index, dtype=float), pd.Series(reasons, index=long.index, dtype=object)


def _travel_duplicates(long: pd.DataFrame, mins: pd.Series, reason: pd.Series, notes: list) -> None:
    """A pair given twice: same minutes -> one kept (noted); different -> every copy
    rejected with the rows and values (neither can be trusted)."""
    ok = reason == ""
    key = long["lsoa11cd"] + "\x1f" + long["site_id"]
    dup = key.duplicated(keep=False) & ok
    if not dup.any():
        return
    same = 0
    for _, idx in key[dup].groupby(key[dup]).groups.items():
        vals = mins[idx]
        if vals.nunique() == 1:
            same += len(idx) - 1
            continue
        rows = ", ".join(str(r) for r in long.loc[idx, "row"])
        txt = ", ".join(f"{v:g}" for v in vals)
        reason[idx] = (f"conflicting duplicate pair {long.loc[idx[0], 'lsoa11cd']} / "
                       f"{str(long.loc[idx[0], 'site_id'])[:20]}: rows {rows} give {txt} minutes")
    if same:
        notes.append(f"{same} duplicate row(s) with the same minutes ignored")
