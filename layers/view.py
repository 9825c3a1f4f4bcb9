"""App plumbing kept out of app.py: store loading, layer registry, area filter, ward
search, selection state and the one st_folium call."""
from __future__ import annotations

import contextlib
import hashlib
import importlib
import json
import os

import streamlit as st
import yaml

from geo.errors import GeoError
from geo.paths import CONFIG_DIR
from layers import REGISTRY, _st_private
from layers.base import DEFAULTED_KEYS, Layer, MapContext, hot, md
from layers.data import area_bounds, area_index, ward_at, ward_bounds
from layers.timing import log_timing, timed  # noqa: F401  (per-session stage timings: layers/timing.py)


@hot(maxsize=2)
@st.cache_resource(show_spinner="Loading the data store…")
def _store_cached(path: str | None, manifest_mtime: float):
    from geo.store import load_store
    s = load_store(path)
    # touch the tables the map needs so later reruns never read parquet
    for t in ("lsoa", "lsoa25", "wards24", "districts", "place5", "place4"):
        s.table(t)
    fp = hashlib.sha256(json.dumps(s.manifest.get("fingerprint", s.manifest), sort_keys=True,
                                   default=str).encode()).hexdigest()[:16]
    return s, fp


def get_store():
    """(store, fingerprint) or (None, message) when it is missing, stale or unreadable."""
    from geo.paths import store_dir
    d = store_dir()
    try:
        mtime = (d / "manifest.json").stat().st_mtime
    except OSError:
        mtime = -1.0
    try:
        return _store_cached(None, mtime)
    except GeoError as e:
        return None, str(e)
    except Exception as e:  # a half-written/corrupt store: still no traceback for the user
        return None, f"the data store at {d} could not be read ({type(e).__name__}: {e}); rebuild it"


# ------------------------------------------------------------------ footprint (ICB)
ICB_KEY = "icb"


@hot(maxsize=64)
@st.cache_data(show_spinner=False)
def icb_options(_store, fp: str) -> dict[str, str]:
    """ICB code -> label for the footprint selector: LSC first, the other ICBs by name,
    then England as a whole."""
    from geo import footprint as F
    names = F.icb_names(_store)
    out = {F.LSC_CODE: names.get(F.LSC_CODE, F.LSC_NAME)}
    out.update({c: n for c, n in names.items() if c != F.LSC_CODE})
    if len(names) > 1:
        out[F.ENGLAND_CODE] = "England (all 42 ICBs)"
    return out


@hot(maxsize=8)
@st.cache_resource(show_spinner="Preparing the footprint…", max_entries=8)
def _footprint_cached(_store, fp: str, code: str):
    from geo import footprint as F
    v = F.footprint(_store, code)
    for t in ("lsoa", "lsoa25", "wards24", "districts", "place5", "place4"):
        v.table(t)          # built once here: later reruns only read them
    v.priority19
    return v, F.fingerprint(fp, code)


def chosen_icb(store, fp: str) -> str:
    """The footprint of this session: the ICB selector's value (the link's `icb=` seeds it)."""
    from geo import footprint as F
    code = st.session_state.get(ICB_KEY) or F.LSC_CODE
    return code if code in icb_options(store, fp) else F.LSC_CODE


def footprint_store(store, fp: str, code: str | None = None):
    """(view, fingerprint): the store as seen for the chosen ICB (geo.footprint)."""
    return _footprint_cached(store, fp, code or chosen_icb(store, fp))


def seed_icb_from_url(store, fp: str) -> None:
    """Once per session, before any widget: the link's `icb=` (validated by
    geo.viewstate) picks the footprint, so the rest of the link is read against it."""
    if st.session_state.get("_lsc_icb_seeded"):
        return
    st.session_state["_lsc_icb_seeded"] = True
    from geo import viewstate as VS
    raw = st.query_params.get("icb")
    if raw is None:
        return
    state, notices = VS.from_query({"icb": raw}, VS.Known(icbs=icb_options(store, fp)))
    if state.icb:
        st.session_state[ICB_KEY] = state.icb
    st.session_state["_lsc_icb_notices"] = [str(n) for n in notices]


