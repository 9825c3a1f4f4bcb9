"""Saved plans in the app: "Save plan", "Save as schedule" (panel) and the "Saved plans"
list in the sidebar (Open, Delete, Restore). Storage: geo/plan_store.py (geo.userdb).

Opening a plan restores its inputs into the planner's widgets (area, k, reach, weight,
candidates, exclusions, existing sites, first date, stops per week, what-if points) and
*pins* its stops: while the inputs stay as saved, the solver is asked for exactly the
saved stops (required venues), so the map, table and exports show the plan as saved even
if the data changed since; changing any input re-plans. All actions run in widget
callbacks, so the widgets drawn after them already show the new state.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json

import streamlit as st

from geo import plan_store as ps
from geo.errors import GeoError

PIN = "planner_pinned"          # session_state: {"name", "version", "ids", "sig", "saved"}
FLASH = "planner_flash"         # session_state: {"sidebar"|"panel": (kind, message)}
WHATIF = "planner_whatif"
SIG_KEYS = ("k", "reach", "radius_km", "minutes", "weight", "vintage", "cand", "grid_m", "existing", "recent_days",
            "min_km", "exclude", "whatif")


def _md(text) -> str:
    from layers.planner import _md as md
    return md(text)


def _who() -> str:
    from layers.base import need
    return need("services.who")()


def _flash(where: str, kind: str, msg: str) -> None:
    st.session_state.setdefault(FLASH, {})[where] = (kind, msg)


def show_flash(where: str) -> None:
    f = (st.session_state.get(FLASH) or {}).pop(where, None)
    if f:
        getattr(st, f[0])(_md(f[1]))


def _file(f) -> dict | None:
    if f is None:
        return None
    return {"name": str(f.name), "sha256": hashlib.sha256(f.getvalue()).hexdigest()}


def inputs_from_state(s: dict) -> dict:
    """The planner's inputs as saved (JSON-able)."""
    first = s.get("first")
    files = {k: v for k, v in (("weights", _file(s.get("weights_file"))), ("venues", _file(s.get("venues_file"))),
                               ("travel", _file(s.get("travel")))) if v}
    return {"k": int(s.get("k", 5)), "reach": "km" if s.get("radius_km") is not None else "minutes",
            "radius_km": s.get("radius_km"), "minutes": s.get("minutes"), "weight": s.get("weight", "core20"),
            "vintage": int(s.get("vintage", 2019)), "cand": s.get("cand", "gp"), "grid_m": float(s.get("grid_m", 500)),
            "existing": sorted(s.get("existing") or []), "recent_days": int(s.get("recent_days", 90)),
            "min_km": float(s.get("min_km", 0)), "exclude": list(s.get("exclude") or []),
            "first": first.isoformat() if isinstance(first, dt.date) else (str(first) if first else None),
            "per_week": int(s.get("per_week", 2)),
            "whatif": [dict(w) for w in (st.session_state.get(WHATIF) or [])], "files": files}


def signature(inputs: dict, area: dict) -> str:
    """What decides the stops (not the dates): a pin holds while this stays the same."""
    key = {k: inputs.get(k) for k in SIG_KEYS}
    key["exclude"] = sorted(key.get("exclude") or [])
    key["area"] = [area.get("kind") or "icb", area.get("code")]
    return hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()[:16]


def pinned_ids(s: dict, area: dict) -> tuple:
    """Venue ids the solver must choose (an opened saved plan whose inputs are unchanged)."""
    pin = st.session_state.get(PIN)
    if not pin:
        return ()
    sig = signature(inputs_from_state(s), area)
    if pin.get("sig") is None:                   # the first run after Open: the restored inputs
        pin["sig"] = sig
    elif pin["sig"] != sig:
        st.session_state.pop(PIN, None)          # an input changed: re-plan from now on
        return ()
    return tuple(pin["ids"])


def pin_caption() -> str | None:
    pin = st.session_state.get(PIN)
    if not pin:
        return None
    sv = pin.get("saved") or {}
    return (f"Saved plan '{pin['name']}' (version {pin['version']}, saved {str(sv.get('created_at', ''))[:16]} "
            f"UTC by {sv.get('created_by', '?')}): its stops are shown as saved. Change any input to re-plan.")


