"""Status of a site on a date and the open sites of some categories."""
from __future__ import annotations

import datetime as dt
import numpy as np
import pandas as pd


# --- status as of a date -------------------------------------------------------------

def effective_status(records: pd.DataFrame, as_of: dt.date | str | None = None) -> pd.Series:
    """Status on `as_of` (default today): closed if a closed date has passed (or status
    is closed with no dates), planned if the opened date is still ahead (or status is
    planned with no opened date), else open. Bus stops keep their own status."""
    d = (pd.Timestamp(as_of) if as_of is not None else pd.Timestamp.today()).date().isoformat()
    st = records["status"].fillna("open").astype(str).to_numpy().copy()
    opened = records["opened"].fillna("").astype(str).to_numpy()
    closed = records["closed"].fillna("").astype(str).to_numpy()
    out = np.where(st == "closed", "closed", "open").astype(object)
    has_open = opened != ""
    out = np.where((st == "planned") & (~has_open | (opened > d)), "planned", out)
    out = np.where(has_open & (opened > d), "planned", out)
    out = np.where((st == "planned") & has_open & (opened <= d), "open", out)
    out = np.where((closed != "") & (closed <= d), "closed", out)
    out = np.where((st == "closed") & (closed != "") & (closed > d) & ~(has_open & (opened > d)), "open", out)
    return pd.Series(out, index=records.index, name="status_on")


def open_sites(records: pd.DataFrame, cats, as_of=None, *, subcategories=None,
               events_from=None, events_to=None) -> pd.DataFrame:
    """Open sites of the chosen categories on `as_of`. HARI bus stops count as sites
    when their event_date is within [events_from, events_to] (default: all stops)."""
    cats = [cats] if isinstance(cats, str) else list(cats)
    r = records[records["category"].isin(cats)]
    if subcategories:
        r = r[r["subcategory"].isin(subcategories) | (r["category"] != "screening")]
    st = effective_status(r, as_of)
    r = r[st == "open"]
    ev = r["category"] == "hari_bus"
    if ev.any() and (events_from or events_to):
        d = r["event_date"].fillna("")
        keep = ~ev | ((d >= (str(events_from) if events_from else "")) & (d <= (str(events_to) if events_to else "9999")))
        r = r[keep]
    return r
