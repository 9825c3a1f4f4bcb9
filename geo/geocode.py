"""Postcode geocoding (Code-Point Open) and British National Grid <-> WGS84.

The lookup is the staged Code-Point Open 2025 file for the LSC footprint
(``lookups/postcodes_codepoint_open_2025_lsc.csv`` in the source folder), or the
store's ``postcodes`` table when the store is built. Postcodes are normalised to the
ONS "pcds" form: upper case, one space before the inward code (``bb2 3hh`` -> ``BB2 3HH``).

Coordinates: pyproj, EPSG:27700 (British National Grid, OSGB36) <-> EPSG:4326. Code-Point
gives easting/northing to the metre; lat/lon in the file were converted with pyproj.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from geo.errors import SourceError
from geo.paths import source_dir

POSTCODE_FILE = "lookups/postcodes_codepoint_open_2025_lsc.csv"
POSTCODE_VINTAGE = "Code-Point Open 2025.2 (Apr 2025), LSC footprint"

# Full UK postcode pattern (outward + inward), after removing spaces.
_PC_RE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9][A-Z]{2})$")


def normalise_postcode(value) -> str | None:
    """'bb2  3hh' -> 'BB2 3HH'; None if the text is not shaped like a UK postcode."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    s = re.sub(r"\s+", "", str(value)).upper()
    m = _PC_RE.match(s)
    if not m:
        return None
    return f"{m.group(1)} {m.group(2)}"


# --- coordinate transforms -------------------------------------------------------

@lru_cache(maxsize=1)
def _transformers():
    from pyproj import Transformer
    to_bng = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)
    to_wgs = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)
    return to_bng, to_wgs


def lonlat_to_bng(lon, lat):
    """WGS84 lon/lat (arrays or scalars) -> BNG easting, northing (metres)."""
    to_bng, _ = _transformers()
    return to_bng.transform(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))


def bng_to_lonlat(easting, northing):
    """BNG easting/northing -> WGS84 lon, lat (degrees)."""
    _, to_wgs = _transformers()
    return to_wgs.transform(np.asarray(easting, dtype=float), np.asarray(northing, dtype=float))


def haversine_km(lat1, lon1, lat2, lon2):
    """Great-circle distance in km on a sphere of radius 6371.0088 km (mean Earth radius)."""
    lat1, lon1, lat2, lon2 = (np.radians(np.asarray(a, dtype=float)) for a in (lat1, lon1, lat2, lon2))
    a = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371.0088 * np.arcsin(np.sqrt(a))


# --- postcode lookup -------------------------------------------------------------

@dataclass
class PostcodeLookup:
    """Postcode -> (easting, northing, lat, lon, lsoa11cd, ward24cd) for the footprint."""

    table: pd.DataFrame      # indexed by normalised postcode
    origin: str

    def __len__(self):
        return len(self.table)

    def __contains__(self, postcode) -> bool:
        pc = normalise_postcode(postcode)
        return pc is not None and pc in self.table.index

    def lookup(self, postcodes) -> pd.DataFrame:
        """Vectorised: one row per input (same order) with columns postcode (normalised
        or None), found (bool), easting, northing, lat, lon, lsoa11cd."""
        raw = pd.Series(list(postcodes), dtype=object)
        norm = raw.map(normalise_postcode)
        hit = self.table.reindex(norm.where(norm.notna(), "").to_numpy())
        out = pd.DataFrame({
            "postcode": norm.to_numpy(),
            "found": hit["easting"].notna().to_numpy(),
            "easting": hit["easting"].to_numpy(dtype=float),
            "northing": hit["northing"].to_numpy(dtype=float),
            "lat": hit["latitude"].to_numpy(dtype=float),
            "lon": hit["longitude"].to_numpy(dtype=float),
            "lsoa11cd": hit["lsoa11cd"].to_numpy() if "lsoa11cd" in hit else None,
        })
        return out

    def one(self, postcode) -> dict | None:
        """Single postcode -> dict, or None when unknown."""
        r = self.lookup([postcode]).iloc[0]
        return r.to_dict() if r["found"] else None


_COLS = ["postcode", "latitude", "longitude", "easting", "northing", "lsoa11cd", "ward24cd"]


def _prepare(df: pd.DataFrame, origin: str) -> PostcodeLookup:
    missing = [c for c in ("postcode", "latitude", "longitude", "easting", "northing") if c not in df.columns]
    if missing:
        raise SourceError(origin, f"postcode lookup lacks column(s) {', '.join(missing)}")
    keep = [c for c in _COLS if c in df.columns]
    t = df[keep].copy()
    t["postcode"] = t["postcode"].map(normalise_postcode)
    t = t.dropna(subset=["postcode"]).drop_duplicates("postcode").set_index("postcode")
    for c in ("latitude", "longitude", "easting", "northing"):
        t[c] = pd.to_numeric(t[c], errors="coerce")
    return PostcodeLookup(t, origin)


@lru_cache(maxsize=4)
def _load_csv(path: str) -> PostcodeLookup:
    p = Path(path)
    if not p.exists():
        raise SourceError(p, "postcode lookup file not found (set LSC_DATA_DIR to the open-data folder)")
    df = pd.read_csv(p, usecols=lambda c: c in _COLS, dtype={"postcode": str, "lsoa11cd": str, "ward24cd": str})
    return _prepare(df, str(p))


_store_cache: dict = {}


def postcode_lookup(source: str | Path | None = None) -> PostcodeLookup:
    """The footprint postcode lookup: the built store's table when present, else the
    staged Code-Point Open CSV in the source folder (or `source`, a CSV path)."""
    if source is not None:
        return _load_csv(str(Path(source).resolve()))
    try:
        from geo.store import load_store
        s = load_store()
        key = str(s.path)
        if key not in _store_cache:
            _store_cache[key] = _prepare(s.postcodes, f"store {s.path}/postcodes.parquet")
        return _store_cache[key]
    except Exception:  # store not built (yet): fall back to the raw file
        return _load_csv(str(source_dir() / POSTCODE_FILE))
