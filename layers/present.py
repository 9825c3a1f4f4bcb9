"""Presentation mode: a screen a room can read when the map is screen-shared.

- `page_css(present)`   CSS for the Streamlit page: no sidebar/header/toolbar, the map
                         filling the viewport under a title bar, legend at >= 18 px.
- `title_bar_html(...)`  the title bar: view name, data vintage, today's date (escaped).
- `IFRAME_CSS`           CSS the map runtime injects into the map iframe in presentation
                         mode (bigger ward labels/tooltips); see layers/share.py.
- `OUTLINES`             high-contrast outline styles applied in the map iframe.

Sizes are chosen for a 1280x720 screen share: legend text 20 px, title 26 px.
"""
from __future__ import annotations

import datetime as _dt

from layers.base import esc

TITLE_BAR_PX = 64
LEGEND_PX = 20
ATTR_PX = 50            # the attribution strip kept on screen under the map

PAGE_CSS = f"""
<style>
section[data-testid="stSidebar"], div[data-testid="stSidebarCollapsedControl"],
button[data-testid="stExpandSidebarButton"], div[data-testid="stSidebarHeader"],
header[data-testid="stHeader"], div[data-testid="stToolbar"], div[data-testid="stDecoration"],
div[data-testid="stStatusWidget"] {{ display: none !important; }}
div[data-testid="stMainBlockContainer"] {{ padding: 0 .6rem 0 .6rem !important; max-width: 100% !important; }}
div[data-testid="stAppViewContainer"] > section, .stMain {{ margin-left: 0 !important; }}
iframe[title="streamlit_folium.st_folium"] {{ height: calc(100vh - {TITLE_BAR_PX + 24 + ATTR_PX}px) !important; }}
.lsc-present-attr {{ position: fixed; left: 0; bottom: 0; width: 69%; height: {ATTR_PX}px; box-sizing: border-box;
  padding: 3px .8rem; font-size: 11px; line-height: 1.3; color: #222; background: #fff; z-index: 999990;
  border-top: 1px solid #bbb; overflow: hidden; }}
.lsc-legend {{ font-size: {LEGEND_PX}px !important; line-height: 1.3; }}
.lsc-legend-title {{ font-size: {LEGEND_PX + 2}px !important; }}
.lsc-legend-meta {{ font-size: {LEGEND_PX - 2}px !important; color: #111 !important; }}
.lsc-legend-item svg {{ transform: scale(1.35); margin: 0 .35rem; }}
.lsc-present-bar {{ display: flex; align-items: center; gap: 1.4rem; flex-wrap: nowrap; overflow: hidden;
  white-space: nowrap; background: #111; color: #fff; padding: 0 1rem; margin: 0; border-radius: 0 0 6px 6px;
  height: {TITLE_BAR_PX - 8}px; box-sizing: border-box; }}
.lsc-present-bar .t {{ font-size: 26px; font-weight: 700; overflow: hidden; text-overflow: ellipsis; min-width: 8em; }}
.lsc-present-bar .m {{ font-size: 19px; color: #f0f0f0; overflow: hidden; text-overflow: ellipsis; }}
.lsc-present-bar .m.d {{ flex: none; }}
div[data-testid="stAppViewContainer"] .stMain {{ padding-top: 0 !important; }}
div[data-testid="stHorizontalBlock"]:has(.lsc-present-bar) {{ margin-top: -2rem; }}
div[data-testid="stHorizontalBlock"]:has(iframe[title="streamlit_folium.st_folium"]) > div[data-testid="stColumn"]:first-child
  {{ flex: 0 0 calc(69% - 1rem) !important; width: calc(69% - 1rem) !important; max-width: calc(69% - 1rem) !important; }}
div[data-testid="stHorizontalBlock"]:has(iframe[title="streamlit_folium.st_folium"]) > div[data-testid="stColumn"]:nth-child(2)
  {{ flex: 0 0 calc(31% - 1rem) !important; width: calc(31% - 1rem) !important; max-width: calc(31% - 1rem) !important; }}
</style>
"""

