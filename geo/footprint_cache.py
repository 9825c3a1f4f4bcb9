"""Footprint tables kept on disk in the store folder: store/footprints/<code>/<table>.parquet.

An ICB's (or England's) view (geo.footprint.IcbView) derives its LSOA, ward, district
and place tables from the England-wide tables: ~2-5 s for the largest ICB or England,
and the England-wide LSOA polygons held in memory meanwhile. Each derived table is
written here the first time it is computed (or by `python -m geo build`, which
precomputes England's) and read back by every later server, in ~0.1 s.

Same safety as the store's own tables (geo/storefile.py): each table is written to a
temp file and renamed into place, and a sidecar `<table>.json` written after it holds
its sha256, size, the store's fingerprint and VERSION. A table whose file is missing,
resized, changed, unreadable, from another store or from older code is computed again
and rewritten (the store heals itself); the cache is optional, so a read-only or full
disk only means computing as before. A rebuilt store is a new folder: nothing stale
survives it.

Pure Python (no streamlit/folium).
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from functools import cached_property
from pathlib import Path

from geo.atomic import write_atomic
from geo.storefile import sha256_file

# bump when geo.footprint changes what a derived table holds
VERSION = 1
FOLDER = "footprints"
TABLES = ("lsoa25", "lsoa", "wards24", "districts", "subicb", "place5", "wards19")


def folder(store, code: str) -> Path:
    return Path(store.path) / FOLDER / code


def store_key(store) -> str:
    """The store this cache belongs to (its manifest's fingerprint), with VERSION."""
    man = getattr(store, "manifest", {}) or {}
    fp = json.dumps(man.get("fingerprint", man.get("tables", {})), sort_keys=True, default=str)
    return f"v{VERSION}-" + hashlib.sha256(fp.encode()).hexdigest()[:16]


def check(store, code: str, name: str) -> str | None:
    """None when the cached table is usable, else why not (missing, changed...)."""
    d = folder(store, code)
    f, meta = d / f"{name}.parquet", d / f"{name}.json"
    try:
        m = json.loads(meta.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return "not cached"
    except (OSError, ValueError) as e:
        return f"sidecar unreadable ({e})"
    if not isinstance(m, dict) or m.get("store") != store_key(store):
        return "from another store or an older version"
    try:
        if f.stat().st_size != m.get("bytes"):
            return "changed size (corrupt or truncated)"
        if sha256_file(f) != m.get("sha256"):
            return "checksum differs"
    except OSError:
        return "table file missing"
    return None


def load(store, code: str, name: str):
    """The cached table, or None when it is not there or not sound."""
    if check(store, code, name) is not None:
        return None
    f = folder(store, code) / f"{name}.parquet"
    try:
        meta = json.loads((f.with_suffix(".json")).read_text(encoding="utf-8"))
        if meta.get("geo"):
            import geopandas as gpd
            return gpd.read_parquet(f)
        import pandas as pd
        return pd.read_parquet(f)
    except Exception:          # unreadable although the checksum matched: compute again
        return None


def save(store, code: str, name: str, df) -> bool:
    """Write `df` as the cached table (atomically, then its sidecar); False if it could
    not be written (the cache is optional)."""
    d = folder(store, code)
    f = d / f"{name}.parquet"
    tmp = None
    try:
        d.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=d, prefix=f".{name}.", suffix=".tmp")
        os.close(fd)
        df.to_parquet(tmp, index=False, compression="zstd")
        os.chmod(tmp, 0o644)
        size, sha = os.stat(tmp).st_size, sha256_file(Path(tmp))
        os.replace(tmp, f)
        tmp = None
        meta = {"store": store_key(store), "code": code, "table": name, "rows": int(len(df)), "bytes": size,
                "sha256": sha, "geo": hasattr(df, "geometry") and "geometry" in df.columns}
        write_atomic(f.with_suffix(".json"), json.dumps(meta, indent=1).encode("utf-8"))
        return True
    except (OSError, ValueError, TypeError):
        return False
    finally:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)


def get_or_build(store, code: str, name: str, build):
    """The cached table when sound, else build() written to the cache and returned."""
    df = load(store, code, name)
    if df is not None:
        return df
    df = build()
    save(store, code, name, df)
    return df


def stored(fn):
    """Like functools.cached_property, for an IcbView table: read from the store's
    footprint cache when there, else computed by `fn` and written to it."""
    name = fn.__name__

    def get(self):
        return get_or_build(self.base, self.code, name, lambda: fn(self))
    get.__name__, get.__doc__ = name, fn.__doc__
    return cached_property(get)


def prewarm(store, codes, log=None) -> dict:
    """Compute and cache every table of each footprint in `codes` (geo build calls it
    for England); returns {code: seconds}."""
    import time
    from geo import footprint as F
    out = {}
    for code in codes:
        t0 = time.perf_counter()
        v = F.IcbView(store, code)
        for name in TABLES:
            getattr(v, name)
        out[code] = round(time.perf_counter() - t0, 2)
        if log:
            log(f"footprint {code} tables cached in {out[code]:.2f} s")
    return out
