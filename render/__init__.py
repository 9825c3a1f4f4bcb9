"""Rendering: pages and pictures of a view, below the app and above geo/.

render.png: an HTML page to PNG/PDF in headless Chromium (offline). The map parts (the
folium base map, per-layer groups, static geometry files and the standalone HTML page)
still live in layers/ (map.py, static_files.py, export_html.py) and move here next.
Never imports Streamlit or layers/ (tests/test_boundaries.py).
"""
