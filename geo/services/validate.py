"""Row-level validation of service tables: every rejected row with its file, row,
field and reason; accepted rows located (lat/lon, easting/northing, site_ref, postcode)."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
import numpy as np
import pandas as pd
from geo.tabular import display_name
from geo.geocode import bng_to_lonlat, lonlat_to_bng, normalise_postcode, postcode_lookup

from geo.services.cells import _MARKUP, _date, _number, _text, _time
from geo.services.config import (MAX_NAME, RECORD_COLUMNS, SCHEMA, SEA_OR_ABROAD, STATUSES, TEXT_FIELDS,
                                 footprint_name, in_footprint, km_outside, load_config, site_refs, site_refs_england)
from geo.services.read import RawTable


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
    """file, row, id, name, <col>[, field]: items are 5- or 6-tuples (field last)."""
    items = [tuple(i) + ("",) * (6 - len(i)) for i in items]
    return pd.DataFrame(items, columns=["file", "row", "id", "name", col, "field"])


def _short(s: str, n: int = 40) -> str:
    s = str(s)
    return s if len(s) <= n else s[: n - 1] + "…"



CATEGORY_SPELLINGS = {"gp_practice": "gp", "gp_practices": "gp", "hospitals": "hospital", "bus": "hari_bus",
                      "hari": "hari_bus", "hari_bus_stop": "hari_bus", "alcohol_care_team": "act"}


class _Row:
    """One row on its way through validation: the record, its problems (field, reason)
    and warnings, and what is known of its location."""

    def __init__(self, rec: dict, rn: int):
        self.rec, self.rn = rec, rn
        self.reasons: list[tuple[str, str]] = []
        self.warns: list[tuple[str, str]] = []
        self.lat = self.lon = self.e = self.n = None
        self.loc: str | None = None
        self.pc: str | None = None
        self.pc_hit = None

    def reject(self, fld: str, msg: str) -> None:
        self.reasons.append((fld, msg))

    def warn(self, fld: str, msg: str) -> None:
        self.warns.append((fld, msg))


class _Cells:
    def __init__(self, table: RawTable):
        self.idx = {c: i for i, c in enumerate(table.columns)}
        self.decimal = getattr(table, "decimal", ".")

    def has(self, c: str) -> bool:
        return c in self.idx

    def get(self, row, c: str):
        return row[self.idx[c]] if c in self.idx else None


def _row_text(row, cells: _Cells, source_defaults: dict | None) -> dict:
    rec = {c: "" for c in SCHEMA}
    for c in TEXT_FIELDS:
        if cells.has(c):
            rec[c] = _text(cells.get(row, c))
    if cells.has("site_ref_or_id"):
        v = _text(cells.get(row, "site_ref_or_id"))
        rec["site_ref"] = rec["site_ref"] or v
        rec["id"] = rec["id"] or v
    for k, v in (source_defaults or {}).items():
        if not rec.get(k):
            rec[k] = v
    return rec


def _check_name_and_text(r: _Row) -> None:
    rec, name = r.rec, r.rec["name"]
    if not name:
        r.reject("name", "missing name")
    elif len(name) > MAX_NAME:
        rec["name"] = name[:MAX_NAME]
        r.warn("name", f"name longer than {MAX_NAME} characters: truncated")
    if name and _MARKUP.search(name):
        r.warn("name", "name contains HTML/script-like text: it is shown as plain text, never run")
    for c in TEXT_FIELDS:
        v = rec[c]
        if v and v[0] in "=+-@" and not re.fullmatch(r"[+-]?\d+(\.\d+)?", v):
            r.warn(c, f"'{c}' starts with '{v[0]}': kept as text, neutralised (') when exported to CSV")


def _check_category(r: _Row, cats: dict, default_category: str | None) -> None:
    rec = r.rec
    cat = (rec["category"] or default_category or "").strip().lower().replace(" ", "_").replace("-", "_")
    cat = CATEGORY_SPELLINGS.get(cat, cat)
    if not cat:
        r.reject("category", f"missing category (one of {', '.join(cats)})")
    elif cat not in cats:
        r.reject("category", f"unknown category '{_short(rec['category'])}' (valid: {', '.join(cats)})")
    rec["category"] = cat
    subs = (cats.get(cat) or {}).get("subcategories") or {}
    if subs and rec["subcategory"]:
        sc = rec["subcategory"].lower().replace(" ", "_")
        if sc not in subs:
            r.reject("subcategory", f"unknown subcategory '{_short(rec['subcategory'])}' for {cat} "
                                    f"(valid: {', '.join(subs)})")
        rec["subcategory"] = sc
    st = (rec["status"] or "open").lower()
    if st not in STATUSES:
        r.reject("status", f"status '{_short(rec['status'])}' is not one of {', '.join(STATUSES)}")
    rec["status"] = st


def _check_dates(r: _Row, row, cells: _Cells, cats: dict, source_defaults: dict | None) -> None:
    rec = r.rec
    for c in ("opened", "closed", "event_date"):
        try:
            rec[c] = _date(cells.get(row, c)) if cells.has(c) else (source_defaults or {}).get(c) or None
        except ValueError as e:
            r.reject(c, f"bad date in '{c}': {e}")
            rec[c] = None
    if rec["opened"] and rec["closed"] and rec["closed"] < rec["opened"]:
        r.reject("closed", f"closed date {rec['closed']} is before opened date {rec['opened']}")
    for c in ("start_time", "end_time"):
        try:
            rec[c] = _time(cells.get(row, c)) if cells.has(c) else None
        except ValueError as e:
            r.reject(c, f"bad time in '{c}': '{_short(e)}' (use HH:MM)")
            rec[c] = None
    if rec["start_time"] and rec["end_time"] and rec["end_time"] <= rec["start_time"]:
        r.reject("end_time", f"end_time {rec['end_time']} is not after start_time {rec['start_time']}")
    kind = (cats.get(rec["category"]) or {}).get("kind", "site")
    if kind == "event" and rec["category"] in cats and not rec["event_date"]:
        r.reject("event_date", "a HARI bus stop needs an event_date")
    if kind == "event" and not rec["place"]:
        rec["place"] = rec["name"]


def _pair(r: _Row, row, cells: _Cells, a: str, b: str):
    try:
        x = _number(cells.get(row, a), cells.decimal) if cells.has(a) else None
        y = _number(cells.get(row, b), cells.decimal) if cells.has(b) else None
    except ValueError as e:
        r.reject(f"{a}/{b}", f"{a}/{b} are not numbers ('{_short(_text(cells.get(row, a)))}', "
                             f"'{_short(_text(cells.get(row, b)))}': {e})")
        return None, None
    if (x is None) != (y is None):
        r.reject(f"{a}/{b}", f"only one of {a}/{b} given")
        return None, None
    return x, y


def _check_coords(r: _Row, row, cells: _Cells) -> None:
    lat, lon = _pair(r, row, cells, "lat", "lon")
    e, n = _pair(r, row, cells, "easting", "northing")
    if lat is not None:
        if abs(lat) > 90 or abs(lon) > 180:
            if 0 <= lat <= 1_300_000 and 0 <= lon <= 1_300_000 and max(lat, lon) > 1000:
                r.reject("lat/lon", f"lat/lon ({lat:g}, {lon:g}) look like British National Grid easting/northing: "
                                    f"put them in the easting/northing columns")
            else:
                r.reject("lat/lon", f"lat/lon ({lat:g}, {lon:g}) out of range")
        elif -9 <= lat <= 2 and 49 <= lon <= 61:
            r.reject("lat/lon", f"lat/lon swapped? lat={lat:g}, lon={lon:g} (in the UK lat is about 50-60, "
                                f"lon about -8 to 2)")
        else:
            r.lat, r.lon, r.loc = lat, lon, "lat/lon"
    elif e is not None:
        if abs(e) <= 180 and abs(n) <= 90:
            r.reject("easting/northing", f"easting/northing ({e:g}, {n:g}) look like lat/lon degrees: put them in "
                                         f"the lat/lon columns")
        elif not (0 <= e <= 700_000 and 0 <= n <= 1_300_000):
            r.reject("easting/northing", f"easting/northing ({e:g}, {n:g}) outside the British National Grid")
        else:
            r.e, r.n, r.loc = e, n, "easting/northing"
    pc_raw = r.rec["postcode"]
    r.pc = normalise_postcode(pc_raw) if pc_raw else None
    if pc_raw and not r.pc:
        (r.warn if (r.loc or r.rec["site_ref"]) else r.reject)(
            "postcode", f"postcode '{_short(pc_raw)}' is not a valid UK postcode")
    if r.pc:
        r.rec["postcode"] = r.pc


def _parse_rows(table: RawTable, cfg: dict, default_category, source_defaults) -> list[_Row]:
    """Pass 1: every row parsed and checked on its own (no look-ups yet)."""
    cats = cfg["categories"]
    cells = _Cells(table)
    staged, seen_ids = [], {}
    for row, rn in zip(table.rows, table.rownums):
        try:
            r = _Row(_row_text(row, cells, source_defaults), rn)
            _check_name_and_text(r)
            _check_category(r, cats, default_category)
            _check_dates(r, row, cells, cats, source_defaults)
            _check_coords(r, row, cells)
        except Exception as e:          # one odd row is rejected; it cannot abort the rest
            r = _Row({c: "" for c in SCHEMA}, rn)
            r.reject("", f"could not be read ({type(e).__name__})")
        rid = r.rec["id"]
        if rid:
            if rid in seen_ids:
                r.reject("id", f"duplicate id '{_short(rid)}' (first used at {table.row_label} {seen_ids[rid]})")
            else:
                seen_ids[rid] = rn
        staged.append(r)
    return staged


def _site_ref(key: str, refs: list):
    """The reference row of ODS code `key`: LSC's staged files first, then (read once,
    only when needed) England's."""
    if not refs:
        refs.append(site_refs())
    if key in refs[0].index:
        return refs[0].loc[key]
    if len(refs) == 1:
        refs.append(site_refs_england())
    return refs[1].loc[key] if key in refs[1].index else None