def _on_icb_change(store, fp):
    """A new footprint: the area filter, ward search and profile start afresh."""
    v, vfp = footprint_store(store, fp, st.session_state.get(ICB_KEY))
    for k in ("area", "ward_search"):
        st.session_state.pop(k, None)
    st.session_state["selected_ward"] = None
    st.session_state["fit"] = {"key": _fit_key(v, "icb", None), "b": area_bounds(v, vfp, "icb", None)}
    from layers import parts
    parts.whole_page()            # the selector sits in a part (layers/parts.py): everything changes


def _fit_key(store, kind: str, code) -> str:
    """The runtime refits when the key changes: the whole footprint is "icb:None" for LSC
    and "icb:<code>" elsewhere, so a new ICB always refits."""
    if kind == "icb" and not code and not getattr(store, "is_lsc", True):
        code = store.code
    return f"{kind}:{code}"


def icb_selector(ctx: MapContext, base_store, base_fp: str) -> None:
    opts = icb_options(base_store, base_fp)
    for n in st.session_state.pop("_lsc_icb_notices", []):
        ctx.messages.append(("warning", n))
    st.selectbox("ICB", list(opts), format_func=opts.get, key=ICB_KEY,
                 on_change=_on_icb_change, args=(base_store, base_fp),
                 help="The footprint: any of the 42 Integrated Care Boards, or England. "
                      "Type to search.")


@hot(maxsize=16)
@st.cache_resource(show_spinner="Preparing map files…", max_entries=16)
def static_files(_store, fp: str) -> dict:
    from layers.data import ward_table
    from render.static_files import build_static_indexed
    return build_static_indexed(_store, fp, lambda: {v: ward_table(_store, fp, v) for v in (2019, 2025)})


@hot
@st.cache_data(show_spinner=False)
def _layers_config(mtime: float) -> dict:
    return yaml.safe_load((CONFIG_DIR / "layers.yaml").read_text(encoding="utf-8")) or {}


def layers_config() -> dict:
    try:
        mtime = (CONFIG_DIR / "layers.yaml").stat().st_mtime
    except OSError:
        mtime = -1.0
    return _layers_config(mtime)


def load_layers(messages: list) -> list[Layer]:
    """Import every registered layer module that exists. $LSC_LAYERS (comma-separated
    layer keys, e.g. "deprivation,wards,priority") keeps only those layers."""
    only = {k.strip() for k in os.environ.get("LSC_LAYERS", "").split(",") if k.strip()}
    out = []
    for name in REGISTRY:
        if only and name.rsplit(".", 1)[-1] not in only:
            continue
        try:
            mod = importlib.import_module(name)
        except ModuleNotFoundError as e:
            if e.name == name:
                continue                      # not written yet
            messages.append(("error", f"Layer {name} could not be loaded: {e}"))
            continue
        except Exception as e:               # a broken layer must not take the map down
            messages.append(("error", f"Layer {name} could not be loaded: {type(e).__name__}: {e}"))
            continue
        layer = getattr(mod, "LAYER", None)
        if isinstance(layer, Layer):
            out.append(layer)
    return sorted(out, key=lambda l: l.order)


# ------------------------------------------------------------------ area filter
@hot
@st.cache_data(show_spinner=False)
def area_options(_store, fp: str) -> dict[str, tuple[str, str | None, str]]:
    """option key ("icb", "place5:Fylde Coast", "district:E06000009") -> (kind, code, label)."""
    from geo.sources import load_places
    if not getattr(_store, "is_lsc", True):
        return _footprint_area_options(_store)
    cfg = load_places()
    opts: dict[str, tuple[str, str | None, str]] = {
        "icb": ("icb", None, "Whole ICB (Lancashire and South Cumbria)")}
    for g, label in (("place5", "Place (legacy five)"), ("place4", "Place (current four)")):
        for p in cfg["groupings"][g]["places"]:
            opts[f"{g}:{p}"] = (g, p, f"{label}: {p}")
    for code, name in sorted(cfg["districts"].items(), key=lambda kv: kv[1]):
        opts[f"district:{code}"] = ("district", code, f"District: {name}")
    return opts


