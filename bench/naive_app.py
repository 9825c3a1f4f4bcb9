"""NAIVE BASELINE for bench/bench_map.py — not the app.

The common way to put a choropleth in Streamlit: build a folium.Map with the LSOA
GeoJSON embedded (style per feature) on every rerun and hand it to st_folium. Same
store, same local Leaflet (so it can run offline), default SVG renderer.
"""
import json
import os
import time

_T0, _T0_CPU = time.perf_counter(), time.thread_time()

import folium  # noqa: E402
import streamlit as st  # noqa: E402
from streamlit_folium import st_folium  # noqa: E402

from geo.store import MEASURE_LABELS, MEASURES, load_store  # noqa: E402

st.set_page_config(page_title="naive baseline", layout="wide")
PALETTE = ["#081d58", "#22318d", "#2355a4", "#1f80b8", "#31a6c2",
           "#5dc0c0", "#97d6b9", "#cfecb3", "#eff9b5", "#ffffd9"]


@st.cache_resource
def lsoa():
    s = load_store()
    icb = os.environ.get("NAIVE_ICB")        # bench/bench_scale.py: another ICB / England, 2021 LSOAs
    if icb:
        from geo.footprint import footprint
        g = footprint(s, icb).lsoa25.rename(columns={"lsoa21nm": "lsoa11nm"})
    else:
        g = s.lsoa
    g = g[["lsoa11nm", "geometry"] + [f"{m}_decile" for m in MEASURES]]
    return json.loads(g.to_json())


class LocalMap(folium.Map):
    default_js = [("leaflet", "/app/static/vendor/leaflet/leaflet.js")]
    default_css = [("leaflet_css", "/app/static/vendor/leaflet/leaflet.css")]


with st.sidebar:
    measure = st.selectbox("Measure", MEASURES, format_func=MEASURE_LABELS.get, key="m")

gj = lsoa()
m = LocalMap(location=[54.0, -2.65] if not os.environ.get("NAIVE_ICB") else [53.0, -1.5],
             zoom_start=9 if not os.environ.get("NAIVE_ICB") else 7, tiles=None)
col = f"{measure}_decile"
folium.GeoJson(gj, style_function=lambda f: {
    "fillColor": PALETTE[int(f["properties"][col]) - 1], "color": "#ffffff", "weight": 0.3,
    "fillOpacity": 0.85}, tooltip=folium.GeoJsonTooltip(["lsoa11nm", col])).add_to(m)
st_folium(m, height=640, use_container_width=True)

path = os.environ.get("LSC_TIMING_LOG")
if path:
    with open(path, "a") as f:
        f.write(json.dumps({"script_ms": (time.perf_counter() - _T0) * 1000,
                            "script_cpu_ms": (time.thread_time() - _T0_CPU) * 1000, "t": time.time()}) + "\n")
