"""Standalone HTML pages: a map view as one offline file, and the one-page ward profile.

`page_html(m, name=..., legend=..., ...)` turns a folium map (the constant base map of
render.map plus the view's groups, put together by layers.export_html.standalone_html)
into one page with everything the browser would fetch inlined:

- Leaflet, topojson-client, markercluster and the map runtime (static/js/lsc_core.js and the painters) are
  read from static/ (installed locally by `make setup`) and inlined as <script>/<style>;
  Leaflet's CSS images become data: URIs;
- the geometry and ward figures (static/gen/*.json) are pre-seeded into the runtime's
  fetch cache (`LSC.fetched`), so nothing is requested at all;
- title bar (view name, data vintage, date), the app's legend, a north arrow, Leaflet's
  scale bar, source notes and attribution are part of the page.

The same page is what `python -m geo snapshot` screenshots in headless Chromium (so the
PNG has title, legend, north/scale, vintage, source and date).

`ward_profile_html(profile)` lays out geo.export.ward_profile() as one A4 page.
Everything user-supplied or from data files is escaped (render.text.esc).
"""
from __future__ import annotations

import base64
import datetime as _dt
import json
import re
from pathlib import Path

from render.text import esc, js_json
from render.static_files import STATIC_DIR, url_path

_GEN_URL = re.compile(r"/app/static/gen/[A-Za-z0-9._-]+\.json")
_SCRIPT_SRC = re.compile(r'<script src="(/app/static/[^"?]+)(?:\?[^"]*)?"></script>')
_CSS_LINK = re.compile(r'<link rel="stylesheet" href="(/app/static/[^"?]+)(?:\?[^"]*)?"\s*/?>')
_REMOTE = re.compile(r'<(?:script|link)[^>]+(?:src|href)="https?://[^"]*"[^>]*>(?:</script>)?')


def _inside_static(p: Path) -> bool:
    """Lexically under static/ (no ".." escape); a symlinked folder inside it (e.g. a
    worktree's static/vendor pointing at the installed copy) is fine."""
    import os
    norm = Path(os.path.normpath(p.absolute()))
    return Path(os.path.normpath(STATIC_DIR.absolute())) in norm.parents


def _static_path(url: str) -> Path:
    p = url_path(url)
    if not _inside_static(p):
        raise ValueError(f"not a static file: {url}")
    return p


def _static_js(rel: str) -> str:
    return (STATIC_DIR / rel).read_text(encoding="utf-8")


def _js_safe(text: str) -> str:
    return text.replace("</script", "<\\/script").replace("</SCRIPT", "<\\/SCRIPT")


def _inline_css(url: str) -> str:
    p = _static_path(url)
    css = p.read_text(encoding="utf-8")

    def data_uri(m):
        ref = m.group(1).strip("'\"")
        if ref.startswith(("data:", "#", "http")):
            return "none" if ref.startswith("http") else m.group(0)
        f = p.parent / ref
        if not f.exists() or not _inside_static(f):
            return "none"
        mime = "image/png" if f.suffix == ".png" else "image/svg+xml" if f.suffix == ".svg" else "application/octet-stream"
        return f"url(data:{mime};base64,{base64.b64encode(f.read_bytes()).decode()})"
    css = re.sub(r"url\(([^)]*)\)", data_uri, css)
    return css.replace("</style", "<\\/style")


def inline_assets(html: str) -> str:
    """Replace local <script src>/<link> with their contents; drop anything remote."""
    html = _SCRIPT_SRC.sub(lambda m: "<script>" + _js_safe(_static_path(m.group(1)).read_text(encoding="utf-8"))
                           + "</script>", html)
    html = _CSS_LINK.sub(lambda m: "<style>" + _inline_css(m.group(1)) + "</style>", html)
    return _REMOTE.sub("", html)


