"""`python -m geo snapshot` (cli/snapshot.py) — a PNG of a view, rendered server-side in headless Chromium.

    python -m geo snapshot --url-state "measure=income&area=place5:Fylde+Coast" --out view.png
    python -m geo snapshot --url-state "$(cat link.txt)" --width 1920 --height 1080 --out view.png

How: the view is drawn as the standalone offline HTML map (layers/export_html.py and render/export_html.py: the
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

from geo.errors import UsageError
from render.png import _check_size, render_html

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
