"""Outreach planner layer: where the HARI bus should stop to reach the most people.

Sidebar "Plan outreach": the area comes from the app's area filter; k stops, reach
(straight-line km, or minutes with an uploaded travel-time matrix), weight (Core20,
all people, priority wards, or the team's own counts per LSOA), candidates (GP
practices, hospitals, postcode points on a grid, or a venues file), venues to exclude,
existing sites that already cover, a first date and stops per week.

Map: the proposed stops, numbered in greedy order of marginal gain, with their coverage
circles (km only). The payload is a few hundred bytes per stop; the base map never
changes. With "Clicking the map adds a what-if stop" on, a map click adds a stop there
(it covers first, the solver re-plans the k stops around it) instead of opening the
ward profile.

Panel under the map: the stops table, the covered share against k beside the current
HARI schedule's coverage, and exports (HARI template CSV, which round-trips through the
services upload validator, and XLSX); "Save plan" keeps the plan (inputs + stops) in
the user-data store and "Save as schedule" saves its stops as planned, dated HARI bus
stops in the services data (layers/planner_saved.py, geo/plan_store.py). Sidebar
"Saved plans": Open (inputs and stops back on the map), Delete, Restore.

Any ICB: ctx.store is the chosen footprint's view (geo/footprint.py), so the plan runs
on that ICB's LSOAs and its areas are the footprint's places/districts (the Area
filter). Outside LSC: IoD2025 on LSOA 2021 by default (population-weighted points,
Census 2021), GP/hospital candidates and "already covered" sites from the England-wide
files (geo/plan_national.py); the HARI schedule and LSC's curated categories are LSC's.

Computation: geo/planner.py (MCLP, exact MILP with HiGHS) and geo/plan_inputs.py.
Every user-supplied text reaching HTML goes through `esc`, markdown through `_md`.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import io
import re

import folium
import numpy as np
import pandas as pd
import streamlit as st

from geo import plan_inputs as pi
from geo import planner as pl
from geo import viewfields as VF
from geo.csvsafe import neutralise_frame
from geo.errors import GeoError
from layers.base import Layer, LegendEntry, LegendItem, MapContext, esc, js_json, need, widget_default
from render.map import GroupPaint

KEY = "planner"
COLOUR = "#6a3d9a"                  # purple: apart from the deprivation blues and access oranges
WHATIF_COLOUR = "#e7298a"
WEIGHT_OPTS = {"core20": "Core20 people (IMD deciles 1-2)", "population": "All people",
               "priority": "People in priority wards (as highlighted)", "file": "Our own counts per LSOA (upload)"}
CAND_OPTS = {"gp": "GP practices", "hospitals": "NHS hospital sites", "postcodes": "Postcode points on a grid",
             "file": "Our venues (upload)"}
WHATIF = "planner_whatif"           # session_state: list of {"lat", "lon"}
MAX_PICK = 400                      # more candidates than this: exclusions typed as ids


def _md(text) -> str:
    """User text shown literally in markdown: every ASCII punctuation mark backslash-escaped,
    so no link, image, emphasis, HTML tag or entity can form (an HTML-escape on top would
    show '&lt;' to the reader)."""
    return re.sub(r"([\\`*_{}\[\]()#+\-.!|<>~:$&\"'=%@^,;?/])", r"\\\1", str(text))


def _area(ctx: MapContext) -> pi.Area:
    a = ctx.area or {}
    kind = a.get("kind") or "icb"
    return pi.Area(kind, a.get("code"), a.get("name") or "the whole ICB", tuple(a.get("lsoa21") or ()),
                   tuple(a.get("lsoa11") or ()))


# ------------------------------------------------------------------ cached inputs
@st.cache_resource(show_spinner="Preparing the planner's demand points…", max_entries=32)
def _demand(_store, fp: str, area: tuple, weight: str, vintage: int, digest: str, _data, _name):
    return pi.build_demand(_store, pi.Area(*area), weight, vintage=vintage,
                           weights_bytes=_data if weight == "file" else None, weights_name=_name)


@st.cache_resource(show_spinner="Finding candidate venues…", max_entries=32)
def _candidates(_store, fp: str, area: tuple, kind: str, grid_m: float, reg_key: str, digest: str, _data, _name):
    a = pi.Area(*area)
    if kind in ("gp", "hospitals"):
        return pi.register_candidates(_store, a, kind, register=need("services.current_register")(),
                                      as_of=need("services.today")())
    if kind == "postcodes":
        return pi.postcode_candidates(_store, a, grid_m)
    return pi.venue_candidates(_store, a, _data, _name)


@st.cache_resource(show_spinner=False, max_entries=16)
def _existing(cats: tuple, reg_key: str, day: str, recent_days: int, _store=None, fp: str = ""):
    if _store is not None and not pi.is_lsc(_store):      # another ICB: its GP/hospital sites
        return pi.existing_sites(list(cats), store=_store)
    return pi.existing_sites(list(cats), register=need("services.current_register")(), as_of=day,
                             recent_days=recent_days)


@st.cache_resource(show_spinner="Planning the stops (exact MILP)…", max_entries=64)
def _plan(key: str, _demand_pts, _venues, k: int, radius_km, minutes, _travel, _existing_sites, excluded: tuple,
          min_km: float, whatif: tuple, weight: str, label: str, required: tuple = ()):
    extra = None
    if whatif:
        from geo.geocode import lonlat_to_bng
        e, n = lonlat_to_bng([w[1] for w in whatif], [w[0] for w in whatif])
        extra = pd.DataFrame({"id": [f"WHATIF-{i + 1}" for i in range(len(whatif))],
                              "name": [f"What-if stop {i + 1}" for i in range(len(whatif))],
                              "easting": np.atleast_1d(e), "northing": np.atleast_1d(n),
                              "lat": [w[0] for w in whatif], "lon": [w[1] for w in whatif]})
    return pl.plan(_demand_pts, _venues, k, radius_km=radius_km, minutes=minutes, travel_table=_travel,
                   existing=_existing_sites, excluded_ids=list(excluded), required_ids=list(required),
                   min_distance_km=min_km, weight=weight, weight_label=label, extra_stops=extra, time_limit=10.0)


# ------------------------------------------------------------------ map script
class _PlanScript(GroupPaint):
    """Numbered stops and coverage circles, into this feature group
    (static/js/paint_planner.js)."""
    fn = "planner"
    element_name = "LscPlan"


def map_payload(result: pl.PlanResult) -> dict:
    stops = []
    for i, s in enumerate(result.stops, start=1):
        tip = (f"<b>{i}. {esc(s.name)}</b><br>+{s.marginal_weight:,.0f} {esc(result.weight_label or result.weight)}"
               + ("<br>what-if stop (added by a click)" if s.whatif else ""))
        stops.append([round(s.lat, 6), round(s.lon, 6), i, tip, 1 if s.whatif else 0])
    key = hashlib.sha256(js_json(stops).encode()).hexdigest()[:10]
    return {"stops": stops, "r": (result.radius_km or 0) * 1000.0, "colour": COLOUR, "whatif": WHATIF_COLOUR,
            "key": key}


# ------------------------------------------------------------------ the layer
class PlannerLayer(Layer):
    key = KEY
    label = "Plan outreach (HARI bus stops)"
    order = 70
    default_on = False
    fields = VF.PLANNER             # plan, planx (geo/plan_link.py)

    # ---------------------------------------------------------- link state
    def to_session(self, values: dict, ss) -> None:
        if values.get("plan") is not None:
            seed_session(values["plan"], ss)

    def link_values(self, ctx: MapContext, ss) -> dict:
        from geo.plan_link import from_layer_state
        s = ctx.state.get(self.key, {})
        return {"plan": from_layer_state(s)} if s.get("on") else {}

    def state_from_view(self, view, store, fp: str = "") -> dict:
        if not view.layer_on(self.key, self.default_on):
            return {"on": False}
        return state_from_view(view, store, fp)

    def sidebar(self, ctx: MapContext) -> None:
        s = ctx.state.setdefault(self.key, {})
        ss = st.session_state
        st.markdown("**Plan outreach**")
        s["on"] = st.checkbox(self.label, key="planner_on", **widget_default("planner_on", value=False))
        self._track_clicks(s)
        from layers.planner_saved import saved_plans_sidebar
        saved_plans_sidebar(ctx)
        if not s["on"]:
            return
        st.caption(f"Area: {_md(ctx.area.get('name', 'the whole ICB'))} (from the Area filter above)")
        s["k"] = int(st.number_input("Stops (k)", 1, 40, key="planner_k", **widget_default("planner_k", value=5)))
        reach = st.radio("Reach of a stop", ["km", "minutes"], horizontal=True, key="planner_reach",
                         format_func={"km": "Straight-line km", "minutes": "Travel time (minutes)"}.get)
        s["radius_km"] = s["minutes"] = s["travel"] = None
        if reach == "km":
            s["radius_km"] = float(st.slider("Radius (km, straight-line)", 0.5, 10.0, step=0.5, key="planner_km",
                                             **widget_default("planner_km", value=1.5)))
        else:
            s["minutes"] = float(st.slider("Minutes", 5, 60, step=5, key="planner_min",
                                           **widget_default("planner_min", value=15)))
            f = st.file_uploader("Travel-time matrix (CSV: lsoa11cd, site_id = venue id, minutes)", type=["csv"],
                                 key="planner_tt")
            s["travel"] = f
        s["weight"] = st.selectbox("Reach the most", list(WEIGHT_OPTS), format_func=WEIGHT_OPTS.get,
                                   key="planner_weight")
        s["weights_file"] = None
        if s["weight"] == "file":
            s["weights_file"] = st.file_uploader("Counts per LSOA (CSV: lsoa11cd, count — e.g. an SMI register)",
                                                 type=["csv", "txt"], key="planner_wfile")
        lsc = pi.is_lsc(ctx.store)
        s["vintage"] = int(st.radio("IoD vintage", [2019, 2025], horizontal=True, key="planner_vintage",
                                    **widget_default("planner_vintage", index=1),
                                    help="2019: LSOA 2011, mid-2015 population; 2025: LSOA 2021, Census 2021"
                                         + ("" if lsc else " (outside LSC the 2011 LSOA points are label "
                                                           "points, not population-weighted)")))
        s["cand"] = st.selectbox("Candidate venues", list(CAND_OPTS), format_func=CAND_OPTS.get, key="planner_cand")
        s["grid_m"], s["venues_file"] = 500.0, None
        if s["cand"] == "postcodes":
            s["grid_m"] = float(st.select_slider("Grid (m)", [250, 500, 1000, 2000], key="planner_grid",
                                                 **widget_default("planner_grid", value=500)))
        elif s["cand"] == "file":
            s["venues_file"] = st.file_uploader("Venues (CSV/XLSX/GeoJSON: id, name, postcode or lat/lon)",
                                                type=["csv", "xlsx", "geojson", "json"], key="planner_vfile")
        from geo.services import categories
        cats = {c: v for c, v in categories().items() if c in pi.existing_categories(ctx.store)}
        if any(c not in cats for c in ss.get("planner_existing") or []):   # e.g. LSC's HARI stops, elsewhere
            ss["planner_existing"] = [c for c in ss["planner_existing"] if c in cats]
        s["existing"] = st.multiselect("Already covered by (open sites; recent HARI stops)", list(cats),
                                       format_func=lambda c: cats[c]["label"], key="planner_existing")
        s["recent_days"] = int(st.number_input("Recent HARI stops: last N days", 0, 730, key="planner_recent",
                                               **widget_default("planner_recent", value=90)))
        s["min_km"] = float(st.number_input("Minimum km between stops", 0.0, 20.0, step=0.5, key="planner_minkm",
                                            **widget_default("planner_minkm", value=0.0)))
        s["exclude"] = ss.get("planner_exclude") or []
        s["first"] = st.date_input("First stop on", key="planner_first",
                                   **widget_default("planner_first", value=dt.date.today() + dt.timedelta(days=7)))
        s["per_week"] = int(st.number_input("Stops per week", 1, 7, key="planner_pw",
                                            **widget_default("planner_pw", value=2)))
        s["whatif_on"] = st.checkbox("Clicking the map adds a what-if stop", key="planner_click",
                                     disabled=s["radius_km"] is None,
                                     help="Straight-line reach only (a clicked point has no travel times)")
        n = len(ss.get(WHATIF) or [])
        if n and st.button(f"Clear {n} what-if stop(s)", key="planner_clear"):
            ss[WHATIF] = []
        self._exclusions(ctx, s)

    def _track_clicks(self, s) -> None:
        """A new map click while what-if mode is on adds a stop there and leaves the ward
        profile as it was (the app's click handler has already opened it)."""
        ss = st.session_state
        click = (ss.get("map") or {}).get("last_clicked")
        sig = (round(float(click["lat"]), 6), round(float(click["lng"]), 6)) if click else None
        if (s["on"] and ss.get("planner_click") and ss.get("planner_reach", "km") == "km" and sig
                and sig != ss.get("_planner_last_click")):
            ss.setdefault(WHATIF, []).append({"lat": sig[0], "lon": sig[1]})
            ss["selected_ward"] = ss.get("_planner_prev_ward")
        ss["_planner_last_click"] = sig
        ss["_planner_prev_ward"] = ss.get("selected_ward")

    def _exclusions(self, ctx, s) -> None:
        try:
            cand = self._inputs(ctx)[1]
        except Exception:
            return
        if cand is None or not len(cand.venues):
            return
        v = cand.venues
        names = dict(zip(v["id"].astype(str), v["name"].astype(str)))
        if len(names) > MAX_PICK:
            # thousands of postcode points: a multiselect would send every option each rerun
            raw = st.text_input("Exclude venues (ids, comma-separated)", key="planner_exclude_ids",
                                help=f"{len(names):,} candidates: type the ids (postcodes) to leave out")
            ids = [x.strip().upper() for x in raw.split(",") if x.strip()]
            ids = [next((k for k in names if k.upper() == x), x) for x in ids]
            bad = [x for x in ids if x not in names]
            if bad:
                st.caption(f"Not a candidate here (ignored): {_md(', '.join(bad[:5]))}")
            s["exclude"] = [x for x in ids if x in names]
            return
        keep = [x for x in (st.session_state.get("planner_exclude") or []) if x in names]
        if keep != (st.session_state.get("planner_exclude") or []):
            st.session_state["planner_exclude"] = keep
        s["exclude"] = st.multiselect("Exclude venues", list(names), format_func=lambda i: f"{names[i]} ({i})",
                                      key="planner_exclude")

    # ---------------------------------------------------------------- compute
    def _inputs(self, ctx: MapContext):
        s = ctx.state.get(self.key, {})
        if getattr(ctx.store, "code", "") == "E92000001":
            raise GeoError("the planner works per ICB: choose an ICB (not England) in the ICB selector")
        area = _area(ctx)
        at = (area.kind, area.code, area.name, area.lsoa21, area.lsoa11)
        wf, vf = s.get("weights_file"), s.get("venues_file")
        if s.get("weight") == "file" and wf is None:
            raise GeoError("upload a file of counts per LSOA (lsoa11cd, count), or choose another weight")
        if s.get("cand") == "file" and vf is None:
            raise GeoError("upload a venues file (id, name, postcode or lat/lon), or choose other candidates")
        wd = wf.getvalue() if wf is not None else None
        vd = vf.getvalue() if vf is not None else None
        dig = lambda b: hashlib.sha256(b).hexdigest()[:16] if b is not None else ""  # noqa: E731
        register_key = ctx.need("services.register_key")
        dem = _demand(ctx.store, ctx.fingerprint, at, s.get("weight", "core20"),
                      int(s.get("vintage") or pi.default_vintage(ctx.store)),
                      dig(wd), wd, wf.name if wf is not None else None)
        cand = _candidates(ctx.store, ctx.fingerprint, at, s.get("cand", "gp"), float(s.get("grid_m", 500)),
                           register_key(), dig(vd), vd, vf.name if vf is not None else None)
        return dem, cand, dig(wd) + dig(vd)

    def _travel(self, ctx, s, cand, existing):
        f = s.get("travel")
        if s.get("minutes") is None:
            return None, ""
        if f is None:
            raise GeoError("upload a travel-time matrix (lsoa11cd, site_id, minutes) or use straight-line km")
        from geo.access import read_travel_times
        data = f.getvalue()
        tt = read_travel_times(data, f.name, lsoa_codes=pi._all_codes(ctx.store, int(s.get("vintage")
                                                                                     or pi.default_vintage(ctx.store))),
                               site_ids=set(cand.venues["id"]) | set(existing["id"]))
        if len(tt.rejected):
            ctx.messages.append(("warning", f"{tt.file}: {len(tt.rejected)} row(s) skipped, e.g. row "
                                            f"{tt.rejected['row'].iloc[0]}: {tt.rejected['reason'].iloc[0]}"))
        return tt.table, hashlib.sha256(data).hexdigest()[:16]

    def result(self, ctx: MapContext):
        """(PlanResult, Demand, Candidates, inputs key) for the current choices; cached."""
        s = ctx.state.get(self.key, {})
        if "_result" in s:
            return s["_result"]
        register_key, today = ctx.need("services.register_key"), ctx.need("services.today")
        dem, cand, dig = self._inputs(ctx)
        existing, ex_notes = _existing(tuple(sorted(s.get("existing") or [])), register_key(), today(),
                                       int(s.get("recent_days", 90)), ctx.store, ctx.fingerprint)
        travel, tdig = self._travel(ctx, s, cand, existing)
        k = int(s.get("k", 5))
        if k > len(cand.venues):
            raise GeoError(f"{k} stops asked for but there are only {len(cand.venues)} candidate venue(s) "
                           f"in {_area(ctx).name}")
        whatif = tuple((w["lat"], w["lon"]) for w in (st.session_state.get(WHATIF) or [])) \
            if s.get("radius_km") is not None else ()
        key = "|".join(map(str, (ctx.fingerprint, _area(ctx), s.get("weight"), s.get("vintage"), s.get("cand"),
                                 s.get("grid_m"), register_key(), today(), dig, tdig, s.get("existing"),
                                 s.get("recent_days"))))
        ids = set(cand.venues["id"].astype(str))
        excl = tuple(x for x in s.get("exclude") or [] if x in ids)
        from layers.planner_saved import pinned_ids
        pinned = pinned_ids(s, ctx.area or {})
        req = tuple(x for x in pinned if x in ids and x not in excl)[:k]
        if len(req) < len(pinned):
            gone = [x for x in pinned if x not in req]
            ctx.messages.append(("warning", f"Saved plan: {len(gone)} saved stop(s) are not candidate venues any "
                                            f"more ({', '.join(gone[:5])}); the planner chose in their place."))
        args = dict(radius_km=s.get("radius_km"), minutes=s.get("minutes"))
        res = _plan(key, dem.points, cand.venues, k, args["radius_km"], args["minutes"], travel, existing, excl,
                    float(s.get("min_km", 0)), whatif, dem.weight, dem.label, req)
        s["_result"] = (res, dem, cand, key, travel, existing, ex_notes, excl)
        return s["_result"]

    def _safe_result(self, ctx):
        try:
            return self.result(ctx), None
        except GeoError as e:           # UsageError included: a message, never a traceback
            return None, str(e)

    # ---------------------------------------------------------------- map, legend
    def feature_group(self, ctx: MapContext):
        if not self.is_on(ctx):
            return None
        r, err = self._safe_result(ctx)
        if r is None:
            ctx.messages.append(("warning", f"Plan outreach: {err}"))
            return None
        payload = map_payload(r[0])
        fg = folium.FeatureGroup(name="lsc-plan", control=False)
        fg.add_child(_PlanScript(payload))
        fg.lsc_payload = ("planner", payload["key"])
        return fg

    def legend(self, ctx: MapContext) -> list[LegendEntry]:
        if not self.is_on(ctx):
            return []
        r, _ = self._safe_result(ctx)
        if r is None:
            return []
        res, dem = r[0], r[1]
        reach = (f"{res.radius_km:g} km straight-line" if res.radius_km is not None else f"{res.minutes:g} minutes")
        items = [LegendItem(f"Proposed stop (numbered by marginal gain), reach {reach}", fill=COLOUR,
                            stroke=COLOUR, shape="circle")]
        if any(s.whatif for s in res.stops):
            items.append(LegendItem("What-if stop (your click)", fill=WHATIF_COLOUR, stroke=WHATIF_COLOUR,
                                    shape="circle", dash="4 3"))
        free = res.total_weight - res.already_covered_weight
        return [LegendEntry(
            title=f"Plan outreach: {len(res.stops)} stops in {ctx.area.get('name')}",
            items=items, vintage=f"Weights: {dem.label}; denominator: {dem.denominator}",
            source="geo/planner.py: maximal covering location problem, exact MILP (HiGHS)",
            note=(f"Covers {res.covered_weight:,.0f} of {free:,.0f} not yet covered "
                  f"({100 * res.share:.1f}%); {'optimal' if res.optimal else res.status}"
                  + (f", gap {res.gap:.1e}" if res.gap else "") + ". Straight-line reach, not road distance."
                  if res.radius_km is not None else "."))]

    # ---------------------------------------------------------------- panel
    def panel(self, ctx: MapContext) -> None:
        if not self.is_on(ctx):
            return
        from layers.planner_panel import draw_panel
        draw_panel(self, ctx)


def seed_session(link, ss=None) -> None:
    """Seed the planner's widget keys (in `ss`, default st.session_state) from a link's
    settings (geo.plan_link.PlanLink), before the widgets are drawn (PlannerLayer.to_session)."""
    from geo.services import categories
    ss = st.session_state if ss is None else ss
    ss["planner_k"] = int(link.k)
    ss["planner_reach"] = "km" if link.minutes is None else "minutes"
    if link.km is not None:
        ss["planner_km"] = float(link.km)
    if link.minutes is not None:
        ss["planner_min"] = int(link.minutes)
    ss["planner_weight"], ss["planner_cand"] = link.weight, link.cand
    ss["planner_vintage"], ss["planner_grid"] = int(link.vintage), int(link.grid_m)
    ss["planner_minkm"], ss["planner_recent"], ss["planner_pw"] = float(link.min_km), int(link.recent_days), \
        int(link.per_week)
    ss["planner_existing"] = [c for c in link.existing if c in categories()]
    ss["planner_exclude"] = list(link.exclude)
    ss["planner_exclude_ids"] = ", ".join(link.exclude)
    if link.first:
        ss["planner_first"] = dt.date.fromisoformat(link.first)


def state_from_view(view, store, fp: str = "") -> dict:
    """The layer's state dict from a geo.viewstate.ViewState (exports and snapshots outside
    the app): the link's plan settings (geo.plan_link), no uploads, no what-if clicks."""
    from geo.plan_link import PlanLink, to_layer_state
    on = view.layer_on(KEY, PlannerLayer.default_on)
    return to_layer_state(view.get("plan") if view.get("plan") is not None else PlanLink(), on=on)


def xlsx_bytes(schedule: pd.DataFrame, summary: pd.DataFrame, stops: pd.DataFrame) -> bytes:
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as xw:
        neutralise_frame(schedule).to_excel(xw, sheet_name="schedule", index=False)
        neutralise_frame(stops).to_excel(xw, sheet_name="stops", index=False)
        neutralise_frame(summary).to_excel(xw, sheet_name="about", index=False)
    return buf.getvalue()


__all__ = ["LAYER", "PlannerLayer", "map_payload", "xlsx_bytes", "seed_session", "state_from_view"]

LAYER = PlannerLayer()
