"""Row-level validation of service tables: every rejected row with its file, row,
field and reason; accepted rows located (lat/lon, easting/northing, site_ref, postcode)."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
import numpy as np
import pandas as pd
from geo.geocode import bng_to_lonlat, lonlat_to_bng, normalise_postcode, postcode_lookup

from geo.services.cells import _MARKUP, _date, _number, _text, _time
from geo.services.config import MAX_NAME, RECORD_COLUMNS, SCHEMA, SEA_OR_ABROAD, STATUSES, TEXT_FIELDS, in_footprint, km_outside, load_config, site_refs
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
