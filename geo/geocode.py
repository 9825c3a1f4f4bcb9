"""Postcode geocoding (Code-Point Open) and British National Grid <-> WGS84.

Two tables, looked up in turn:

1. LSC: the store's ``postcodes`` table (47k units, with LSOA 2011 and ward columns),
   or the staged Code-Point Open 2025 file for the LSC footprint
   (``lookups/postcodes_codepoint_open_2025_lsc.csv``) before the store is built;
2. England: every live English postcode unit (1.49 M, Code-Point Open 2025.2), read
   only for a postcode the LSC table lacks, and only once per process: from the store's
   ``postcodes_england`` table (else the staged ``..._england.csv.gz``), five columns
   as numpy arrays (postcode keys as 7-byte strings, sorted; easting/northing int32;
   lat/lon float64), looked up by binary search. With the store they are an index of
   .npy files beside ``postcodes_england.parquet`` (~46 MB, written once per store by a
   child process) that each process memory-maps: it pages in only what it looks up.

So LSC look-ups cost what they always did, and a postcode anywhere in England
geocodes. Postcodes are normalised to the ONS "pcds" form: upper case, one space
before the inward code (``bb2 3hh`` -> ``BB2 3HH``).

Coordinates: pyproj, EPSG:27700 (British National Grid, OSGB36) <-> EPSG:4326. Code-Point
gives easting/northing to the metre; lat/lon in the file were converted with pyproj.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from geo.errors import SourceError
from geo.paths import source_dir

POSTCODE_FILE = "lookups/postcodes_codepoint_open_2025_lsc.csv"
POSTCODE_FILE_ENGLAND = "lookups/postcodes_codepoint_open_2025_england.csv.gz"
POSTCODE_VINTAGE = "Code-Point Open 2025.2 (Apr 2025), LSC footprint"
POSTCODE_VINTAGE_ENGLAND = "Code-Point Open 2025.2 (Apr 2025), England"

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

class EnglandPostcodes:
    """Every English postcode unit as sorted numpy arrays: keys ('S7'), easting,
    northing (int32), lat, lon (float64). Arrays may be memory-mapped (read-only)."""

    FIELDS = ("keys", "easting", "northing", "lat", "lon")

    def __init__(self, keys, easting, northing, lat, lon, origin: str, *, presorted: bool = False):
        if not presorted:
            order = np.argsort(keys, kind="stable")
            keys, easting, northing, lat, lon = (x[order] for x in (keys, easting, northing, lat, lon))
        self.keys, self.easting, self.northing, self.lat, self.lon = keys, easting, northing, lat, lon
        self.origin = origin

    def __len__(self):
        return len(self.keys)

    def find(self, keys: np.ndarray) -> np.ndarray:
        """Index of each key (postcode without its space, space-padded 'S7'), -1 when absent."""
        if not len(self.keys) or not len(keys):
            return np.full(len(keys), -1, dtype=np.int64)
        i = np.searchsorted(self.keys, keys)
        i = np.minimum(i, len(self.keys) - 1)
        return np.where(self.keys[i] == keys, i, -1)

    def save(self, folder: Path) -> None:
        """The arrays as .npy files in `folder`, written beside it and renamed into place
        (a reader never sees a partial index)."""
        import shutil
        import tempfile
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
        try:
            for f in self.FIELDS:
                np.save(tmp / f"{f}.npy", np.ascontiguousarray(getattr(self, f)), allow_pickle=False)
            os.replace(tmp, folder)
        except OSError:
            shutil.rmtree(tmp, ignore_errors=True)
            raise

    @classmethod
    def open(cls, folder: Path, origin: str) -> "EnglandPostcodes":
        arrs = [np.load(folder / f"{f}.npy", mmap_mode="r", allow_pickle=False) for f in cls.FIELDS]
        if len({len(a) for a in arrs}) != 1 or arrs[0].dtype != np.dtype("S7"):
            raise ValueError(f"{folder}: inconsistent postcode index")
        return cls(*arrs, origin=origin, presorted=True)


def _fixed_keys(col) -> np.ndarray:
    """Postcodes (pyarrow strings) -> 'S7' keys: no space, upper case, right-padded with
    spaces, read straight from the Arrow buffer (no Python string per postcode)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    key = pc.utf8_upper(pc.replace_substring(col, " ", ""))
    key = pc.utf8_rpad(pc.utf8_slice_codeunits(key, 0, 7), 7, " ")
    arr = key.combine_chunks() if isinstance(key, pa.ChunkedArray) else key
    arr = arr.cast(pa.large_binary())
    if arr.null_count:
        arr = pc.fill_null(arr, b" " * 7)
    offs = np.frombuffer(arr.buffers()[1], dtype=np.int64, count=len(arr) + 1, offset=arr.offset * 8)
    data = np.frombuffer(arr.buffers()[2], dtype=np.uint8)[offs[0]:offs[-1]]
    return data.view("S7").copy()


