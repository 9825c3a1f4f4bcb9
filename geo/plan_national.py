"""GP practices, NHS hospital sites and Community Diagnostic Centres of any ICB in
England: the one reader of the England-wide service files, used by the outreach
planner (`sites`) and by the service register outside LSC (`records`).

The LSC service register (config/services.yaml) reads LSC's own staged files; for any
other ICB (and for LSC's CDCs) the sites come from the England-wide files declared in
config/sources.yaml (`gp_practices_england`, `hospitals_england`) or, where that has no
entry yet, in config/services.yaml `england_files` (`cdc_england`):

- gp: NHS ODS epraccur, England (c. Sep 2025), rows with is_active_gp_practice = True
  (status A, prescribing setting 4), ICB by ICB24CD; coordinates = the Code-Point Open
  postcode unit centroid (easting/northing).
- hospitals: the NHS website hospital list (c. Jun 2023), ICB by ICB24CD (point in the
  LSOA 2021 polygon); NHS sites only, by the LSC register's rule (Sector "NHS Sector",
  or a parent NHS trust, ODS code R...). Coordinates from Latitude/Longitude.
- cdc: Community Diagnostic Centres from GOV.UK's "Find local CDCs and surgical hubs"
  map data (dataset marked 21.10.25), ICB by its ICB code; WGS84 lat/long from the
  source; no opening dates or status in the source. The id is "CDC-" + the name
  (the source has no code).

Rows without coordinates are left out and counted in the notes. The sha256 is checked
once per file. Pure pandas: no UI imports.
"""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from geo.errors import SourceError

KEYS = {"gp": "gp_practices_england", "hospitals": "hospitals_england", "cdc": "cdc_england"}
LABELS = {"gp": "GP practices", "hospitals": "NHS hospital sites", "cdc": "Community Diagnostic Centres"}
COLS = ["id", "name", "easting", "northing", "lat", "lon", "postcode"]
# extra columns `records` gives the service register (popups): schema names of geo.services
DETAIL = ["address", "operator", "opened", "closed", "source_url", "offer", "status_note"]
NEED = {"gp": ("organisation_code", "name", "postcode", "is_active_gp_practice", "easting", "northing",
               "latitude", "longitude", "ICB24CD"),
        "hospitals": ("OrganisationCode", "OrganisationName", "Postcode", "Sector", "ParentODSCode",
                      "Latitude", "Longitude", "ICB24CD"),
        "cdc": ("name", "postcode", "latitude", "longitude", "ICB24CD")}


def _declared(kind: str):
    """The Source of `kind`: config/sources.yaml, else config/services.yaml england_files."""
    from geo import sources as S
    src = S.load_sources().get(KEYS[kind])
    if src is not None:
        return src
    from geo.services.config import load_config
    spec = (load_config().get("england_files") or {}).get(KEYS[kind])
    if not isinstance(spec, dict) or "path" not in spec:
        raise SourceError("config/sources.yaml", f"no source '{KEYS[kind]}' declared")
    return S.Source(key=KEYS[kind], path=spec["path"], sha256=spec.get("sha256"),
                    vintage=str(spec.get("vintage", "")), optional=True, group="services")


def source_path(kind: str) -> Path:
    """The England-wide file for `kind` (gp | hospitals | cdc), checked against its sha256."""
    from geo import sources as S
    src = _declared(kind)
    p = S.resolve(src, allow_download=False)
    if p is None:
        raise SourceError(src.path, "England-wide file missing from the source folder "
                                    "(set --source DIR or LSC_DATA_DIR)")
    _check_sha(str(p), p.stat().st_mtime, src.sha256)
    return p


@lru_cache(maxsize=4)
def _check_sha(path: str, mtime: float, want: str | None) -> None:
    from geo.sources import sha256_file
    if want and sha256_file(Path(path)) != want:
        raise SourceError(path, "sha256 differs from config/sources.yaml (file changed or truncated?)")


def _join(frame: pd.DataFrame, cols) -> pd.Series:
    """Address parts joined with ', ' (blanks and repeats dropped)."""
    parts = frame[list(cols)].to_numpy(dtype=object)
    return pd.Series([", ".join(dict.fromkeys(x.strip() for x in row if x and x.strip())) for row in parts],
                     index=frame.index, dtype=object)


def _gp(d: pd.DataFrame) -> pd.DataFrame:
    d = d[d["is_active_gp_practice"].str.lower().eq("true")]
    return pd.DataFrame({
        "id": d["organisation_code"], "name": d["name"], "postcode": d["postcode"],
        "easting": pd.to_numeric(d["easting"], errors="coerce"),
        "northing": pd.to_numeric(d["northing"], errors="coerce"),
        "lat": pd.to_numeric(d["latitude"], errors="coerce"), "lon": pd.to_numeric(d["longitude"], errors="coerce"),
        "icb24cd": d["ICB24CD"], "address": _join(d, [f"address_line_{i}" for i in range(1, 6)]),
        "operator": d["SICBL24NM"] if "SICBL24NM" in d else "", "opened": d.get("open_date", ""),
        "closed": d.get("close_date", ""), "source_url": "", "offer": "", "status_note": ""})