def _seed_fetches(html: str) -> str:
    """A script that pre-fills the runtime's fetch cache with every static/gen file used."""
    seeds = []
    urls = sorted(set(_GEN_URL.findall(html)))
    for url in urls:
        data = _static_path(url).read_text(encoding="utf-8")
        d = json.loads(data)                                # must be JSON
        split = d.get("lsc", {}).get("split") if isinstance(d, dict) and isinstance(d.get("lsc"), dict) else None
        if split and not set(split.values()) <= set(urls):
            # a geometry file naming split files this view does not draw (and so were not
            # seeded): the page names no file it lacks
            d["lsc"]["split"] = {k: v for k, v in split.items() if v in urls}
            data = json.dumps(d, separators=(",", ":"), allow_nan=False)
        seeds.append(f"{json.dumps(url)}:Promise.resolve({_js_safe(data.replace('</', '<' + chr(92) + '/'))})")
    return ("<script>window.LSC=window.LSC||{};LSC.fetched=LSC.fetched||{};"
            + "".join(f"Object.assign(LSC.fetched,{{{s}}});" for s in seeds)
            + "</script>")


NORTH_SVG = ('<svg width="46" height="64" viewBox="0 0 46 64" role="img" aria-label="North arrow">'
             '<polygon points="23,4 38,46 23,37 8,46" fill="#111" stroke="#fff" stroke-width="2"/>'
             '<text x="23" y="62" font-size="17" font-weight="700" text-anchor="middle" fill="#111" '
             'stroke="#fff" stroke-width="3" paint-order="stroke">N</text></svg>')

PAGE_CSS = """
:root { --tb: max(78px, 8.8vh); --lw: clamp(280px, 25vw, 520px); --foot: max(30px, 3.4vh);
        --fs: clamp(14px, 1.75vh, 24px); }
html, body { margin: 0; padding: 0; height: 100%; background: #fff;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; color: #111; }
#lsc-title { position: fixed; top: 0; left: 0; right: 0; height: var(--tb); background: #111; color: #fff;
  display: flex; flex-wrap: wrap; align-content: center; column-gap: 1.6em; row-gap: .15em; padding: 0 1em;
  box-sizing: border-box; overflow: hidden; font-size: calc(var(--fs) * 1.0); white-space: nowrap; z-index: 2000; }
/* two rows: the view's name on its own, then data, area and date (nothing cut short on a 16:9 picture) */
#lsc-title .t { font-size: 1.3em; font-weight: 700; overflow: hidden; text-overflow: ellipsis; flex: 1 0 100%; }
#lsc-title .m { color: #eee; flex: 0 1 auto; overflow: hidden; text-overflow: ellipsis; min-width: 4em; }
.folium-map { position: fixed !important; top: var(--tb) !important; left: 0 !important; right: var(--lw) !important;
  bottom: var(--foot) !important; width: auto !important; height: auto !important; }
#lsc-legend-panel { position: fixed; top: var(--tb); right: 0; width: var(--lw); bottom: var(--foot);
  overflow: auto; box-sizing: border-box; padding: .8em 1em; border-left: 2px solid #111; background: #fff;
  font-size: var(--fs); z-index: 1500; }
#lsc-north { position: fixed; top: calc(var(--tb) + 12px); right: calc(var(--lw) + 14px); z-index: 1600; }
#lsc-foot { position: fixed; left: 0; right: 0; bottom: 0; min-height: var(--foot); box-sizing: border-box;
  padding: .25em 1em; display: flex; align-items: center; font-size: calc(var(--fs) * .62); color: #333;
  border-top: 1px solid #bbb; background: #fafafa; line-height: 1.25; }
.lsc-legend-entry { margin: 0 0 .9em 0; }
.lsc-legend-title { font-weight: 700; margin-bottom: .25em; }
.lsc-legend-item { display: flex; align-items: center; gap: .5em; line-height: 1.25; margin: 2px 0; }
.lsc-legend-item svg { flex: none; }
.lsc-legend-meta { color: #222; font-size: .8em; margin-top: .2em; }
.lsc-notes { font-size: .78em; color: #333; border-top: 1px solid #ccc; padding-top: .5em;
  overflow-wrap: anywhere; }
.leaflet-control-scale-line { font-size: calc(var(--fs) * .7); border-width: 2px; }
"""

# The attribution is never cut: the footer wraps and the map and legend end above it;
# the page's script (footer height, LSC_ready, LSC_fitLegend for the PNG snapshot).
PAGE_JS_FILE = "js/standalone_page.js"



