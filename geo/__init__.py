"""Core of the LSC deprivation map: sources, store build, deprivation measures,
geocoding, access analysis, indicators. Pure Python: never imports streamlit or folium."""