# ------------------------------------------------------------------ callbacks
def _set_widgets(doc: dict, store, fp) -> None:
    from layers.view import all_area_options, fit_bounds
    ss = st.session_state
    i, a = doc["inputs"], doc["area"]
    opts = all_area_options(store, fp)          # custom areas (layers/areas.py) too
    key = "icb" if (a.get("kind") or "icb") == "icb" else f"{a['kind']}:{a.get('code')}"
    if key not in opts:
        raise GeoError(f"the plan's area {a.get('name')!r} is not an area of this map any more")
    ss["area"] = key
    kind, code, _ = opts[key]
    ss["fit"] = {"key": f"{kind}:{code}", "b": fit_bounds(store, fp, kind, code)}
    ss["planner_on"] = True
    ss["planner_k"] = min(max(int(i.get("k") or 5), 1), 40)
    ss["planner_reach"] = "minutes" if i.get("reach") == "minutes" else "km"
    if i.get("radius_km") is not None:
        ss["planner_km"] = float(min(max(round(float(i["radius_km"]) * 2) / 2, 0.5), 10.0))
    if i.get("minutes") is not None:
        ss["planner_min"] = int(min(max(round(float(i["minutes"]) / 5) * 5, 5), 60))
    from layers.planner import CAND_OPTS, WEIGHT_OPTS
    ss["planner_weight"] = i.get("weight") if i.get("weight") in WEIGHT_OPTS else "core20"
    ss["planner_vintage"] = int(i.get("vintage")) if i.get("vintage") in (2019, 2025) else 2019
    ss["planner_cand"] = i.get("cand") if i.get("cand") in CAND_OPTS else "gp"
    g = int(i.get("grid_m") or 500)
    ss["planner_grid"] = g if g in (250, 500, 1000, 2000) else 500
    from geo.services import categories
    ss["planner_existing"] = [c for c in i.get("existing") or [] if c in categories()]
    ss["planner_recent"] = int(min(max(int(i.get("recent_days") or 0), 0), 730))
    ss["planner_minkm"] = float(min(max(float(i.get("min_km") or 0), 0.0), 20.0))
    ss["planner_exclude"] = list(i.get("exclude") or [])
    ss["planner_exclude_ids"] = ", ".join(i.get("exclude") or [])
    try:
        ss["planner_first"] = dt.date.fromisoformat(i["first"]) if i.get("first") else ss.get("planner_first")
    except ValueError:
        pass
    ss["planner_pw"] = int(min(max(int(i.get("per_week") or 1), 1), 7))
    ss[WHATIF] = [{"lat": float(w["lat"]), "lon": float(w["lon"])} for w in i.get("whatif") or []
                  if isinstance(w, dict) and "lat" in w and "lon" in w]
    ss["planner_name"] = doc.get("saved", {}).get("name", "")


def open_plan(name: str, store, fp) -> None:
    """Callback of "Open": inputs back in the widgets, stops pinned."""
    try:
        doc = ps.load_plan(name)
        _set_widgets(doc, store, fp)
    except GeoError as e:
        _flash("sidebar", "error", f"Could not open the plan: {e}")
        return
    st.session_state[PIN] = {"name": doc["saved"]["name"], "version": doc["saved"]["version"], "sig": None,
                             "ids": [s["id"] for s in doc["stops"] if not s.get("whatif")], "saved": doc["saved"]}
    files = doc["inputs"].get("files") or {}
    need = "; ".join(f"{k}: {v.get('name')}" for k, v in files.items() if isinstance(v, dict))
    _flash("sidebar", "success", f"Opened plan '{name}' ({len(doc['stops'])} stops, {doc['area'].get('name')})."
           + (f" It used uploaded files: upload them again ({need})." if need else ""))


def delete_plan(name: str) -> None:
    try:
        ps.remove_plan(name, by=_who())
    except GeoError as e:
        _flash("sidebar", "error", str(e))
        return
    _flash("sidebar", "info", f"Deleted plan '{name}'. Restore (below) brings it back.")


def undelete_plan(name: str) -> None:
    try:
        e = ps.restore_plan(name, by=_who())
    except GeoError as e:
        _flash("sidebar", "error", str(e))
        return
    _flash("sidebar", "success", f"Restored plan '{name}' (version {e.version}).")


