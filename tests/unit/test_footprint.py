"""Footprint pieces without the app: the icb= field of view links, the fast TopoJSON
writer (decoded back to the input polygons), the static geometry file per footprint."""
from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.geometry import MultiPolygon, Polygon

from geo import footprint as F
from geo import viewstate as VS
from render.static_files import LSOA_OBJECT, SPLIT_OBJECTS, fast_topology, geometry_bytes, split_bytes

KNOWN = VS.Known(icbs={"E54000048": "NHS Lancashire and South Cumbria ICB",
                       "E54000059": "NHS Northamptonshire ICB",
                       "E54000050": "NHS North East and North Cumbria ICB",
                       "E92000001": "England"})


def test_icb_param_round_trips_and_lsc_is_the_default():
    s, notes = VS.from_query({"icb": "e54000059"}, KNOWN)
    assert s.icb == "E54000059" and not notes
    assert VS.to_query(s)["icb"] == "E54000059"
    assert VS.from_query(VS.to_query(s), KNOWN)[0].icb == "E54000059"
    lsc, notes = VS.from_query({"icb": "E54000048"}, KNOWN)
    assert lsc.icb is None and not notes and "icb" not in VS.to_query(lsc)
    assert VS.from_query({"icb": "E92000001"}, KNOWN)[0].icb == "E92000001"
    assert VS.DEFAULT.get("vintage") == 2025          # IoD2025 is the default edition


@pytest.mark.parametrize("raw", ["E54000999", "Northamptonshir", "<script>x</script>", "E5400005"])
def test_unknown_icb_names_closest_and_falls_back(raw):
    s, notes = VS.from_query({"icb": raw}, KNOWN)
    assert s.icb is None and len(notes) == 1 and notes[0].param == "icb"
    assert "<script>" not in notes[0].message and "Lancashire and South Cumbria" in notes[0].message
    if raw.startswith("North"):
        assert "closest: E54000059" in notes[0].message


def _decode(topo: dict, obj: str) -> list:
    """TopoJSON object -> shapely geometries (no shared arcs, as fast_topology writes)."""
    kx, ky = topo["transform"]["scale"]
    x0, y0 = topo["transform"]["translate"]

    def ring(i):
        a = np.cumsum(np.array(topo["arcs"][i], dtype=float), axis=0)
        return a * [kx, ky] + [x0, y0]

    def poly(rings):
        rs = [ring(r[0]) for r in rings]
        return Polygon(rs[0], rs[1:])
    out = []
    for g in topo["objects"][obj]["geometries"]:
        if g["type"] is None:
            out.append(None)
        elif g["type"] == "Polygon":
            out.append(poly(g["arcs"]))
        else:
            out.append(MultiPolygon([poly(p) for p in g["arcs"]]))
    return out


def test_fast_topology_decodes_to_the_input_polygons():
    hole = Polygon([(0, 0), (4, 0), (4, 4), (0, 4)], [[(1, 1), (2, 1), (2, 2), (1, 2)]])
    multi = MultiPolygon([Polygon([(5, 0), (6, 0), (6, 1), (5, 1)]), Polygon([(7, 0), (8, 0), (8, 2)])])
    geoms = gpd.GeoSeries([hole, None, multi], crs=4326)
    topo = fast_topology({"a": geoms, "b": geoms.iloc[:1]}, aliases={"c": "a"})
    back = _decode(topo, "a")
    assert back[1] is None
    for g, b in zip([hole, multi], [back[0], back[2]]):
        assert b.geom_type == g.geom_type
        assert abs(b.area - g.area) < 1e-3 and b.symmetric_difference(g).area < 1e-3   # 8 units / 1e5 grid
    assert topo["objects"]["c"] == topo["objects"]["a"]
    assert len(_decode(topo, "b")) == 1


def test_geometry_files_hold_both_vintages_for_a_footprint(store):
    v = F.footprint(store, "E54000059")
    assert LSOA_OBJECT == {2019: "lsoa", 2025: "lsoa21"} and SPLIT_OBJECTS == {"lsoa": "geo11"}
    # the 2011 LSOAs are a file of their own, named in the main file (fetched when drawn)
    split = {"lsoa": "/app/static/gen/geo11.0123456789abcdef.json"}
    d = json.loads(geometry_bytes(v, split))
    assert "lsoa" not in d["objects"] and "lsoa" not in d["lsc"] and d["lsc"]["split"] == split
    d11 = json.loads(split_bytes(v, "lsoa"))
    assert list(d11["objects"]) == ["lsoa"]
    assert len(d11["objects"]["lsoa"]["geometries"]) == len(v.lsoa)
    assert d11["lsc"]["lsoa"] == v.lsoa["lsoa11cd"].tolist()
    # without a split, one file holds both (as before)
    assert len(json.loads(geometry_bytes(v))["objects"]["lsoa"]["geometries"]) == len(v.lsoa)
    assert len(d["objects"]["lsoa21"]["geometries"]) == len(v.lsoa25) == 443
    assert d["lsc"]["lsoa21"] == v.lsoa25["lsoa21cd"].tolist()
    assert d["lsc"]["prio19"] == v.priority19["wd19cd"].tolist()
    assert d["lsc"]["footprint"] == "E54000059"
    # England-size input goes through the fast writer; decoded shapes match their LSOA
    lsoa = v.lsoa25.geometry.reset_index(drop=True)
    topo = fast_topology({"lsoa21": lsoa})
    back = _decode(topo, "lsoa21")
    err = [shapely.symmetric_difference(a, b).area / a.area for a, b in zip(lsoa, back)]
    assert max(err) < 0.02          # 1e5 quantization over Northamptonshire: ~1 m


def test_a_link_can_show_england_whole():
    """England (33,755 LSOAs) fits a 1500x1000 map at zoom 6: a link at zoom 6 keeps it
    (the zoom clamp was 7, so England could never be seen whole from a link)."""
    s, notes = VS.from_query({"icb": "E92000001", "lat": "52.8", "lon": "-1.6", "z": "6"}, KNOWN)
    assert s.icb == "E92000001" and s.z == 6.0 and notes == []
    again, _ = VS.from_query(VS.to_query(s), KNOWN)
    assert again.z == 6.0
