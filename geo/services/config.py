"""Service register vocabulary and reference data: schema columns, header aliases,
categories (config/services.yaml), the footprint (LSC, or any ICB through `config_for`)
and staged ODS site references."""
from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
import numpy as np
import pandas as pd
import yaml
from geo.errors import SourceError
from geo.paths import CONFIG_DIR, ROOT, source_dir, user_data_dir


STATUSES = ("open", "closed", "planned")

# Canonical record columns, in output order.
SCHEMA = [
    "id", "name", "category", "subcategory", "address", "postcode",
    "lat", "lon", "easting", "northing", "site_ref",
    "operator", "status", "opened", "closed", "status_note",
    "event_date", "start_time", "end_time", "place", "offer",
    "source", "source_url",
]
RECORD_COLUMNS = SCHEMA + ["location_source", "source_file", "row", "illustrative", "data_date"]
TEXT_FIELDS = ["id", "name", "category", "subcategory", "address", "postcode", "site_ref", "operator",
               "status", "status_note", "place", "offer", "source", "source_url"]

# Header spellings accepted for the schema columns (after lower-casing, spaces/hyphens -> _).
ALIASES = {
    "latitude": "lat", "y_lat": "lat",
    "longitude": "lon", "long": "lon", "lng": "lon",
    "bng_e": "easting", "east": "easting", "x": "easting", "oseast1m": "easting",
    "bng_n": "northing", "north": "northing", "y": "northing", "osnrth1m": "northing",
    "ods_code": "site_ref", "organisation_code": "site_ref_or_id",
    "site_name": "name", "organisation_name": "name", "stop_name": "name",
    "type": "category", "service": "category", "sub_category": "subcategory", "subtype": "subcategory",
    "provider": "operator", "open_date": "opened", "opening_date": "opened",
    "close_date": "closed", "closing_date": "closed",
    "date": "event_date", "stop_date": "event_date",
    "start": "start_time", "end": "end_time", "from": "start_time", "to": "end_time",
    "location": "place", "venue": "place", "services_offered": "offer",
    "url": "source_url", "post_code": "postcode", "postal_code": "postcode",
}

MAX_NAME = 200
SEA_OR_ABROAD = "in the sea or outside the LSC area"
LSC_ICB = "E54000048"
ENGLAND = "E92000001"


class ImportFailure(Exception):
    """The whole file cannot be read (empty, too big, not a table...): one message."""


# --- config ------------------------------------------------------------------------

@lru_cache(maxsize=4)
def _config_cached(path: str) -> dict:
    with open(path, encoding="utf-8") as fh:
        cfg = yaml.safe_load(fh)
    if not isinstance(cfg, dict) or "categories" not in cfg:
        raise SourceError(path, "no 'categories' mapping")
    return cfg


def load_config(path: str | os.PathLike | None = None) -> dict:
    return _config_cached(str(Path(path) if path else CONFIG_DIR / "services.yaml"))


def config_for(icb: str | None = None, path: str | None = None) -> dict:
    """The register's config for one footprint: LSC (None or E54000048) = `load_config()`
    itself; another ICB (or England, E92000001) = a copy whose `footprint` is that ICB's
    polygon and whose `icb` key selects the sources of that scope. Cached: the same
    object for the same ICB (callers key caches on it). ValueError for an unknown code."""
    return _config_for(str(icb or LSC_ICB).strip().upper(), path)


@lru_cache(maxsize=64)
def _config_for(code: str, path: str | None) -> dict:
    base = load_config(path)
    if code == LSC_ICB:
        return base
    names = icb_names()
    if code != ENGLAND and code not in names:
        raise ValueError(f"unknown ICB code {code!r}")
    cfg = dict(base)
    cfg["icb"] = code
    cfg["footprint"] = {"icb": code, "name": "England" if code == ENGLAND else names[code],
                        "buffer_km": float((base.get("footprint") or {}).get("buffer_km", 1))}
    return cfg


def icb_of(config: dict | None = None) -> str:
    """The footprint ICB code of a register config (LSC when none is set)."""
    return (config or load_config()).get("icb") or LSC_ICB


def icb_names() -> dict[str, str]:
    """ICB code -> name (as geo.footprint names them) from the built store's `icb` table,
    reading only its code and name columns; empty when the store has no England tables."""
    from geo.paths import store_dir
    f = store_dir() / "icb.parquet"
    try:
        st = f.stat()
    except OSError:
        return {}
    return _icb_names(str(f), st.st_mtime_ns)


@lru_cache(maxsize=2)
def _icb_names(path: str, mtime_ns: int) -> dict[str, str]:
    import pyarrow.parquet as pq
    from geo.footprint import short_name
    cols = [c for c in ("icb24cd", "icb24nm", "short_name") if c in pq.read_schema(path).names]
    if "icb24cd" not in cols:
        return {}
    t = pd.read_parquet(path, columns=cols)
    names = ("NHS " + t["short_name"].astype(str) + " ICB") if "short_name" in t else t["icb24nm"].map(short_name)
    return dict(zip(t["icb24cd"].astype(str), names))


def categories(config: dict | None = None) -> dict:
    return (config or load_config())["categories"]


def category_names(config: dict | None = None) -> list[str]:
    return list(categories(config))


# --- footprint ---------------------------------------------------------------------

