"""Static files the browser fetches once: geometry (TopoJSON) and per-vintage ward figures.

Pure Python (geopandas + topojson; no streamlit/folium), so the build can call it:

    python -m render.static_files            # writes static/gen/*, prints the URLs

Files are named by a hash of their content (`geo.<hash>.json`), written atomically
(tmp file + os.replace) under static/gen/ (git-ignored), and served by Streamlit's
static serving at /app/static/gen/... A rebuilt store gives new names, so a browser
never mixes old geometry with new styling arrays. The order of features in the
TopoJSON objects is the order of the store tables (lsoa, wards24, districts, place5,
place4); styling arrays sent on reruns are aligned with it.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd

from geo.atomic import write_atomic
from geo.paths import ROOT

STATIC_DIR = ROOT / "static"
GEN_DIR = STATIC_DIR / "gen"
PRUNE_DAYS = 7.0
URL_PREFIX = "/app/static"
GENERATOR_VERSION = 5
QUANTIZE = 1e5          # ~1 m on the LSC extent; same as rounding to 5 dp


def _url(path: Path) -> str:
    return f"{URL_PREFIX}/{path.relative_to(STATIC_DIR).as_posix()}"


def url_path(url: str) -> Path:
    """The file behind a /app/static URL (the inverse of _url; any query string dropped)."""
    return STATIC_DIR / url.split("?", 1)[0][len(URL_PREFIX) + 1:]


def write_hashed(prefix: str, data: bytes, out_dir: Path = GEN_DIR, *, keep_days: float = PRUNE_DAYS,
                 ext: str = "json") -> Path:
    """Write `data` to out_dir/prefix.<sha>.<ext> atomically unless already there.

    A reused file is touched (its mtime means "last used"); writing a new one prunes
    files of the same prefix unused for `keep_days`, so per-day and per-upload files
    (services.*, svcup.*) and geometry from old stores do not pile up."""
    digest = hashlib.sha256(data).hexdigest()[:16]
    path = out_dir / f"{prefix}.{digest}.{ext}"
    if path.exists() and path.stat().st_size == len(data):
        os.utime(path)
        write_gzip(path, data)
        return path
    write_atomic(path, data)
    write_gzip(path, data)
    prune(prefix, out_dir, keep_days=keep_days, keep=path, ext=ext)
    return path


GZIP_MIN_BYTES = 32_000


def write_gzip(path: Path, data: bytes | None = None) -> Path | None:
    """`path`.gz beside a file of GZIP_MIN_BYTES or more (written atomically), which
    layers.serving.PrecompressedStatic sends as it is instead of gzipping the file on
    every request. Names are content hashes, so an existing .gz is kept (touched)."""
    gz = path.with_name(path.name + ".gz")
    try:
        if gz.stat().st_size:
            os.utime(gz)
            return gz
    except OSError:
        pass
    if data is None:
        try:
            data = path.read_bytes()
        except OSError:
            return None
    if len(data) < GZIP_MIN_BYTES:
        return None
    import gzip
    try:
        write_atomic(gz, gzip.compress(data, compresslevel=6, mtime=0))
    except OSError:            # optional: without it Streamlit gzips the file itself
        return None
    return gz


def prune(prefix: str, out_dir: Path = GEN_DIR, *, keep_days: float = PRUNE_DAYS, keep: Path | None = None,
          ext: str = "json") -> int:
    """Delete out_dir/prefix.<sha>.<ext> files not used for keep_days; returns how many."""
    cutoff = time.time() - keep_days * 86400
    n = 0
    for f in out_dir.glob(f"{prefix}.*.{ext}"):
        if f != keep and f.name.count(".") == 2:
            try:
                if f.stat().st_mtime < cutoff:
                    f.unlink()
                    f.with_name(f.name + ".gz").unlink(missing_ok=True)
                    n += 1
            except OSError:
                pass
    return n


def _r(x: float, nd: int = 5) -> float:
    return round(float(x), nd)


# LSOA objects of the geometry file per IoD vintage: the runtime shows the vintage's own
# polygons (IoD2019: 2011 LSOAs, store.lsoa order; IoD2025: 2021 LSOAs, store.lsoa25 order)
LSOA_OBJECT = {2019: "lsoa", 2025: "lsoa21"}
# above this many features the file is written by fast_topology (no shared-arc search:
# the topojson package needs ~1 s per 1,000 polygons here) after a coverage simplification
FAST_FEATURES = 6000
ENGLAND_SIMPLIFY_DEG = 0.0004     # ~30-40 m: coverage simplification keeps shared edges shared


def _objects(store) -> dict:
    """name -> GeoSeries of the geometry file's objects, in store-table order."""
    objs = {
        "lsoa": store.lsoa.geometry,
        "lsoa21": store.lsoa25.geometry,
        "wards": store.wards24.geometry,
        "districts": store.districts.geometry,
        "place5": store.place5.geometry,
        "place4": store.place4.geometry,
    }
    p19 = getattr(store, "priority19", None)
    if p19 is not None and len(p19):
        objs["prio19"] = p19.geometry
    return {k: v.reset_index(drop=True) for k, v in objs.items()}


