"""Access-gaps layer: LSOAs coloured by STRAIGHT-LINE distance (or travel time, when a
matrix is uploaded) from their population-weighted point to the nearest open site of
the chosen categories, a threshold control and a summary table (`panel`).

Geometry is not re-sent: the script reuses the LSOA polygons the map runtime has
already fetched (static TopoJSON, `LSC._geo`), and each rerun only carries one class
number per LSOA (store.lsoa order) — the design's fast path. Computation: geo/access.py.
"""
from __future__ import annotations

import hashlib
import json

import folium
import pandas as pd
import streamlit as st

from geo import access as ac
from geo.csvsafe import neutralise_frame
from geo import viewfields as VF
from layers.base import (NODATA_FILL, NODATA_LINE, NODATA_SWATCH, Layer, LegendEntry, LegendItem, MapContext, esc,
                         md, need, widget_default)
from render.map import GroupPaint

KM_BINS = [1, 2, 5, 10, 20]                   # class k: <= bin k (last class: beyond the last bin)
MIN_BINS = [10, 20, 30, 45, 60]
COLOURS = ["#fff5eb", "#fdd0a2", "#fdae6b", "#f16913", "#d94801", "#7f2704"]
NODATA = NODATA_FILL                          # hatched grey (layers.base), never a palette-like grey
RING = {"color": "#08306b", "weight": 2.0, "dashArray": "7 5"}   # the threshold around each open site
DEFAULT_CATS = ac.DEFAULT_CATS
THR_KM = ac.THR_KM                             # slider: min, max, default, step
BY_LABELS = {"ward": "Ward (May 2024, best fit)", "district": "District", "place": "Place (legacy five)",
             "place4": "Place (current four)", "lsoa": "LSOA"}


def _classes(values: pd.Series, bins) -> list[int]:
    """0 = no value, 1..len(bins)+1 = class."""
    out = []
    for v in values:
        if v is None or pd.isna(v):
            out.append(0)
            continue
        k = 1
        while k <= len(bins) and v > bins[k - 1]:
            k += 1
        out.append(k)
    return out


@st.cache_data(show_spinner="Measuring distances…", max_entries=16)
def _per_lsoa(_store, fp: str, cats: tuple, as_of: str, reg_fp: str, _travel, travel_fp: str,
              subcats: tuple | None = None, events: tuple | None = None, population: str = ac.DEFAULT_POPULATION):
    res = _result_cached(_store, fp, cats, as_of, reg_fp, _travel, travel_fp, subcats, events, population)
    return res.per_lsoa, len(res.sites), res.notes


@st.cache_resource(show_spinner="Measuring distances…", max_entries=16)
def _result_cached(_store, fp: str, cats: tuple, as_of: str, reg_fp: str, _travel, travel_fp: str,
                   subcats: tuple | None = None, events: tuple | None = None,
                   population: str = ac.DEFAULT_POPULATION):
    """The geo.access.AccessResult (shared, read-only); `_per_lsoa` hands out copies."""
    ev = events or (None, None)
    return ac.compute_access(list(cats), store=_store, register=need("services.current_register")(), as_of=as_of, travel=_travel,
                             subcategories=list(subcats) if subcats else None, events_from=ev[0],
                             events_to=ev[1], population=population)


class _AccessScript(GroupPaint):
    """Draw the choropleth from the runtime's cached LSOA geometry, into this group
    (static/js/paint_access.js)."""
    fn = "access"
    element_name = "LscAccess"


KEEP = "_access_keep"      # session_state: the controls' values while the layer is off