def _upstream_render(cls):
    """The first render() in the MRO not defined in layers/ or render/ (folium/branca's own)."""
    for k in cls.__mro__:
        r = k.__dict__.get("render")
        if r is not None and not getattr(r, "__module__", "").startswith(("layers", "render")):
            return r
    return None


def _full_render(m) -> str:
    """A complete HTML page of folium map `m`. The app's map classes skip folium's page
    rendering (st_folium only needs each element's script); a standalone page needs all of
    it, so for this render each element uses folium/branca's own render()."""
    import types
    stack = [m]
    while stack:
        el = stack.pop()
        r = getattr(type(el), "render", None)
        if r is not None and getattr(r, "__module__", "").startswith(("layers", "render")):
            up = _upstream_render(type(el))
            if up is not None:
                el.render = types.MethodType(up, el)      # instance only; classes untouched
        stack.extend(getattr(el, "_children", {}).values())
    return m.get_root().render()


def page_html(m, *, name: str, data: str, area: str, legend: str, notes: list[str], sources: list[str],
              query: str, attribution: str, waits: list | None = None, extra_css: str = "") -> str:
    """One self-contained HTML page of folium map `m` (base map plus the view's groups):
    every local asset inlined, the static files it fetches pre-seeded, and the page's
    chrome: title bar (`name`, `data`, `area`, today), `legend` (HTML), `notes`, sources,
    the view's `query` string and the attribution footer. `waits` are [attribute, value
    prefix] pairs the snapshot waits for (render.png.READY_JS)."""
    html = _full_render(m)
    seed = _seed_fetches(html)
    html = inline_assets(html)
    html = html.replace("<head>", "<head>" + seed, 1) if "<head>" in html else seed + html
    today = _dt.date.today().strftime("%d %B %Y").lstrip("0")
    chrome = (
        f'<div id="lsc-title"><span class="t">{esc(name)}</span>'
        f'<span class="m">Data: {esc(data)}</span>'
        f'<span class="m">Area: {esc(area)}</span>'
        f'<span class="m">{esc(today)}</span></div>'
        f'<div id="lsc-north">{NORTH_SVG}</div>'
        f'<div id="lsc-legend-panel">{legend}'
        + (f'<div class="lsc-notes">{"".join(f"<p>{esc(n)}</p>" for n in notes)}</div>' if notes else "")
        + f'<div class="lsc-notes"><p><b>Sources:</b> {esc("; ".join(sources))}</p>'
        f'<p>Made {esc(today)} with the LSC deprivation map. View: {esc(query)}</p></div></div>'
        f'<div id="lsc-foot">{esc(attribution)}</div>'
    )
    html = re.sub(r"(<body[^>]*>)", lambda mm: mm.group(1) + chrome, html, count=1)
    if waits:           # read by render.png.READY_JS: [attribute, value prefix] pairs
        html = html.replace("<head>", "<head><script>window.LSC_WAIT=" + js_json(waits) + ";</script>", 1)
    html = html.replace("</head>", f"<style>{PAGE_CSS}{extra_css}</style><script>{_js_safe(_static_js(PAGE_JS_FILE))}</script>"
                                   f"<title>{esc(name)}</title></head>", 1)
    return html


# ------------------------------------------------------------------ ward profile
PROFILE_CSS = """
@page { size: A4; margin: 11mm; }
html, body { margin: 0; font-family: system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif;
  color: #111; font-size: 13px; background: #fff; }
.page { padding: 18px 24px; }
h1 { font-size: 26px; margin: 0 0 4px 0; }
.sub { color: #333; font-size: 14px; margin-bottom: 8px; }
.prio { display: inline-block; background: #fce4f1; border: 1px solid #c51b7d; border-radius: 4px; padding: 2px 8px; margin: 4px 0 10px 0; }
h2 { font-size: 16px; margin: 14px 0 6px 0; border-bottom: 1px solid #bbb; padding-bottom: 2px; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 3px 6px; border-bottom: 1px solid #e3e3e3; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
.bar { display: flex; align-items: center; gap: 8px; margin: 2px 0; }
.bar .d { width: 22px; text-align: right; }
.bar .b { height: 14px; }
.foot { margin-top: 14px; font-size: 10.5px; color: #444; border-top: 1px solid #bbb; padding-top: 6px; }
"""


