"""Dated events (HARI bus stops, `kind: event` in config/services.yaml) as access sites.

A stop is *visited* once its date has passed, *upcoming* before it, *today* on it and
*cancelled* when its status is closed. For access, only the stops dated inside a window
(default: the as-of day alone) count as sites.

geo.access re-exports these names.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from geo.errors import UsageError


# --- dated events -----------------------------------------------------------------

def event_categories(config: dict | None = None) -> list[str]:
    """Categories whose rows are dated events (config `kind: event`): the HARI bus."""
    from geo.services import categories
    return [k for k, c in categories(config).items() if c.get("kind") == "event"]


def _iso(d) -> str:
    return (pd.Timestamp(d) if d is not None else pd.Timestamp.today()).date().isoformat()


def event_state(records: pd.DataFrame, as_of=None) -> pd.Series:
    """Per row: "" for fixed sites; for dated events "cancelled" (status closed),
    "visited" (dated before `as_of`), "today" or "upcoming" (dated after it)."""
    day = _iso(as_of)
    if not len(records):
        return pd.Series([], index=records.index, dtype=object, name="event_state")
    d = records["event_date"].fillna("").astype(str).to_numpy()
    ev = d != ""
    closed = records["status"].fillna("").astype(str).str.lower().to_numpy() == "closed"
    out = np.where(d < day, "visited", np.where(d == day, "today", "upcoming")).astype(object)
    out = np.where(closed, "cancelled", out)
    return pd.Series(np.where(ev, out, ""), index=records.index, name="event_state")


def event_window(as_of=None, events_from=None, events_to=None) -> tuple[str, str]:
    """The dates between which events count as sites (default: the as-of day alone)."""
    lo = _iso(events_from) if events_from else _iso(as_of)
    hi = _iso(events_to) if events_to else (lo if events_from else _iso(as_of))
    if hi < lo:
        raise UsageError(f"the event window ends ({hi}) before it starts ({lo})")
    return lo, hi


def sites_for(records: pd.DataFrame, cats, as_of=None, *, subcategories=None, events_from=None,
              events_to=None, config: dict | None = None) -> pd.DataFrame:
    """The sites access is measured to: fixed sites open on `as_of`, plus the events of
    the chosen event categories dated inside the window (cancelled ones never count)."""
    from geo.services import open_sites
    cats = [cats] if isinstance(cats, str) else list(cats)
    evc = set(event_categories(config))
    fixed = [c for c in cats if c not in evc]
    parts = [open_sites(records, fixed, as_of, subcategories=subcategories)] if fixed else []
    ev = records[records["category"].isin([c for c in cats if c in evc])]
    if len(ev):
        lo, hi = event_window(as_of, events_from, events_to)
        d = ev["event_date"].fillna("").astype(str)
        keep = (d >= lo) & (d <= hi) & (event_state(ev, as_of) != "cancelled")
        parts.append(ev[keep])
    if not parts:
        return records.iloc[0:0]
    return pd.concat(parts) if len(parts) > 1 else parts[0]