def save_plan(doc: dict) -> None:
    name = (st.session_state.get("planner_name") or "").strip()
    try:
        out = ps.save_plan(name, doc, created_by=_who())
    except GeoError as e:
        _flash("panel", "error", f"The plan was not saved: {e}")
        return
    _flash("panel", "success", out.message + " Find it under Saved plans in the sidebar.")


def save_schedule(res, first, per_week: int) -> None:
    name = (st.session_state.get("planner_name") or "").strip() or "outreach plan"
    try:
        out, r = ps.save_schedule(res, first, per_week, name, created_by=_who())
    except GeoError as e:
        _flash("panel", "error", f"The schedule was not saved: {e}")
        return
    dates = sorted(r.records["event_date"])
    _flash("panel", "success", f"{out.message} {len(r.records)} planned HARI bus stop(s), {dates[0]} to "
                               f"{dates[-1]}, are now in the services data (Services: tick 'HARI bus stops' and "
                               f"'Also show closed / planned'); the outreach tables show them as the next visit.")


# ------------------------------------------------------------------ drawing
def saved_plans_sidebar(ctx) -> None:
    """The "Saved plans" list (lazy: drawn only while its expander is open)."""
    exp = st.expander("Saved plans", expanded=False, key="planner_saved_open", on_change="rerun")
    if not exp.open:
        show_flash("sidebar")
        return
    with exp:
        show_flash("sidebar")
        try:
            entries = ps.list_plans(removed=True)
        except GeoError as e:
            st.warning(f"Saved plans cannot be listed: the user-data store could not be read ({e}).")
            return
        live = [e for e in entries if not e.removed]
        gone = sorted((e for e in entries if e.removed), key=lambda e: e.removed_at, reverse=True)[:5]
        if not live:
            st.caption("No saved plans yet: plan, then 'Save plan' under the map.")
        for e in live:
            i = hashlib.sha256(e.name.encode()).hexdigest()[:12]
            m = e.meta or {}
            share = f", {100 * m['share']:.1f}% covered" if isinstance(m.get("share"), (int, float)) else ""
            st.caption(_md(f"{e.name}: {m.get('stops', e.rows)} stops in {m.get('area', '?')}{share}; version "
                           f"{e.version}, saved {e.created_at:%Y-%m-%d %H:%M} UTC by {e.created_by}"))
            c1, c2 = st.columns(2)
            c1.button("Open", key=f"planner_open_{i}", on_click=open_plan, args=(e.name, ctx.store, ctx.fingerprint),
                      help=f"Restore {e.name}'s inputs and stops on the map")
            c2.button("Delete", key=f"planner_del_{i}", on_click=delete_plan, args=(e.name,),
                      help="Delete this plan (Restore brings it back)")
        for e in gone:
            i = hashlib.sha256(e.name.encode()).hexdigest()[:12]
            st.caption(_md(f"{e.name}: deleted {e.removed_at:%Y-%m-%d %H:%M} UTC"))
            st.button("Restore", key=f"planner_undel_{i}", on_click=undelete_plan, args=(e.name,))


def save_controls(ctx, s: dict, res) -> None:
    """Under the exports: plan name, "Save plan", "Save as schedule"."""
    default = f"{ctx.area.get('name', 'ICB')} - {len(res.stops)} stops - {dt.date.today().isoformat()}"
    ss = st.session_state
    if "planner_name" not in ss or ss["planner_name"] == ss.get("_planner_name_auto"):
        ss["planner_name"] = default          # follows the plan until the person types a name
    ss["_planner_name_auto"] = default
    st.text_input("Plan name", key="planner_name", max_chars=120,
                  help="Saving again under the same name adds a version; earlier versions are kept")
    doc = ps.plan_document(inputs_from_state(s), res, ctx.area)
    c1, c2 = st.columns(2)
    c1.button("Save plan", key="planner_saveplan", on_click=save_plan, args=(doc,),
              help="Keep this plan (inputs and stops) in the user-data store; reopen it from Saved plans")
    c2.button("Save as schedule", key="planner_save", on_click=save_schedule,
              args=(res, s.get("first"), int(s.get("per_week", 1))),
              help="Save the stops as planned HARI bus stops (dated from 'First stop on', 'Stops per week') "
                   "in the services data: the Services layer and the outreach tables use them")
    show_flash("panel")