def _geocode(staged: list[_Row]) -> str:
    """Pass 2: postcodes (one vectorised look-up) and site references. Returns what the
    postcode look-up covers (for messages)."""
    need_pc = [s for s in staged if s.pc]
    lookup = postcode_lookup()
    if need_pc:
        lk = lookup.lookup([s.pc for s in need_pc])
        for s, (_, r) in zip(need_pc, lk.iterrows()):
            s.pc_hit = (r["easting"], r["northing"], r["lat"], r["lon"]) if r["found"] else None
    refs: list = []
    for s in staged:
        rec = s.rec
        if s.reasons or s.loc:
            continue
        if rec["site_ref"]:
            key = rec["site_ref"].upper()
            r = _site_ref(key, refs)
            if r is not None:
                s.lat, s.lon, s.loc = float(r["lat"]), float(r["lon"]), f"site_ref {key}"
                if not rec["postcode"]:
                    rec["postcode"] = r["postcode"]
                continue
            if not s.pc:
                s.reject("site_ref", f"unknown site_ref '{_short(rec['site_ref'])}' (not an ODS code in the "
                                     f"staged hospital or GP files of England) and no postcode")
                continue
            s.warn("site_ref", f"unknown site_ref '{_short(rec['site_ref'])}': located by postcode instead")
        if s.pc:
            if s.pc_hit is None:
                s.reject("postcode", f"unknown postcode '{s.pc}' (not a live postcode in Code-Point Open "
                                     f"2025 {lookup.coverage})")
            else:
                s.e, s.n, s.lat, s.lon = s.pc_hit
                s.loc = "postcode"
        elif not rec["postcode"]:
            s.reject("location", "no location: give lat/lon, easting/northing, site_ref or postcode")
    return lookup.coverage