def _fmt(v, dp=0) -> str:
    if v is None:
        return "n/a"
    try:
        f = float(v)
    except (TypeError, ValueError):
        return "n/a"
    if f != f:
        return "n/a"
    return f"{f:,.{dp}f}"


def ward_profile_html(p: dict, palette: list[str] | None = None, max_lsoas: int = 18) -> str:
    pal = list(palette or ["#081d58", "#22318d", "#2355a4", "#1f80b8", "#31a6c2",
                           "#5dc0c0", "#97d6b9", "#cfecb3", "#eff9b5", "#ffffd9"])
    names = {"icb": "on the ICB's priority list", "exemplar": "an exemplar ward",
             "candidate": "a derived candidate (deprivation rule)"}
    total = max(sum(d["population"] for d in p["deciles"]), 1.0)
    bars = "".join(
        f'<div class="bar"><span class="d">{d["decile"]}</span>'
        f'<span class="b" style="width:{0 if not d["n"] else max(2, int(300 * d["population"] / total))}px;'
        f'background:{esc(pal[d["decile"] - 1])}"></span>'
        f'<span>{d["n"]} LSOA{"s" if d["n"] != 1 else ""} &middot; {_fmt(d["population"])} people</span></div>'
        for d in p["deciles"])
    comp = "".join(f'<tr><td>{esc(r["area"])}</td><td class="n">{_fmt(r["population"])}</td>'
                   f'<td class="n">{_fmt(r["imd_score"], 1)}</td><td class="n">{_fmt(r["pct_core20"], 1)}</td>'
                   f'<td class="n">{_fmt(r["pct_decile1"], 1)}</td></tr>' for r in p["comparison"])
    ls = p["lsoas"]
    lrows = "".join(f'<tr><td>{esc(r["code"])}</td><td>{esc(r["name"])}</td><td class="n">{esc(r["imd_decile"])}</td>'
                    f'<td class="n">{_fmt(r["imd_score"], 1)}</td><td class="n">{_fmt(r["population"])}</td></tr>'
                    for r in ls[:max_lsoas])
    more = f'<p>… and {len(ls) - max_lsoas} more LSOAs (see the LSOA table export).</p>' if len(ls) > max_lsoas else ""
    prio = ("<div class='prio'><b>Priority:</b> " + esc("; ".join(names.get(k, k) for k in p["priority"]))
            + "</div>") if p["priority"] else ""
    today = _dt.date.today().strftime("%d %B %Y").lstrip("0")
    return (
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Ward profile: {esc(p['name'])}</title>"
        f"<style>{PROFILE_CSS}</style></head><body><div class='page' id='lsc-profile'>"
        f"<h1>{esc(p['name'])}</h1>"
        f"<div class='sub'>{esc(p['district'])} &middot; {esc(p['place5'])} (legacy five) &middot; "
        f"{esc(p['place4'])} (four) &middot; {esc(p['code'])} &middot; IoD{esc(p['vintage'])}</div>{prio}"
        f"<h2>Its {len(ls)} LSOAs by IMD national decile (1 = most deprived)</h2>{bars}"
        f"<h2>Against place, ICB and England</h2><table><tr><th>Area</th><th class='n'>Population</th>"
        f"<th class='n'>IMD score</th><th class='n'>% Core20</th><th class='n'>% in decile 1</th></tr>{comp}</table>"
        f"<h2>LSOAs</h2><table><tr><th>LSOA</th><th>Name</th><th class='n'>IMD decile</th><th class='n'>IMD score</th>"
        f"<th class='n'>Population</th></tr>{lrows}</table>{more}"
        f"<div class='foot'>Source: English Indices of Deprivation {esc(p['vintage'])} (MHCLG); May 2024 wards "
        f"(ONS); LSOAs assigned to wards by postcode best fit (approximate). Population: "
        f"{esc(p['population_basis'])}. Store built {esc(p['built_at'])}. Produced {esc(today)}.<br>"
        f"{esc(p['attribution'])}</div></div></body></html>")
