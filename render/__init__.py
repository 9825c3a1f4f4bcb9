"""Rendering: pages and pictures of a view, below the app and above geo/.

render.map           the constant folium base map, local assets, part/commit groups
render.static_files  static files the browser fetches once (geometry TopoJSON, ward figures)
render.export_html   the standalone offline HTML page and the ward profile page
render.markers       service markers (SVG shapes), popups and the point files
render.png           an HTML page to PNG/PDF in headless Chromium (offline)
render.text          HTML escaping and JSON for map scripts

Never imports Streamlit, streamlit-folium or layers/ (tests/unit/test_boundaries.py): what
needs them (the st_folium component, the layers' own groups and legends) sits in layers/
(layers/map.py, layers/export_html.py) and calls down into render/.
"""