def _outside(cfg: dict) -> str:
    name = footprint_name(cfg)
    if name == "LSC":
        return f"beyond the LSC boundary ({SEA_OR_ABROAD})"
    return f"beyond the boundary of {name} (the chosen footprint)"


def _place(staged: list[_Row], cfg: dict, coverage: str = "") -> None:
    """Pass 3: both coordinate systems filled, footprint and postcode cross-checks."""
    ll = [s for s in staged if not s.reasons and s.loc and s.e is None]
    if ll:
        ee, nn = lonlat_to_bng([s.lon for s in ll], [s.lat for s in ll])
        for s, a, b in zip(ll, np.atleast_1d(ee), np.atleast_1d(nn)):
            s.e, s.n = float(a), float(b)
    en = [s for s in staged if not s.reasons and s.loc and s.lat is None]
    if en:
        lo, la = bng_to_lonlat([s.e for s in en], [s.n for s in en])
        for s, a, b in zip(en, np.atleast_1d(lo), np.atleast_1d(la)):
            s.lon, s.lat = float(a), float(b)
    located = [s for s in staged if not s.reasons and s.loc]
    if located:
        inside = in_footprint([s.e for s in located], [s.n for s in located], cfg)
        for s, ok in zip(located, inside):
            if not ok:
                d = km_outside(s.e, s.n, cfg)
                s.reject("location", f"point outside the footprint: {s.lat:.4f}, {s.lon:.4f} is {d:,.1f} km "
                                     f"{_outside(cfg)}")
    for s in located:
        if s.reasons or s.loc not in ("lat/lon", "easting/northing"):
            continue
        if s.pc and s.pc_hit is None:
            s.warn("postcode", f"postcode '{s.pc}' not found in Code-Point Open {coverage}; coordinates used")
        elif s.pc_hit is not None:
            d = float(np.hypot(s.pc_hit[0] - s.e, s.pc_hit[1] - s.n)) / 1000
            if d > 2:
                s.warn("postcode", f"coordinates are {d:.1f} km from postcode {s.pc}'s centroid: check them")


