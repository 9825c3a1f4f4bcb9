"""HTML page -> PNG or one-page A4 PDF in headless Debian Chromium, offline.

`render_html(html, out, fmt, width, height)` writes the page to a temp folder, opens it
from disk with every request refused except the file itself and data: URIs, waits for
the map runtime to report its round applied (READY_JS, and each `window.LSC_WAIT`
attribute the standalone page asks for), fits the legend, then screenshots (or prints)
into a temp file renamed into place. Used by `python -m geo snapshot`, by
`python -m geo export --format pdf|png` and by the app's own PNG/PDF buttons.

Rendering lives below the app and above geo/: this package never imports Streamlit or
layers/.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from geo.atomic import atomic_path
from geo.errors import GeoError, UsageError

CHROMIUM = os.environ.get("LSC_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-default-apps",
                 "--disable-extensions", "--metrics-recording-only"]
SIZE_RANGE = (320, 4096)
# the page says when it is drawn (static/js/standalone_page.js); a page without that
# helper (the ward profile) is ready once loaded
READY_JS = "() => document.readyState === 'complete' && (!window.LSC_ready || window.LSC_ready())"


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
                # the whole legend and attribution in the picture (static/js/standalone_page.js)
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