def _key(postcode: str) -> bytes:
    return postcode.replace(" ", "")[:7].ljust(7).encode("ascii", "replace")


_ENGLAND_COLS = ["postcode", "easting", "northing", "latitude", "longitude"]


def _england_arrays(tbl, origin: str) -> EnglandPostcodes:
    """pyarrow table with postcode, easting, northing, latitude, longitude -> arrays."""
    keys = _fixed_keys(tbl.column("postcode"))
    col = lambda c, t: tbl.column(c).to_numpy().astype(t, copy=False)   # noqa: E731
    return EnglandPostcodes(keys, col("easting", np.int32), col("northing", np.int32),
                            col("latitude", np.float64), col("longitude", np.float64), origin)


def _read_parquet(path: str) -> EnglandPostcodes:
    import pyarrow as pa
    import pyarrow.parquet as pq
    out = _england_arrays(pq.read_table(path, columns=_ENGLAND_COLS), f"store {path}")
    pa.default_memory_pool().release_unused()        # Arrow's temporaries back to the system
    return out


def _read_csv_gz(path: str) -> EnglandPostcodes:
    import pyarrow as pa
    import pyarrow.csv as pcsv
    types = {"postcode": pa.string(), "easting": pa.int32(), "northing": pa.int32(),
             "latitude": pa.float64(), "longitude": pa.float64()}
    try:
        tbl = pcsv.read_csv(path, convert_options=pcsv.ConvertOptions(include_columns=_ENGLAND_COLS,
                                                                       column_types=types))
    except (pa.ArrowInvalid, KeyError, OSError, EOFError) as e:
        raise SourceError(path, f"England postcode file unreadable ({e})")
    out = _england_arrays(tbl, path)
    del tbl
    pa.default_memory_pool().release_unused()
    return out


INDEX_PREFIX = "postcodes_england.index-"


def build_index(path: str, folder: str) -> None:
    """Write the memory-mapped index of the store's England table `path` to `folder`
    (what `_england_indexed` runs in a child process)."""
    _read_parquet(path).save(Path(folder))


def _build_in_child(path: str, folder: Path) -> bool:
    """Build the index in a child Python, so the app process never holds the Arrow table
    and its temporaries (a one-off peak of ~200 MB): True when the index was written."""
    import subprocess
    import sys
    from geo.paths import ROOT
    code = "import sys; from geo.geocode import build_index; build_index(sys.argv[1], sys.argv[2])"
    try:
        r = subprocess.run([sys.executable, "-c", code, path, str(folder)], cwd=str(ROOT), capture_output=True,
                           timeout=600, env={**os.environ, "PYTHONPATH": str(ROOT)})
    except (OSError, subprocess.SubprocessError):
        return False
    return r.returncode == 0 and folder.is_dir()


@lru_cache(maxsize=2)
def _england_indexed(path: str, size: int, mtime_ns: int, store: bool) -> EnglandPostcodes:
    """The England arrays for one version of the source table. With the store's Parquet:
    a memory-mapped index beside it, built once per store in a child process (~46 MB on
    disk; a process then pages in only what its look-ups touch); otherwise (staged CSV,
    read-only store) read into memory."""
    src = Path(path)
    if not store:
        return _read_csv_gz(path)
    folder = src.parent / f"{INDEX_PREFIX}{size}-{mtime_ns}"
    if folder.is_dir():
        try:
            return EnglandPostcodes.open(folder, f"store {path}")
        except (OSError, ValueError):
            import shutil
            shutil.rmtree(folder, ignore_errors=True)     # unreadable index: rebuilt below
    import shutil
    for old in src.parent.glob(f"{INDEX_PREFIX}*"):
        if old != folder:
            shutil.rmtree(old, ignore_errors=True)
    if folder.is_dir() or _build_in_child(path, folder):
        try:
            return EnglandPostcodes.open(folder, f"store {path}")
        except (OSError, ValueError):
            pass
    eng = _read_parquet(path)                            # no child, or the store is read-only
    try:
        eng.save(folder)
        return EnglandPostcodes.open(folder, f"store {path}")   # the in-memory copy is dropped
    except (OSError, ValueError):
        return eng


def england_postcodes() -> EnglandPostcodes | None:
    """The England table (store first, else the staged file), None when neither exists."""
    from geo.paths import store_dir
    for f, store in ((store_dir() / "postcodes_england.parquet", True), (source_dir() / POSTCODE_FILE_ENGLAND, False)):
        if f.exists():
            st = f.stat()
            return _england_indexed(str(f), st.st_size, st.st_mtime_ns, store)
    return None


