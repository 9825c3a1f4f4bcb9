"""Share the view: "Copy link", presentation mode, exports (the URL state <-> session
mapping is layers/share_state.py, re-exported here).

Integration in app.py is three small calls plus one pseudo-layer:

    state = share.read_url_state(store, fp)          # after view.init_state(), before widgets
    layers = view.load_layers(ctx.messages) + [share.LAYER]   # sidebar controls + map script
    share.title_bar(ctx, layers)                     # presentation CSS + title bar (main area)
    share.write_url_state(ctx, layers)               # last: the URL mirrors the view

The URL schema, validation and clamping live in geo/viewstate.py (pure). Here:

- `read_url_state` parses st.query_params ONCE per session, shows any fallback notice,
  and seeds the layers' widget keys (convention from layers/base.py: widget key =
  f"{layer.key}_{name}" for ctx.state[layer.key][name]) plus area, selected ward and the
  map view (a fit to a tiny box around lat/lon with max_zoom = z == setView(lat, lon, z)).
- `write_url_state` reads the layers' own state dicts (ctx.state) and writes the query
  string; the map centre/zoom are written into the page URL by the map iframe itself on
  every `moveend` (ShareLayer's script), so reruns carry them back without extra reruns.
- `ShareLayer.sidebar` draws: view title, presentation toggle, Copy link, exports.
- `ShareLayer.feature_group` adds the map-side script: URL sync of centre/zoom and the
  presentation styles inside the map iframe (bigger labels, high-contrast outlines).
"""
from __future__ import annotations

import datetime as _dt
import functools
import hashlib
import json

import folium
import streamlit as st

from geo import viewstate as VS
from geo.viewstate import replace  # noqa: F401  (re-exported: layer parameters by name too)
from layers import present
from layers.base import Layer, LegendEntry, MapContext, md
# the link <-> session mapping (re-exported: app.py and the exports call it as share.*)
from layers.share_state import (KEY, apply_to_session, export_context, read_url_state,  # noqa: F401
                                state_from_ctx, write_url_state)

SS_EXPORTS = "share_exports"
SIZES = {"1280x720": (1280, 720), "1920x1080": (1920, 1080), "2560x1440": (2560, 1440),
         "3840x2160": (3840, 2160)}


# ------------------------------------------------------------------ presentation
def is_present() -> bool:
    return bool(st.session_state.get("share_present"))


def _exit_present():
    st.session_state["share_present"] = False


def title_bar(ctx: MapContext, layers: list[Layer]) -> None:
    """Presentation CSS and the title bar (only in presentation mode)."""
    if not is_present():
        return
    st.markdown(present.page_css(True), unsafe_allow_html=True)
    state = state_from_ctx(ctx, layers)
    shown = [l for l in layers if l.key != KEY]
    name = present.view_title(ctx, shown, state)       # names the indicator / access gaps while drawn
    vint = present.data_text(ctx, shown)
    c1, c2 = st.columns([12, 1], vertical_alignment="center")
    with c1:
        from layers.panels import ATTRIBUTION
        st.markdown(present.title_bar_html(name, vint, attribution=ATTRIBUTION), unsafe_allow_html=True)
    with c2:
        st.button("Exit", key="share_exit_present", on_click=_exit_present,
                  help="Leave presentation mode")


def _vintage_text(ctx: MapContext, layers: list[Layer]) -> str:
    """(Kept for callers) the title bar's data vintage: layers.present.data_text."""
    return present.data_text(ctx, [l for l in layers if l.key != KEY])


# ------------------------------------------------------------------ map-side script
def _share_cfg(present_on: bool) -> dict:
    return {"present": bool(present_on), "css": present.IFRAME_CSS,
            "outlines": present.OUTLINES["present" if present_on else "normal"]}


def script_group(present_on: bool) -> folium.FeatureGroup:
    """The group whose script calls LSC.paint.share(cfg) (static/js/paint_share.js): the
    page URL follows the map's centre/zoom, and the presentation styles in the frame."""
    from render.map import _Call
    cfg = _share_cfg(present_on)
    fg = folium.FeatureGroup(name="lsc-share", control=False)
    call = _Call("paint.share", cfg)
    fg.add_child(call)
    fg.lsc_payload = ("share", cfg)
    fg.lsc_js = f"LSC.paint.share({call.args});"   # map_component's fast path: no per-rerun render
    fg.lsc_fast = True                              # lsc_js is the whole group (its only child's script)
    return fg