class AccessLayer(Layer):
    key = "access"
    label = "Access gaps (straight-line distance)"
    order = 55
    default_on = False
    fields = VF.ACCESS              # acc, thr: one widget key each

    def link_values(self, ctx: MapContext, ss) -> dict:
        s = ctx.state.get(self.key, {})
        if not s.get("on"):
            return {}
        out = {"acc": tuple(sorted(s.get("cats") or ())) or None}
        if s.get("threshold_km") is not None:
            out["thr"] = float(s["threshold_km"])
        return out

    def state_from_view(self, view, store, fp: str = "") -> dict:
        if not view.layer_on(self.key, self.default_on):
            return {"on": False}
        return state_from_view(view, store, fp)

    def sidebar(self, ctx: MapContext) -> None:
        from geo.services import categories
        s = ctx.state.setdefault(self.key, {})
        s["on"] = st.checkbox(self.label, key="access_on", **widget_default("access_on", value=False))
        ss = st.session_state
        if not s["on"]:
            # off: only the checkbox (its controls cost ~2.5 ms per rerun, disabled); their
            # last values are kept for when it is ticked again
            return
        for k, v in (ss.get(KEEP) or {}).items():
            if k not in ss:
                ss[k] = v
        cats = categories()
        if [c for c in st.session_state.get("access_cats") or [] if c not in cats]:   # stale seeded value
            st.session_state["access_cats"] = [c for c in st.session_state["access_cats"] if c in cats]
        s["cats"] = st.multiselect("Nearest open site of", list(cats), key="access_cats",
                                   format_func=lambda k: cats[k]["label"], disabled=not s["on"],
                                   **widget_default("access_cats", default=[c for c in DEFAULT_CATS if c in cats]))
        s["subcats"] = self._programmes(s["cats"], cats)
        s["events"] = self._event_window(s["cats"], cats)
        tt = st.file_uploader("Optional travel-time matrix (CSV: lsoa11cd, site_id, minutes)", type=["csv"],
                              key="access_tt", disabled=not s["on"])
        s["travel"] = None
        if tt is not None and s["on"]:
            s["travel"] = self._travel(ctx, tt)
        if s["travel"] is not None:
            s["threshold_min"] = st.slider("Threshold (minutes)", 5, 120, step=5, key="access_thr_min",
                                           **widget_default("access_thr_min", value=30))
            s["threshold_km"] = None
        else:
            lo, hi, default, step = THR_KM
            s["threshold_km"] = st.slider("Threshold (km, straight-line)", lo, hi, step=step, key="access_thr_km",
                                          disabled=not s["on"], **widget_default("access_thr_km", value=default))
            s["threshold_min"] = None
        s["by"] = st.selectbox("Summarise by", list(BY_LABELS)[:4], format_func=BY_LABELS.get, key="access_by",
                               disabled=not s["on"])
        ss[KEEP] = {k: ss[k] for k in ("access_cats", "access_thr_km", "access_thr_min", "access_by",
                                       "access_subcats", "access_events") if k in ss}

    @staticmethod
    def _programmes(chosen, cats) -> tuple | None:
        """Screening programmes (subcategories) to count; None = all of them."""
        subs = (cats.get("screening") or {}).get("subcategories") or {}
        if "screening" not in chosen or not subs:
            return None
        picked = st.multiselect("Screening programmes", list(subs), key="access_subcats",
                                format_func=lambda k: subs.get(k, k), default=list(subs))
        if not picked:
            st.caption("No programme chosen: all screening programmes count.")
        return None if not picked or set(picked) == set(subs) else tuple(sorted(picked))

    @staticmethod
    def _event_window(chosen, cats) -> tuple | None:
        """(from, to) ISO dates of the dated events (HARI bus stops) that count as sites."""
        import datetime as dt
        if not [c for c in chosen if (cats.get(c) or {}).get("kind") == "event"]:
            return None
        day = dt.date.today()
        v = st.date_input("HARI bus stops dated (from – to)", key="access_events", value=(day, day),
                          format="YYYY-MM-DD",
                          help="A bus stop is a site only on its date: stops dated in this window count as "
                               "sites. Past stops are visits, later ones are planned.")
        v = tuple(v) if isinstance(v, (tuple, list)) else (v,)
        if not v:
            v = (day,)
        lo, hi = v[0], v[-1]
        st.caption(f"Counting HARI bus stops dated {lo.isoformat()}"
                   + (f" to {hi.isoformat()}" if hi != lo else " (today)" if lo == day else "")
                   + ": past stops = visited, later ones = planned.")
        return lo.isoformat(), hi.isoformat()

    def _travel(self, ctx: MapContext, f):
        from geo.errors import GeoError
        current_register = ctx.need("services.current_register")
        data = f.getvalue()
        try:
            tt = ac.read_travel_times(data, f.name, lsoa_codes=set(ctx.store.lsoa["lsoa11cd"]),
                                      site_ids=set(current_register().records["id"]))
        except GeoError as e:
            st.error(md(str(e)))
            return None
        tt.digest = hashlib.sha256(data).hexdigest()[:16]
        st.caption(f"{md(tt.file)}: {len(tt.table):,} LSOA-site times loaded, {len(tt.rejected):,} rows rejected")
        if len(tt.rejected):
            st.dataframe(neutralise_frame(tt.rejected.head(500)), hide_index=True, width="stretch", key="access_tt_rejected")
        return tt

    def _args(self, ctx: MapContext):
        register_key, today = ctx.need("services.register_key"), ctx.need("services.today")
        s = ctx.state.get(self.key, {})
        cats = tuple(sorted(s.get("cats") or []))
        if not cats:
            return None
        tt = s.get("travel")
        subcats = tuple(s["subcats"]) if s.get("subcats") else None
        events = tuple(s["events"]) if s.get("events") else None
        return (ctx.store, ctx.fingerprint, cats, today(), register_key(), tt, getattr(tt, "digest", ""),
                subcats, events, s.get("population") or ac.DEFAULT_POPULATION)

    def _result(self, ctx: MapContext):
        a = self._args(ctx)
        return None if a is None else _per_lsoa(*a)

    def full_result(self, ctx: MapContext):
        """The geo.access.AccessResult behind the view (None without categories)."""
        a = self._args(ctx)
        return None if a is None else _result_cached(*a)

    def paints(self, ctx: MapContext) -> bool:
        """True when this rerun draws the access choropleth (the deprivation fill then steps
        aside, as it does for the indicator layer)."""
        if not self.is_on(ctx):
            return False
        try:
            return self._result(ctx) is not None
        except Exception:
            return False

    def _rings(self, ctx: MapContext) -> tuple[list, float | None]:
        """[lat, lon] of the sites the distances are measured to (event window and
        programmes honoured) and the threshold in metres; none for travel times."""
        s = ctx.state.get(self.key, {})
        if s.get("travel") is not None or s.get("threshold_km") is None:
            return [], None
        try:
            res = self.full_result(ctx)
        except Exception:
            return [], None
        if res is None:
            return [], None
        pts = [[round(float(a), 5), round(float(b), 5)] for a, b in zip(res.sites["lat"], res.sites["lon"])
               if pd.notna(a) and pd.notna(b)]
        return pts, float(s["threshold_km"]) * 1000.0

    def _metric(self, ctx):
        timed = ctx.state.get(self.key, {}).get("travel") is not None
        return ("time_min", MIN_BINS, "min", "travel time") if timed else \
            ("distance_km", KM_BINS, "km", "straight-line distance")

    def feature_group(self, ctx: MapContext):
        if not self.is_on(ctx):
            return None
        try:
            r = self._result(ctx)
        except Exception as e:      # e.g. no open sites in the chosen categories
            ctx.messages.append(("warning", f"Access gaps: {e}"))
            return None
        if r is None:
            return None
        per, _, _ = r
        col, bins, _, _ = self._metric(ctx)
        cls = _classes(per[col], bins)
        key = hashlib.sha256(json.dumps(cls).encode()).hexdigest()[:10]
        fg = folium.FeatureGroup(name="lsc-access", control=False)
        rings, ring_m = self._rings(ctx)
        fg.add_child(_AccessScript({"geo": ctx.static.get("geo"), "cls": cls, "colours": COLOURS,
                                    "nodata": NODATA, "opacity": 0.85, "key": key, "rings": rings,
                                    "ring_m": ring_m, "ring": RING}))
        fg.lsc_payload = ("access", key)
        return fg

    def legend_follows_area(self, ctx: MapContext) -> bool:     # "N people in <area> live beyond..."
        return self.is_on(ctx)

    def legend(self, ctx: MapContext) -> list[LegendEntry]:
        if not self.is_on(ctx):
            return []
        try:
            r = self._result(ctx)
        except Exception:
            return []
        if r is None:
            return []
        per, n_sites, notes = r
        col, bins, unit, what = self._metric(ctx)
        cls = pd.Series(_classes(per[col], bins))
        labels = [f"≤ {bins[0]} {unit}"] + [f"{a}–{b} {unit}" for a, b in zip(bins, bins[1:])] + [f"> {bins[-1]} {unit}"]
        items = [LegendItem(f"{lab} ({int((cls == i + 1).sum())} LSOAs)", fill=COLOURS[i]) for i, lab in enumerate(labels)]
        if (cls == 0).any():
            items.append(LegendItem(f"No data: {'no time in matrix' if col == 'time_min' else 'no distance'} "
                                    f"({int((cls == 0).sum())})", fill=NODATA_SWATCH, stroke=NODATA_LINE,
                                    hatch=True))
        if col == "distance_km" and ctx.state[self.key].get("threshold_km") is not None:
            items.append(LegendItem(f"Threshold: {float(ctx.state[self.key]['threshold_km']):g} km (straight-line) "
                                    "round each open site", stroke=RING["color"], stroke_width=RING["weight"],
                                    dash=RING["dashArray"], shape="line"))
        from geo.services import categories
        cats = categories()
        names = ", ".join(cats[c]["label"] for c in ctx.state[self.key].get("cats", []))
        today = ctx.need("services.today")
        s = ctx.state[self.key]
        thr_txt = ""
        a = ctx.area or {}
        here = per
        if a.get("kind") == "district":
            here = per[per["lad19cd"] == a.get("code")]
        elif a.get("kind") in ("place5", "place4"):
            here = per[per[a["kind"]] == a.get("code")]
        elif a.get("kind") == "custom":
            here = ctx.need("areas.filter_frame")(per, a)
        where = f" in {a['name']}" if a.get("kind") not in (None, "icb") and a.get("name") else ""
        if col == "distance_km" and s.get("threshold_km") is not None:
            beyond = here["population"].astype(float).where(here["distance_km"] > float(s["threshold_km"]), 0.0).sum()
            thr_txt = (f" {int(round(beyond)):,} people{where} live beyond {float(s['threshold_km']):g} km "
                       "(straight-line) of the nearest open site.")
        elif col == "time_min" and s.get("threshold_min") is not None:
            beyond = here["population"].astype(float).where(here["time_min"] > float(s["threshold_min"]), 0.0).sum()
            untimed = here["population"].astype(float).where(here["time_min"].isna(), 0.0).sum()
            thr_txt = f" {int(round(beyond)):,} people{where} live beyond {float(s['threshold_min']):g} minutes."
            if untimed > 0:
                thr_txt += f" {int(round(untimed)):,} people live in LSOAs with no time in the matrix (not counted)."
        return [LegendEntry(
            title=f"Access: {what} to nearest open site ({names})",
            items=items,
            vintage=f"{n_sites} sites ({_when(s, today())}); LSOA 2011 population-weighted points (Code-Point Open 2025)",
            source="geo/access.py (scipy cKDTree on British National Grid metres)",
            note=("Straight-line distance, not road distance or travel time." if col == "distance_km"
                  else "Travel times from the uploaded matrix; LSOAs without a time are hatched grey.") + thr_txt,
        )]

    def panel(self, ctx: MapContext) -> None:
        """Summary table under the map (population / Core20 beyond the threshold, with
        shares beside the counts), on the same denominator as the ward table, and its
        CSV with the settings in '#' metadata lines."""
        if not self.is_on(ctx):
            return
        try:
            r = self._result(ctx)
            res = self.full_result(ctx)
        except Exception as e:
            st.warning(f"Access gaps: {md(e)}")
            return
        if r is None:
            st.info("Access gaps: choose at least one service category.")
            return
        per, n_sites, notes = r
        s = ctx.state[self.key]
        by = s.get("by", "ward")
        a = ctx.area
        per = _in_area(per, a)
        t = ac.summarise(per, by, threshold_km=s.get("threshold_km"), threshold_min=s.get("threshold_min"),
                         wards=_in_area(ctx.store.wards24, a))
        thr = f"{s['threshold_min']:g} minutes" if s.get("threshold_min") is not None else \
            f"{s['threshold_km']:g} km (straight-line)"
        st.markdown(f"#### Access gaps in {md(a['name'])}: people beyond {esc(thr)} · by {esc(BY_LABELS[by])}")
        tot = t[["population", "core20_population", "population_beyond", "core20_population_beyond"]].sum()
        pct = (lambda n, d: f"{100 * n / d:.1f}%" if d else "–")
        st.caption(f"{int(tot['population_beyond']):,} of {int(tot['population']):,} people "
                   f"({pct(tot['population_beyond'], tot['population'])}; "
                   f"{int(tot['core20_population_beyond']):,} of {int(tot['core20_population']):,} Core20, "
                   f"{pct(tot['core20_population_beyond'], tot['core20_population'])}) "
                   f"live beyond {thr} of the nearest site. " + esc(basis_note(ctx, res)) + " "
                   + " · ".join(esc(n) for n in notes if not n.startswith("population:") and n != ac.CORE20_LABEL))
        view = ac.display_table(t, by)
        pcts = {c: st.column_config.NumberColumn(format="%.1f" if c.startswith("%") else "localized")
                for c in view.columns if c.startswith("%") or c in ac.COUNT_HEADINGS}
        st.dataframe(view, hide_index=True, width="stretch", height=320, key="access_table",
                     column_config=pcts)
        st.download_button("Download access table (CSV)", lambda: access_csv(ctx, res, view, s, by),
                           file_name=csv_name(ctx, res, s, by), mime="text/csv", key="access_csv",
                           on_click="ignore")
        with st.expander("Mean straight-line distance (km) by national IMD decile", expanded=False):
            st.dataframe(ac.mean_distance_by_decile(per, by if by != "lsoa" else "district"), hide_index=True,
                         width="stretch", key="access_deciles")


