"""The view's link <-> the session: the URL state read into the widgets' keys, the
session's state written back to the URL, and the layers' state built from a link
outside the app (CLI, snapshot). The URL schema, validation and clamping live in
geo/viewstate.py (pure); the share controls are layers/share.py.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import replace

import streamlit as st

from geo import viewstate as VS
from layers.base import Layer, MapContext

KEY = "share"
SS_APPLIED = "share_url_applied"
SS_NOTICES = "share_notices"


# ------------------------------------------------------------------ URL -> session
def _known(store) -> VS.Known:
    from layers import REGISTRY
    keys = {m.rsplit(".", 1)[-1] for m in REGISTRY} | set(VS.LAYER_KEYS)
    return VS.known_from_store(store, layers=keys)


def _tiny_fit(lat: float, lon: float, z: float) -> dict:
    e = 1e-6
    return {"key": f"url:{lat:.5f},{lon:.5f},{z:g}", "b": [[lat - e, lon - e], [lat + e, lon + e]],
            "max_zoom": z}


def read_url_state(store, fp: str) -> VS.ViewState:
    """Parse the URL once per session and seed the widgets; show any fallback notices."""
    ss = st.session_state
    if not ss.get(SS_APPLIED):
        try:
            state, notices = VS.from_query(st.query_params.to_dict(), _known(store))
        except Exception as e:       # never let a link break the page
            state, notices = VS.ViewState(), [VS.Notice("?", f"The link could not be read "
                                                             f"({type(e).__name__}); showing the default view.")]
        if state.ind:
            try:
                from geo.indicators import builtin_labels
                ds = state.ind.partition(":")[0]
                if ":" in state.ind and ds not in builtin_labels():
                    notices.append(VS.Notice("ind", "That indicator dataset is not available (any more); "
                                                    "the first dataset is shown."))
                    state = replace(state, ind=None)
            except Exception:
                pass
        apply_to_session(state, store, fp)
        ss[SS_APPLIED] = True
        ss[SS_NOTICES] = [str(n) for n in notices]
        ss["share_state0"] = state
    notices = ss.get(SS_NOTICES) or []
    if notices:
        box = st.container(key="share_notice_box")
        with box:
            st.warning("Parts of this link could not be used, so defaults are shown for them:\n\n"
                       + "\n".join(f"- {_md(n)}" for n in notices))
            if st.button("Dismiss", key="share_dismiss"):
                ss[SS_NOTICES] = []
                st.rerun()
    return ss.get("share_state0") or VS.ViewState()


def _md(text: str) -> str:
    """Plain text safe inside Markdown (st.warning renders Markdown, not HTML): every ASCII
    punctuation mark is backslash-escaped, so no link/image/HTML/LaTeX can be formed."""
    import re
    return re.sub(r"([\\`*_{}\[\]()#+\-.!|<>~:$&\"'=%@^,;?/])", r"\\\1", str(text))


def apply_to_session(state: VS.ViewState, store, fp: str) -> None:
    """Seed widget keys (before the widgets are created) from `state`."""
    from layers.data import ward_bounds
    from layers.view import all_area_options, fit_bounds
    ss = st.session_state
    if state.layers is not None:
        for k in VS.LAYER_KEYS:
            ss[f"{k}_on"] = k in state.layers
    ss["deprivation_measure"] = state.measure
    ss["deprivation_vintage"] = int(state.vintage)
    ss["deprivation_local"] = state.deciles == "local"
    ss["deprivation_core20"] = bool(state.core20)
    ss["wards_labels"] = bool(state.labels)
    if state.prio is not None:
        for k in VS.PRIO_KINDS:
            ss[f"priority_{k}"] = k in state.prio
    if state.n is not None:
        ss["priority_n"] = int(state.n)
    if state.rank is not None:
        ss["priority_measure"] = state.rank
    if state.per is not None:
        ss["priority_per"] = state.per
    if state.ind:
        ds, _, ind = state.ind.partition(":")
        if ind:
            ss["indicators_dataset"], ss["indicators_indicator"] = ds, ind
        else:
            ss["indicators_indicator"] = ds
    if state.cls:
        ss["indicators_method"] = state.cls
    if state.k is not None:
        ss["indicators_k"] = min(max(int(state.k), 3), 7)
    if state.brk:
        ss["indicators_thresholds"] = ", ".join(f"{b:g}" for b in state.brk)
    if state.acc is not None:
        ss["access_cats"] = list(state.acc)
    if state.svc is not None:
        from geo.services import load_config
        for cat in load_config()["categories"]:
            ss[f"services_cat_{cat}"] = cat in state.svc
    if state.thr is not None:
        from layers.access import THR_KM
        lo, hi, _, step = THR_KM
        ss["access_thr_km"] = float(round(min(max(state.thr, lo), hi) / step) * step)
    if state.plan is not None:
        from layers.planner import seed_session
        seed_session(state.plan)
    fit = None
    if state.area_kind != "icb" and state.area_code:
        opts = all_area_options(store, fp)    # {"place5:Fylde Coast": (kind, code, label)}, custom:NAME too
        items = opts.items() if isinstance(opts, dict) else [(o, o) for o in opts]
        for wkey, opt in items:
            if opt[0] == state.area_kind and opt[1] == state.area_code:
                ss["area"] = wkey
                fit = {"key": f"{opt[0]}:{opt[1]}", "b": fit_bounds(store, fp, opt[0], opt[1])}
    if state.ward:
        ss["selected_ward"] = state.ward
        b = ward_bounds(store, fp, state.ward)
        if b is not None:
            fit = {"key": f"ward:{state.ward}", "b": b}
    if state.has_view:
        fit = _tiny_fit(state.lat, state.lon, state.z)
    if fit is not None:
        ss["fit"] = fit
    ss["share_present"] = bool(state.present)
    ss["share_title"] = state.title


# ------------------------------------------------------------------ session -> URL
def state_from_ctx(ctx: MapContext, layers: list[Layer]) -> VS.ViewState:
    """The current view, read from the layers' own state dicts (ctx.state)."""
    ss = st.session_state
    d = ctx.state.get("deprivation", {})
    w = ctx.state.get("wards", {})
    p = ctx.state.get("priority", {})
    on = tuple(l.key for l in layers if l.key != KEY and l.is_on(ctx))
    kw: dict = {
        "layers": on,
        "measure": d.get("measure", "imd"), "vintage": int(d.get("vintage", 2019)),
        "deciles": "local" if d.get("local") else "national", "core20": bool(d.get("core20", True)),
        "labels": bool(w.get("labels", True)),
        "icb": getattr(ctx.store, "code", None),     # the footprint (geo.footprint view)
        "area_kind": ctx.area.get("kind", "icb"), "area_code": ctx.area.get("code"),
        "ward": ss.get("selected_ward") or None,
        "present": bool(ss.get("share_present")), "title": VS._clean_title(ss.get("share_title") or ""),
    }
    if p:
        kw["prio"] = tuple(k for k in VS.PRIO_KINDS if p.get(k))
        rule = p.get("rule")
        if rule is not None:
            kw.update(n=int(rule.n), rank=rule.measure, per=rule.per)
    ind = ctx.state.get("indicators", {})
    if ind.get("on") and ind.get("indicator"):
        ds = ss.get("indicators_dataset")
        kw["ind"] = f"{ds}:{ind['indicator']}" if ds and ds != "upload" else str(ind["indicator"])
        kw["cls"] = ind.get("method")
        if ind.get("method") == "fixed" and ind.get("thresholds"):
            kw["brk"] = tuple(float(x) for x in ind["thresholds"])
        elif ind.get("k") is not None:
            kw["k"] = int(ind["k"])
    svc = ctx.state.get("services", {})
    if svc.get("on"):
        kw["svc"] = tuple(sorted(svc.get("cats") or ()))
    acc = ctx.state.get("access", {})
    if acc.get("on"):
        kw["acc"] = tuple(sorted(acc.get("cats") or ())) or None
        if acc.get("threshold_km") is not None:
            kw["thr"] = float(acc["threshold_km"])
    if ctx.state.get("planner", {}).get("on"):
        from geo.plan_link import from_layer_state
        kw["plan"] = from_layer_state(ctx.state["planner"])
    # map centre/zoom: the map iframe keeps them in the page URL (static/js/paint_share.js)
    cur = st.query_params.to_dict()
    view, _ = VS.from_query({k: cur[k] for k in ("lat", "lon", "z") if k in cur})
    if view.has_view:
        kw.update(lat=view.lat, lon=view.lon, z=view.z)
    # drop anything the schema would reject (e.g. an uploaded indicator's odd id)
    state, _ = VS.from_query(VS.to_query(VS.ViewState(**{k: v for k, v in kw.items() if v is not None})),
                             VS.Known(layers=frozenset(on) | frozenset(VS.LAYER_KEYS)))
    return state


