"""Command-line tools that render (they sit above geo/, render/ and layers/).

`python -m geo export` and `python -m geo snapshot` dispatch here (geo/__main__.py names
the modules; geo/ itself never imports them): the drawing formats need the app's own
layers (folium), which geo/ must not import.
"""
