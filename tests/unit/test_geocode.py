"""Postcode geocoding and coordinate transforms on the real Code-Point Open file."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pyproj import Geod

from geo.geocode import (bng_to_lonlat, haversine_km, lonlat_to_bng, normalise_postcode, postcode_lookup,
                         POSTCODE_FILE)


@pytest.mark.parametrize("raw,expected", [
    ("bb2 3hh", "BB2 3HH"), ("BB23HH", "BB2 3HH"), ("  fy3   8nr ", "FY3 8NR"), ("LA9 7RG", "LA9 7RG"),
    ("PR25 2DL", "PR25 2DL"), ("L39 2AZ", "L39 2AZ"), ("W1A 1AA", "W1A 1AA"),
    ("", None), ("hello", None), ("12345", None), (None, None), (float("nan"), None), ("BB2 3H", None),
])
def test_normalise_postcode(raw, expected):
    assert normalise_postcode(raw) == expected


def test_hospital_postcodes_geocode_near_their_published_coordinates(real_source):
    """The NHS website publishes each hospital's own lat/long: geocoding its postcode
    with Code-Point Open must land close to it (postcode units are small)."""
    h = pd.read_csv(real_source / "services/hospitals_nhs_website_2023_lsc.csv", dtype={"Postcode": str})
    lk = postcode_lookup(real_source / POSTCODE_FILE)
    g = lk.lookup(h["Postcode"])
    found = g["found"].to_numpy()
    assert found.sum() >= 0.8 * len(h)          # most hospital postcodes are live LSC postcodes
    d = haversine_km(h["Latitude"][found], h["Longitude"][found], g["lat"][found], g["lon"][found])
    assert np.all(d < 1.0), h.loc[found, "OrganisationName"][d >= 1.0].tolist()
    # Royal Blackburn by name: postcode BB2 3HH is the hospital's own postcode
    rb = h[h["OrganisationCode"] == "RXR20"].iloc[0]
    one = lk.one("bb2 3hh")
    assert one is not None and haversine_km(rb["Latitude"], rb["Longitude"], one["lat"], one["lon"]) < 0.5


def test_every_active_gp_postcode_geocodes_and_lies_in_its_lsoa(real_source):
    gp = pd.read_csv(real_source / "services/gp_practices_epraccur_2025_lsc.csv", dtype=str)
    gp = gp[gp["is_active_gp_practice"] == "True"]
    lk = postcode_lookup(real_source / POSTCODE_FILE)
    g = lk.lookup(gp["postcode"])
    # practices outside the 16 districts (Millom, Bentham) are not in the footprint file
    in16 = gp["lad19cd"].notna().to_numpy() & g["found"].to_numpy()
    assert in16.sum() >= len(gp) - 5
    e = gp["easting"].astype(float).to_numpy()
    assert np.allclose(g["easting"].to_numpy()[in16], e[in16], atol=1)
    same_lsoa = (g["lsoa11cd"].to_numpy()[in16] == gp["lsoa11cd"].to_numpy()[in16])
    assert same_lsoa.mean() > 0.95


def test_unknown_and_malformed_postcodes_are_not_found(real_source):
    lk = postcode_lookup(real_source / POSTCODE_FILE)
    r = lk.lookup(["SW1A 1AA", "ZZ99 9ZZ", "not a postcode", ""])
    assert not r["found"].any()
    assert r["postcode"].tolist()[:2] == ["SW1A 1AA", "ZZ99 9ZZ"]
    assert "BB2 3HH" in lk and "SW1A 1AA" not in lk


def test_bng_wgs84_transforms_match_codepoint_for_all_postcodes(real_source):
    pc = pd.read_csv(real_source / POSTCODE_FILE, usecols=["latitude", "longitude", "easting", "northing"])
    lon, lat = bng_to_lonlat(pc["easting"], pc["northing"])
    err_km = haversine_km(pc["latitude"], pc["longitude"], lat, lon)
    assert err_km.max() < 0.002                  # < 2 m (file rounded to 6 dp)
    e, n = lonlat_to_bng(pc["longitude"], pc["latitude"])
    assert np.abs(e - pc["easting"]).max() < 2 and np.abs(n - pc["northing"]).max() < 2


def test_haversine_agrees_with_ellipsoidal_distance(real_source):
    pc = pd.read_csv(real_source / POSTCODE_FILE, usecols=["latitude", "longitude"]).sample(2000, random_state=1)
    a, b = pc.iloc[:1000].to_numpy(), pc.iloc[1000:].to_numpy()
    h = haversine_km(a[:, 0], a[:, 1], b[:, 0], b[:, 1])
    _, _, m = Geod(ellps="WGS84").inv(a[:, 1], a[:, 0], b[:, 1], b[:, 0])
    assert np.allclose(h, m / 1000, rtol=0.006)
