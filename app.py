"""LSC deprivation & priority-ward map. Thin: layout and wiring only (see layers/)."""
import time

_T0, _T0_CPU = time.perf_counter(), time.thread_time()

import streamlit as st  # noqa: E402

st.set_page_config(page_title="LSC deprivation and priority wards", page_icon=None, layout="wide",
                   initial_sidebar_state="expanded")

from layers import base, panels, parts, share, view  # noqa: E402

base.new_run()      # values memoised per run (layers.base.per_run) start afresh
from layers.base import MapContext  # noqa: E402
from render.map import vendor_missing  # noqa: E402

st.markdown(panels.CSS, unsafe_allow_html=True)
store, fp = view.get_store()
if store is None:
    st.title("LSC deprivation and priority wards")
    st.error(f"The map cannot start: {fp}")
    st.markdown("Build the data store, then reload this page:\n\n"
                "```\nmake store        # or: .venv/bin/python -m geo build\n```\n\n"
                "It reads the open data from `../shared/data` (or the folder in `LSC_DATA_DIR`).")
    st.stop()
missing = vendor_missing()
if missing:
    st.title("LSC deprivation and priority wards")
    st.error("The map's local browser assets are not installed: " + ", ".join(missing))
    st.markdown("Install them (from the npm registry, served locally), then reload:\n\n"
                "```\nmake vendor       # or: bash scripts/vendor_assets.sh\n```")
    st.stop()

view.init_state()
base_store, base_fp = store, fp
with view.timed("footprint"):
    view.seed_icb_from_url(base_store, base_fp)          # the link's icb= picks the footprint
    store, fp = view.footprint_store(base_store, base_fp)   # the chosen ICB's view of the store
with view.timed("url_state"):
    share.read_url_state(store, fp)      # the link's view (once per session), before any widget
ctx = MapContext(store=store, fingerprint=fp, config=view.layers_config(),
                 static=view.static_files(store, fp), interactive=True)
layers = share.attach(ctx, view.load_layers(ctx.messages))   # + share/present/export controls

first_paint = view.first_paint_phase()   # map first; controls and tables once it painted
if not first_paint:
    view.restore_first_paint_widgets()
with st.sidebar:
    st.markdown("## Deprivation map" if not getattr(store, "is_lsc", True) else "## LSC deprivation map")
    if first_paint:
        st.caption("Loading the controls…")
        view.full_page_fallback()
    with view.values_only(first_paint):      # first paint: widget values, nothing drawn
        with view.timed("area_and_search"):
            parts.area_sidebar(ctx, layers, base_store, base_fp)
        for layer in layers:
            st.divider()
            with view.timed(f"{layer.key}.sidebar"):
                parts.layer_sidebar(layer, ctx, layers)
ctx.selected_ward = st.session_state.get("selected_ward")
share.title_bar(ctx, layers)         # presentation mode: CSS + title bar

# the map, profile, legend and tables are parts that a click can rerun alone (layers/parts.py)
col_map, col_side = st.columns([3, 2], gap="medium")
with col_map:
    parts.map_part(ctx, layers, int(ctx.config.get("map", {}).get("height", 640)))
    st.caption(panels.ATTRIBUTION)
    if not first_paint:          # Core20, vintages, provenance (lazy: nothing runs until opened)
        from layers import about
        about.about_section(store)
with col_side:
    parts.profile_part(ctx, layers, first_paint)
    parts.legend_part(ctx, layers)

if not first_paint:
    parts.tables_part(ctx, layers)     # the ward table and the layers' panels (access gaps...)
    panels.prewarm_profile(ctx)        # a first ward profile's tables, built on a worker thread
with view.timed("write_url_state"):
    share.write_url_state(ctx, layers)   # the URL mirrors the view
view.log_timing(_T0, _T0_CPU)