def _aliases(store) -> dict:
    """Objects that are the same table as another (outside LSC place4 is place5)."""
    return {"place4": "place5"} if store.place4 is store.place5 else {}


def fast_topology(objects: dict, quantize: float = QUANTIZE, aliases: dict | None = None) -> dict:
    """A TopoJSON topology, quantized and delta-encoded, one arc per ring (no arc
    sharing), built with vectorised shapely calls: seconds for England's ~70,000
    polygons where the topojson package takes minutes. Simplify the polygons as a
    coverage first (shapely.coverage_simplify) so neighbours keep their common edges.
    `aliases` {name: other} writes object `name` as a copy of `other` (same arcs)."""
    import shapely
    vals = {k: np.asarray(g.values, dtype=object) for k, g in objects.items()}
    allg = np.concatenate(list(vals.values()))
    ok = ~(shapely.is_missing(allg) | shapely.is_empty(allg))
    x0, y0, x1, y1 = shapely.total_bounds(allg[ok])
    kx = float(x1 - x0) / (quantize - 1) or 1.0
    ky = float(y1 - y0) / (quantize - 1) or 1.0
    arcs: list = []
    out_objects = {}
    for name, geoms in vals.items():
        parts, part_of = shapely.get_parts(geoms, return_index=True)
        keep = shapely.get_type_id(parts) == 3             # polygons only
        parts, part_of = parts[keep], part_of[keep]
        rings, ring_of = shapely.get_rings(parts, return_index=True)
        xy, coord_of = shapely.get_coordinates(rings, return_index=True)
        q = np.column_stack([np.round((xy[:, 0] - x0) / kx), np.round((xy[:, 1] - y0) / ky)]).astype(np.int64)
        new_ring = np.ones(len(q), dtype=bool)
        new_ring[1:] = coord_of[1:] != coord_of[:-1]
        dup = np.zeros(len(q), dtype=bool)
        dup[1:] = ~new_ring[1:] & np.all(q[1:] == q[:-1], axis=1)
        q, coord_of, new_ring = q[~dup], coord_of[~dup], new_ring[~dup]
        d = q.copy()
        d[1:] -= q[:-1]
        d[new_ring] = q[new_ring]                          # each arc starts absolute
        starts = np.flatnonzero(new_ring)
        ring_ids = coord_of[starts]
        base = len(arcs)
        arcs.extend(a.tolist() for a in np.split(d, starts[1:]))
        arc_of_ring = {int(r): base + i for i, r in enumerate(ring_ids)}
        poly_rings: list = [[] for _ in range(len(parts))]
        for r, p in enumerate(ring_of):
            a = arc_of_ring.get(r)
            if a is not None:
                poly_rings[int(p)].append([a])
        geom_polys: list = [[] for _ in range(len(geoms))]
        for p, g in enumerate(part_of):
            if poly_rings[p]:
                geom_polys[int(g)].append(poly_rings[p])
        gs = []
        for polys in geom_polys:
            if not polys:
                gs.append({"type": None})
            elif len(polys) == 1:
                gs.append({"type": "Polygon", "arcs": polys[0]})
            else:
                gs.append({"type": "MultiPolygon", "arcs": polys})
        out_objects[name] = {"type": "GeometryCollection", "geometries": gs}
    for name, other in (aliases or {}).items():
        out_objects[name] = out_objects[other]
    return {"type": "Topology", "transform": {"scale": [kx, ky], "translate": [float(x0), float(y0)]},
            "objects": out_objects, "arcs": arcs}


