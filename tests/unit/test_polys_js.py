"""The canvas polygon layer's pure parts (static/js/lsc_polys.js), run in Node: decoding a
TopoJSON object into flat Web Mercator arrays (delta-encoded, quantized, shared and
reversed arcs, holes, multipolygons, an empty geometry) and finding the area under a
point (the ward hover). Node is on every machine that ran `make setup` (npm installs the
map's libraries)."""
from __future__ import annotations

import json
import math
import shutil
import subprocess

from render.static_files import STATIC_DIR

# a 3x1 strip of unit squares (0..3 x 0..1 degrees) sharing arcs, the middle one with a hole;
# a multipolygon of two far squares; an empty geometry
TOPO = {
    "type": "Topology",
    "transform": {"scale": [0.5, 0.5], "translate": [0, 50]},   # integer grid of half degrees
    "arcs": [
        [[0, 0], [0, 2]],              # 0: x=0 edge up (delta encoded: (0,0) -> (0,2))
        [[0, 2], [2, 0]],              # 1: top of square A (0,2)->(2,2)
        [[2, 2], [0, -2]],             # 2: shared A|B edge down (2,2)->(2,0)
        [[2, 0], [-2, 0]],             # 3: bottom of A (2,0)->(0,0)
        [[2, 2], [2, 0], [0, -2], [-2, 0]],   # 4: B's outer ring minus the shared edge: (2,2)->(4,2)->(4,0)->(2,0)
        [[5, 1], [0, 0]],              # 5: degenerate
        [[3, 1], [0, 0]],              # 6: unused
        [[10, 10], [2, 0], [0, 2], [-2, 0], [0, -2]],   # 7: far square 1
        [[20, 10], [2, 0], [0, 2], [-2, 0], [0, -2]],   # 8: far square 2
        [[2.5, 0.5], [1, 0], [0, 1], [-1, 0], [0, -1]],  # 9: hole in B (not integer, still fine)
    ],
    "objects": {"t": {"type": "GeometryCollection", "geometries": [
        {"type": "Polygon", "arcs": [[0, 1, 2, 3]]},
        {"type": "Polygon", "arcs": [[4, ~2], [9]]},
        {"type": "MultiPolygon", "arcs": [[[7]], [[8]]]},
        {"type": None},
    ]}},
}

SCRIPT = """
const fs = require('fs');
global.window = {LSC: {}};
eval(fs.readFileSync(process.argv[1], 'utf8'));
const LSC = window.LSC, topo = JSON.parse(process.argv[2]);
const g = LSC.polyGeom(topo, 't');
const at = JSON.parse(process.argv[3]).map(([lat, lng]) => LSC.polyAt(g, lat, lng));
process.stdout.write(JSON.stringify({n: g.n, areaAt: Array.from(g.areaAt), ringAt: Array.from(g.ringAt),
  xy: Array.from(g.xy), bbox: Array.from(g.bbox), extent: g.extent, at: at, same: LSC.polyGeom(topo, 't') === g,
  missing: LSC.polyGeom(topo, 'nope')}));
"""


def _merc(lon, lat):
    s = math.sin(math.radians(lat))
    return (lon + 180) / 360, 0.5 - math.log((1 + s) / (1 - s)) / (4 * math.pi)


def _run(points):
    node = shutil.which("node")
    assert node, "node not found (make setup installs it with the map's libraries)"
    out = subprocess.run([node, "-e", SCRIPT, str(STATIC_DIR / "js" / "lsc_polys.js"), json.dumps(TOPO),
                          json.dumps(points)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_decodes_shared_reversed_arcs_holes_and_multipolygons():
    r = _run([])
    assert r["n"] == 4 and r["same"] is True and r["missing"] is None
    # rings: A (1), B outer + hole (2), the multipolygon's two squares (2), none for the empty
    assert r["areaAt"] == [0, 1, 3, 5, 5]
    pts = lambda k: [(r["xy"][2 * i], r["xy"][2 * i + 1]) for i in range(r["ringAt"][k], r["ringAt"][k + 1])]
    # A: arcs 0,1,2,3 joined, each shared end point once: (0,50) (0,51) (1,51) (1,50) (0,50)
    want = [_merc(x, y) for x, y in [(0, 50), (0, 51), (1, 51), (1, 50), (0, 50)]]
    assert all(math.isclose(a, b, abs_tol=1e-12) for p, q in zip(pts(0), want) for a, b in zip(p, q))
    assert len(pts(0)) == 5
    # B: arc 4 then arc 2 reversed: (1,51) (2,51) (2,50) (1,50) then (1,51)
    want = [_merc(x, y) for x, y in [(1, 51), (2, 51), (2, 50), (1, 50), (1, 51)]]
    assert all(math.isclose(a, b, abs_tol=1e-12) for p, q in zip(pts(1), want) for a, b in zip(p, q))
    # boxes: A spans lon 0..1, lat 50..51
    x0, y1 = _merc(0, 50)
    x1, y0 = _merc(1, 51)
    assert [round(v, 12) for v in r["bbox"][:4]] == [round(v, 12) for v in (x0, y0, x1, y1)]
    assert r["bbox"][12] is None or r["bbox"][12] > 1e300          # the empty geometry: no box (Infinity)


def test_finds_the_area_under_a_point_holes_excluded():
    r = _run([[50.5, 0.5], [50.5, 1.2], [50.5, 1.5], [55.5, 5.5], [55.5, 10.5], [50.5, 3.0], [40.0, 0.5]])
    # in A; in B; in B's hole (lon 1.25..1.75, lat 50.25..50.75): none; far squares; outside all
    assert r["at"] == [0, 1, -1, 2, 2, -1, -1]