@lru_cache(maxsize=4)
def _footprint(boundary: str, buffer_km: float):
    """(prepared buffered polygon, unbuffered polygon), both in BNG metres."""
    import geopandas as gpd
    import shapely
    p = Path(boundary)
    if not p.exists():
        raise SourceError(p, "footprint boundary file not found (set LSC_DATA_DIR)")
    g = gpd.read_file(p).to_crs(27700)
    area = shapely.union_all(g.geometry.values)
    buf = area.buffer(buffer_km * 1000.0)
    shapely.prepare(buf)
    return buf, area


@lru_cache(maxsize=8)
def _icb_footprint(store_path: str, code: str, buffer_km: float):
    """(prepared buffered polygon, polygon) of one ICB (England: all 42), BNG metres,
    from the store's `icb` table."""
    import geopandas as gpd
    import shapely
    f = Path(store_path) / "icb.parquet"
    if not f.exists():
        raise SourceError(f, "ICB polygons missing from the store: run `python -m geo build`")
    g = gpd.read_parquet(f)
    if code != ENGLAND:
        g = g[g["icb24cd"] == code]
        if g.empty:
            raise SourceError(f, f"no polygon for ICB {code}")
    g = g.to_crs(27700)
    area = shapely.union_all(shapely.make_valid(g.geometry.values))
    buf = area.buffer(buffer_km * 1000.0)
    shapely.prepare(buf)
    return buf, area


def footprint(config: dict | None = None):
    cfg = (config or load_config())["footprint"]
    if cfg.get("icb"):
        from geo.paths import store_dir
        return _icb_footprint(str(store_dir()), cfg["icb"], float(cfg.get("buffer_km", 1)))
    return _footprint(str(source_dir() / cfg["boundary"]), float(cfg.get("buffer_km", 1)))


def footprint_name(config: dict | None = None) -> str:
    """How messages name the footprint: 'LSC', 'NHS Northamptonshire ICB', 'England'."""
    cfg = (config or load_config())["footprint"]
    return str(cfg.get("name") or "LSC")


def in_footprint(easting, northing, config: dict | None = None) -> np.ndarray:
    import shapely
    buf, _ = footprint(config)
    e = np.asarray(easting, dtype=float)
    n = np.asarray(northing, dtype=float)
    ok = np.isfinite(e) & np.isfinite(n)
    out = np.zeros(e.shape, dtype=bool)
    out[ok] = shapely.contains_xy(buf, e[ok], n[ok])
    return out


def km_outside(easting: float, northing: float, config: dict | None = None) -> float:
    import shapely
    _, area = footprint(config)
    return float(shapely.distance(area, shapely.Point(easting, northing))) / 1000.0


# --- site references (ODS codes of staged hospitals and GP practices) ----------------

@lru_cache(maxsize=2)
def _site_refs(src: str) -> pd.DataFrame:
    rows = []
    h = Path(src) / "services/hospitals_nhs_website_2023_lsc.csv"
    if h.exists():
        d = pd.read_csv(h, dtype=str)
        for r in d.itertuples(index=False):
            rows.append((r.OrganisationCode, r.OrganisationName, r.Postcode,
                         float(r.Latitude), float(r.Longitude), "NHS website hospital list (c. Jun 2023)"))
    g = Path(src) / "services/gp_practices_epraccur_2025_lsc.csv"
    if g.exists():
        d = pd.read_csv(g, dtype=str)
        d = d[d["latitude"].notna()]
        for r in d.itertuples(index=False):
            rows.append((r.organisation_code, r.name, r.postcode, float(r.latitude), float(r.longitude),
                         "NHS ODS epraccur (c. Sep 2025), Code-Point postcode centroid"))
    t = pd.DataFrame(rows, columns=["site_ref", "name", "postcode", "lat", "lon", "ref_source"])
    t["site_ref"] = t["site_ref"].str.upper()
    return t.drop_duplicates("site_ref").set_index("site_ref")


def site_refs() -> pd.DataFrame:
    return _site_refs(str(source_dir()))


@lru_cache(maxsize=2)
def _site_refs_england(src: str) -> pd.DataFrame:
    from geo import plan_national as N
    frames = []
    for kind, label in (("hospitals", "NHS website hospital list, England (c. Jun 2023)"),
                        ("gp", "NHS ODS epraccur, England (c. Sep 2025), Code-Point postcode centroid")):
        try:
            v, _ = N.sites(kind, ENGLAND)
        except (SourceError, OSError, ValueError):
            continue                      # file not staged: LSC's references only
        frames.append(v.assign(ref_source=label))
    if not frames:
        return pd.DataFrame(columns=["name", "postcode", "lat", "lon", "ref_source"],
                            index=pd.Index([], name="site_ref"))
    t = pd.concat(frames, ignore_index=True).rename(columns={"id": "site_ref"})
    t["site_ref"] = t["site_ref"].str.upper()
    return t.drop_duplicates("site_ref").set_index("site_ref")[["name", "postcode", "lat", "lon", "ref_source"]]


def site_refs_england() -> pd.DataFrame:
    """ODS codes of every NHS hospital site and open GP practice in England (the
    England-wide files, through geo.plan_national): read only when a site_ref is not
    one of LSC's."""
    return _site_refs_england(str(source_dir()))
