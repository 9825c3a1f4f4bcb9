"""The outreach planner's panel under the map (layers/planner.py draws the sidebar and
the map): stops table, covered share against k beside the current HARI schedule, exports."""
from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from geo import planner as pl
from geo.csvsafe import safe_csv_bytes


def _md(text) -> str:
    from layers.planner import _md as md
    return md(text)


def stops_table(res: pl.PlanResult, dem, cand, travel, ward_of) -> pd.DataFrame:
    """One row per stop: people and Core20 people within reach of the stop on its own,
    and its marginal gain (weight added after the stops before it)."""
    pts = dem.points
    xy = np.array([[s.easting, s.northing] for s in res.stops], dtype=float).reshape(-1, 2)
    if res.radius_km is not None:
        m = pl.coverage_by_distance(pts[["easting", "northing"]].to_numpy(float), xy, res.radius_km * 1000)
    else:
        m = pl.coverage_by_minutes(pts["code"], [s.id for s in res.stops], travel, res.minutes)
    m = m.tocsc()
    pop = pts["population"].to_numpy(float)
    core = np.where(pts["core20"].to_numpy(bool), pop, 0.0)
    wards = dict(zip(cand.venues["id"].astype(str), cand.venues.get("wd24nm", pd.Series(dtype=object))))
    rows = []
    for i, s in enumerate(res.stops):
        c = m.indices[m.indptr[i]:m.indptr[i + 1]]
        rows.append({"stop": i + 1, "venue": s.name + (" (what-if)" if s.whatif else ""), "id": s.id,
                     "ward": (ward_of(s.lat, s.lon) if s.whatif else wards.get(s.id)) or "",
                     "people covered": int(round(pop[c].sum())), "Core20 covered": int(round(core[c].sum())),
                     "marginal gain": int(round(s.marginal_weight))})
    return pd.DataFrame(rows, columns=["stop", "venue", "id", "ward", "people covered", "Core20 covered",
                                       "marginal gain"])


def _current_schedule(dem, res, travel, store=None):
    """Coverage of the HARI schedule in the register (shipped + uploads), same reach.
    The HARI bus is LSC's: none outside LSC."""
    from geo.plan_inputs import is_lsc
    if store is not None and not is_lsc(store):
        return None, False, 0
    from layers.base import need
    sched = need("services.current_register")().category("hari_bus")
    if not len(sched):
        return None, False, 0
    got = pl.covered_by_sites(dem.points, sched, radius_km=res.radius_km, minutes=res.minutes,
                              travel_table=travel)
    total = float(dem.points["weight"].sum())
    return (100 * got / total if total else float("nan")), bool(sched["illustrative"].astype(bool).any()), len(sched)


