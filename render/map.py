"""The constant folium base map, local assets, and the per-rerun styling parts.

- `base_map(config)` builds a folium.Map whose generated JS never changes between
  reruns (st_folium keys the component on it): no data, fixed location/zoom, Canvas
  renderer, assets served locally from /app/static (vendored by scripts/vendor_assets.sh).
- `part_group(key, payload)` wraps one layer's styling payload in a FeatureGroup whose
  script calls `LSC.set(key, payload)` in the browser (static/js/lsc_core.js; each layer's
  painter is static/js/paint_<layer>.js, bundled after it by `runtime_url()`).
- `commit_group(view)` is the last feature group: it tells the runtime to apply the
  round (geometry URL, fit bounds, selected ward, area outline).
- `localise_assets(element)` rewrites known CDN links to the local copies and drops
  any other remote link, so nothing leaves the machine.
"""
from __future__ import annotations

import functools
import hashlib

import folium
from branca.element import MacroElement
from jinja2 import Template

from render.static_files import STATIC_DIR, URL_PREFIX
from render.text import js_json

VENDOR = f"{URL_PREFIX}/vendor"
LSC_CENTER = (54.0, -2.65)
LSC_ZOOM = 9


def _v(rel: str) -> str:
    """Cache-busting suffix from the file's content (our own files only)."""
    p = STATIC_DIR / rel
    try:
        return hashlib.sha256(p.read_bytes()).hexdigest()[:10]
    except OSError:
        return "0"


# Leaflet and its plugins (installed from npm by scripts/vendor_assets.sh), in load order
LIB_FILES = ("vendor/leaflet/leaflet.js", "vendor/topojson/topojson-client.min.js",
             "vendor/markercluster/leaflet.markercluster.js")


RUNTIME_FILE = "js/lsc_core.js"
# The map runtime: the core, then one painter per layer (each registers LSC.paint[layer];
# none runs anything before the first round, so they may follow the core in any order).
RUNTIME_FILES = (RUNTIME_FILE, "js/lsc_polys.js", "js/paint_deprivation.js", "js/paint_wards.js", "js/paint_priority.js",
                 "js/paint_services.js", "js/paint_indicators.js", "js/paint_access.js", "js/paint_planner.js",
                 "js/paint_share.js")


def runtime_url() -> str:
    """The map runtime (core and painters, RUNTIME_FILES, in that order) and the three
    libraries as ONE script (static/gen/lscmap.<sha>.js, written once per content): the
    map frame loads its scripts one after another, so each extra file costs a round trip
    before the map can start. The runtime comes first, so its geometry prefetch starts
    while the libraries are still evaluating."""
    stamp = tuple((STATIC_DIR / rel).stat().st_mtime_ns for rel in (*RUNTIME_FILES, *LIB_FILES))
    return _runtime_url(stamp)


@functools.lru_cache(maxsize=4)
def _runtime_url(stamp: tuple) -> str:
    from render.static_files import _url, write_hashed
    data = b"\n;\n".join((STATIC_DIR / rel).read_bytes() for rel in (*RUNTIME_FILES, *LIB_FILES))
    return _url(write_hashed("lscmap", data, ext="js"))


def local_js(geo_url: str | None = None) -> list[tuple[str, str]]:
    """The one local script. `geo_url` (the static geometry file) rides on its URL so the
    runtime starts fetching it the moment it runs, before the map script does."""
    from urllib.parse import quote
    url = runtime_url()
    if geo_url:
        url += f"?geo={quote(geo_url, safe='')}"
    return [("lsc_map", url)]


def local_css() -> list[tuple[str, str]]:
    return [
        ("leaflet_css", f"{VENDOR}/leaflet/leaflet.css"),
        ("markercluster_css", f"{VENDOR}/markercluster/MarkerCluster.css"),
        ("markercluster_default_css", f"{VENDOR}/markercluster/MarkerCluster.Default.css"),
        ("lsc_css", f"{URL_PREFIX}/css/lsc_map.css?v={_v('css/lsc_map.css')}"),
    ]


# Known CDN assets -> local copies (anything else remote is dropped).
_LOCAL_BY_NAME = {
    "leaflet": f"{VENDOR}/leaflet/leaflet.js",
    "leaflet_css": f"{VENDOR}/leaflet/leaflet.css",
    "markerclusterjs": f"{VENDOR}/markercluster/leaflet.markercluster.js",
    "markerclustercss": f"{VENDOR}/markercluster/MarkerCluster.css",
    "markerclusterdefaultcss": f"{VENDOR}/markercluster/MarkerCluster.Default.css",
}


_VENDOR_OK = False


def vendor_missing() -> list[str]:
    """Local asset files that are not installed (run `make vendor`). Once all were
    there, later calls (one per rerun) do not look again."""
    global _VENDOR_OK
    if _VENDOR_OK:
        return []
    rels = list(LIB_FILES) + list(RUNTIME_FILES)
    rels += [url.split("?")[0][len(URL_PREFIX) + 1:] for _, url in local_css()]
    missing = [rel for rel in rels if not (STATIC_DIR / rel).exists()]
    _VENDOR_OK = not missing
    return missing


