"""Export timings and sizes on the real store (prints numbers; never fails on a threshold).

    .venv/bin/python bench/bench_export.py

For the whole ICB and one place: ward/LSOA CSV and XLSX, GeoPackage, the standalone HTML
map (size and build time), and the Chromium PNG snapshot at 1280x720 and 1920x1080.
"""
from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _t(fn, *a, **k):
    t0 = time.perf_counter()
    out = fn(*a, **k)
    return out, (time.perf_counter() - t0) * 1000


def main() -> None:
    from geo import export as X
    from cli.snapshot import quiet_streamlit
    from render.png import render_html
    from geo.store import load_store
    from geo.viewstate import ViewState
    quiet_streamlit()
    from layers.export_html import standalone_html
    store = load_store()
    views = {"ICB": ViewState(), "Fylde Coast": ViewState(area_kind="place5", area_code="Fylde Coast")}
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        for name, st in views.items():
            for level in ("ward", "lsoa"):
                (rows, header), ms = _t(X.table_for_view, store, st, level)
                csv, ms_csv = _t(X.csv_bytes, rows, header)
                xlsx, ms_x = _t(X.xlsx_bytes, rows, header)
                print(f"{name:12s} {level:5s} rows={len(rows):5d} table {ms:7.0f} ms | csv {ms_csv:5.0f} ms "
                      f"{len(csv) / 1e3:7.1f} kB | xlsx {ms_x:6.0f} ms {len(xlsx) / 1e3:7.1f} kB")
            counts, ms = _t(X.write_gpkg, store, st, d / "v.gpkg")
            print(f"{name:12s} gpkg  {ms:7.0f} ms {(d / 'v.gpkg').stat().st_size / 1e6:5.2f} MB {counts}")
            html, ms = _t(standalone_html, store, st)
            print(f"{name:12s} html  {ms:7.0f} ms {len(html) / 1e6:5.2f} MB")
        for w, h in ((1280, 720), (1920, 1080)):
            _, ms = _t(render_html, html, d / "v.png", "png", w, h)
            print(f"snapshot {w}x{h}: {ms:6.0f} ms (Chromium start + paint + screenshot), "
                  f"{(d / 'v.png').stat().st_size / 1e3:6.0f} kB")


if __name__ == "__main__":
    main()
