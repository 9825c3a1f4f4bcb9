"""Every use of streamlit-folium's internals, in one place, checked against the version
they were written for.

layers/map.py draws the map with streamlit-folium's component but without rebuilding the
constant base map each rerun: it needs the pieces `st_folium` computes from a folium map
(its script, header, html, id), the script of one feature group, the component function
and its key hash. Those are private (`_get_html`, `_component_func`, ...), so they are
used only here. Written for streamlit-folium 0.27 (requirements.txt pins 0.27.4). With
another version installed, `supported()` is False, a warning says so once, and
layers/map.py uses the public `st_folium` (slower: the whole figure is rendered on
every rerun); $LSC_STRICT_PRIVATE_API=1 raises instead.
"""
from __future__ import annotations

import logging
import os

from layers import _version_gate as _gate

LIBRARY = "streamlit-folium"
WRITTEN_FOR = ((0, 27), (0, 28))          # [from, to)

_LOG = logging.getLogger(__name__)
_warned = False
_SUPPORTED: bool | None = None


def installed_version() -> str:
    return _gate.installed_version(LIBRARY)


def check(version: str) -> bool:
    """True when streamlit-folium `version` is in WRITTEN_FOR; otherwise warn once (or
    raise with $LSC_STRICT_PRIVATE_API=1)."""
    global _warned
    ok, _warned = _gate.check(LIBRARY, version, WRITTEN_FOR, "layers/_folium_private.py",
                              "the map is drawn with the public st_folium (the whole figure rendered on "
                              "every rerun)", _warned, _LOG)
    return ok


def supported() -> bool:
    """True when the installed streamlit-folium is the one this module was written for."""
    global _SUPPORTED
    if _SUPPORTED is None:
        _SUPPORTED = check(installed_version())
    return _SUPPORTED


def st_folium(*args, **kwargs):
    """The public component call (streamlit_folium.st_folium)."""
    from streamlit_folium import st_folium as f
    return f(*args, **kwargs)


def map_parts(m) -> dict:
    """What st_folium derives from a rendered folium map `m`: {"script", "header", "html", "id"}."""
    import streamlit_folium as sf
    html, header = sf._get_html(m), sf._get_header(m)     # before the script: it renames the map's variable
    return {"script": sf._get_map_string(m), "header": header, "html": html, "id": sf.get_full_id(m)}


# streamlit-folium's script for feature group `i` (its template, filled with `body`): the
# fast path writes our own groups' one call straight into it instead of rendering them
_FG_TEMPLATE = """
var feature_group_feature_group_{i} = L.featureGroup(
    {{}}
);
{body}
feature_group_feature_group_{i}.addTo(map_div);
map_div.addLayer(feature_group_feature_group_{i});
window.feature_group = window.feature_group || [];
window.feature_group.push(feature_group_feature_group_{i});
"""


def feature_group_wrap(i: int, body: str) -> str:
    """The `feature_group` script streamlit-folium would send for group `i` holding `body`."""
    return _FG_TEMPLATE.format(i=i, body=body)


def feature_group_script(fg, *, map, idx: int) -> str:
    """The script st_folium sends for feature group `fg` at position `idx`."""
    import streamlit_folium as sf
    return sf._get_feature_group_string(fg, map=map, idx=idx)


def component():
    """(the component function, the function of its key hash) st_folium calls, or a
    RuntimeError when this streamlit-folium is not the one this module was written for
    (or lacks them)."""
    if not supported():
        raise RuntimeError(f"{LIBRARY} {installed_version()}: internals not checked")
    import streamlit_folium as sf
    return sf._component_func, sf.generate_js_hash
