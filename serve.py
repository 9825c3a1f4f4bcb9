"""Server entry point: `streamlit run serve.py` serves app.py (the page itself).

st.App (Streamlit's ASGI app) runs app.py exactly as `streamlit run app.py` would; this
file only tunes how it is served (see layers/serving.py: TCP_NODELAY, without which
every kept-alive request waited ~40 ms for a delayed ACK). $LSC_APP_SCRIPT serves
another script the same way (the benchmarks use it for their baseline and variants).
"""
import os

from layers.serving import enable_tcp_nodelay

enable_tcp_nodelay()

import streamlit as st  # noqa: E402

app = st.App(os.environ.get("LSC_APP_SCRIPT") or "app.py")
