"""The view's link <-> the session: the URL state read into the widgets' keys, the
session's state written back to the URL, and the layers' state built from a link
outside the app (CLI, snapshot). The URL schema, validation and clamping live in
geo/viewstate.py (pure); the share controls are layers/share.py.

Nothing here knows a layer's parameters or widget keys: each layer declares its link
fields (Layer.fields, geo.viewstate.Field) and maps them itself (Layer.to_session,
Layer.link_values, Layer.checked_link, Layer.state_from_view); this module loops over
the layers and handles only the view-wide fields (area, ward, map view, title, present).
"""
from __future__ import annotations

import hashlib
import json

import streamlit as st

from geo import viewstate as VS
from layers.base import Layer, MapContext

KEY = "share"
SS_APPLIED = "share_url_applied"
SS_NOTICES = "share_notices"


# ------------------------------------------------------------------ URL -> session
def _all_layers(notes: list[str] | None = None) -> list[Layer]:
    """Every registered layer (layers.REGISTRY) that can be imported, in drawing order."""
    import importlib

    from layers import REGISTRY
    out = []
    for name in REGISTRY:
        try:
            mod = importlib.import_module(name)
        except ModuleNotFoundError as e:
            if e.name == name:
                continue
            if notes is not None:
                notes.append(f"layer {name} could not be loaded: {e}")
            continue
        layer = getattr(mod, "LAYER", None)
        if isinstance(layer, Layer):
            out.append(layer)
    return sorted(out, key=lambda l: l.order)


def _known(store, layers: list[Layer] | None = None) -> VS.Known:
    """What exists now: the store's wards, areas, ICBs (none checked without a store) and
    every layer's key."""
    from layers import REGISTRY
    keys = {m.rsplit(".", 1)[-1] for m in REGISTRY} | set(VS.LAYER_KEYS) | {l.key for l in layers or ()}
    return VS.Known(layers=frozenset(keys)) if store is None else VS.known_from_store(store, layers=keys)


def _tiny_fit(lat: float, lon: float, z: float) -> dict:
    e = 1e-6
    return {"key": f"url:{lat:.5f},{lon:.5f},{z:g}", "b": [[lat - e, lon - e], [lat + e, lon + e]],
            "max_zoom": z}


def read_url_state(store, fp: str, layers: list[Layer] | None = None) -> VS.ViewState:
    """Parse the URL once per session and seed the widgets; show any fallback notices.
    `layers`: the layers whose state the link carries (default: every registered one)."""
    ss = st.session_state
    if not ss.get(SS_APPLIED):
        layers = _all_layers() if layers is None else layers
        try:
            state, notices = VS.from_query(st.query_params.to_dict(), _known(store, layers))
        except Exception as e:       # never let a link break the page
            state, notices = VS.ViewState(), [VS.Notice("?", f"The link could not be read "
                                                             f"({type(e).__name__}); showing the default view.")]
        for layer in layers:         # what only the layer can check (e.g. a dataset that is gone)
            if layer.key not in state.values:
                continue
            try:
                kept, said = layer.checked_link(dict(state.values[layer.key]))
            except Exception:
                continue
            if said:
                notices.extend(VS.Notice(layer.key, m) for m in said)
                state = VS.replace(state, values={**state.values, layer.key: kept})
        apply_to_session(state, store, fp, layers)
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


def apply_to_session(state: VS.ViewState, store, fp: str, layers: list[Layer] | None = None) -> None:
    """Seed widget keys (before the widgets are created) from `state`: each layer seeds its
    own (Layer.to_session), then the view-wide ones (area, ward, map view, presentation)."""
    from layers.data import ward_bounds
    from layers.view import all_area_options, fit_bounds
    ss = st.session_state
    layers = _all_layers() if layers is None else layers
    if state.layers is not None:
        for k in dict.fromkeys([*VS.LAYER_KEYS, *(l.key for l in layers if l.fields)]):
            ss[f"{k}_on"] = k in state.layers
    for layer in layers:
        layer.to_session(state.layer(layer.key), ss)
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
    """The current view, read from the layers' own state dicts (ctx.state): each layer
    gives its link values (Layer.link_values), the view-wide fields come from the context."""
    ss = st.session_state
    on = tuple(l.key for l in layers if l.key != KEY and l.is_on(ctx))
    kw: dict = {
        "layers": on,
        "icb": getattr(ctx.store, "code", None),     # the footprint (geo.footprint view)
        "area_kind": ctx.area.get("kind", "icb"), "area_code": ctx.area.get("code"),
        "ward": ss.get("selected_ward") or None,
        "present": bool(ss.get("share_present")), "title": VS._clean_title(ss.get("share_title") or ""),
    }
    values = {}
    for layer in layers:
        vals = {k: v for k, v in layer.link_values(ctx, ss).items() if v is not None}
        if vals:
            values[layer.key] = vals
    kw["values"] = values
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
    dicts are filled from the ViewState instead of from widgets (each layer's
    Layer.state_from_view). A layer that only works with its widgets is skipped with a note."""
    import yaml

    from geo.export import area_name
    from geo.paths import CONFIG_DIR
    from render.static_files import build_static
    notes = notes if notes is not None else []
    fp = hashlib.sha256(json.dumps(store.manifest.get("fingerprint", store.manifest), sort_keys=True,
                                   default=str).encode()).hexdigest()[:16]
    from geo import footprint as F        # the link's ICB (icb=): that footprint's view of the store
    store, fp = F.footprint(getattr(store, "base", store), state.icb), F.fingerprint(fp, state.icb)
    config = yaml.safe_load((CONFIG_DIR / "layers.yaml").read_text(encoding="utf-8")) or {}
    ctx = MapContext(store=store, fingerprint=fp, config=config, static=build_static(store))
    keep = []
    for layer in _all_layers(notes):
        on = state.layer_on(layer.key, layer.default_on)
        try:
            s = layer.state_from_view(state, store, fp)
        except Exception as e:      # e.g. a dataset that is not there: the rest still renders
            notes.append(f"The {layer.label} layer could not be drawn from this link: {e}")
            s = {"on": False}
        if s is None:
            s = {"on": False}
            if on:
                notes.append(f"The {layer.label} layer is drawn only in the app (it needs its own "
                             "data choices); it is not in this export.")
        ctx.state[layer.key] = s
        keep.append(layer)
    ctx.area = {"kind": state.area_kind, "code": state.area_code,
                "name": area_name(state, store).split(": ", 1)[-1] if state.area_kind != "icb" else "the whole ICB"}
    if state.area_kind == "custom":          # its LSOAs and wards (layers/areas.py), as in the app
        from layers import areas as custom
        ctx.area = custom.area_dict(store, state.area_code)
    ctx.selected_ward = state.ward
    return ctx, keep