def england_available() -> bool:
    """Whether an England table exists (without reading it)."""
    from geo.paths import store_dir
    return (store_dir() / "postcodes_england.parquet").exists() or (source_dir() / POSTCODE_FILE_ENGLAND).exists()


@dataclass
class PostcodeLookup:
    """Postcode -> (easting, northing, lat, lon, lsoa11cd, ward24cd): the footprint table,
    then (when `england` is set) every English postcode for the ones it lacks."""

    table: pd.DataFrame      # indexed by normalised postcode
    origin: str
    england: bool = False    # fall back to the England table (read on first miss)

    def __len__(self):
        return len(self.table)

    @property
    def coverage(self) -> str:
        """What the look-up covers, for messages: 'in England' or 'for the LSC footprint'."""
        return "in England" if self.england else "for the LSC footprint"

    def __contains__(self, postcode) -> bool:
        return self.one(postcode) is not None

    def lookup(self, postcodes) -> pd.DataFrame:
        """Vectorised: one row per input (same order) with columns postcode (normalised
        or None), found (bool), easting, northing, lat, lon, lsoa11cd (None for a
        postcode found only in the England table)."""
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
        miss = (~out["found"] & norm.notna()).to_numpy()
        if self.england and miss.any():
            self._from_england(out, miss)
        return out

    @staticmethod
    def _from_england(out: pd.DataFrame, miss: np.ndarray) -> None:
        eng = england_postcodes()
        if eng is None:
            return
        keys = np.asarray([_key(p) for p in out["postcode"].to_numpy()[miss]], dtype="S7")
        at = eng.find(keys)
        ok = at >= 0
        rows = np.flatnonzero(miss)[ok]
        j = at[ok]
        out.loc[rows, "found"] = True
        out.loc[rows, "easting"] = eng.easting[j].astype(float)
        out.loc[rows, "northing"] = eng.northing[j].astype(float)
        out.loc[rows, "lat"] = eng.lat[j]
        out.loc[rows, "lon"] = eng.lon[j]

    def one(self, postcode) -> dict | None:
        """Single postcode -> dict, or None when unknown."""
        r = self.lookup([postcode]).iloc[0]
        return r.to_dict() if r["found"] else None


_COLS = ["postcode", "latitude", "longitude", "easting", "northing", "lsoa11cd", "ward24cd"]


def _prepare(df: pd.DataFrame, origin: str, england: bool = False) -> PostcodeLookup:
    missing = [c for c in ("postcode", "latitude", "longitude", "easting", "northing") if c not in df.columns]
    if missing:
        raise SourceError(origin, f"postcode lookup lacks column(s) {', '.join(missing)}")
    keep = [c for c in _COLS if c in df.columns]
    t = df[keep].copy()
    t["postcode"] = t["postcode"].map(normalise_postcode)
    t = t.dropna(subset=["postcode"]).drop_duplicates("postcode").set_index("postcode")
    for c in ("latitude", "longitude", "easting", "northing"):
        t[c] = pd.to_numeric(t[c], errors="coerce")
    return PostcodeLookup(t, origin, england)


@lru_cache(maxsize=4)
def _load_csv(path: str) -> PostcodeLookup:
    p = Path(path)
    if not p.exists():
        raise SourceError(p, "postcode lookup file not found (set LSC_DATA_DIR to the open-data folder)")
    df = pd.read_csv(p, usecols=lambda c: c in _COLS, dtype={"postcode": str, "lsoa11cd": str, "ward24cd": str})
    return _prepare(df, str(p))


_store_cache: dict = {}


def postcode_lookup(source: str | Path | None = None, *, england: bool = True) -> PostcodeLookup:
    """The postcode lookup: the built store's LSC table when present, else the staged
    LSC Code-Point Open CSV in the source folder; with `england` (the default) a
    postcode the LSC table lacks is looked up among every English postcode (read on
    first need). `source` (a CSV path) = that file alone."""
    if source is not None:
        return _load_csv(str(Path(source).resolve()))
    eng = england and england_available()
    try:
        from geo.store import load_store
        s = load_store()
        key = (str(s.path), eng)
        if key not in _store_cache:
            lsc = _store_cache.get((str(s.path), not eng))
            _store_cache[key] = (PostcodeLookup(lsc.table, lsc.origin, eng) if lsc is not None else
                                 _prepare(s.postcodes, f"store {s.path}/postcodes.parquet", eng))
        return _store_cache[key]
    except Exception:  # store not built (yet): fall back to the raw file
        lk = _load_csv(str(source_dir() / POSTCODE_FILE))
        return PostcodeLookup(lk.table, lk.origin, eng) if eng else lk