def _footprint_area_options(v) -> dict[str, tuple[str, str | None, str]]:
    """Outside LSC: the whole footprint, its sub-ICB locations (England: its ICBs) and
    districts (LAD 2024)."""
    from geo.footprint import ENGLAND_CODE
    england = v.code == ENGLAND_CODE
    whole = "Whole of England" if england else f"Whole ICB ({v.name})"
    opts: dict[str, tuple[str, str | None, str]] = {"icb": ("icb", None, whole)}
    label = "ICB" if england else "Sub-ICB location"
    for p in sorted(v.place5["code"]):
        opts[f"place5:{p}"] = ("place5", p, f"{label}: {p}")
    for code, name in sorted(zip(v.districts["lad19cd"], v.districts["lad19nm"]), key=lambda kv: kv[1]):
        opts[f"district:{code}"] = ("district", code, f"District: {name}")
    return opts


@hot
@st.cache_data(show_spinner=False)
def ward_options(_store, fp: str) -> dict[str, str]:
    w = _store.wards24.sort_values("wd24nm")
    return {c: f"{n} ({d})" for c, n, d in zip(w["wd24cd"], w["wd24nm"], w["lad19nm"])}


def init_state():
    ss = st.session_state
    ss.setdefault("selected_ward", None)
    ss.setdefault("fit", None)


def all_area_options(store, fp: str) -> dict[str, tuple[str, str | None, str]]:
    """area_options plus the custom areas saved for this footprint (layers/areas.py)."""
    from layers import areas as custom
    return {**area_options(store, fp), **custom.options(store)}


def fit_bounds(store, fp: str, kind: str, code):
    if kind == "custom":
        from layers import areas as custom
        return custom.bounds(store, fp, code)
    return area_bounds(store, fp, kind, code)


def _on_area_change(store, fp):
    kind, code, _ = all_area_options(store, fp).get(st.session_state["area"], ("icb", None, ""))
    st.session_state["fit"] = {"key": _fit_key(store, kind, code), "b": fit_bounds(store, fp, kind, code)}
    from layers import parts
    parts.area_changed(kind)     # only the map and tables rerun, and the legend if it follows the area


def _on_ward_search(store, fp):
    code = st.session_state.get("ward_search")
    if code:
        st.session_state["selected_ward"] = code
        st.session_state["fit"] = {"key": f"ward:{code}", "b": ward_bounds(store, fp, code)}
        from layers import parts
        parts.rerun(*parts.WARD_PARTS, escalate=True)     # the map (fit, outline) and the profile


def _on_map_change(store, fp):
    v = st.session_state.get("map") or {}
    if v.get("lsc_painted"):           # the runtime's one-off "first map painted" signal
        first = not st.session_state.get(FULL_PAGE_KEY)
        st.session_state[FULL_PAGE_KEY] = True
        if first:
            st.rerun(scope="app")          # the map is a part (layers/parts.py): the whole page follows
    click = v.get("last_clicked")
    if not click:
        return
    code = ward_at(store, fp, float(click["lat"]), float(click["lng"]))
    st.session_state["selected_ward"] = code      # a click outside every ward closes the profile
    from layers import parts
    parts.rerun(*parts.WARD_PARTS, escalate=True)    # a map click: not the map part alone


def area_and_search(ctx: MapContext, base_store=None, base_fp: str | None = None) -> None:
    if base_store is not None:
        icb_selector(ctx, base_store, base_fp)
    opts = all_area_options(ctx.store, ctx.fingerprint)
    if st.session_state.get("area") not in (None, *opts):   # e.g. a custom area removed meanwhile
        ctx.messages.append(("warning", "That custom area is not saved any more; showing the whole ICB."))
        st.session_state["area"] = "icb"
    a = st.selectbox("Area", list(opts), format_func=lambda k: opts[k][2], key="area",
                     on_change=_on_area_change, args=(ctx.store, ctx.fingerprint),
                     help="Zooms the map and filters the ward table.")
    set_area(ctx, a)
    wards = ward_options(ctx.store, ctx.fingerprint)
    st.selectbox("Find a ward", list(wards), index=None, format_func=wards.get, key="ward_search",
                 placeholder="Type a ward name…", on_change=_on_ward_search,
                 args=(ctx.store, ctx.fingerprint))