def write_url_state(ctx: MapContext, layers: list[Layer]) -> None:
    try:
        q = VS.to_query(state_from_ctx(ctx, layers))
    except Exception as e:       # the page must still work
        ctx.messages.append(("warning", f"The link could not be updated: {type(e).__name__}"))
        return
    if st.query_params.to_dict() != q:
        st.query_params.from_dict(q)


# ------------------------------------------------------------------ CLI / export context
def export_context(store, state: VS.ViewState, notes: list[str] | None = None):
    """(ctx, layers) for rendering `state` outside the app (CLI, snapshot): the layers' state
    dicts are filled from the ViewState instead of from widgets (a layer module's
    `state_from_view(view, store, fp)` where it has one: indicators, access). A layer that
    only works with its widgets is skipped with a note."""
    import importlib

    import yaml

    from geo.export import area_name, priority_config, priority_rule
    from geo.paths import CONFIG_DIR
    from layers import REGISTRY
    from render.static_files import build_static
    notes = notes if notes is not None else []
    fp = hashlib.sha256(json.dumps(store.manifest.get("fingerprint", store.manifest), sort_keys=True,
                                   default=str).encode()).hexdigest()[:16]
    from geo import footprint as F        # the link's ICB (icb=): that footprint's view of the store
    store, fp = F.footprint(getattr(store, "base", store), state.icb), F.fingerprint(fp, state.icb)
    config = yaml.safe_load((CONFIG_DIR / "layers.yaml").read_text(encoding="utf-8")) or {}
    ctx = MapContext(store=store, fingerprint=fp, config=config, static=build_static(store))
    cfg = priority_config(store)
    prio = state.prio if state.prio is not None else (
        ("icb", "exemplar") + (("candidate",) if cfg.rule.enabled else ()))
    layers = []
    for name in REGISTRY:
        try:
            mod = importlib.import_module(name)
        except ModuleNotFoundError as e:
            if e.name == name:
                continue
            notes.append(f"layer {name} could not be loaded: {e}")
            continue
        layer = getattr(mod, "LAYER", None)
        if isinstance(layer, Layer):
            layers.append(layer)
    layers.sort(key=lambda l: l.order)
    keep = []
    for layer in layers:
        on = state.layer_on(layer.key, layer.default_on)
        s = {"on": on}
        if layer.key == "deprivation":
            s.update(vintage=state.vintage, measure=state.measure, local=state.deciles == "local",
                     core20=state.core20)
        elif layer.key == "wards":
            s.update(labels=state.labels)
        elif layer.key == "priority":
            s.update(icb="icb" in prio, exemplar="exemplar" in prio, candidate="candidate" in prio,
                     rule=priority_rule(cfg, state))
        elif layer.key == "services":
            try:
                from layers.services import current_register
                s.update(cats=list(current_register().config["categories"]), closed=False)
            except Exception as e:
                notes.append(f"services not drawn: {type(e).__name__}: {e}")
                s["on"] = False
        elif on and callable(getattr(importlib.import_module(type(layer).__module__), "state_from_view", None)):
            try:
                s = importlib.import_module(type(layer).__module__).state_from_view(state, store, fp)
            except Exception as e:      # e.g. a dataset that is not there: the rest still renders
                notes.append(f"The {layer.label} layer could not be drawn from this link: {e}")
                s = {"on": False}
        elif on:
            notes.append(f"The {layer.label} layer is drawn only in the app (it needs its own "
                         "data choices); it is not in this export.")
            s["on"] = False
        ctx.state[layer.key] = s
        keep.append(layer)
    ctx.area = {"kind": state.area_kind, "code": state.area_code,
                "name": area_name(state, store).split(": ", 1)[-1] if state.area_kind != "icb" else "the whole ICB"}
    if state.area_kind == "custom":          # its LSOAs and wards (layers/areas.py), as in the app
        from layers import areas as custom
        ctx.area = custom.area_dict(store, state.area_code)
    ctx.selected_ward = state.ward
    return ctx, keep