def _in_area(df: pd.DataFrame, a: dict | None) -> pd.DataFrame:
    a = a or {}
    if a.get("kind") == "district":
        return df[df["lad19cd"] == a.get("code")]
    if a.get("kind") in ("place5", "place4"):
        return df[df[a["kind"]] == a.get("code")]
    if a.get("kind") == "custom":               # a saved custom area (layers/areas.py)
        return need("areas.filter_frame")(df, a)
    return df


def _when(s: dict, day: str) -> str:
    ev = s.get("events")
    txt = f"open on {day}"
    if ev:
        txt += f"; HARI bus stops dated {ev[0]}" + (f" to {ev[1]}" if ev[1] != ev[0] else "")
    return txt


def basis_note(ctx: MapContext, res) -> str:
    """One denominator per screen: the access figures use the ward table's (IoD2019,
    mid-2015); with IoD2025 on screen the difference is said, not left to be found."""
    basis = getattr(res, "population_basis", "") or ac.POPULATIONS[ac.DEFAULT_POPULATION][1]
    if int(ctx.choice("deprivation", "vintage", 2019)) == 2019:
        return f"Population: {basis}, as in the ward table; Core20 = IMD2019 national deciles 1-2."
    return (f"Population: {basis} with IMD2019 Core20 (access is measured on 2011 LSOAs); the ward table "
            "shows IoD2025 on Census 2021 residents, so their Core20 totals differ.")


