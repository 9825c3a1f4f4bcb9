"""Static files the browser fetches once: geometry (TopoJSON) and per-vintage ward figures.

Pure Python (geopandas + topojson; no streamlit/folium), so the build can call it:

    python -m layers.static_files            # writes static/gen/*, prints the URLs

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

from geo.atomic import write_atomic
from geo.paths import ROOT

STATIC_DIR = ROOT / "static"
GEN_DIR = STATIC_DIR / "gen"
PRUNE_DAYS = 7.0
URL_PREFIX = "/app/static"
GENERATOR_VERSION = 3
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
        return path
    write_atomic(path, data)
    prune(prefix, out_dir, keep_days=keep_days, keep=path, ext=ext)
    return path


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
                    n += 1
            except OSError:
                pass
    return n


def _r(x: float, nd: int = 5) -> float:
    return round(float(x), nd)


def geometry_bytes(store) -> bytes:
    """One TopoJSON with objects lsoa, wards, districts, place5, place4 (no properties),
    plus an `lsc` member with codes/names/label points aligned to those objects."""
    import topojson as tp

    lsoa = store.lsoa[["geometry"]].reset_index(drop=True)
    wards = store.wards24[["geometry"]].reset_index(drop=True)
    districts = store.districts[["geometry"]].reset_index(drop=True)
    place5 = store.place5[["geometry"]].reset_index(drop=True)
    place4 = store.place4[["geometry"]].reset_index(drop=True)
    topo = tp.Topology([lsoa, wards, districts, place5, place4],
                       object_name=["lsoa", "wards", "districts", "place5", "place4"],
                       prequantize=QUANTIZE, topology=True)
    d = topo.to_dict()
    for obj in d["objects"].values():       # geometries carry no properties: index = row
        for g in obj.get("geometries", []):
            g.pop("properties", None)
            g.pop("id", None)
    w = store.wards24.reset_index(drop=True)
    label_pts = w.geometry.representative_point()
    d["lsc"] = {
        "generator": GENERATOR_VERSION,
        "lsoa": store.lsoa["lsoa11cd"].tolist(),
        "wards": w["wd24cd"].tolist(),
        "ward_names": w["wd24nm"].tolist(),
        "ward_labels": [[_r(p.y), _r(p.x)] for p in label_pts],
        "districts": store.districts["lad19cd"].tolist(),
        "place5": store.place5["code"].tolist(),
        "place4": store.place4["code"].tolist(),
    }
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


def ward_stats_bytes(store, ward_table, vintage: int) -> bytes:
    """Figures shown on ward hover, aligned with store.wards24 order.

    `ward_table` is geo.report.build_table(store, "ward", vintage=...) (code, name,
    population, imd_score, pct_core20, core20_population, lad19nm, place5, place4...).
    `rank` is the rank within LSC by population-weighted IMD score (1 = most deprived).
    """
    w = store.wards24.reset_index(drop=True)
    t = ward_table.set_index("code")
    if "imd_rank_in_lsc" in t.columns:
        ranked = t["imd_rank_in_lsc"].astype("float64")
    else:
        ranked = t["imd_score"].rank(ascending=False, method="min")
    n = int(t["imd_score"].notna().sum())
    rows = []
    for _, r in w.iterrows():
        code = r["wd24cd"]
        if code in t.index:
            x = t.loc[code]
            rows.append([r["wd24nm"], r["lad19nm"], r["place5"], r["place4"],
                         _num(x.get("population"), 0), _num(x.get("imd_score"), 1),
                         _num(x.get("pct_core20"), 1), _num(x.get("core20_population"), 0),
                         None if math.isnan(ranked.get(code, math.nan)) else int(ranked[code]), n])
        else:   # ward with no best-fit LSOA: no figures
            rows.append([r["wd24nm"], r["lad19nm"], r["place5"], r["place4"],
                         None, None, None, None, None, n])
    d = {"vintage": f"IoD{vintage}", "fields": WARD_STAT_FIELDS, "rows": rows}
    return json.dumps(d, separators=(",", ":"), allow_nan=False).encode()


def build_static(store, ward_tables: dict | None = None, out_dir: Path = GEN_DIR) -> dict:
    """Write all static files; return {"geo": url, "stats2019": url, "stats2025": url}."""
    out = {"geo": _url(write_hashed("geo", geometry_bytes(store), out_dir))}
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