# ------------------------------------------------------------------ copy link
COPY_LINK_HTML = """<div style="font-family:system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif;font-size:14px">
<button id="b" type="button" style="padding:.35rem .8rem;border:1px solid #999;border-radius:6px;background:#fff;cursor:pointer;font-size:14px">Copy link to this view</button>
<input id="u" readonly aria-label="Link to this view" style="width:100%;box-sizing:border-box;margin-top:6px;font-size:12px;padding:3px">
<div id="s" role="status" style="color:#1a7f37;font-size:12px;min-height:1.1em"></div>
<script>{js}</script></div>"""


@functools.lru_cache(maxsize=1)
def copy_link_html() -> str:
    """The Copy link box: its HTML and its script (static/js/copy_link.js, inlined: the
    box is an st.iframe document of its own)."""
    from render.static_files import STATIC_DIR
    js = (STATIC_DIR / "js" / "copy_link.js").read_text(encoding="utf-8").replace("</", "<\\/")
    return COPY_LINK_HTML.replace("{js}", js)


# ------------------------------------------------------------------ exports (app)
def _export_state(ctx, layers) -> VS.ViewState:
    return state_from_ctx(ctx, layers)


def _slug(text: str) -> str:
    import re
    return re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_")[:60] or "view"


def _prepare(ctx: MapContext, layers: list[Layer], level: str, selection: str) -> dict:
    from geo import export as X
    state = _export_state(ctx, layers)
    out: dict = {"files": {}, "error": None}
    try:
        rows, header = X.table_for_view(ctx.store, state, level, selection)
    except X.EmptySelection as e:
        out["error"] = str(e)
        return out
    base = f"lsc_{level}s_{_slug(ctx.area.get('name', 'icb'))}_IoD{state.get('vintage')}"
    out["files"]["csv"] = (f"{base}.csv", X.csv_bytes(rows, header), "text/csv")
    out["files"]["xlsx"] = (f"{base}.xlsx", X.xlsx_bytes(rows, header, "Wards" if level == "ward" else "LSOAs"),
                            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    import tempfile
    from pathlib import Path
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "view.gpkg"
        X.write_gpkg(ctx.store, state, p, selection)
        out["files"]["gpkg"] = (f"{base}.gpkg", p.read_bytes(), "application/geopackage+sqlite3")
    from layers.export_html import standalone_html
    html = standalone_html(ctx.store, state, ctx=ctx, layers=[l for l in layers if l.key != KEY])
    out["files"]["html"] = (f"lsc_map_{_slug(ctx.area.get('name', 'icb'))}.html", html.encode("utf-8"), "text/html")
    out["rows"] = len(rows)
    return out


def _render_png(ctx, layers, size: str) -> tuple[bytes | None, str | None]:
    from render.png import render_html
    from layers.export_html import standalone_html
    import tempfile
    from pathlib import Path
    w, h = SIZES[size]
    state = _export_state(ctx, layers)
    html = standalone_html(ctx.store, state, ctx=ctx, layers=[l for l in layers if l.key != KEY])
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "view.png"
        try:
            render_html(html, p, fmt="png", width=w, height=h)
        except Exception as e:
            return None, f"The PNG could not be rendered: {type(e).__name__}: {e}"
        return p.read_bytes(), None


def _render_profile(ctx, layers, fmt: str) -> tuple[bytes | None, str | None]:
    from geo import export as X
    from render.png import render_html
    from render.export_html import ward_profile_html
    import tempfile
    from pathlib import Path
    state = _export_state(ctx, layers)
    if not state.ward:
        return None, "Open a ward profile first."
    try:
        from layers.view import membership
        prof = X.ward_profile(ctx.store, state.ward, state.get("vintage"), membership(layers, ctx))
        html = ward_profile_html(prof, ctx.config.get("deprivation", {}).get("palette"))
        with tempfile.TemporaryDirectory() as d:
            p = Path(d) / f"profile.{fmt}"
            render_html(html, p, fmt=fmt, width=1100, height=1555)
            return p.read_bytes(), None
    except Exception as e:
        return None, f"The ward profile could not be rendered: {type(e).__name__}: {e}"


class ShareLayer(Layer):
    """Not a map layer: the share/present/export controls and the map-side share script."""
    key = KEY
    label = "Share and export"
    order = 1000

    def is_on(self, ctx: MapContext) -> bool:
        return True

    def sidebar(self, ctx: MapContext) -> None:
        st.markdown("**Share and present**")
        st.text_input("View title (optional)", key="share_title", max_chars=VS.TITLE_MAX,
                      placeholder="e.g. Fylde Coast outreach, March workshop")
        st.toggle("Presentation mode", key="share_present",
                  help="Hides the sidebar, fills the screen with the map and enlarges text for "
                       "screen-sharing. Also opens with ?present=1 in the link.")
        st.iframe(copy_link_html(), height=92, alt="Copy link to this view")
        # lazy: the export controls run only while the expander is open (a closed one
        # cost ~3 ms of widgets on every rerun)
        exp = st.expander("Export this view", expanded=False, key="share_export_open", on_change="rerun")
        if exp.open:
            with exp:
                self._exports(ctx)

    def _exports(self, ctx: MapContext) -> None:
        layers = getattr(ctx, "_share_layers", None)
        if layers is None:
            st.caption("Exports are not available (no layer list).")
            return
        level = st.radio("Table rows", ["ward", "lsoa"], horizontal=True, key="share_level",
                         format_func={"ward": "Wards", "lsoa": "LSOAs"}.get)
        selection = st.radio("Rows to include", ["area", "priority", "ward"], key="share_selection",
                             format_func={"area": "Everything in the area",
                                          "priority": "Highlighted priority wards only",
                                          "ward": "The selected ward only"}.get)
        sig = hashlib.sha256(json.dumps([VS.to_query_string(state_from_ctx(ctx, layers)), level, selection,
                                         ctx.fingerprint]).encode()).hexdigest()[:16]
        ss = st.session_state
        if st.button("Prepare table, GeoPackage and HTML map", key="share_prepare"):
            with st.spinner("Preparing files…"):
                ss[SS_EXPORTS] = {"sig": sig, **_prepare(ctx, layers, level, selection)}
        ex = ss.get(SS_EXPORTS)
        if ex and ex.get("sig") == sig:
            if ex.get("error"):
                st.warning(md(ex["error"]))
            for fmt, label in (("csv", "CSV"), ("xlsx", "XLSX"), ("gpkg", "GeoPackage"), ("html", "HTML map")):
                if fmt in ex["files"]:
                    name, data, mime = ex["files"][fmt]
                    st.download_button(f"Download {label}", data, file_name=name, mime=mime,
                                       key=f"share_dl_{fmt}")
        elif ex:
            st.caption("The view changed: prepare the files again.")
        size = st.selectbox("PNG size", list(SIZES), index=1, key="share_png_size")
        if st.button("Render PNG snapshot", key="share_png"):
            with st.spinner("Rendering with headless Chromium…"):
                data, err = _render_png(ctx, layers, size)
            ss["share_png_out"] = {"sig": sig + size, "data": data, "err": err}
        png = ss.get("share_png_out")
        if png and png.get("sig") == sig + size:
            if png["err"]:
                st.error(md(png["err"]))
            else:
                st.download_button(f"Download PNG ({size})", png["data"], file_name=f"lsc_view_{size}.png",
                                   mime="image/png", key="share_dl_png")
        ward = ss.get("selected_ward")
        if ward:
            fmt = st.radio("Ward profile as", ["pdf", "png"], horizontal=True, key="share_profile_fmt",
                           format_func=str.upper)
            if st.button("Render ward profile", key="share_profile"):
                with st.spinner("Rendering the ward profile…"):
                    data, err = _render_profile(ctx, layers, fmt)
                ss["share_profile_out"] = {"sig": f"{ward}:{fmt}:{sig}", "data": data, "err": err}
            po = ss.get("share_profile_out")
            if po and po.get("sig") == f"{ward}:{fmt}:{sig}":
                if po["err"]:
                    st.error(md(po["err"]))
                else:
                    st.download_button(f"Download ward profile ({fmt.upper()})", po["data"],
                                       file_name=f"ward_profile_{ward}.{fmt}",
                                       mime="application/pdf" if fmt == "pdf" else "image/png",
                                       key="share_dl_profile")
        else:
            st.caption("Open a ward profile to export it as a one-page PDF or PNG.")

    def feature_group(self, ctx: MapContext):
        return script_group(is_present())

    def legend(self, ctx: MapContext) -> list[LegendEntry]:
        return []


LAYER = ShareLayer()


def attach(ctx: MapContext, layers: list[Layer]) -> list[Layer]:
    """Remember the layer list on ctx (exports need it) and return it with the share layer."""
    out = [l for l in layers if l.key != KEY] + [LAYER]
    ctx._share_layers = out   # noqa: SLF001 - MapContext is a plain dataclass
    return out


def today_text() -> str:
    return _dt.date.today().strftime("%d %B %Y").lstrip("0")


__all__ = ["read_url_state", "write_url_state", "title_bar", "attach", "LAYER", "export_context",
           "state_from_ctx", "apply_to_session", "script_group", "replace"]