def validate_rows(table: RawTable, filename: str, *, default_category: str | None = None,
                  config: dict | None = None, source_defaults: dict | None = None,
                  illustrative: bool = False, data_date: str | None = None) -> ImportResult:
    """Validate every row of `table`; return accepted records and the row report
    (rejected / warnings frames: file, row, id, name, reason|warning, field)."""
    cfg = config or load_config()
    cats = cfg["categories"]
    fname = display_name(filename)
    fields = getattr(table, "fields", {}) or {}
    rejected = [(fname, rn, "", "", why, fields.get((rn, why), "")) for rn, why in table.bad_rows]
    warnings = []
    staged = _parse_rows(table, cfg, default_category, source_defaults)
    coverage = _geocode(staged)
    _place(staged, cfg, coverage)
    seen_ids = {s.rec["id"] for s in staged if s.rec["id"]}
    out = []
    for s in staged:
        rec = s.rec
        if s.reasons:
            flds = ", ".join(dict.fromkeys(f for f, _ in s.reasons if f))
            rejected.append((fname, s.rn, rec["id"], rec["name"], "; ".join(m for _, m in s.reasons), flds))
            continue
        for f, w in s.warns:
            warnings.append((fname, s.rn, rec["id"], rec["name"], w, f))
        if not rec["id"]:
            rec["id"] = f"{Path(fname).stem}-{s.rn}"
            if rec["id"] in seen_ids:
                rec["id"] += "-auto"
        rec.update(lat=round(s.lat, 6), lon=round(s.lon, 6), easting=round(s.e, 1), northing=round(s.n, 1))
        rec.update(location_source=s.loc, source_file=fname, row=s.rn, illustrative=bool(illustrative),
                   data_date=data_date or cats.get(rec["category"], {}).get("data_date", ""))
        out.append(rec)
    recs = pd.DataFrame(out, columns=RECORD_COLUMNS) if out else _empty_records()
    for c in ("lat", "lon", "easting", "northing"):
        recs[c] = recs[c].astype(float)
    recs["row"] = recs["row"].astype("Int64")
    recs["illustrative"] = recs["illustrative"].astype(bool)
    rej = _problem_frame(rejected, "reason").sort_values("row", kind="stable").reset_index(drop=True)
    notes = list(table.notes)
    return ImportResult(fname, recs, rej, _problem_frame(warnings, "warning"), notes)
