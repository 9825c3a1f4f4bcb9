"""Service register: GP practices, hospitals, ACT hospitals, screening sites, HARI bus stops.

Categories, styles and shipped sources are in ``config/services.yaml``. Every source —
the staged open-data files, the curated files in ``data/services/`` and user uploads —
goes through the same row-level validation (`import_bytes` / `validate_rows`), so every
rejected row is listed with its file, row and reason, and accepted rows load.

Import schema (CSV, XLSX or GeoJSON): see ``data/templates/README.md``. Location from,
in order: lat/lon, easting/northing (British National Grid), site_ref (ODS code of a
staged hospital / GP practice), postcode (Code-Point Open lookup).

Row numbers in messages are spreadsheet rows (the header is row 1, the first data row
is row 2); for GeoJSON they are feature numbers (1 = first feature).
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from geo.atomic import write_atomic
from geo.errors import SourceError
from geo.geocode import bng_to_lonlat, lonlat_to_bng, normalise_postcode, postcode_lookup
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


def footprint(config: dict | None = None):
    cfg = (config or load_config())["footprint"]
    return _footprint(str(source_dir() / cfg["boundary"]), float(cfg.get("buffer_km", 1)))


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


# --- reading files -----------------------------------------------------------------

@dataclass
class RawTable:
    columns: list[str]            # canonical names (unknown columns kept as given)
    rows: list[list]              # cell values (str, numbers, dates)
    rownums: list[int]            # row number to report for each row
    notes: list[str] = field(default_factory=list)
    row_label: str = "row"
    bad_rows: list[tuple[int, str]] = field(default_factory=list)   # unparseable rows


def _canon_header(h) -> str:
    s = re.sub(r"[\s\-/]+", "_", str(h if h is not None else "").strip().lower()).strip("_")
    s = s.lstrip("\ufeff")
    return ALIASES.get(s, s)


def _decode(data: bytes, filename: str) -> tuple[str, list[str]]:
    notes = []
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace"), notes
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        notes.append("read as UTF-16 (byte-order mark)")
        return data.decode("utf-16", errors="replace"), notes
    if b"\x00" in data[:4096]:
        raise ImportFailure(f"{filename}: binary content, not a text CSV (save it as CSV UTF-8, XLSX or GeoJSON)")
    try:
        return data.decode("utf-8"), notes
    except UnicodeDecodeError as e:
        try:
            text = data.decode("cp1252")
            notes.append(f"not valid UTF-8 (byte {e.start}): read as Windows-1252; check accented names")
        except UnicodeDecodeError:
            text = data.decode("latin-1")
            notes.append(f"not valid UTF-8 (byte {e.start}): read as Latin-1; check accented names")
        return text, notes


def _sniff_delimiter(text: str) -> str:
    first = next((ln for ln in text.splitlines() if ln.strip()), "")
    counts = {d: first.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=counts.get)
    return best if counts[best] > 0 else ","


def read_csv_bytes(data: bytes, filename: str) -> RawTable:
    text, notes = _decode(data, filename)
    if not text.strip():
        raise ImportFailure(f"{filename}: the file is empty")
    delim = _sniff_delimiter(text)
    if delim != ",":
        notes.append(f"delimiter detected: {'TAB' if delim == chr(9) else repr(delim)}")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim)
    try:
        all_rows = list(reader)
    except csv.Error as e:
        raise ImportFailure(f"{filename}: not a readable CSV ({e})")
    # header = first non-blank line
    start = 0
    while start < len(all_rows) and not any(c.strip() for c in all_rows[start]):
        start += 1
    if start >= len(all_rows):
        raise ImportFailure(f"{filename}: the file is empty")
    header = [_canon_header(h) for h in all_rows[start]]
    rows, nums, bad = [], [], []
    width = len(header)
    for i, r in enumerate(all_rows[start + 1:], start=start + 2):
        if not any(c.strip() for c in r):
            continue
        if len(r) > width and any(c.strip() for c in r[width:]):
            bad.append((i, f"has {len(r)} fields but the header has {width} (unquoted delimiter in a value?)"))
            continue
        rows.append((r + [""] * width)[:width])
        nums.append(i)
    return RawTable(header, rows, nums, notes, "row", bad)


def read_xlsx_bytes(data: bytes, filename: str) -> RawTable:
    import zipfile
    from openpyxl import load_workbook
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as e:
        raise ImportFailure(f"{filename}: not a readable .xlsx workbook ({type(e).__name__})")
    try:
        ws = wb["services"] if "services" in wb.sheetnames else wb.worksheets[0]
        notes = [] if len(wb.sheetnames) == 1 else [f"read sheet '{ws.title}' of {len(wb.sheetnames)}"]
        header, rows, nums = None, [], []
        for i, r in enumerate(ws.iter_rows(values_only=True), start=1):
            if r is None or all(v is None or (isinstance(v, str) and not v.strip()) for v in r):
                continue
            if header is None:
                header = [_canon_header(h) for h in r]
                continue
            rows.append((list(r) + [None] * len(header))[:len(header)])
            nums.append(i)
    finally:
        wb.close()
    if header is None:
        raise ImportFailure(f"{filename}: the workbook is empty")
    return RawTable(header, rows, nums, notes, "row")


def read_geojson_bytes(data: bytes, filename: str) -> RawTable:
    text, notes = _decode(data, filename)
    if not text.strip():
        raise ImportFailure(f"{filename}: the file is empty")
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as e:
        raise ImportFailure(f"{filename}: not valid JSON (line {e.lineno}: {e.msg})")
    if isinstance(obj, dict) and obj.get("type") == "Feature":
        feats = [obj]
    elif isinstance(obj, dict) and obj.get("type") == "FeatureCollection" and isinstance(obj.get("features"), list):
        feats = obj["features"]
    else:
        raise ImportFailure(f"{filename}: not a GeoJSON FeatureCollection")
    crs = json.dumps((obj.get("crs") or {}) if isinstance(obj, dict) else {})
    bng = "27700" in crs
    if bng:
        notes.append("CRS EPSG:27700: coordinates read as easting/northing")
    recs, nums, bad = [], [], []
    for i, f in enumerate(feats, start=1):
        if not isinstance(f, dict):
            bad.append((i, "not a GeoJSON Feature object"))
            continue
        props = f.get("properties") or {}
        if not isinstance(props, dict):
            bad.append((i, "properties is not an object"))
            continue
        rec = {_canon_header(k): v for k, v in props.items()}
        geom = f.get("geometry")
        if geom:
            if not isinstance(geom, dict) or geom.get("type") != "Point":
                bad.append((i, f"geometry is {geom.get('type') if isinstance(geom, dict) else 'invalid'}; only Point features are services"))
                continue
            c = geom.get("coordinates") or []
            if len(c) < 2:
                bad.append((i, "Point geometry without two coordinates"))
                continue
            if bng:
                rec["easting"], rec["northing"] = c[0], c[1]
            else:
                rec["lon"], rec["lat"] = c[0], c[1]
        recs.append(rec)
        nums.append(i)
    cols = []
    for r in recs:
        for k in r:
            if k not in cols:
                cols.append(k)
    rows = [[r.get(c) for c in cols] for r in recs]
    return RawTable(cols, rows, nums, notes, "feature", bad)


def read_table(data: bytes, filename: str, config: dict | None = None) -> RawTable:
    """Bytes of a CSV / XLSX / GeoJSON file -> RawTable; ImportFailure for whole-file problems."""
    cfg = config or load_config()
    limit = int(cfg.get("import_limits", {}).get("max_bytes", 20_000_000))
    if data is None or len(data) == 0:
        raise ImportFailure(f"{filename}: the file is empty")
    if len(data) > limit:
        raise ImportFailure(f"{filename}: file is {len(data) / 1e6:.1f} MB, above the {limit / 1e6:.0f} MB limit "
                            f"for service files; split it or remove unused columns")
    ext = Path(filename).suffix.lower()
    if ext in (".xlsx", ".xlsm") or (ext not in (".csv", ".txt", ".tsv", ".json", ".geojson") and data[:2] == b"PK"):
        t = read_xlsx_bytes(data, filename)
    elif ext in (".xls",):
        raise ImportFailure(f"{filename}: old .xls workbooks are not supported; save as .xlsx or CSV")
    elif ext in (".geojson", ".json") or data.lstrip()[:1] == b"{":
        t = read_geojson_bytes(data, filename)
    else:
        t = read_csv_bytes(data, filename)
    max_rows = int(cfg.get("import_limits", {}).get("max_rows", 100_000))
    if len(t.rows) > max_rows:
        raise ImportFailure(f"{filename}: {len(t.rows)} rows, above the {max_rows} row limit")
    known = set(SCHEMA) | {"site_ref_or_id"}
    if not known.intersection(t.columns) or not ({"name"} & set(t.columns)):
        seen = ", ".join(repr(c) for c in t.columns[:8]) or "none"
        hint = ""
        if len(t.columns) == 1 and re.search(r"[;,\t|]", t.columns[0] or ""):
            hint = " — the delimiter may be wrong"
        raise ImportFailure(f"{filename}: no 'name' column (found {seen}{hint}); "
                            f"expected the schema in data/templates/README.md")
    return t


# --- cell parsing ------------------------------------------------------------------

_CTRL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_MARKUP = re.compile(r"<\s*/?\s*[a-zA-Z!][^>]*>|javascript:|on\w+\s*=", re.I)


def _text(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        if np.isnan(v):
            return ""
        return repr(int(v)) if v.is_integer() else repr(v)
    if isinstance(v, (dt.datetime, dt.date)):
        return v.isoformat()[:10]
    return _CTRL.sub("", str(v)).strip()


def _number(v) -> float | None:
    """Float from a cell, None when blank; raises ValueError when not a number."""
    if v is None:
        return None
    if isinstance(v, bool):
        raise ValueError(str(v))
    if isinstance(v, (int, float)):
        return None if (isinstance(v, float) and np.isnan(v)) else float(v)
    s = str(v).strip().replace("\u2212", "-")
    if not s:
        return None
    if re.fullmatch(r"-?\d+,\d+", s):          # decimal comma (European Excel)
        s = s.replace(",", ".")
    x = float(s)                               # ValueError if junk
    if not np.isfinite(x):
        raise ValueError(s)
    return x


def _date(v) -> str | None:
    """ISO date string from a cell; None when blank; ValueError when not a date."""
    if v is None:
        return None
    if isinstance(v, dt.datetime):
        return v.date().isoformat()
    if isinstance(v, dt.date):
        return v.isoformat()
    s = str(v).strip()
    if not s:
        return None
    for fmt in ("%Y-%m-%d", "%d/%m/%Y", "%Y%m%d", "%d-%m-%Y", "%d.%m.%Y", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"):
        try:
            return dt.datetime.strptime(s, fmt).date().isoformat()
        except ValueError:
            pass
    raise ValueError(s)


def _time(v) -> str | None:
    if v is None:
        return None
    if isinstance(v, dt.time):
        return v.strftime("%H:%M")
    if isinstance(v, dt.datetime):
        return v.strftime("%H:%M")
    if isinstance(v, float) and 0 <= v < 1:     # Excel time fraction
        m = int(round(v * 24 * 60))
        return f"{m // 60:02d}:{m % 60:02d}"
    s = str(v).strip()
    if not s:
        return None
    m = re.fullmatch(r"(\d{1,2})[:.](\d{2})(?::\d{2})?", s)
    if not m or int(m.group(1)) > 23 or int(m.group(2)) > 59:
        raise ValueError(s)
    return f"{int(m.group(1)):02d}:{m.group(2)}"


# --- validation --------------------------------------------------------------------

@dataclass
class ImportResult:
    file: str
    records: pd.DataFrame                   # accepted rows, RECORD_COLUMNS
    rejected: pd.DataFrame                  # file, row, id, name, reason
    warnings: pd.DataFrame                  # file, row, id, name, warning (row still loaded)
    notes: list[str] = field(default_factory=list)
    fatal: str | None = None               # whole file refused

    @property
    def ok(self) -> bool:
        return self.fatal is None

    def summary(self) -> str:
        if self.fatal:
            return self.fatal
        s = f"{self.file}: {len(self.records)} row(s) loaded, {len(self.rejected)} rejected"
        if len(self.warnings):
            s += f", {len(self.warnings)} warning(s)"
        if self.notes:
            s += " (" + "; ".join(self.notes) + ")"
        return s


def _empty_records() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in RECORD_COLUMNS})


def _problem_frame(items, col) -> pd.DataFrame:
    return pd.DataFrame(items, columns=["file", "row", "id", "name", col])


def _short(s: str, n: int = 40) -> str:
    s = str(s)
    return s if len(s) <= n else s[: n - 1] + "…"


def validate_rows(table: RawTable, filename: str, *, default_category: str | None = None,
                  config: dict | None = None, source_defaults: dict | None = None,
                  illustrative: bool = False, data_date: str | None = None) -> ImportResult:
    """Validate every row of `table`; return accepted records and the row report."""
    cfg = config or load_config()
    cats = cfg["categories"]
    fname = Path(filename).name
    label = table.row_label
    rejected, warnings = [], []
    for rn, why in table.bad_rows:
        rejected.append((fname, rn, "", "", why))
    cols = table.columns
    idx = {c: i for i, c in enumerate(cols)}
    has = lambda c: c in idx  # noqa: E731

    def cell(row, c):
        return row[idx[c]] if c in idx else None

    # pass 1: per-row parsing into staged dicts
    staged = []
    seen_ids: dict[str, int] = {}
    for row, rn in zip(table.rows, table.rownums):
        rec = {c: "" for c in SCHEMA}
        for c in TEXT_FIELDS:
            if has(c):
                rec[c] = _text(cell(row, c))
        if has("site_ref_or_id"):
            v = _text(cell(row, "site_ref_or_id"))
            rec["site_ref"] = rec["site_ref"] or v
            rec["id"] = rec["id"] or v
        if source_defaults:
            for k, v in source_defaults.items():
                if not rec.get(k):
                    rec[k] = v
        rid, name = rec["id"], rec["name"]
        reasons, warns = [], []

        def reject(msg):
            reasons.append(msg)

        if not name:
            reject("missing name")
        elif len(name) > MAX_NAME:
            rec["name"] = name[:MAX_NAME]
            warns.append(f"name longer than {MAX_NAME} characters: truncated")
        if name and _MARKUP.search(name):
            warns.append("name contains HTML/script-like text: it is shown as plain text, never run")
        for c in TEXT_FIELDS:
            v = rec[c]
            if v and v[0] in "=+-@" and not re.fullmatch(r"[+-]?\d+(\.\d+)?", v):
                warns.append(f"'{c}' starts with '{v[0]}': kept as text, neutralised (') when exported to CSV")
        cat = (rec["category"] or default_category or "").strip().lower().replace(" ", "_").replace("-", "_")
        cat = {"gp_practice": "gp", "gp_practices": "gp", "hospitals": "hospital", "bus": "hari_bus",
               "hari": "hari_bus", "hari_bus_stop": "hari_bus", "alcohol_care_team": "act"}.get(cat, cat)
        if not cat:
            reject(f"missing category (one of {', '.join(cats)})")
        elif cat not in cats:
            reject(f"unknown category '{_short(rec['category'])}' (valid: {', '.join(cats)})")
        rec["category"] = cat
        subs = (cats.get(cat) or {}).get("subcategories") or {}
        if subs and rec["subcategory"]:
            sc = rec["subcategory"].lower().replace(" ", "_")
            if sc not in subs:
                reject(f"unknown subcategory '{_short(rec['subcategory'])}' for {cat} (valid: {', '.join(subs)})")
            rec["subcategory"] = sc
        st = (rec["status"] or "open").lower()
        if st not in STATUSES:
            reject(f"status '{_short(rec['status'])}' is not one of {', '.join(STATUSES)}")
        rec["status"] = st
        for c in ("opened", "closed", "event_date"):
            try:
                rec[c] = _date(cell(row, c)) if has(c) else (source_defaults or {}).get(c) or None
            except ValueError as e:
                reject(f"bad date in '{c}': '{_short(e)}' (use YYYY-MM-DD)")
                rec[c] = None
        if rec["opened"] and rec["closed"] and rec["closed"] < rec["opened"]:
            reject(f"closed date {rec['closed']} is before opened date {rec['opened']}")
        for c in ("start_time", "end_time"):
            try:
                rec[c] = _time(cell(row, c)) if has(c) else None
            except ValueError as e:
                reject(f"bad time in '{c}': '{_short(e)}' (use HH:MM)")
                rec[c] = None
        if rec["start_time"] and rec["end_time"] and rec["end_time"] <= rec["start_time"]:
            reject(f"end_time {rec['end_time']} is not after start_time {rec['start_time']}")
        kind = (cats.get(cat) or {}).get("kind", "site")
        if kind == "event" and cat in cats and not rec["event_date"]:
            reject("a HARI bus stop needs an event_date")
        if kind == "event" and not rec["place"]:
            rec["place"] = rec["name"]

        # coordinates
        lat = lon = e = n = None
        loc = None
        try:
            lat = _number(cell(row, "lat")) if has("lat") else None
            lon = _number(cell(row, "lon")) if has("lon") else None
        except ValueError:
            reject(f"lat/lon are not numbers ('{_short(_text(cell(row, 'lat')))}', '{_short(_text(cell(row, 'lon')))}')")
            lat = lon = None
        try:
            e = _number(cell(row, "easting")) if has("easting") else None
            n = _number(cell(row, "northing")) if has("northing") else None
        except ValueError:
            reject(f"easting/northing are not numbers ('{_short(_text(cell(row, 'easting')))}', "
                   f"'{_short(_text(cell(row, 'northing')))}')")
            e = n = None
        if (lat is None) != (lon is None):
            reject("only one of lat/lon given")
            lat = lon = None
        if (e is None) != (n is None):
            reject("only one of easting/northing given")
            e = n = None
        if lat is not None:
            if abs(lat) > 90 or abs(lon) > 180:
                if 0 <= lat <= 1_300_000 and 0 <= lon <= 1_300_000 and max(lat, lon) > 1000:
                    reject(f"lat/lon ({lat:g}, {lon:g}) look like British National Grid easting/northing: "
                           f"put them in the easting/northing columns")
                else:
                    reject(f"lat/lon ({lat:g}, {lon:g}) out of range")
            elif -9 <= lat <= 2 and 49 <= lon <= 61:
                reject(f"lat/lon swapped? lat={lat:g}, lon={lon:g} (in the UK lat is about 50-60, lon about -8 to 2)")
            else:
                loc = "lat/lon"
        elif e is not None:
            if abs(e) <= 180 and abs(n) <= 90:
                reject(f"easting/northing ({e:g}, {n:g}) look like lat/lon degrees: put them in the lat/lon columns")
            elif not (0 <= e <= 700_000 and 0 <= n <= 1_300_000):
                reject(f"easting/northing ({e:g}, {n:g}) outside the British National Grid")
            else:
                loc = "easting/northing"
        pc_raw = rec["postcode"]
        pc = normalise_postcode(pc_raw) if pc_raw else None
        if pc_raw and not pc:
            (warns if (loc or rec["site_ref"]) else reasons).append(
                f"postcode '{_short(pc_raw)}' is not a valid UK postcode")
        if pc:
            rec["postcode"] = pc
        if rid:
            if rid in seen_ids:
                reject(f"duplicate id '{_short(rid)}' (first used at {label} {seen_ids[rid]})")
            else:
                seen_ids[rid] = rn
        staged.append(dict(rec=rec, rn=rn, reasons=reasons, warns=warns, lat=lat, lon=lon, e=e, n=n,
                           loc=loc, pc=pc))

    # pass 2: vectorised geocoding (postcodes, site refs), transforms, footprint
    need_pc = [s for s in staged if s["pc"]]
    if need_pc:
        lk = postcode_lookup().lookup([s["pc"] for s in need_pc])
        for s, (_, r) in zip(need_pc, lk.iterrows()):
            s["pc_hit"] = (r["easting"], r["northing"], r["lat"], r["lon"]) if r["found"] else None
    refs = None
    for s in staged:
        rec = s["rec"]
        if s["reasons"] or s["loc"]:
            continue
        if rec["site_ref"]:
            refs = site_refs() if refs is None else refs
            key = rec["site_ref"].upper()
            if key in refs.index:
                r = refs.loc[key]
                s["lat"], s["lon"], s["loc"] = float(r["lat"]), float(r["lon"]), f"site_ref {key}"
                if not rec["postcode"]:
                    rec["postcode"] = r["postcode"]
                continue
            if not s["pc"]:
                s["reasons"].append(f"unknown site_ref '{_short(rec['site_ref'])}' (not an ODS code in the "
                                    f"staged hospital or GP files) and no postcode")
                continue
            s["warns"].append(f"unknown site_ref '{_short(rec['site_ref'])}': located by postcode instead")
        if s["pc"]:
            hit = s.get("pc_hit")
            if hit is None:
                s["reasons"].append(f"unknown postcode '{s['pc']}' (not a live postcode in Code-Point Open "
                                    f"2025 for the LSC footprint)")
            else:
                s["e"], s["n"], s["lat"], s["lon"] = hit
                s["loc"] = "postcode"
        elif not rec["postcode"]:
            s["reasons"].append("no location: give lat/lon, easting/northing, site_ref or postcode")
    # transforms
    ll = [s for s in staged if not s["reasons"] and s["loc"] and s["e"] is None]
    if ll:
        ee, nn = lonlat_to_bng([s["lon"] for s in ll], [s["lat"] for s in ll])
        for s, a, b in zip(ll, np.atleast_1d(ee), np.atleast_1d(nn)):
            s["e"], s["n"] = float(a), float(b)
    en = [s for s in staged if not s["reasons"] and s["loc"] and s["lat"] is None]
    if en:
        lo, la = bng_to_lonlat([s["e"] for s in en], [s["n"] for s in en])
        for s, a, b in zip(en, np.atleast_1d(lo), np.atleast_1d(la)):
            s["lon"], s["lat"] = float(a), float(b)
    located = [s for s in staged if not s["reasons"] and s["loc"]]
    if located:
        inside = in_footprint([s["e"] for s in located], [s["n"] for s in located], cfg)
        for s, ok in zip(located, inside):
            if not ok:
                d = km_outside(s["e"], s["n"], cfg)
                s["reasons"].append(f"point outside the footprint: {s['lat']:.4f}, {s['lon']:.4f} is {d:,.1f} km "
                                    f"beyond the LSC boundary ({SEA_OR_ABROAD})")
    # postcode cross-check when coordinates were given
    for s in located:
        if s["reasons"] or s["loc"] not in ("lat/lon", "easting/northing"):
            continue
        hit = s.get("pc_hit")
        if s["pc"] and hit is None:
            s["warns"].append(f"postcode '{s['pc']}' not found in Code-Point Open; coordinates used")
        elif hit is not None:
            d = float(np.hypot(hit[0] - s["e"], hit[1] - s["n"])) / 1000
            if d > 2:
                s["warns"].append(f"coordinates are {d:.1f} km from postcode {s['pc']}'s centroid: check them")

    out = []
    for s in staged:
        rec = s["rec"]
        if s["reasons"]:
            rejected.append((fname, s["rn"], rec["id"], rec["name"], "; ".join(s["reasons"])))
            continue
        for w in s["warns"]:
            warnings.append((fname, s["rn"], rec["id"], rec["name"], w))
        if not rec["id"]:
            rec["id"] = f"{Path(fname).stem}-{s['rn']}"
            if rec["id"] in seen_ids:
                rec["id"] += "-auto"
        rec.update(lat=round(s["lat"], 6), lon=round(s["lon"], 6), easting=round(s["e"], 1),
                   northing=round(s["n"], 1))
        rec.update(location_source=s["loc"], source_file=fname, row=s["rn"],
                   illustrative=bool(illustrative),
                   data_date=data_date or cats.get(rec["category"], {}).get("data_date", ""))
        out.append(rec)
    recs = pd.DataFrame(out, columns=RECORD_COLUMNS) if out else _empty_records()
    for c in ("lat", "lon", "easting", "northing"):
        recs[c] = recs[c].astype(float)
    recs["row"] = recs["row"].astype("Int64")
    recs["illustrative"] = recs["illustrative"].astype(bool)
    rej = _problem_frame(rejected, "reason").sort_values("row", kind="stable").reset_index(drop=True)
    return ImportResult(fname, recs, rej, _problem_frame(warnings, "warning"), list(table.notes))


def import_bytes(data: bytes, filename: str, *, default_category: str | None = None,
                 config: dict | None = None, illustrative: bool = False,
                 data_date: str | None = None) -> ImportResult:
    """Read and validate an uploaded/saved file. Never raises for bad content: a
    whole-file problem comes back as `fatal`, row problems in `rejected`."""
    fname = Path(filename).name or "upload"
    try:
        table = read_table(data, fname, config)
    except ImportFailure as e:
        empty = _problem_frame([], "reason")
        return ImportResult(fname, _empty_records(), empty, _problem_frame([], "warning"), [], fatal=str(e))
    return validate_rows(table, fname, default_category=default_category, config=config,
                         illustrative=illustrative, data_date=data_date)


def import_file(path: str | os.PathLike, **kw) -> ImportResult:
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as e:
        empty = _problem_frame([], "reason")
        return ImportResult(p.name, _empty_records(), empty, _problem_frame([], "warning"), [],
                            fatal=f"{p}: cannot read ({e.strerror})")
    return import_bytes(data, p.name, **kw)


# --- shipped sources ---------------------------------------------------------------

def _table_from_frame(df: pd.DataFrame, rownums=None, notes=None) -> RawTable:
    cols = [_canon_header(c) for c in df.columns]
    rows = df.astype(object).where(df.notna(), None).values.tolist()
    nums = list(rownums) if rownums is not None else list(range(2, len(df) + 2))
    return RawTable(cols, rows, nums, notes or [])


def _adapt_epraccur(path: Path, src: dict) -> RawTable:
    d = pd.read_csv(path, dtype=str, keep_default_na=False)
    nums = np.arange(2, len(d) + 2)
    flt = src.get("filter") or {}
    keep = np.ones(len(d), dtype=bool)
    for k, v in flt.items():
        if k not in d.columns:
            raise SourceError(path, f"filter column missing", column=k)
        keep &= d[k].str.lower().eq(str(v).lower()).to_numpy()
    d, nums = d[keep], nums[keep]
    addr = d[[f"address_line_{i}" for i in range(1, 6)]].apply(
        lambda r: ", ".join(x.strip() for x in r if x and x.strip()), axis=1)
    out = pd.DataFrame({
        "id": d["organisation_code"], "name": d["name"], "category": "gp", "address": addr,
        "postcode": d["postcode"], "easting": d["easting"], "northing": d["northing"],
        "operator": d["sub_icb_name"], "status": "open", "opened": d["open_date"],
        "closed": d["close_date"], "source": src.get("source_label", ""),
    })
    return _table_from_frame(out, nums)


def _adapt_hospitals(path: Path, src: dict) -> RawTable:
    d = pd.read_csv(path, dtype=str, keep_default_na=False)
    nums = np.arange(2, len(d) + 2)
    keep = np.ones(len(d), dtype=bool)
    if src.get("nhs_only"):
        keep &= (d["Sector"].eq("NHS Sector") | d["ParentODSCode"].str.startswith("R")).to_numpy()
        keep &= ~d["OrganisationCode"].str.match(r"^N").to_numpy() | d["Sector"].eq("NHS Sector").to_numpy()
    keep &= ~d["OrganisationCode"].isin(src.get("exclude_ids") or []).to_numpy()
    d, nums = d[keep], nums[keep]
    addr = d[["Address1", "Address2", "Address3", "City", "County"]].apply(
        lambda r: ", ".join(dict.fromkeys(x.strip() for x in r if x and x.strip())), axis=1)
    out = pd.DataFrame({
        "id": d["OrganisationCode"], "name": d["OrganisationName"], "category": "hospital", "address": addr,
        "postcode": d["Postcode"], "lat": d["Latitude"], "lon": d["Longitude"], "operator": d["ParentName"],
        "status": "open", "source": src.get("source_label", ""), "source_url": d["Website"],
    })
    return _table_from_frame(out, nums)


ADAPTERS = {"epraccur": _adapt_epraccur, "nhs_website_hospitals": _adapt_hospitals}


def _load_source(src: dict, cfg: dict) -> ImportResult:
    base = source_dir() if src.get("dir") == "source" else ROOT
    path = base / src["path"]
    cat = src["category"]
    dd = cfg["categories"][cat].get("data_date")
    if not path.exists():
        empty = _problem_frame([], "reason")
        return ImportResult(path.name, _empty_records(), empty, _problem_frame([], "warning"), [],
                            fatal=f"{path}: shipped service file not found")
    if src.get("adapter"):
        try:
            table = ADAPTERS[src["adapter"]](path, src)
        except (KeyError, ValueError, pd.errors.ParserError) as e:
            empty = _problem_frame([], "reason")
            return ImportResult(path.name, _empty_records(), empty, _problem_frame([], "warning"), [],
                                fatal=f"{path}: unexpected layout ({e})")
        return validate_rows(table, path.name, default_category=cat, config=cfg,
                             illustrative=bool(src.get("illustrative")), data_date=dd)
    return import_file(path, default_category=cat, config=cfg,
                       illustrative=bool(src.get("illustrative")), data_date=dd)


# --- user data (saved uploads) -------------------------------------------------------

def user_services_dir() -> Path:
    return user_data_dir() / "services"


def atomic_write_bytes(path: Path, data: bytes) -> Path:
    """Write via a temp file in the same folder + os.replace: never a half-written file."""
    return write_atomic(path, data, fsync=True)


def _safe_stem(name: str) -> str:
    s = re.sub(r"[^A-Za-z0-9_.-]+", "_", Path(name).stem).strip("._") or "services"
    return s[:60]


def save_user_records(records: pd.DataFrame, original_name: str) -> Path:
    """Save accepted records (schema columns) as a CSV in the user-data folder.
    Never overwrites: an existing name gets a numbered suffix."""
    d = user_services_dir()
    d.mkdir(parents=True, exist_ok=True)
    stem = _safe_stem(original_name)
    p = d / f"{stem}.csv"
    k = 2
    while p.exists():
        p = d / f"{stem}-{k}.csv"
        k += 1
    cols = [c for c in SCHEMA if c in records.columns]
    buf = io.StringIO()
    records[cols].to_csv(buf, index=False, lineterminator="\n")
    return atomic_write_bytes(p, buf.getvalue().encode("utf-8"))


def user_files() -> list[Path]:
    d = user_services_dir()
    return sorted(p for p in d.glob("*") if p.suffix.lower() in (".csv", ".xlsx", ".geojson", ".json")
                  and not p.name.startswith(".")) if d.exists() else []


# --- the register ------------------------------------------------------------------

@dataclass
class Register:
    records: pd.DataFrame
    results: list[ImportResult]
    config: dict

    @property
    def rejected(self) -> pd.DataFrame:
        frames = [r.rejected for r in self.results if len(r.rejected)]
        return pd.concat(frames, ignore_index=True) if frames else _problem_frame([], "reason")

    @property
    def fatal(self) -> list[str]:
        return [r.fatal for r in self.results if r.fatal]

    def counts(self) -> dict[str, int]:
        return self.records["category"].value_counts().to_dict()

    def category(self, cat: str) -> pd.DataFrame:
        return self.records[self.records["category"] == cat]

    def with_upload(self, result: ImportResult, origin: str = "upload") -> "Register":
        """New register including an uploaded file's accepted rows (for the session)."""
        if result.fatal or result.records.empty:
            return Register(self.records, self.results + [result], self.config)
        add = result.records.copy()
        add["source_file"] = f"{origin}: {result.file}"
        recs = pd.concat([self.records, add], ignore_index=True)
        return Register(recs, self.results + [result], self.config)


