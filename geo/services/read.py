"""Reading service files: CSV / XLSX through geo.tabular (shared limits and rules),
GeoJSON Point features here; header spellings mapped to the schema."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from geo.services.config import ALIASES, ImportFailure, SCHEMA, load_config
from geo.tabular import (Limits, Table, TabularError, check_bytes, decode_text, describe_columns, display_name,
                         is_xlsx, read_tabular, short, sniff_delimiter)


# --- reading files -----------------------------------------------------------------

@dataclass
class RawTable:
    columns: list[str]            # canonical names (unknown columns kept as given)
    rows: list[list]              # cell values (str, numbers, dates)
    rownums: list[int]            # row number to report for each row
    notes: list[str] = field(default_factory=list)
    row_label: str = "row"
    bad_rows: list[tuple[int, str]] = field(default_factory=list)   # unparseable rows
    decimal: str = "."            # the file's decimal mark (',' in ';'-separated files)
    fields: dict = field(default_factory=dict)                      # (row, reason) -> field of a bad row


def _canon_header(h) -> str:
    s = re.sub(r"[\s\-/]+", "_", str(h if h is not None else "").strip().lower()).strip("_")
    s = s.lstrip("\ufeff")
    return ALIASES.get(s, s)


def _decode(data: bytes, filename: str) -> tuple[str, list[str]]:
    """Kept for callers of the old name: geo.tabular.decode_text."""
    try:
        return decode_text(data, filename)
    except TabularError as e:
        raise ImportFailure(str(e))


def _sniff_delimiter(text: str) -> str:
    return sniff_delimiter(text)


def import_limits(config: dict | None = None) -> Limits:
    """Limits for service (and venue) files, from config/services.yaml import_limits."""
    lim = (config or load_config()).get("import_limits", {}) or {}
    return Limits(max_bytes=int(lim.get("max_bytes", 20_000_000)), max_rows=int(lim.get("max_rows", 100_000)),
                  max_cols=int(lim.get("max_cols", 100)))


def _from_tabular(t: Table) -> RawTable:
    """geo.tabular Table -> RawTable with canonical column names; two headers meaning
    the same schema column (e.g. 'lat' and 'Latitude') are refused."""
    cols = [_canon_header(c) for c in t.columns]
    seen: dict[str, str] = {}
    for orig, c in zip(t.columns, cols):
        if c in seen:
            raise ImportFailure(f"{t.file}: columns {short(seen[c], 30)!r} and {short(orig, 30)!r} both mean "
                                f"'{c}'; keep one")
        seen[c] = orig
    rows = t.frame.to_numpy(dtype=object).tolist()
    bad = [(p.row, p.reason) for p in t.problems]
    raw = RawTable(cols, rows, list(t.rownums), list(t.notes), "row", bad)
    raw.decimal = t.decimal
    raw.fields = {(p.row, p.reason): p.field for p in t.problems}
    return raw


def read_csv_bytes(data: bytes, filename: str, limits: Limits | None = None) -> RawTable:
    try:
        return _from_tabular(read_tabular(data, filename, limits=limits, what="service file"))
    except TabularError as e:
        raise ImportFailure(str(e))


def read_xlsx_bytes(data: bytes, filename: str, limits: Limits | None = None) -> RawTable:
    try:
        return _from_tabular(read_tabular(data, filename, limits=limits, prefer_sheets=("services", "venues"),
                                          what="service file"))
    except TabularError as e:
        raise ImportFailure(str(e))


def _geojson_features(data: bytes, filename: str, limits: Limits) -> tuple[list, bool, list[str]]:
    text, notes = _decode(data, filename)
    if not text.strip():
        raise ImportFailure(f"{filename}: the file is empty")
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as e:
        raise ImportFailure(f"{filename}: not valid JSON (line {e.lineno}: {e.msg})")
    except RecursionError:
        raise ImportFailure(f"{filename}: JSON nested too deeply to be GeoJSON")
    if isinstance(obj, dict) and obj.get("type") == "Feature":
        feats = [obj]
    elif isinstance(obj, dict) and obj.get("type") == "FeatureCollection" and isinstance(obj.get("features"), list):
        feats = obj["features"]
    else:
        raise ImportFailure(f"{filename}: not a GeoJSON FeatureCollection (no \"features\" list)")
    if not feats:
        raise ImportFailure(f"{filename}: the FeatureCollection has no features")
    if len(feats) > limits.max_rows:
        raise ImportFailure(f"{filename}: {len(feats):,} features, above the {limits.max_rows:,} limit; split the file")
    crs = obj.get("crs") if isinstance(obj.get("crs"), dict) else {}
    bng = "27700" in json.dumps(crs)[:500]
    if bng:
        notes.append("CRS EPSG:27700: coordinates read as easting/northing")
    return feats, bng, notes


def _feature_record(f, bng: bool) -> tuple[dict | None, str | None, str | None]:
    """(record, problem, geometry type) of one feature."""
    if not isinstance(f, dict):
        return None, "not a GeoJSON Feature object", None
    props = f.get("properties") or {}
    if not isinstance(props, dict):
        return None, "properties is not an object", None
    rec = {_canon_header(k): v for k, v in list(props.items())[:500]}
    geom = f.get("geometry")
    if not geom:
        return rec, None, None
    gtype = geom.get("type") if isinstance(geom, dict) else None
    if gtype != "Point":
        return None, (f"geometry is {short(gtype, 20) if isinstance(gtype, str) else 'invalid'}: "
                      f"Point geometry needed (only Point features are services)"), gtype
    c = geom.get("coordinates")
    if not isinstance(c, list) or len(c) < 2 or not all(isinstance(x, (int, float)) and not isinstance(x, bool)
                                                       for x in c[:2]):
        return None, "Point geometry without two numeric coordinates", gtype
    if bng:
        rec["easting"], rec["northing"] = c[0], c[1]
    else:
        rec["lon"], rec["lat"] = c[0], c[1]
    return rec, None, gtype


def read_geojson_bytes(data: bytes, filename: str, limits: Limits | None = None) -> RawTable:
    feats, bng, notes = _geojson_features(data, filename, limits or Limits())
    recs, nums, bad, other_types = [], [], [], {}
    for i, f in enumerate(feats, start=1):
        rec, problem, gtype = _feature_record(f, bng)
        if problem:
            bad.append((i, problem))
            if gtype and gtype != "Point":
                other_types[str(gtype)[:20]] = other_types.get(str(gtype)[:20], 0) + 1
            continue
        recs.append(rec)
        nums.append(i)
    if not recs and other_types:
        kinds = ", ".join(f"{n} {t}" for t, n in other_types.items())
        raise ImportFailure(f"{filename}: Point geometry needed: the features are {kinds}; services are points "
                            f"(give each site a Point, or use a CSV with postcodes or lat/lon)")
    cols = []
    for r in recs:
        for k in r:
            if k not in cols:
                cols.append(k)
    rows = [[r.get(c) for c in cols] for r in recs]
    return RawTable(cols, rows, nums, notes, "feature", bad)


def read_table(data: bytes, filename: str, config: dict | None = None) -> RawTable:
    """Bytes of a CSV / XLSX / GeoJSON file -> RawTable; ImportFailure for whole-file problems
    (empty, too big, header only, duplicate columns, no name column...)."""
    limits = import_limits(config)
    name = display_name(filename)
    try:
        check_bytes(data, name, limits, "service file")     # the same pre-checks as every tabular file
    except TabularError as e:
        raise ImportFailure(str(e)) from None
    ext = Path(name).suffix.lower()
    if ext in (".geojson", ".json") or (ext not in (".csv", ".txt", ".tsv", ".xlsx", ".xlsm")
                                        and data.lstrip()[:1] == b"{"):
        t = read_geojson_bytes(data, name, limits)
    elif is_xlsx(data, name) or ext == ".xls":
        t = read_xlsx_bytes(data, name, limits)
    else:
        t = read_csv_bytes(data, name, limits)
    known = set(SCHEMA) | {"site_ref_or_id"}
    if not known.intersection(t.columns) or "name" not in t.columns:
        hint = ""
        if len(t.columns) == 1 and re.search(r"[;,\t|]", t.columns[0] or ""):
            hint = " — the delimiter may be wrong"
        raise ImportFailure(f"{name}: no 'name' column (found {describe_columns(t.columns)}{hint}); "
                            f"expected the schema in data/templates/README.md")
    return t
