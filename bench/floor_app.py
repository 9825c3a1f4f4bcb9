"""FLOOR PAGE for bench/bench_clicks.py, not the app: the cheapest Streamlit rerun there is
(one selectbox), served by the same Streamlit the same way, so the app's clicks can be
reported as multiples of it. Like the app, it appends a line to $LSC_TIMING_LOG at the end
of each run (the benchmark's "a run has ended" signal, for both pages alike)."""
import json
import os
import time

import streamlit as st

st.selectbox("Floor", ["one", "two", "three"], key="floor")
if os.environ.get("LSC_TIMING_LOG"):
    with open(os.environ["LSC_TIMING_LOG"], "a", encoding="utf-8") as f:
        f.write(json.dumps({"scope": "floor", "t": time.time()}) + "\n")