def set_area(ctx: MapContext, a: str | None) -> None:
    """ctx.area from the Area selector's option key (the whole footprint when unknown)."""
    opts = all_area_options(ctx.store, ctx.fingerprint)
    kind, code, label = opts.get(a, opts["icb"])
    whole = "the whole ICB" if getattr(ctx.store, "code", "") != "E92000001" else "the whole of England"
    name = label.split(": ", 1)[-1] if kind != "icb" else whole
    ctx.area = {"kind": kind, "code": code, "name": name}
    if kind == "custom":                # its LSOAs and wards (layers/areas.py)
        from layers import areas as custom
        ctx.area = custom.area_dict(ctx.store, code)


def view_payload(ctx: MapContext) -> dict:
    """What LSC.commit gets: geometry URL, area outline, selection, fit bounds."""
    from layers.data import ward_lookup
    fit = st.session_state.get("fit") or {
        "key": _fit_key(ctx.store, "icb", None), "b": area_bounds(ctx.store, ctx.fingerprint, "icb", None)}
    sel = -1
    if ctx.selected_ward:
        sel = ward_lookup(ctx.store, ctx.fingerprint)[3].get(ctx.selected_ward, -1)
    return {
        "geo": ctx.static["geo"],
        "area": _area_payload(ctx),
        "sel": sel,
        "fit": fit,
    }


def _area_payload(ctx: MapContext) -> dict:
    """The area outline: one feature of its static object, or a custom area's LSOAs."""
    if ctx.area["kind"] == "custom":
        from layers import areas as custom
        return {"kind": "lsoa21", "idx": custom.lsoa_index(ctx.store, ctx.area)}
    return {"kind": ctx.area["kind"] if ctx.area["kind"] != "district" else "districts",
            "idx": area_index(ctx.store, ctx.fingerprint, ctx.area["kind"], ctx.area["code"])}


def membership(layers: list[Layer], ctx: MapContext) -> dict[str, list[str]]:
    for layer in layers:
        if layer.key == "priority" and hasattr(layer, "membership"):
            try:
                return layer.membership(ctx)
            except Exception:
                return {}
    return {}


def draw_map_into(slot, ctx: MapContext, layers: list[Layer], height: int):
    """Build this rerun's feature groups, show any messages, then the (constant) map."""
    from layers.map import map_component
    from render.map import commit_group, localise_assets
    fgs = []
    for layer in layers:
        try:
            with timed(f"{layer.key}.feature_group"):
                fg = layer.feature_group(ctx)
        except Exception as e:   # one broken layer must not blank the map
            ctx.messages.append(("error", f"{layer.label}: {type(e).__name__}: {e}"))
            continue
        if fg is not None:
            localise_assets(fg, ctx.messages)
            fgs.append(fg)
    view = view_payload(ctx)
    parts = [getattr(fg, "lsc_payload", fg.get_name()) for fg in fgs]
    view["v"] = hashlib.sha256(json.dumps([parts, view], default=str, sort_keys=True)
                               .encode()).hexdigest()[:12]
    # the commit goes FIRST: it defers applying to a microtask, so a broken script in a
    # later feature group cannot stop the base layers from being drawn
    fgs.insert(0, commit_group(view))
    with slot:
        warn = [t for lvl, t in ctx.messages if lvl == "warning"]
        errs = [t for lvl, t in ctx.messages if lvl == "error"]
        for t in errs:
            st.error(md(t))
        if warn:
            with st.expander(f"{len(warn)} problem(s) in the configuration: the rest still shows",
                             expanded=True):
                st.markdown("\n".join(f"- {md(t)}" for t in warn))
        with timed("st_folium"):
            # = st_folium(base_map(...), ...) with the constant base map's part cached
            # the base map (the component's identity) keeps the session's first geometry URL
            # (only a prefetch hint): a new ICB's geometry comes through the commit, so the
            # map iframe is never remounted
            base_geo = st.session_state.setdefault("_lsc_base_geo", ctx.static.get("geo"))
            return map_component(ctx.config, base_geo, fgs, key="map", height=height,
                                 returned_objects=["last_clicked"],
                                 on_change=lambda: _on_map_change(ctx.store, ctx.fingerprint))


