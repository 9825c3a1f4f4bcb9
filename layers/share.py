"""Share the view: URL state <-> session, "Copy link", presentation mode, exports.

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
from dataclasses import replace

import folium
import streamlit as st
from branca.element import MacroElement
from jinja2 import Template

from geo import viewstate as VS
from layers import present
from layers.base import Layer, LegendEntry, MapContext, md

KEY = "share"
SS_APPLIED = "share_url_applied"
SS_NOTICES = "share_notices"
SS_EXPORTS = "share_exports"
SIZES = {"1280x720": (1280, 720), "1920x1080": (1920, 1080), "2560x1440": (2560, 1440),
         "3840x2160": (3840, 2160)}


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
    from layers.data import area_bounds, ward_bounds
    from layers.view import area_options
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
        opts = area_options(store, fp)    # {"place5:Fylde Coast": (kind, code, label)} (or a list of tuples)
        items = opts.items() if isinstance(opts, dict) else [(o, o) for o in opts]
        for wkey, opt in items:
            if opt[0] == state.area_kind and opt[1] == state.area_code:
                ss["area"] = wkey
                fit = {"key": f"{opt[0]}:{opt[1]}", "b": area_bounds(store, fp, opt[0], opt[1])}
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
    # map centre/zoom: the map iframe keeps them in the page URL (see _SCRIPT)
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
_SCRIPT = Template("""
{% macro script(this, kwargs) %}
(function (cfg) {
  var LSC = window.LSC; if (!LSC || !LSC.map) return;
  var map = LSC.map, P = null;
  try { P = window.parent; void P.location.href; } catch (e) { P = null; }
  function syncUrl() {
    var c = map.getCenter(), z = map.getZoom();
    var v = c.lat.toFixed(5) + "," + c.lng.toFixed(5) + "," + z;
    document.body.setAttribute("data-lsc-view", v);
    if (!P) return;
    try {
      var u = new URL(P.location.href);
      u.searchParams.set("lat", c.lat.toFixed(5));
      u.searchParams.set("lon", c.lng.toFixed(5));
      u.searchParams.set("z", String(Math.round(z * 4) / 4));
      P.history.replaceState(P.history.state, "", u.pathname + "?" + u.searchParams.toString() + u.hash);
    } catch (e) {}
  }
  if (LSC._shareMove) map.off("moveend", LSC._shareMove);
  LSC._shareMove = syncUrl;
  map.on("moveend", syncUrl);
  // presentation styles inside this iframe
  var css = document.getElementById("lsc-present-css");
  if (cfg.present && !css) {
    css = document.createElement("style"); css.id = "lsc-present-css"; css.textContent = cfg.css;
    document.head.appendChild(css);
  } else if (!cfg.present && css) { css.parentNode.removeChild(css); }
  LSC._shareCfg = cfg;
  function outlines() {
    var Ls = LSC.layers || {}, o = LSC._shareCfg.outlines;
    if (Ls.wards) Ls.wards.setStyle(o.wards);
    if (Ls.districts) Ls.districts.setStyle(o.districts);
    if (Ls.core20) Ls.core20.eachLayer(function (l) { if (l.options.stroke) l.setStyle({ weight: o.core20_weight }); });
    if (Ls.wards && !Ls.wards._lscShareOut) {
      Ls.wards._lscShareOut = true;
      Ls.wards.on("mouseout", function (e) { e.layer.setStyle(LSC._shareCfg.outlines.wards); });
    }
    document.body.setAttribute("data-lsc-present", LSC._shareCfg.present ? "1" : "0");
  }
  LSC._shareOutlines = outlines;
  if (!LSC._shareObs) {
    LSC._shareObs = new MutationObserver(function () { LSC._shareOutlines(); if (LSC._shareMove) LSC._shareMove(); });
    LSC._shareObs.observe(document.body, { attributes: true, attributeFilter: ["data-lsc-applied"] });
  }
  outlines();
  setTimeout(function () { map.invalidateSize({ animate: false }); }, 50);
})({{ this.cfg }});
{% endmacro %}
""")


class _ShareScript(MacroElement):
    _template = _SCRIPT

    def __init__(self, cfg: dict):
        super().__init__()
        self._name = "LscShare"
        from render.map import _js_json
        self.cfg = _js_json(cfg)


def _share_cfg(present_on: bool) -> dict:
    return {"present": bool(present_on), "css": present.IFRAME_CSS,
            "outlines": present.OUTLINES["present" if present_on else "normal"]}


@functools.lru_cache(maxsize=2)
def _share_js(present_on: bool) -> str:
    """The group's script, rendered once per mode (it never changes otherwise)."""
    el = _ShareScript(_share_cfg(present_on))
    return str(_SCRIPT.module.script(el, {}))


