"""The small interface every map layer module follows.

A layer module (layers/deprivation.py, layers/wards.py, layers/priority.py,
layers/services.py, layers/access.py, layers/indicators.py, ...) defines one subclass
of `Layer` and exposes it as a module-level `LAYER` (an instance). `app.py` keeps a
registry list of module names (layers.REGISTRY) and imports whichever exist, so a
module can land at any time without touching app.py.

Per rerun, for each layer, app.py calls, in this order:

1. `layer.sidebar(ctx)`   draw the layer's widgets (inside the sidebar) and store the
                          choices in `ctx.state[layer.key]` (a dict). Keep widget keys
                          prefixed with the layer key, e.g. f"{self.key}_measure", so the
                          URL/state module can round-trip them.
2. `layer.feature_group(ctx)`  return a `folium.FeatureGroup` (or None when the layer
                          is off). This is sent with st_folium's `feature_group_to_add`:
                          ONLY this part is re-sent on a rerun, the base map never changes.
                          Keep it small: styling data, not geometry. Large static
                          geometry belongs in a static file (see render/static_files.py),
                          fetched once by the browser and cached on the iframe's window.
3. `layer.legend(ctx)`    return a list of `LegendEntry` that app.py draws in Streamlit
                          (never branca colormaps: they load d3 from a CDN).
4. `layer.notes(ctx)`     optional list of short strings (warnings such as "26 LSOAs
                          could not be drawn") shown under the legend.

A layer's state in a shared link is its own: `fields` (geo.viewstate.Field) declares its
link parameters, and `to_session` / `link_values` / `state_from_view` map them (see
"link state" in `Layer`); layers/share_state.py only loops over the layers. What a layer
needs from another (the services register, today's date) is `provide`d by that layer and
read with `ctx.need(name)`, never by importing it.

Rules that keep the map fast and offline:
- never add anything to the base `folium.Map` (its generated JS is the component's
  identity: changing it remounts the iframe and loses the view);
- never use folium elements that load JS/CSS from a CDN (icons, plugins with
  default_js pointing at the internet). CircleMarker is fine;
- point layers: use `folium.CircleMarker` (the map prefers Canvas). Put them in the
  default overlay pane so they sit above ward outlines and stay clickable/hoverable;
- escape anything user-supplied that reaches HTML (tooltips, popups, labels) with
  `layers.base.esc`.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import Any

from layers.cache import hot, new_run, per_run  # noqa: F401  (the one caching helper: layers/cache.py)
from render.text import esc, js_json  # noqa: F401  (defined in render/: pages below the app use them too)

__all__ = ["Layer", "LegendEntry", "LegendItem", "MapContext", "esc", "js_json", "widget_default", "NODATA_FILL", "public_text",
           "provide", "need"]


# Keys whose widgets take their default from widget_default (layers/view.py: after the
# map-first run such a widget is drawn without its default, so its value must be flagged).
DEFAULTED_KEYS: set[str] = set()


def map_only(layer_key: str) -> dict:
    """Widget kwargs (on_change) for a layer widget that changes only what the map and the
    legend show, in a layer with `sidebar_part = True`: a change reruns that layer's
    widgets, the map and the legend, not the tables, the profile or the rest of the
    sidebar (layers/parts.py). Usage: st.checkbox(label, key=k, **map_only(self.key))."""
    from layers import parts
    return {"on_change": parts.map_only_changed, "args": (layer_key,)}


def whole_page() -> dict:
    """Widget kwargs (on_change) for a widget in a layer's sidebar part whose change reaches
    beyond the map and legend (e.g. the IMD vintage: the ward table, the profile, other
    layers): the whole page reruns, as it would for a widget outside every part."""
    from layers import parts
    return {"on_change": parts.whole_page}


def widget_default(key: str, **default) -> dict:
    """The default (value=/index=) for the widget `key`, only when the key is not in
    st.session_state yet: a shared link (layers/share.py) or a callback may already have
    set it, and a widget given both warns ("created with a default value but also had
    its value set via the Session State API") and uses the session value anyway.
    Usage: st.checkbox(label, key=k, **widget_default(k, value=True)). Widget identity
    in Streamlit is the key for checkbox/radio/selectbox/number_input, so dropping the
    default on later reruns does not reset the widget."""
    import streamlit as st
    DEFAULTED_KEYS.add(key)
    return {} if key in st.session_state else default


@functools.lru_cache(maxsize=1)
def _server_path_re() -> re.Pattern:
    import os
    import tempfile
    from pathlib import Path
    roots = {str(Path(__file__).resolve().parent.parent), tempfile.gettempdir(), "/tmp", "/var/tmp"}
    try:
        from geo.paths import source_dir, store_dir
        roots |= {str(source_dir()), str(store_dir())}
        roots |= {str(Path(p).resolve()) for p in (source_dir(), store_dir())}
    except Exception:
        pass
    roots |= {os.path.realpath(r) for r in list(roots)}
    alts = "|".join(re.escape(r.rstrip("/")) for r in sorted(roots, key=len, reverse=True) if len(r) > 1)
    return re.compile(r"(?:" + alts + r")(?:/[^\s:'\",;)\]]*)?")


def public_text(text: Any) -> str:
    """`text` with every server path (the repo, the data folder, the store, temp folders)
    cut to its file name: no server path ever reaches a page (a report's "file", an
    error naming the temp copy of an upload)."""
    import posixpath
    return _server_path_re().sub(lambda m: posixpath.basename(m.group(0).rstrip("/")) or "(server folder)",
                                 "" if text is None else str(text))


_MD_LINE_BREAKS = re.compile(r"[\r\n\u2028\u2029\x0b\x0c\x85]+")
_MD_CTRL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>#!|~$&])")
_MD_DIRECTIVE = re.compile(r":(?=[A-Za-z/])")        # :red[...], :material/x:, :smile:


def md(value: Any) -> str:
    """Any text (a user's file name, header, label, an error message that quotes them)
    made literal for st.error / st.warning / st.info / st.success / st.caption /
    st.markdown: one line (a blank line cannot start a heading or a new block), every
    character that starts markdown, HTML, an image, a link, LaTeX or a colour/emoji
    directive backslash-escaped. `md("**x**<img src=http://e/x.png>\\n\\n# h")` shows
    exactly those characters; nothing is fetched."""
    s = _MD_CTRL.sub("", "" if value is None else str(value))
    s = _MD_LINE_BREAKS.sub(" ", s)
    s = _MD_SPECIAL.sub(r"\\\1", s)
    s = _MD_DIRECTIVE.sub(r"\\:", s)
    s = re.sub(r"^(\s*)([-+=])", r"\1\\\2", s)           # list / setext starts
    s = re.sub(r"^(\s*\d+)([.)])", r"\1\\\2", s)         # ordered list start
    return s


def esc_line(value: Any) -> str:
    """esc() on one line: for HTML that goes through st.markdown(unsafe_allow_html=True),
    where a blank line would end the HTML block and the rest be read as markdown."""
    return esc(_MD_LINE_BREAKS.sub(" ", "" if value is None else str(value)))


# No data is hatched grey everywhere (map fills, exports, legend swatches): never white,
# which reads as "good" / least deprived. The map runtime turns this fill into a canvas
# pattern (static/js/lsc_core.js, LSC.hatch).
NODATA_FILL = "hatch"
NODATA_SWATCH = "#e6e6e6"            # the hatch's background (legend swatch fill)
NODATA_LINE = "#6e6e6e"              # the hatch's lines
CORE20_CASING = "#1a1a1a"


@dataclass
class LegendItem:
    """One swatch in a legend: a fill colour and/or an outline, with its label."""
    label: str
    fill: str | None = None          # CSS colour of the fill, None = no fill
    stroke: str | None = None        # CSS colour of the outline, None = no outline
    stroke_width: float = 1.0
    dash: str | None = None          # e.g. "4 3" for a dashed outline
    shape: str = "square"            # "square" | "circle" | "line" | "diamond" | "triangle" | "star"
    hatch: bool = False              # no data: drawn hatched grey, as on the map (NODATA_FILL)
    casing: str | None = None        # a wider outline under `stroke` (the Core20 outline's casing)


@dataclass
class LegendEntry:
    """What a visible layer shows, drawn by app.py in Streamlit (not on the map)."""
    title: str                       # e.g. "IMD 2019 national decile"
    items: list[LegendItem] = field(default_factory=list)
    vintage: str = ""                # e.g. "IoD2019 on LSOA 2011 boundaries"
    source: str = ""                 # e.g. "MHCLG English Indices of Deprivation 2019"
    note: str = ""                   # any caveat to keep visible
    # a 3 x 3 bivariate key instead of rows: {"colors": [[...] * 3] (rows top to bottom),
    # "counts": same shape, "rows": 3 labels (top to bottom), "cols": 3 labels (left to
    # right), "y_title": ..., "x_title": ...}; `items` then hold only extra rows (no data)
    grid: dict | None = None


@dataclass
class MapContext:
    """What layers need to know about the current view.

    store      geo.store.Store (cached, read-only: never mutate its frames)
    fingerprint  a string that changes when the store is rebuilt: use it as the key of
               st.cache_data functions that take the store as `_store`
    static     URLs of the static files: {"geo": ..., "stats2019": ..., "stats2025": ...}
    state      dict of per-layer choices: state[layer.key] = {...}; layers may read
               each other's choices (e.g. wards reads state["deprivation"]["vintage"])
    area       the place filter: dict(kind="icb"|"place5"|"place4"|"district",
               code=..., name=...)
    selected_ward  WD24 code of the ward whose profile is open, or None
    config     parsed config/layers.yaml
    messages   list of (level, text) the app shows above the map; layers append
               problems here instead of raising (level in "info", "warning", "error")
    interactive  True in the app (controls a person can change), False for exports
    need(name) what another layer provides (layers.base.provide), e.g. "services.today"
    """
    store: Any
    fingerprint: str = ""            # changes when the store is rebuilt (cache key)
    static: dict = field(default_factory=dict)   # URLs of static files (render.static_files)
    state: dict = field(default_factory=dict)
    area: dict = field(default_factory=lambda: {"kind": "icb", "code": None, "name": "Whole ICB"})
    selected_ward: str | None = None
    config: dict = field(default_factory=dict)
    interactive: bool = False
    messages: list = field(default_factory=list)

    def choice(self, layer_key: str, name: str, default=None):
        return self.state.get(layer_key, {}).get(name, default)

    def need(self, name: str):
        """What another layer provides (see `provide` below), e.g. ctx.need("services.today")()."""
        return need(name)


class Layer:
    """Base class. Subclasses set `key`, `label`, `order` and override what they need.

    Link state: `fields` (geo.viewstate.Field) are the layer's parameters in a shared link;
    declaring them registers them (the link parser and writer loop over every layer's), and
    the methods under "link state" below map them to and from the session and the layer's
    state dict. The defaults do the simple mapping (Field.key, Field.state); a layer
    overrides them where its widgets are not one key per parameter."""
    key: str = "layer"
    label: str = "Layer"
    order: int = 100                 # sidebar order (small first)
    default_on: bool = True
    # True when every widget of sidebar() passes **map_only(self.key) (it changes only the
    # map and legend) or **whole_page() (it changes more): the sidebar is then drawn in a
    # part that reruns alone
    sidebar_part: bool = False
    fields: tuple = ()               # geo.viewstate.Field: this layer's link parameters

    def __init_subclass__(cls, **kw):
        super().__init_subclass__(**kw)
        if cls.__dict__.get("fields"):
            from geo import viewstate as VS
            VS.register(cls.key, cls.fields)

    def sidebar(self, ctx: MapContext) -> None:
        """Draw widgets (the app has already entered `st.sidebar`)."""
        import streamlit as st
        k = f"{self.key}_on"
        on = st.checkbox(self.label, key=k, **widget_default(k, value=self.default_on))
        ctx.state.setdefault(self.key, {})["on"] = on

    def is_on(self, ctx: MapContext) -> bool:
        return bool(ctx.state.get(self.key, {}).get("on", self.default_on))

    def feature_group(self, ctx: MapContext):
        """A folium.FeatureGroup with this layer's per-rerun content, or None."""
        return None

    def legend(self, ctx: MapContext) -> list[LegendEntry]:
        return []

    def legend_follows_area(self, ctx: MapContext) -> bool:
        """True while this layer's legend (as drawn now) names or counts something of the
        area: an area change then reruns the legend too (layers/parts.py); otherwise it
        keeps the legend it has. A layer whose legend depends on the area says so here."""
        return False

    def notes(self, ctx: MapContext) -> list[str]:
        return []

    # ------------------------------------------------------------------ link state
    def to_session(self, values: dict, ss) -> None:
        """Seed this layer's widget keys in `ss` (st.session_state, before the widgets are
        drawn) from its link values ({param: value or its default}, ViewState.layer)."""
        for f in self.fields:
            v = values.get(f.name)
            if f.key and v is not None:
                ss[f.key] = f.to_state(v)

    def link_values(self, ctx: MapContext, ss) -> dict:
        """This layer's link values ({param: value}) from its state dict ctx.state[self.key]
        (and `ss`, the session, for what the state dict does not keep)."""
        s = ctx.state.get(self.key, {})
        return {f.name: f.from_state(s[f.state]) for f in self.fields if f.state and s.get(f.state) is not None}

    def checked_link(self, values: dict) -> tuple[dict, list[str]]:
        """The link values after checks the parser cannot make (e.g. a dataset that is gone):
        (values kept, notices)."""
        return values, []

    def state_from_view(self, view, store, fp: str = "") -> dict | None:
        """The layer's state dict from a geo.viewstate.ViewState, for exports and snapshots
        outside the app; None when the layer is drawn only in the app. The default: the
        layer is on or off, and each field with a `state` name gives its value."""
        if not self.fields or not all(f.state for f in self.fields):
            return None
        vals = view.layer(self.key)
        s = {"on": view.layer_on(self.key, self.default_on)}
        s.update({f.state: f.to_state(vals[f.name]) for f in self.fields if vals.get(f.name) is not None})
        return s


# ------------------------------------------------------------------ what layers provide each other
# A layer that others need something from (the services register, the area filter) provides it
# here by name when its module is imported; the others read it through ctx.need(name) (or need),
# never by importing that layer. A name not provided yet loads the registered layer modules.
_PROVIDED: dict[str, Any] = {}


def provide(name: str, value: Any) -> None:
    _PROVIDED[name] = value


def need(name: str):
    try:
        return _PROVIDED[name]
    except KeyError:
        pass
    import importlib

    from layers import REGISTRY
    for mod in REGISTRY:
        try:
            importlib.import_module(mod)
        except ImportError:
            continue
        if name in _PROVIDED:
            return _PROVIDED[name]
    raise LookupError(f"no layer provides {name!r}")

