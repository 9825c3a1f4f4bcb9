"""`python -m geo snapshot` — a PNG of a view, rendered server-side in headless Chromium.

    python -m geo snapshot --url-state "measure=income&area=place5:Fylde+Coast" --out view.png
    python -m geo snapshot --url-state "$(cat link.txt)" --width 1920 --height 1080 --out view.png

How: the view is drawn as the standalone offline HTML map (layers/export_html.py: the
app's own layers, legend, title bar with vintage and date, north arrow, scale bar,
sources and attribution, every asset inlined), opened from disk in Debian's Chromium
with all networking refused, and screenshotted once the map runtime reports the round
applied. Why not start `streamlit run` and screenshot the app: no port, no server start
(~10 s), nothing to clean up on a scheduler, it cannot be affected by another session's
widgets, and the PNG is exactly the HTML export people can also open themselves.

`render_html(html, out, fmt, width, height)` is reused by the app and by
`python -m geo export --format pdf|png` (ward profile). The output is written to a temp
file and renamed into place. Exit status: 0 written, 2 bad arguments, 1 render failed.
"""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from geo.atomic import atomic_path
from geo.errors import GeoError, UsageError

CHROMIUM = os.environ.get("LSC_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-default-apps",
                 "--disable-extensions", "--metrics-recording-only"]
SIZE_RANGE = (320, 4096)
READY_JS = """() => document.readyState === 'complete' && (
  !document.querySelector('.folium-map') || document.body.hasAttribute('data-lsc-error')
  || (document.body.hasAttribute('data-lsc-applied')
      && (window.LSC_WAIT || []).every(function (w) {
           var v = document.body.getAttribute(w[0]); return v !== null && v.indexOf(w[1]) === 0; })))"""


SNAPSHOT_CSS = ".leaflet-control-zoom { display: none !important; }"


class RenderError(GeoError):
    """Chromium could not render the page."""


def _check_size(width: int, height: int) -> None:
    for name, v in (("width", width), ("height", height)):
        if not SIZE_RANGE[0] <= int(v) <= SIZE_RANGE[1]:
            raise UsageError(f"--{name} {v} out of range; valid: {SIZE_RANGE[0]}-{SIZE_RANGE[1]} pixels")


def render_html(html: str, out, fmt: str = "png", width: int = 1920, height: int = 1080,
                timeout_ms: int = 60_000) -> Path:
    """Render `html` (a complete page) to PNG (viewport width x height) or one-page A4 PDF."""
    from playwright.sync_api import sync_playwright
    _check_size(width, height)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="lsc-snap-") as d:
        page_path = Path(d) / "page.html"
        page_path.write_text(html, encoding="utf-8")
        with atomic_path(out) as tmp, sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            try:
                ctx = browser.new_context(viewport={"width": int(width), "height": int(height)},
                                          device_scale_factor=1, offline=True)
                page = ctx.new_page()
                # nothing may leave the machine: only the file itself and data: URIs
                page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(("file:", "data:"))
                           else r.abort())
                page.goto(page_path.as_uri(), wait_until="load", timeout=timeout_ms)
                page.wait_for_function(READY_JS, timeout=timeout_ms)
                err = page.evaluate("() => document.body.getAttribute('data-lsc-error')")
                if err:
                    raise RenderError(f"the map could not be drawn: {err}")
                if fmt != "pdf":    # a picture has nothing to click: no zoom buttons
                    page.add_style_tag(content=SNAPSHOT_CSS)
                # the whole legend and attribution in the picture (layers/export_html.py FIT_JS)
                page.evaluate("() => window.LSC_fitLegend ? window.LSC_fitLegend() : true")
                page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
                if fmt == "pdf":
                    page.emulate_media(media="print")
                    page.pdf(path=tmp, format="A4", print_background=True,
                             margin={"top": "0", "bottom": "0", "left": "0", "right": "0"})
                else:
                    page.screenshot(path=tmp, type="png", full_page=False)
            finally:
                browser.close()
    return out


def quiet_streamlit() -> None:
    """The layers use st.cache_* (fine outside `streamlit run`): keep its bare-mode warnings off stderr."""
    import logging
    os.environ.setdefault("STREAMLIT_LOGGER_LEVEL", "error")
    for name in ("streamlit", "streamlit.runtime.caching.cache_data_api",
                 "streamlit.runtime.scriptrunner_utils.script_run_context",
                 "streamlit.runtime.state.session_state_proxy"):
        logging.getLogger(name).setLevel(logging.ERROR)


def add_arguments(p):
    p.add_argument("--url-state", default="", metavar="QUERY",
                   help="the app's URL query string (or the whole link from 'Copy link')")
    p.add_argument("--out", required=True, metavar="FILE.png")
    p.add_argument("--width", type=int, default=1920)
    p.add_argument("--height", type=int, default=1080)
    p.add_argument("--html-out", metavar="FILE.html", help="also keep the standalone HTML page that was rendered")
    p.add_argument("--store", metavar="DIR", help="store folder (default data/store)")
    p.add_argument("--strict", action="store_true", help="fail (exit 2) if --url-state has anything unusable")


def run(args) -> int:
    from geo.store import load_store
    from geo.viewstate import known_from_store, parse_query_string
    _check_size(args.width, args.height)
    if not str(args.out).lower().endswith(".png"):
        raise UsageError("--out must be a .png file")
    store = load_store(args.store)
    from geo.footprint import for_link
    store = for_link(store, args.url_state)   # the link's icb= (LSC by default)
    state, notices = parse_query_string(args.url_state, known_from_store(store))
    for n in notices:
        if args.strict:
            raise UsageError(f"--url-state: {n}")
        print(f"note: {n}", file=sys.stderr)
    quiet_streamlit()
    from layers.export_html import standalone_html           # folium lives in layers/
    notes: list[str] = []
    html = standalone_html(store, state, notes=notes)
    for n in notes:
        print(f"note: {n}", file=sys.stderr)
    render_html(html, args.out, "png", args.width, args.height)
    if args.html_out:
        from geo.export import write_atomic
        write_atomic(args.html_out, html.encode("utf-8"))
    print(f"wrote {args.out} ({args.width}x{args.height})", file=sys.stderr)
    return 0