def _topology(objects: dict, aliases: dict | None = None) -> dict:
    n = sum(len(g) for g in objects.values())
    if n > FAST_FEATURES:
        import shapely
        simp = {}
        for k, g in objects.items():
            if k in (aliases or {}):
                continue
            vals = g.values
            ok = np.array([x is not None and not x.is_empty for x in vals], dtype=bool)
            out = np.array(vals, dtype=object)
            if ok.any():
                out[ok] = shapely.coverage_simplify(np.asarray(vals[ok], dtype=object), ENGLAND_SIMPLIFY_DEG)
            simp[k] = type(g)(out, crs=getattr(g, "crs", None))
        return fast_topology(simp, aliases=aliases)
    import geopandas as gpd
    import topojson as tp
    names = list(objects)
    frames = [gpd.GeoDataFrame(geometry=objects[k], crs=4326) for k in names]
    d = tp.Topology(frames, object_name=names, prequantize=QUANTIZE, topology=True).to_dict()
    for obj in d["objects"].values():       # geometries carry no properties: index = row
        for g in obj.get("geometries", []):
            g.pop("properties", None)
            g.pop("id", None)
    return d


# Objects written to a file of their own, fetched by the map only when a view draws them:
# the 2011 LSOAs (IoD2019, the access layer, indicators on 2011 LSOAs). The default view
# (IoD2025 on 2021 LSOAs) then downloads and parses half the geometry: England's file
# was ~14 MB with both LSOA vintages in it.
SPLIT_OBJECTS = {"lsoa": "geo11"}      # object -> file prefix


def geometry_bytes(store, split: dict | None = None) -> bytes:
    """One TopoJSON with objects lsoa (2011), lsoa21 (2021), wards, districts, place5,
    place4 and, where the footprint has any, prio19 (the NHSE/I list's 2019 ward shapes),
    no properties, plus an `lsc` member with codes/names/label points aligned to them.

    `split` {object: url}: those objects are left out and `lsc.split` names the file that
    holds each (split_bytes); the map fetches it when a view needs the object."""
    objs = _objects(store)
    for k in split or {}:
        objs.pop(k, None)
    aliases = _aliases(store)
    d = _topology(objs, aliases)
    w = store.wards24.reset_index(drop=True)
    label_pts = w.geometry.representative_point()
    d["lsc"] = {
        "generator": GENERATOR_VERSION,
        "footprint": getattr(store, "code", None),
        "lsoa21": store.lsoa25["lsoa21cd"].tolist(),
        "wards": w["wd24cd"].tolist(),
        "ward_names": w["wd24nm"].tolist(),
        "ward_labels": [[_r(p.y), _r(p.x)] if p is not None and not p.is_empty else [0, 0] for p in label_pts],
        "districts": store.districts["lad19cd"].tolist(),
        "place5": store.place5["code"].tolist(),
        "place4": store.place4["code"].tolist(),
        "objects": {str(v): k for v, k in LSOA_OBJECT.items()},
    }
    if split:
        d["lsc"]["split"] = dict(split)
    else:
        d["lsc"]["lsoa"] = store.lsoa["lsoa11cd"].tolist()
    p19 = getattr(store, "priority19", None)
    if p19 is not None and len(p19):
        d["lsc"]["prio19"] = p19["wd19cd"].tolist()
    return json.dumps(d, separators=(",", ":"), allow_nan=False).encode()


def split_bytes(store, name: str) -> bytes:
    """The TopoJSON of one split object (SPLIT_OBJECTS), in store-table order, with its codes."""
    objs = _objects(store)
    d = _topology({name: objs[name]})
    codes = {"lsoa": ("lsoa", "lsoa11cd")}[name]
    d["lsc"] = {"generator": GENERATOR_VERSION, "footprint": getattr(store, "code", None),
                name: getattr(store, codes[0])[codes[1]].tolist()}
    return json.dumps(d, separators=(",", ":"), allow_nan=False).encode()


def _num(v, nd=1):
    if v is None:
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else round(f, nd)


WARD_STAT_FIELDS = ["name", "district", "place5", "place4", "population", "imd_score",
                    "pct_core20", "core20_population", "rank", "n"]