# ------------------------------------------------------------------ map first
# A session's first page load is mostly Streamlit loading and rendering widgets (each
# widget type pulls its own script chunks): with the sidebar's ~30 widgets the map iframe
# was created ~0.8 s later than without them. So the first run draws the map, its
# legend and notes, with the sidebar's widgets run for their VALUES only (nothing sent to
# the browser); when the map runtime reports its first paint (component value
# `lsc_painted`), the next run draws the whole page. Same widget keys and positions, so
# nothing resets and the map iframe stays mounted. A timer moves on after a few seconds
# if the signal never comes. $LSC_PROGRESSIVE=0 turns this off (AppTest runs do).
FULL_PAGE_KEY = "_lsc_full_page"
FALLBACK_S = float(os.environ.get("LSC_FIRST_PAINT_FALLBACK_S", "4"))   # tests set it to tell the paths apart


def first_paint_phase() -> bool:
    """True while this session has not yet seen its first map painted."""
    if os.environ.get("LSC_PROGRESSIVE", "1") == "0" or not _st_private.supported():
        return False          # (another Streamlit: the first run could not hold the sidebar back)
    return not st.session_state.get(FULL_PAGE_KEY)


PHASE1_KEYS = "_lsc_first_paint_keys"
# Widget value types that may be set through st.session_state (not buttons, uploads...).
_ASSIGNABLE = {"bool_value", "int_value", "double_value", "string_value", "string_array_value",
               "double_array_value", "int_array_value"}


@contextlib.contextmanager
def values_only(active: bool = True):
    """Inside: Streamlit calls register widgets and return their values (from session
    state or their defaults) exactly as usual, but send nothing to the browser. The keys
    of value widgets that the full page would draw from a wrong default are kept for
    `restore_first_paint_widgets`: those with a non-default value (e.g. from a shared
    link) and those whose default comes from layers.base.widget_default (dropped once
    the key exists).
    (Streamlit's run context and widget registry: layers/_st_private.py; with another
    Streamlit everything is drawn, as on the full page.)"""
    with _st_private.muted(active) as mute:
        try:
            yield
        finally:
            if mute:
                st.session_state[PHASE1_KEYS] = _assignable_widget_keys()


def _assignable_widget_keys() -> list[str]:
    return _st_private.registered_widget_keys(_ASSIGNABLE, DEFAULTED_KEYS)


def restore_first_paint_widgets() -> None:
    """On the run that follows the map-first run, before any widget: set each value
    widget registered there (without being drawn) to its own value through the Session
    State API. The browser draws a widget from its default unless the server flags a
    value, and it flags only values set through that API: without this, a shared link's
    values (or any non-default) would show as the defaults."""
    keys = st.session_state.get(PHASE1_KEYS)
    if not keys:
        return
    del st.session_state[PHASE1_KEYS]
    for k in keys:
        if k in st.session_state:
            try:
                st.session_state[k] = st.session_state[k]
            except Exception:
                pass


@st.fragment(run_every=FALLBACK_S)
def full_page_fallback():
    """Placed by the first-paint run: if the map's signal has not come FALLBACK_S seconds
    later, rerun the whole app as the full page anyway."""
    if st.session_state.get("_lsc_first_paint_shown"):
        st.session_state[FULL_PAGE_KEY] = True
        st.rerun(scope="app")
    st.session_state["_lsc_first_paint_shown"] = True
