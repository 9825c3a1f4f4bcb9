"""Reading service files: CSV / XLSX through geo.tabular (shared limits and rules),
GeoJSON Point features here; header spellings mapped to the schema."""
from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from geo.services.config import ALIASES, ImportFailure, SCHEMA, load_config


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