def script_group(present_on: bool) -> folium.FeatureGroup:
    cfg = _share_cfg(present_on)
    fg = folium.FeatureGroup(name="lsc-share", control=False)
    fg.add_child(_ShareScript(cfg))
    fg.lsc_payload = ("share", cfg)
    fg.lsc_js = _share_js(bool(present_on))   # map_component's fast path: no per-rerun render
    fg.lsc_fast = True                         # lsc_js is the whole group (its only child's script)
    return fg


# ------------------------------------------------------------------ copy link
COPY_LINK_HTML = """<div style="font-family:system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif;font-size:14px">
<button id="b" type="button" style="padding:.35rem .8rem;border:1px solid #999;border-radius:6px;background:#fff;cursor:pointer;font-size:14px">Copy link to this view</button>
<input id="u" readonly aria-label="Link to this view" style="width:100%;box-sizing:border-box;margin-top:6px;font-size:12px;padding:3px">
<div id="s" role="status" style="color:#1a7f37;font-size:12px;min-height:1.1em"></div>
<script>
(function () {
  var b = document.getElementById("b"), u = document.getElementById("u"), s = document.getElementById("s");
  function link() {
    // the page URL (the server keeps it in step with the widgets) + the map's live centre/zoom
    try {
      var u = new URL(window.parent.location.href);
      var f = window.parent.document.querySelector('iframe[title="streamlit_folium.st_folium"]');
      var M = f && f.contentWindow && f.contentWindow.LSC && f.contentWindow.LSC.map;
      if (M) {
        var c = M.getCenter();
        u.searchParams.set("lat", c.lat.toFixed(5)); u.searchParams.set("lon", c.lng.toFixed(5));
        u.searchParams.set("z", String(Math.round(M.getZoom() * 4) / 4));
      }
      return u.toString();
    } catch (e) { try { return window.parent.location.href; } catch (e2) { return ""; } }
  }
  function show() { if (document.activeElement !== u) u.value = link(); }
  show(); setInterval(show, 1000);
  b.addEventListener("click", function () {
    var v = link(); u.value = v;
    function ok() { s.textContent = "Link copied"; document.body.setAttribute("data-copied", v); }
    function fallback() {
      u.focus(); u.select();
      try { if (document.execCommand("copy")) { ok(); return; } } catch (e) {}
      s.textContent = "Select the link above and copy it (Ctrl+C)"; document.body.setAttribute("data-copied", v);
    }
    if (navigator.clipboard && navigator.clipboard.writeText) navigator.clipboard.writeText(v).then(ok, fallback);
    else fallback();
  });
})();
</script></div>"""


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
    base = f"lsc_{level}s_{_slug(ctx.area.get('name', 'icb'))}_IoD{state.vintage}"
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
        prof = X.ward_profile(ctx.store, state.ward, state.vintage, membership(layers, ctx))
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
        st.iframe(COPY_LINK_HTML, height=92, alt="Copy link to this view")
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
                "name": area_name(state).split(": ", 1)[-1] if state.area_kind != "icb" else "the whole ICB"}
    ctx.selected_ward = state.ward
    return ctx, keep


def today_text() -> str:
    return _dt.date.today().strftime("%d %B %Y").lstrip("0")


__all__ = ["read_url_state", "write_url_state", "title_bar", "attach", "LAYER", "export_context",
           "state_from_ctx", "apply_to_session", "script_group", "replace"]