class _ScriptOnly(MacroElement):
    """st_folium takes each element's script via its template macro, never from the
    rendered Figure; skipping branca's render (which re-compiles the rendered output as
    a Jinja template) saves time and never re-templates payload text."""

    def render(self, **kwargs):
        return None


class _LscInit(_ScriptOnly):
    _template = Template("""
{% macro script(this, kwargs) %}
LSC.init({{ this._parent.get_name() }});
{% endmacro %}
""")


class LscMap(folium.Map):
    """folium.Map with local assets only (no jQuery/Bootstrap/Font Awesome)."""
    default_js: list = []
    default_css: list = []

    def __init__(self, *args, geo_url: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        # instance lists: folium's add_js_link would otherwise mutate the class's
        self.default_js = local_js(geo_url)
        self.default_css = local_css()

    def render(self, **kwargs):
        # st_folium strips <script src>/<link> from the header and loads the assets from
        # default_js/default_css itself; skipping folium's link elements here saves a
        # Jinja template compile per link on every rerun.
        js, css = self.default_js, self.default_css
        self.default_js, self.default_css = [], []
        try:
            super().render(**kwargs)
        finally:
            self.default_js, self.default_css = js, css


def base_map(config: dict | None = None, geo_url: str | None = None) -> folium.Map:
    """The constant base map (constant for a given store: `geo_url` is the static
    geometry file). Tiles only if configured (config/layers.yaml basemap)."""
    cfg = (config or {}).get("basemap") or {}
    m = LscMap(geo_url=geo_url, location=list(LSC_CENTER), zoom_start=LSC_ZOOM, tiles=None,
               prefer_canvas=True, control_scale=True, min_zoom=5, max_zoom=17,
               zoom_snap=0.25, zoom_delta=0.5)
    if cfg.get("tiles"):
        folium.TileLayer(tiles=cfg["tiles"], attr=cfg.get("attribution") or "Basemap",
                         name="Basemap", max_zoom=int(cfg.get("max_zoom", 17)),
                         opacity=float(cfg.get("opacity", 1.0))).add_to(m)
    # folium passes min/max zoom to tile layers only; plugins (marker clusters) need them
    # on the map itself
    m.options["min_zoom"] = 5     # England as a whole fits at zoom 6
    m.options["max_zoom"] = 17
    _LscInit().add_to(m)
    return m


def _js_json(obj) -> str:
    """JSON safe inside a script and inert to Jinja (see render.text.js_json)."""
    return js_json(obj)


class _Call(_ScriptOnly):
    """A script line `LSC.<fn>(<json args>)` inside a feature group."""
    _template = Template("""
{% macro script(this, kwargs) %}
LSC.{{ this.fn }}({{ this.args }});
{% endmacro %}
""")

    def __init__(self, fn: str, *args):
        super().__init__()
        self._name = "LscCall"
        self.fn = fn
        self.args = ",".join(_js_json(a) for a in args)


class GroupPaint(MacroElement):
    """A script line `LSC.paint.<fn>(<its feature group>, <json payload>)`: the layer's
    painter (static/js/paint_<fn>.js) draws into the group. Subclasses set `fn`."""
    _template = Template("""
{% macro script(this, kwargs) %}
LSC.paint.{{ this.fn }}({{ this._parent.get_name() }}, {{ this.payload }});
{% endmacro %}
""")
    fn = ""
    element_name = "LscPaint"

    def __init__(self, payload: dict):
        super().__init__()
        self._name = self.element_name
        self.payload = _js_json(payload)


def part_group(key: str, payload: dict) -> folium.FeatureGroup:
    fg = folium.FeatureGroup(name=f"lsc-{key}", control=False)
    call = _Call("set", key, payload)
    fg.add_child(call)
    fg.lsc_payload = (key, payload)
    fg.lsc_js = f"LSC.set({call.args});"     # the fast path in layers.map.map_component() uses this
    return fg


def commit_group(view: dict) -> folium.FeatureGroup:
    fg = folium.FeatureGroup(name="lsc-commit", control=False)
    call = _Call("commit", view)
    fg.add_child(call)
    fg.lsc_js = f"LSC.commit({call.args});"
    return fg


def localise_assets(element, messages: list | None = None) -> None:
    """Point known CDN assets of `element` (and children) at local copies; drop the rest."""
    stack = [element]
    while stack:
        el = stack.pop()
        for attr in ("default_js", "default_css"):
            links = getattr(el, attr, None)
            if not links:
                continue
            new = []
            for name, url in links:
                if url.startswith("/") or url.startswith("./"):
                    new.append((name, url))
                elif name in _LOCAL_BY_NAME:
                    new.append((name, _LOCAL_BY_NAME[name]))
                elif messages is not None:
                    messages.append(("warning", f"Dropped remote asset {name} ({url}): "
                                                 "the map never loads from the internet."))
            setattr(el, attr, new)     # instance attribute: class lists stay untouched
        stack.extend(getattr(el, "_children", {}).values())
