"""GP practices and NHS hospital sites of any ICB in England, for the outreach planner.

The LSC service register (config/services.yaml) only covers Lancashire and South
Cumbria. Outside LSC the planner's candidate venues and "already covered" sites come
from the two England-wide source files declared in config/sources.yaml (read here,
not through the store):

- `gp_practices_england`: NHS ODS epraccur, England (c. Sep 2025), rows with
  is_active_gp_practice = True (status A, prescribing setting 4), ICB by ICB24CD;
  coordinates = the Code-Point Open postcode unit centroid (easting/northing).
- `hospitals_england`: the NHS website hospital list (c. Jun 2023), ICB by ICB24CD
  (point in the LSOA 2021 polygon); NHS sites only, by the LSC register's rule (Sector
  "NHS Sector", or a parent NHS trust, ODS code R...). Coordinates from Latitude/Longitude.

Rows without coordinates are left out and counted in the notes. The sha256 in
config/sources.yaml is checked once per file. Pure pandas: no UI imports.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from geo.errors import SourceError

KEYS = {"gp": "gp_practices_england", "hospitals": "hospitals_england"}
LABELS = {"gp": "GP practices", "hospitals": "NHS hospital sites"}
COLS = ["id", "name", "easting", "northing", "lat", "lon", "postcode"]


def source_path(kind: str) -> Path:
    """The England-wide file for `kind` (gp | hospitals), checked against its sha256."""
    from geo import sources as S
    src = S.load_sources().get(KEYS[kind])
    if src is None:
        raise SourceError("config/sources.yaml", f"no source '{KEYS[kind]}' declared")
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


@lru_cache(maxsize=4)
def _read(kind: str, path: str, mtime: float) -> tuple[pd.DataFrame, int]:
    """(all sites of England with coordinates, rows dropped for lack of coordinates)."""
    d = pd.read_csv(path, dtype=str, keep_default_na=False)
    need = {"gp": ("organisation_code", "name", "postcode", "is_active_gp_practice", "easting", "northing",
                   "latitude", "longitude", "ICB24CD"),
            "hospitals": ("OrganisationCode", "OrganisationName", "Postcode", "Sector", "ParentODSCode",
                          "Latitude", "Longitude", "ICB24CD")}[kind]
    miss = [c for c in need if c not in d.columns]
    if miss:
        raise SourceError(path, f"column(s) missing: {', '.join(miss)}")
    if kind == "gp":
        d = d[d["is_active_gp_practice"].str.lower().eq("true")]
        out = pd.DataFrame({"id": d["organisation_code"], "name": d["name"], "postcode": d["postcode"],
                            "easting": pd.to_numeric(d["easting"], errors="coerce"),
                            "northing": pd.to_numeric(d["northing"], errors="coerce"),
                            "lat": pd.to_numeric(d["latitude"], errors="coerce"),
                            "lon": pd.to_numeric(d["longitude"], errors="coerce"), "icb24cd": d["ICB24CD"]})
    else:
        nhs = d["Sector"].eq("NHS Sector") | d["ParentODSCode"].str.startswith("R")
        nhs &= ~d["OrganisationCode"].str.match(r"^N") | d["Sector"].eq("NHS Sector")
        d = d[nhs]
        lat = pd.to_numeric(d["Latitude"], errors="coerce")
        lon = pd.to_numeric(d["Longitude"], errors="coerce")
        from geo.geocode import lonlat_to_bng
        e, n = lonlat_to_bng(lon.to_numpy(float), lat.to_numpy(float))
        out = pd.DataFrame({"id": d["OrganisationCode"], "name": d["OrganisationName"], "postcode": d["Postcode"],
                            "easting": np.atleast_1d(e), "northing": np.atleast_1d(n), "lat": lat, "lon": lon,
                            "icb24cd": d["ICB24CD"]})
    ok = np.isfinite(out[["easting", "northing", "lat", "lon"]].to_numpy(float)).all(axis=1)
    return out[ok].reset_index(drop=True), int((~ok).sum())


def sites(kind: str, icb_code: str) -> tuple[pd.DataFrame, list[str]]:
    """Open GP practices (kind "gp") or NHS hospital sites ("hospitals") of one ICB:
    (frame of id, name, easting, northing, lat, lon, postcode; notes)."""
    if kind not in KEYS:
        raise ValueError(kind)
    p = source_path(kind)
    allx, dropped = _read(kind, str(p), p.stat().st_mtime)
    v = allx[allx["icb24cd"] == icb_code]
    notes = [f"{len(v)} {'open ' if kind == 'gp' else ''}{LABELS[kind]} in ICB {icb_code} "
             f"(England-wide file {p.name}, by its ICB24CD)"]
    if dropped:
        notes.append(f"{p.name}: {dropped} row(s) in England without coordinates left out")
    return v[COLS].reset_index(drop=True), notes
