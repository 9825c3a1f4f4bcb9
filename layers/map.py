"""The map component: the constant base map (render/map.py) drawn by streamlit-folium,
without rebuilding it each rerun.

`map_component(config, geo_url, fgs, ...)` is `st_folium(base_map(...), feature_group_to_add=fgs,
...)` with the base map's part of the component arguments computed once and our own
part/commit groups written straight to the JS st_folium would generate. It needs
Streamlit (its cache, the session state) and streamlit-folium's internals (used only
through layers/_folium_private.py, version-checked), so it lives here, above render/.
"""
from __future__ import annotations

import json

import folium
import streamlit as st

from layers.base import hot
from render.map import _Call, base_map


# ------------------------------------------------------------------ st_folium, faster
# st_folium rebuilds and re-renders the whole folium figure (a dozen Jinja template
# compiles) and every feature group on each rerun. The base map never changes, so its
# part of the component arguments is computed once per (config, geometry URL) and
# cached as plain strings (never the folium objects: st_folium mutates them); our own
# part/commit groups are written straight to the JS st_folium would generate
# (layers/_folium_private.feature_group_wrap). Anything
# else (other layers' folium groups) still goes through streamlit-folium's own code.


def _base_args(config: dict, geo_url: str | None) -> dict:
    """The component arguments st_folium derives from the (constant) base map."""
    import branca

    from layers import _folium_private as sfp
    m = base_map(config, geo_url)
    m.get_root().render()
    m.render()
    parts = sfp.map_parts(m)
    css, js = [], []

    def walk(el):
        yield el
        for ch in getattr(el, "_children", {}).values():
            yield from walk(ch)
    for el in walk(m):
        if isinstance(el, branca.colormap.ColorMap):
            raise ValueError("colormaps load d3 from a CDN: not allowed on the base map")
        css.extend(href for _, href in getattr(el, "default_css", []))
        js.extend(src for _, src in getattr(el, "default_js", []))
    return {**parts, "zoom_default": m.options.get("zoom"), "css_links": list(dict.fromkeys(css)),
            "js_links": list(dict.fromkeys(js))}


@hot
@st.cache_data(show_spinner=False, max_entries=8)
def _base_args_cached(config_json: str, geo_url: str | None) -> dict:
    return _base_args(json.loads(config_json), geo_url)


def _cached_base_args(config: dict, geo_url: str | None) -> dict:
    return _base_args_cached(json.dumps(config, sort_keys=True, default=str), geo_url)


def feature_groups_js(fgs: list) -> str:
    """The `feature_group` argument st_folium would send for `fgs`."""
    out = []
    other_map = None
    for i, fg in enumerate(fgs):
        js = getattr(fg, "lsc_js", None)
        # only a group holding nothing but its LSC call (or one whose maker says lsc_js is
        # its whole script: lsc_fast): a layer may add children that must go through
        # the generic path
        if js is not None and (getattr(fg, "lsc_fast", False)
                               or [type(c) for c in fg._children.values()] == [_Call]):
            from layers import _folium_private as sfp
            out.append(sfp.feature_group_wrap(i, js))
            continue
        from layers import _folium_private as sfp
        if other_map is None:
            other_map = folium.Map(tiles=None)
        out.append(sfp.feature_group_script(fg, map=other_map, idx=i))
    return "".join(out)


def map_component(config: dict, geo_url: str | None, fgs: list, *, key: str, height: int,
                  returned_objects: list, on_change=None):
    """st_folium(base_map(config, geo_url), key=key, height=height, use_container_width=True,
    feature_group_to_add=fgs, returned_objects=returned_objects, on_change=on_change),
    without rebuilding the base map each rerun. Falls back to st_folium if
    streamlit-folium is not the pinned version or its internals differ
    (layers/_folium_private.py)."""
    from layers import _folium_private as sfp
    try:
        comp, gen_hash = sfp.component()
        base = _cached_base_args(config, geo_url)
        fg_js = feature_groups_js(fgs)
    except Exception:
        return sfp.st_folium(base_map(config, geo_url), key=key, height=height, use_container_width=True,
                         feature_group_to_add=fgs, returned_objects=returned_objects, on_change=on_change)
    hash_key = gen_hash(base["script"], key, False)
    defaults = {k: v for k, v in {"last_clicked": None, "zoom": base["zoom_default"]}.items()
                if k in returned_objects}

    def _on_change():
        st.session_state[key] = st.session_state.get(hash_key, {})
        if on_change is not None:
            on_change()
    return comp(script=base["script"], header=base["header"], html=base["html"], id=base["id"],
                key=hash_key, height=height, width=None, returned_objects=returned_objects,
                default=defaults, zoom=None, center=None, feature_group=fg_js, return_on_hover=False,
                layer_control=None, pixelated=False, css_links=base["css_links"], js_links=base["js_links"],
                on_change=_on_change, wrap_longitude=False)