def short_place(name: str) -> str:
    """'NHS Northamptonshire ICB' -> 'Northamptonshire' (hover text)."""
    n = str(name)
    n = n[4:] if n.startswith("NHS ") else n
    return n[:-4] if n.endswith(" ICB") else n


def ward_stats_bytes(store, ward_table, vintage: int) -> bytes:
    """Figures shown on ward hover, aligned with store.wards24 order.

    `ward_table` is geo.report.build_table(store, "ward", vintage=...) (code, name,
    population, imd_score, pct_core20, core20_population, lad19nm, place5, place4...).
    `rank` is the rank within LSC by population-weighted IMD score (1 = most deprived).
    """
    w = pd.DataFrame(store.wards24.drop(columns="geometry")).reset_index(drop=True)
    t = ward_table.drop_duplicates("code").set_index("code")
    if "imd_rank_in_lsc" in t.columns:
        ranked = t["imd_rank_in_lsc"].astype("float64")
    else:
        ranked = t["imd_score"].rank(ascending=False, method="min")
    n = int(t["imd_score"].notna().sum())
    has = w["wd24cd"].isin(t.index).to_numpy()       # wards with no best-fit LSOA: no figures

    def col(name, nd):
        vals = w["wd24cd"].map(t[name]) if name in t.columns else pd.Series(np.nan, index=w.index)
        return [_num(x, nd) if ok else None for x, ok in zip(vals, has)]
    rk = w["wd24cd"].map(ranked)
    ranks = [None if (not ok or math.isnan(x)) else int(x) for x, ok in zip(rk.astype("float64"), has)]
    rows = [list(r) for r in zip(w["wd24nm"], w["lad19nm"], w["place5"], w["place4"],
                                 col("population", 0), col("imd_score", 1), col("pct_core20", 1),
                                 col("core20_population", 0), ranks, [n] * len(w))]
    rank_in = "LSC" if getattr(store, "is_lsc", True) else short_place(getattr(store, "name", ""))
    d = {"vintage": f"IoD{vintage}", "fields": WARD_STAT_FIELDS, "rows": rows, "rank_in": rank_in}
    return json.dumps(d, separators=(",", ":"), allow_nan=False).encode()


def build_static(store, ward_tables: dict | None = None, out_dir: Path = GEN_DIR) -> dict:
    """Write all static files; return {"geo": url, "geo11": url, "stats2019": url, "stats2025": url}
    (geo11: the 2011 LSOAs, SPLIT_OBJECTS)."""
    split = {k: _url(write_hashed(prefix, split_bytes(store, k), out_dir)) for k, prefix in SPLIT_OBJECTS.items()}
    out = {"geo": _url(write_hashed("geo", geometry_bytes(store, split), out_dir))}
    out.update({prefix: split[k] for k, prefix in SPLIT_OBJECTS.items()})
    if ward_tables is None:
        from geo.report import build_table
        ward_tables = {v: build_table(store, "ward", vintage=v) for v in (2019, 2025)}
    for v, t in ward_tables.items():
        out[f"stats{v}"] = _url(write_hashed(f"wards{v}", ward_stats_bytes(store, t, v), out_dir))
    return out


def build_static_indexed(store, fp: str, ward_tables=None, out_dir: Path = GEN_DIR) -> dict:
    """build_static, remembered in out_dir/index.<fp>.json: a restarted server whose
    store (fingerprint `fp`) and generator are unchanged reuses the files already written
    (if they are all still there) instead of rebuilding the TopoJSON (~seconds).
    `ward_tables` may be a callable (only called when the files are rebuilt)."""
    index = out_dir / f"index.{GENERATOR_VERSION}.{fp}.json"
    try:
        urls = json.loads(index.read_text(encoding="utf-8"))
        files = [url_path(u) for u in urls.values()]
        if urls and all(f.is_file() for f in files):
            for f in files:
                os.utime(f)            # in use: keep them out of prune()
                write_gzip(f)
            return urls
    except (OSError, ValueError, TypeError, AttributeError):
        pass
    urls = build_static(store, ward_tables() if callable(ward_tables) else ward_tables, out_dir)
    try:
        write_atomic(index, json.dumps(urls).encode("utf-8"))
    except OSError:
        pass
    return urls


if __name__ == "__main__":
    from geo.store import load_store
    for k, v in build_static(load_store()).items():
        print(k, v)
