"""Server entry point: `streamlit run serve.py` serves app.py (the page itself).

st.App (Streamlit's ASGI app) runs app.py exactly as `streamlit run app.py` would; this
file only tunes how it is served (see layers/serving.py: TCP_NODELAY, without which
every kept-alive request waited ~40 ms for a delayed ACK; links too long for the HTTP
parser or for Streamlit are trimmed to their valid part; large generated static files go
out as their precompressed .gz, not gzipped again per request). $LSC_APP_SCRIPT serves
another script the same way (the benchmarks use it for their baseline and variants).
"""
import os

from layers.serving import LinkLimits, PrecompressedStatic, allow_long_request_lines, enable_tcp_nodelay

enable_tcp_nodelay()
allow_long_request_lines()      # a 100 KB link reaches LinkLimits instead of a bare HTTP 400

import streamlit as st  # noqa: E402
from starlette.middleware import Middleware  # noqa: E402

app = st.App(os.environ.get("LSC_APP_SCRIPT") or "app.py",
             middleware=[Middleware(LinkLimits), Middleware(PrecompressedStatic)])