# Injected inside the map iframe (a different document) by the share script.
IFRAME_CSS = """
#map_div, .folium-map { height: 100vh !important; }
html, body { overflow: hidden !important; }
.lsc-label span { font-size: 18px !important; font-weight: 700 !important;
  text-shadow: 0 0 4px #fff, 0 0 4px #fff, 0 0 3px #fff, 0 0 2px #fff !important; }
.lsc-tip { font-size: 18px !important; max-width: 420px !important; }
.lsc-tip-title { font-size: 20px !important; }
.leaflet-control-scale-line { font-size: 16px !important; border-width: 3px !important; }
"""

# Outline styles in presentation mode (normal values are in static/js/lsc_core.js).
OUTLINES = {
    "present": {"wards": {"color": "#000000", "weight": 1.6, "opacity": 1},
                "districts": {"color": "#000000", "weight": 3.2, "opacity": 1},
                "core20_weight": 3.0},
    "normal": {"wards": {"color": "#2b2b2b", "weight": 0.7, "opacity": 0.8},
               "districts": {"color": "#555555", "weight": 1.2, "opacity": 0.9},
               "core20_weight": 1.6},
}


def page_css(present: bool) -> str:
    return PAGE_CSS if present else ""


def title_bar_html(name: str, vintage: str, date: _dt.date | None = None, attribution: str = "") -> str:
    """The title bar, and (when given) the attribution as a strip fixed under the map: the
    page's own attribution caption falls below the fold when the map fills the screen."""
    d = (date or _dt.date.today()).strftime("%d %B %Y").lstrip("0")
    attr = (f'<div class="lsc-present-attr" data-testid="lsc-present-attr">{esc(attribution)}</div>'
            if attribution else "")
    return (f'<div class="lsc-present-bar" data-testid="lsc-present-bar"><span class="t">{esc(name)}</span>'
            f'<span class="m">Data: {esc(vintage)}</span><span class="m d">{esc(d)}</span></div>{attr}')


# ------------------------------------------------------------------ what the view shows
def main_layer(ctx, layers) -> str:
    """Key of the layer whose colours fill the map: "indicators" or "access" while one
    of them paints (the deprivation fill then steps aside), else "deprivation"."""
    by_key = {l.key: l for l in layers}
    for key in ("indicators", "access"):
        layer = by_key.get(key)
        if layer is not None and ctx.state.get(key, {}).get("on") and hasattr(layer, "paints"):
            try:
                if layer.paints(ctx):
                    return key
            except Exception:
                continue
    return "deprivation"


def data_text(ctx, layers, entries: dict | None = None) -> str:
    """The title bar's "Data:": the vintage of what fills the map (an indicator's period
    and areas, access gaps' sites and date, or the IMD vintage), then the Core20
    outline's IMD vintage when another layer fills the map. `entries`: layer key ->
    its legend entries, when the caller has them already."""
    def first_vintage(key):
        if entries is not None:
            es = entries.get(key) or []
        else:
            layer = next((l for l in layers if l.key == key), None)
            try:
                es = layer.legend(ctx) if layer is not None else []
            except Exception:
                es = []
        return next((e.vintage for e in es if e.vintage), "")
    main = main_layer(ctx, layers)
    text = first_vintage(main)
    if text.startswith("Period: "):          # the indicator legend's "Period: X · drawn on Y"
        text = text[len("Period: "):]
    if main != "deprivation":
        dep = ctx.state.get("deprivation", {})
        imd = first_vintage("deprivation") if dep.get("on", True) and dep.get("core20", True) else ""
        if imd:
            text = f"{text}; Core20 outline: {imd}" if text else imd
    return text or f"IoD{int(ctx.state.get('deprivation', {}).get('vintage', 2019))}"


def view_title(ctx, layers, state) -> str:
    """The view's name: its given title, else what fills the map and where (an indicator
    or access gaps while one is drawn: not "Index of Multiple Deprivation")."""
    from geo import viewstate as VS
    from geo.export import footprint_label
    area = ctx.area.get("name") if state.area_kind != "icb" else footprint_label(ctx.store)
    if state.title:
        return state.title
    main = main_layer(ctx, layers)
    if main == "deprivation":
        return VS.view_name(state, area)
    where = area
    layer = next(l for l in layers if l.key == main)
    try:
        es = layer.legend(ctx)
    except Exception:
        es = []
    what = es[0].title if es else layer.label
    return f"{what} - {where}"
