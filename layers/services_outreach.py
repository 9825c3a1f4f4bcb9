"""The services layer's outreach tables: days since the last HARI bus stop near each ward,
the last and next (planned) stops, and the area's outreach table (ILLUSTRATIVE unless a
real schedule was uploaded). Part of the services layer (layers/services.py re-exports
every name here); the register, its key and today are read from it when called.
"""
from __future__ import annotations

import pandas as pd
import streamlit as st

from layers.base import MapContext, hot


def current_register():
    from layers.services import current_register as cur
    return cur()


def register_key() -> str:
    from layers.services import register_key as key
    return key()


def today() -> str:
    from layers.services import today as day
    return day()


NO_STOP = "none in the schedule"
NO_STOP_NOTE = (f"'{NO_STOP}' = no stop in or within 1 km of the ward, so Days since is empty "
                "(Streamlit shows an empty number as 'None').")


@hot(maxsize=32)
@st.cache_data(show_spinner=False, max_entries=32)
def _outreach(_store, store_fp: str, reg_key: str, day: str, codes: tuple, near_km: float) -> pd.DataFrame:
    from geo.access import outreach_recency
    stops = current_register().category("hari_bus")
    w = _store.wards24
    w = w[w["wd24cd"].isin(list(codes))]
    t = outreach_recency(w, stops, day, near_km=near_km)
    label = "Days since HARI bus" + (" (ILLUSTRATIVE)" if t["illustrative"].any() else "")
    def text(v, blank):
        return blank if v is None or (isinstance(v, float) and pd.isna(v)) or v == "" else str(v)
    return pd.DataFrame({"code": t["wd24cd"], label: t["days_since_last_stop"].astype("Int64"),
                         "Last HARI stop": [text(x, NO_STOP) for x in t["last_stop_date"]],
                         "Next HARI stop (planned)": [text(x, "") for x in t["next_stop_date"]],
                         "HARI stops near": t["n_stops_near"].astype("int64")})


def _area_codes(store, kind, code) -> list[str]:
    w = store.wards24
    if kind == "district":
        w = w[w["lad19cd"] == code]
    elif kind in ("place5", "place4"):
        w = w[w[kind] == code]
    elif kind == "custom":              # code: the custom area's wards (layers/areas.area_dict)
        w = w[w["wd24cd"].isin(set(code or ()))]
    return w["wd24cd"].tolist()


@hot(maxsize=16)
@st.cache_resource(show_spinner=False, max_entries=16)
def _outreach_table(_store, store_fp: str, reg_key: str, day: str, member_items: tuple, kind, code,
                    _ctx) -> pd.DataFrame:
    """The area's outreach table as shown (shared, read-only): its priority wards and the
    wards with a stop near, the longest since a visit first."""
    labels = {"icb": "ICB list", "exemplar": "Exemplar", "candidate": "Candidate"}
    member = dict(member_items)
    w = _store.wards24.set_index("wd24cd")
    t = outreach_columns(_ctx, _area_codes(_store, kind, code))
    t = t[t["code"].isin(member) | (t["HARI stops near"] > 0)]
    t.insert(1, "Ward", [w.at[c, "wd24nm"] for c in t["code"]])
    t.insert(2, "District", [w.at[c, "lad19nm"] for c in t["code"]])
    t.insert(3, "Priority", [", ".join(labels.get(k, k) for k in member.get(c, ())) for c in t["code"]])
    days = [c for c in t.columns if c.startswith("Days since")][0]
    return t.sort_values([days, "Ward"], ascending=[False, True], na_position="first").reset_index(drop=True)


@hot(maxsize=16)
@st.cache_resource(show_spinner=False, max_entries=16)
def _outreach_arrow(_store, store_fp: str, reg_key: str, day: str, member_items: tuple, kind, code, _ctx):
    """The same table converted to Arrow once (st.dataframe would convert it every rerun)."""
    import pyarrow as pa
    return pa.Table.from_pandas(_outreach_table(_store, store_fp, reg_key, day, member_items, kind, code, _ctx),
                                preserve_index=False)


def outreach_columns(ctx: MapContext, codes, near_km: float = 1.0) -> pd.DataFrame:
    """Ward table columns: days since the last HARI bus stop in or within `near_km` of
    each ward, the last and next (planned) stop dates and the number of stops near
    (from the schedule; ILLUSTRATIVE unless a real schedule was uploaded). Cached on the
    store, the register (files + uploads), the day and the codes (a copy-on-write copy:
    layers/cache.py)."""
    return _outreach(ctx.store, ctx.fingerprint, register_key(), today(), tuple(sorted(set(codes))),
                     float(near_km))
