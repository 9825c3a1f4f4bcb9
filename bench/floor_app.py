"""FLOOR PAGE for bench/bench_clicks.py, not the app: the cheapest Streamlit rerun there is
(one selectbox), served by the same Streamlit the same way, so the app's clicks can be
reported as multiples of it."""
import streamlit as st

st.selectbox("Floor", ["one", "two", "three"], key="floor")