def csv_name(ctx: MapContext, res, s: dict, by: str) -> str:
    import re
    thr = f"{s['threshold_min']:g}min" if s.get("threshold_min") is not None else f"{s['threshold_km']:g}km"
    cats = "-".join(s.get("cats") or [])
    day = getattr(res, "as_of", "")
    name = f"lsc_access_{cats}_{thr}_{ctx.area.get('name', '')}_by-{by}_{day}.csv"
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name)


def access_csv(ctx: MapContext, res, view: pd.DataFrame, s: dict, by: str) -> bytes:
    import datetime as _dt

    from geo.export import csv_bytes
    from geo.services import categories
    labels = {k: c.get("label", k) for k, c in categories().items()}
    head = ac.header_lines(res, area=ctx.area.get("name", ""), by=by, threshold_km=s.get("threshold_km"),
                           threshold_min=s.get("threshold_min"), category_labels=labels)
    now = _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    head += [("Exported", now), ("Attribution", ctx.store.attribution)]
    return csv_bytes(view, head)


def state_from_view(view, store, fp: str = "") -> dict:
    """The layer's state dict (as `sidebar` leaves it in ctx.state["access"]) from a
    geo.viewstate.ViewState, for exports and snapshots outside the app: see
    geo.access.access_settings (the exports use the same settings)."""
    from geo.services import categories
    return ac.access_settings(view, categories())


LAYER = AccessLayer()