def load_register(*, include_user: bool = True, config: dict | None = None) -> Register:
    """All shipped sources (config/services.yaml) + saved user files."""
    cfg = config or load_config()
    results = []
    frames = []
    for src in cfg.get("sources", []):
        r = _load_source(src, cfg)
        results.append(r)
        if len(r.records):
            frames.append(r.records)
    if include_user:
        for p in user_files():
            r = import_file(p, config=cfg)
            r.records["source_file"] = f"user data: {p.name}"
            results.append(r)
            if len(r.records):
                frames.append(r.records)
    recs = pd.concat(frames, ignore_index=True) if frames else _empty_records()
    return Register(recs, results, cfg)


# --- status as of a date -------------------------------------------------------------

def effective_status(records: pd.DataFrame, as_of: dt.date | str | None = None) -> pd.Series:
    """Status on `as_of` (default today): closed if a closed date has passed (or status
    is closed with no dates), planned if the opened date is still ahead (or status is
    planned with no opened date), else open. Bus stops keep their own status."""
    d = (pd.Timestamp(as_of) if as_of is not None else pd.Timestamp.today()).date().isoformat()
    st = records["status"].fillna("open").astype(str).to_numpy().copy()
    opened = records["opened"].fillna("").astype(str).to_numpy()
    closed = records["closed"].fillna("").astype(str).to_numpy()
    out = np.where(st == "closed", "closed", "open").astype(object)
    has_open = opened != ""
    out = np.where((st == "planned") & (~has_open | (opened > d)), "planned", out)
    out = np.where(has_open & (opened > d), "planned", out)
    out = np.where((st == "planned") & has_open & (opened <= d), "open", out)
    out = np.where((closed != "") & (closed <= d), "closed", out)
    out = np.where((st == "closed") & (closed != "") & (closed > d) & ~(has_open & (opened > d)), "open", out)
    return pd.Series(out, index=records.index, name="status_on")


def open_sites(records: pd.DataFrame, cats, as_of=None, *, subcategories=None,
               events_from=None, events_to=None) -> pd.DataFrame:
    """Open sites of the chosen categories on `as_of`. HARI bus stops count as sites
    when their event_date is within [events_from, events_to] (default: all stops)."""
    cats = [cats] if isinstance(cats, str) else list(cats)
    r = records[records["category"].isin(cats)]
    if subcategories:
        r = r[r["subcategory"].isin(subcategories) | (r["category"] != "screening")]
    st = effective_status(r, as_of)
    r = r[st == "open"]
    ev = r["category"] == "hari_bus"
    if ev.any() and (events_from or events_to):
        d = r["event_date"].fillna("")
        keep = ~ev | ((d >= (str(events_from) if events_from else "")) & (d <= (str(events_to) if events_to else "9999")))
        r = r[keep]
    return r