def _hospitals(d: pd.DataFrame) -> pd.DataFrame:
    nhs = d["Sector"].eq("NHS Sector") | d["ParentODSCode"].str.startswith("R")
    nhs &= ~d["OrganisationCode"].str.match(r"^N") | d["Sector"].eq("NHS Sector")
    d = d[nhs]
    lat = pd.to_numeric(d["Latitude"], errors="coerce")
    lon = pd.to_numeric(d["Longitude"], errors="coerce")
    addr = [c for c in ("Address1", "Address2", "Address3", "City", "County") if c in d.columns]
    return pd.DataFrame({
        "id": d["OrganisationCode"], "name": d["OrganisationName"], "postcode": d["Postcode"],
        "easting": np.nan, "northing": np.nan, "lat": lat, "lon": lon, "icb24cd": d["ICB24CD"],
        "address": _join(d, addr), "operator": d.get("ParentName", ""), "opened": "", "closed": "",
        "source_url": d.get("Website", ""), "offer": "", "status_note": ""})


def _cdc(d: pd.DataFrame) -> pd.DataFrame:
    ids = "CDC-" + d["name"].map(lambda s: re.sub(r"[^A-Za-z0-9]+", "-", str(s)).strip("-").upper())
    open_all = d["isOpen12_7"].str.strip().str.lower() if "isOpen12_7" in d else pd.Series("", index=d.index)
    note = open_all.map({"yes": "open 12 hours a day, 7 days a week (source: isOpen12_7)",
                         "no": "not open 12 hours a day, 7 days a week (source: isOpen12_7)"}).fillna("")
    return pd.DataFrame({
        "id": ids, "name": d["name"], "postcode": d["postcode"], "easting": np.nan, "northing": np.nan,
        "lat": pd.to_numeric(d["latitude"], errors="coerce"), "lon": pd.to_numeric(d["longitude"], errors="coerce"),
        "icb24cd": d["ICB24CD"], "address": d.get("address", "").map(str.strip) if "address" in d else "",
        "operator": "", "opened": "", "closed": "", "source_url": "",
        "offer": d["services"] if "services" in d else "", "status_note": note})


@lru_cache(maxsize=6)
def _read(kind: str, path: str, mtime: float) -> tuple[pd.DataFrame, int]:
    """(all sites of England with coordinates, rows dropped for lack of coordinates)."""
    d = pd.read_csv(path, dtype=str, keep_default_na=False)
    miss = [c for c in NEED[kind] if c not in d.columns]
    if miss:
        raise SourceError(path, f"column(s) missing: {', '.join(miss)}")
    out = {"gp": _gp, "hospitals": _hospitals, "cdc": _cdc}[kind](d)
    en = out["easting"].isna() & out["lat"].notna() & out["lon"].notna()
    if en.any():
        from geo.geocode import lonlat_to_bng
        e, n = lonlat_to_bng(out.loc[en, "lon"].to_numpy(float), out.loc[en, "lat"].to_numpy(float))
        out.loc[en, "easting"], out.loc[en, "northing"] = np.atleast_1d(e), np.atleast_1d(n)
    ok = np.isfinite(out[["easting", "northing", "lat", "lon"]].to_numpy(float)).all(axis=1)
    out["row"] = out.index.to_numpy() + 2           # the spreadsheet row of the source file
    return out[ok].reset_index(drop=True), int((~ok).sum())


def _of_icb(kind: str, icb_code: str) -> tuple[pd.DataFrame, Path, int]:
    if kind not in KEYS:
        raise ValueError(kind)
    p = source_path(kind)
    allx, dropped = _read(kind, str(p), p.stat().st_mtime)
    from geo.footprint import ENGLAND_CODE
    v = allx if icb_code == ENGLAND_CODE else allx[allx["icb24cd"] == icb_code]
    return v, p, dropped


def _notes(kind: str, icb_code: str, n: int, p: Path, dropped: int) -> list[str]:
    notes = [f"{n} {'open ' if kind == 'gp' else ''}{LABELS[kind]} in ICB {icb_code} "
             f"(England-wide file {p.name}, by its ICB24CD)"]
    if dropped:
        notes.append(f"{p.name}: {dropped} row(s) in England without coordinates left out")
    return notes


def sites(kind: str, icb_code: str) -> tuple[pd.DataFrame, list[str]]:
    """Open GP practices (kind "gp"), NHS hospital sites ("hospitals") or CDCs ("cdc") of
    one ICB (E92000001: all England): (frame of id, name, easting, northing, lat, lon,
    postcode; notes)."""
    v, p, dropped = _of_icb(kind, icb_code)
    return v[COLS].reset_index(drop=True), _notes(kind, icb_code, len(v), p, dropped)


def records(kind: str, icb_code: str) -> tuple[pd.DataFrame, Path, list[str]]:
    """The same sites with the columns the service register shows (address, operator,
    opened, closed, source_url, offer, status_note) and `row`, the source file's row:
    (frame, source file, notes)."""
    v, p, dropped = _of_icb(kind, icb_code)
    return v[COLS + DETAIL + ["row"]].reset_index(drop=True), p, _notes(kind, icb_code, len(v), p, dropped)