def draw_panel(layer, ctx) -> None:
    s = ctx.state.get(layer.key, {})
    r, err = layer._safe_result(ctx)
    st.markdown(f"#### Plan outreach in {_md(ctx.area.get('name', 'the whole ICB'))}")
    if r is None:
        st.warning(f"Plan outreach: {err}")
        return
    res, dem, cand, key, travel, existing, ex_notes, excl = r
    reach = f"{res.radius_km:g} km (straight-line)" if res.radius_km is not None else f"{res.minutes:g} minutes"
    free = res.total_weight - res.already_covered_weight
    st.caption(f"{len(res.stops)} stops, reach {reach}; weight: {_md(dem.label)} (denominator: "
               f"{_md(dem.denominator)}). {'Optimal' if res.optimal else _md(res.status)} (MIP gap "
               f"{(res.gap or 0):.1e}, {res.seconds:.2f} s; greedy covers "
               f"{(res.greedy_covered_weight or 0):,.0f}). Covered: {res.covered_weight:,.0f} of {free:,.0f} "
               f"not already covered ({100 * res.share:.1f}%); already covered by existing sites: "
               f"{res.already_covered_weight:,.0f}.")
    from layers.planner_saved import pin_caption
    pin = pin_caption()
    if pin:
        st.info(_md(pin))
    for n in dem.notes + cand.notes + ex_notes + res.notes:
        st.caption(_md(n))
    probs = [(p.file, p.row, p.problem) for p in dem.problems + cand.problems + cand.warnings]
    if probs:
        st.warning(f"{len(probs)} row(s) of your files were skipped or flagged; the other rows are used.")
        st.dataframe(pd.DataFrame(probs, columns=["file", "row", "problem"]).head(500), hide_index=True,
                     width="stretch", key="planner_problems")
    from layers.data import ward_at
    table = stops_table(res, dem, cand, travel, lambda lat, lon: _ward_name(ctx, ward_at(ctx.store, ctx.fingerprint,
                                                                                          lat, lon)))
    st.dataframe(table, hide_index=True, width="stretch", key="planner_table")
    c1, c2 = st.columns([3, 1])
    with c1:
        kmax = min(max(int(s.get("k", 5)), 10), 20, len(cand.venues))
        curve = pl_curve(key, kmax, dem, cand, res, travel, existing, excl, float(s.get("min_km", 0)))
        st.markdown("**Covered share against the number of stops** (of the weight not already covered)")
        if len(curve):
            st.line_chart(curve.set_index("stops"), height=220)
    with c2:
        share, illus, n = _current_schedule(dem, res, travel, ctx.store)
        label = "Current HARI schedule" + (" (ILLUSTRATIVE)" if illus else "")
        if share is None:
            st.metric(label, "no stops")
        else:
            st.metric(label, f"{share:.1f}%", help=f"{n} stops in the register, same reach; share of all "
                                                   f"{dem.label}")
            if illus:
                st.caption("The shipped schedule is an ILLUSTRATIVE example, not real outreach.")
        st.metric("This plan (with existing sites)",
                  f"{100 * (res.covered_weight + res.already_covered_weight) / res.total_weight:.1f}%"
                  if res.total_weight else "–")
    _exports(ctx, s, res, table)


def _ward_name(ctx, code):
    if not code:
        return ""
    w = ctx.store.wards24
    hit = w.loc[w["wd24cd"] == code, "wd24nm"]
    return str(hit.iloc[0]) if len(hit) else ""


@st.cache_data(show_spinner="Covered share for each k…", max_entries=32)
def _curve_cached(key: str, kmax: int, radius_km, minutes, excl: tuple, min_km: float, _dem, _venues, _travel,
                  _existing) -> pd.DataFrame:
    from geo.errors import GeoError
    rows = []
    for k in range(1, kmax + 1):
        try:
            r = pl.plan(_dem, _venues, k, radius_km=radius_km, minutes=minutes, travel_table=_travel,
                        existing=_existing, excluded_ids=list(excl), min_distance_km=min_km, time_limit=5.0)
        except GeoError:
            break
        rows.append({"stops": k, "covered share (%)": round(100 * r.share, 1)})
    return pd.DataFrame(rows)


def pl_curve(key, kmax, dem, cand, res, travel, existing, excl, min_km) -> pd.DataFrame:
    return _curve_cached(key, kmax, res.radius_km, res.minutes, tuple(excl), min_km, dem.points, cand.venues,
                         travel, existing)


def _exports(ctx, s, res: pl.PlanResult, table: pd.DataFrame) -> None:
    from layers.planner import xlsx_bytes
    sched = pl.schedule_frame(res, s.get("first"), int(s.get("per_week", 1)))
    about = pd.DataFrame({"item": ["area", "weight", "reach", "stops", "covered", "optimal", "gap"],
                          "value": [ctx.area.get("name"), res.weight_label, f"{res.radius_km} km" if res.radius_km
                                    is not None else f"{res.minutes} min", len(res.stops),
                                    round(res.covered_weight), res.optimal, res.gap]})
    c1, c2 = st.columns(2)
    stem = "hari_plan_" + "".join(ch if ch.isalnum() else "_" for ch in str(ctx.area.get("name")))[:40]
    # data as callables: built only when clicked, not on every rerun
    c1.download_button("Plan as HARI schedule (CSV)", lambda: safe_csv_bytes(sched), file_name=f"{stem}.csv",
                       mime="text/csv", key="planner_csv",
                       help="The HARI bus template's columns (data/templates/): upload it in Services")
    c2.download_button("Plan (XLSX)", lambda: xlsx_bytes(sched, about, table), file_name=f"{stem}.xlsx",
                       mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", key="planner_xlsx")
    from layers.planner_saved import save_controls
    save_controls(ctx, s, res)


def dt_today() -> str:
    import datetime as dt
    return dt.date.today().isoformat()
