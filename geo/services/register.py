"""The service register: shipped sources, saved user files and uploads, validated
the same way (import_bytes / import_file)."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from geo.tabular import display_name
import numpy as np
import pandas as pd
from geo.errors import SourceError
from geo.paths import CONFIG_DIR, ROOT, source_dir, user_data_dir

from geo.services.config import LSC_ICB, ImportFailure, config_for, icb_of, load_config
from geo.services.read import RawTable, _canon_header, read_table
from geo.services.userdata import user_files
from geo.services.validate import ImportResult, _empty_records, _problem_frame, validate_rows


def import_bytes(data: bytes, filename: str, *, default_category: str | None = None,
                 config: dict | None = None, illustrative: bool = False,
                 data_date: str | None = None) -> ImportResult:
    """Read and validate an uploaded/saved file. Never raises for bad content: a
    whole-file problem comes back as `fatal`, row problems in `rejected`."""
    fname = display_name(filename)
    try:
        table = read_table(data, fname, config)
        return validate_rows(table, fname, default_category=default_category, config=config,
                             illustrative=illustrative, data_date=data_date)
    except ImportFailure as e:
        return _failed(fname, str(e))
    except Exception as e:      # whatever the bytes: a message, never a traceback
        return _failed(fname, f"{fname}: could not be read ({type(e).__name__}); the file was not loaded")


def _failed(fname: str, message: str) -> ImportResult:
    return ImportResult(fname, _empty_records(), _problem_frame([], "reason"), _problem_frame([], "warning"), [],
                        fatal=message)


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


def _adapt_national(path: Path, src: dict, icb: str) -> RawTable:
    """The footprint ICB's rows of an England-wide file, through geo.plan_national (the
    one reader of those files): schema columns, the source file's own row numbers."""
    from geo import plan_national as N
    v, _, notes = N.records(src["kind"], icb)
    out = pd.DataFrame({
        "id": v["id"], "name": v["name"], "category": src["category"], "address": v["address"],
        "postcode": v["postcode"], "easting": v["easting"], "northing": v["northing"],
        "operator": v["operator"], "status": "open", "opened": v["opened"], "closed": v["closed"],
        "status_note": v["status_note"], "offer": v["offer"], "source": src.get("source_label", ""),
        "source_url": v["source_url"]})
    if src["kind"] != "gp":                 # hospitals and CDCs: the source's own lat/long
        out = out.drop(columns=["easting", "northing"]).assign(lat=v["lat"], lon=v["lon"])
    return _table_from_frame(out, v["row"], notes[1:])


ADAPTERS = {"epraccur": _adapt_epraccur, "nhs_website_hospitals": _adapt_hospitals, "national": _adapt_national}


def in_scope(src: dict, icb: str) -> bool:
    """Whether source `src` (config/services.yaml) loads for footprint `icb`: scope lsc
    (the default: LSC's own staged and curated files), other (every other ICB and
    England) or all."""
    scope = str(src.get("scope") or "lsc").lower()
    lsc = icb == LSC_ICB
    return scope == "all" or (scope == "lsc" and lsc) or (scope == "other" and not lsc)


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
            if src["adapter"] == "national":
                table = _adapt_national(path, src, icb_of(cfg))
            else:
                table = ADAPTERS[src["adapter"]](path, src)
        except SourceError as e:
            empty = _problem_frame([], "reason")
            return ImportResult(path.name, _empty_records(), empty, _problem_frame([], "warning"), [],
                                fatal=str(e))
        except (KeyError, ValueError, pd.errors.ParserError) as e:
            empty = _problem_frame([], "reason")
            return ImportResult(path.name, _empty_records(), empty, _problem_frame([], "warning"), [],
                                fatal=f"{path}: unexpected layout ({e})")
        return validate_rows(table, path.name, default_category=cat, config=cfg,
                             illustrative=bool(src.get("illustrative")), data_date=dd)
    return import_file(path, default_category=cat, config=cfg,
                       illustrative=bool(src.get("illustrative")), data_date=dd)


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


def load_register(*, include_user: bool = True, config: dict | None = None, icb: str | None = None) -> Register:
    """The shipped sources (config/services.yaml) of the footprint + saved user files.
    The footprint is `icb` (a code; default LSC) or the one `config` was made for
    (`config_for(code)`): LSC loads its staged and curated files and its CDCs; another
    ICB its GP practices, NHS hospital sites and CDCs from the England-wide files. Rows
    are checked against that footprint (uploads and saved files too)."""
    cfg = config_for(icb) if icb is not None and config is None else (config or load_config())
    code = icb_of(cfg)
    results = []
    frames = []
    for src in cfg.get("sources", []):
        if not in_scope(src, code):
            continue
        r = _load_source(src, cfg)
        results.append(r)
        if len(r.records):
            frames.append(r.records)
    if include_user:
        for p in user_files():
            r = import_file(p, config=cfg)       # a bad saved file: its own fatal message, the rest load
            r.records["source_file"] = f"user data: {p.name}"
            results.append(r)
            if len(r.records):
                frames.append(r.records)
    recs = pd.concat(frames, ignore_index=True) if frames else _empty_records()
    return Register(recs, results, cfg)
