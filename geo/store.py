"""Read the built store.

The store (default `data/store/`, override LSC_STORE_DIR) is written by
`python -m geo build` and holds GeoParquet/Parquet tables + `manifest.json`:

| table            | what                                                                 |
|------------------|----------------------------------------------------------------------|
| lsoa             | 1,049 LSC LSOA 2011 polygons (EPSG:4326) with IoD2019 + geographies  |
| lsoa25           | 1,051 LSC LSOA 2021 rows with IoD2025; geometry where drawable       |
| england19        | all 32,844 England LSOA 2011 rows of IoD2019 (no geometry)           |
| wards24          | 277 May-2024 ward polygons in the footprint                          |
| wards19          | 316 Dec-2019 wards (APPROXIMATE LSOA-dissolved shapes)               |
| districts        | 16 LAD 2019 polygons                                                 |
| subicb           | 8 sub-ICB location polygons (Jul 2022)                               |
| place5 / place4  | places (legacy five / current four), dissolved from districts        |
| postcodes        | LSC postcode units (Code-Point Open) for geocoding                   |
| lad19_official   | MHCLG File 10 LAD summaries (for comparison/tests)                   |

Canonical LSOA columns (lsoa, england19; lsoa25 uses the same measure names):
  lsoa11cd, lsoa11nm, lad19cd, lad19nm,
  {m}_rank, {m}_decile for m in MEASURES; {m}_score where published
  (IoD2019: imd, income, employment; IoD2025: all eight),
  pop2015 (IoD2019 denominator, mid-2015 excl. prisoners), pop2019 (ONS mid-2019)
lsoa also: pop2017, wd19cd, wd19nm, wd24cd, wd24nm, wd24_share (postcode share of the
  best-fit ward), sicbl22cd, sicbl22nm, subicb_code (00Q..), place5, place4,
  pwc_lon, pwc_lat, pwc_easting, pwc_northing (mean of the LSOA's live postcode units:
  a population-weighted proxy point, NOT the polygon centroid), n_postcodes,
  {m}_local_decile (deciles within the 1,049 LSC LSOAs, 1 = most deprived)
lsoa25 also: lsoa21cd, lsoa21nm, pop2021 (Census 2021), drawable (bool),
  lsoa11cd (same code where drawable), plus the same geography columns via the
  2011->2021 best-fit lookup.

England-wide tables (issue #12; built when the England source files are present,
`Store.has_england`; geo/build_england.py):

| table             | what                                                                |
|-------------------|---------------------------------------------------------------------|
| lsoa21            | all 33,755 LSOA 2021 polygons (BSC V4) with IoD2025 + geographies   |
| lsoa11_england    | all 32,844 LSOA 2011 polygons with WD19 best fit, SICBL/ICB 2022     |
| lsoa11_lsoa21     | ONS LSOA 2011 -> 2021 pairs: lsoa11cd, lsoa21cd, chgind (U/S/M/X)    |
| icb               | 42 ICB polygons (ONS Apr 2023 = 2024 codes)                          |
| lad24_official    | MHCLG IoD2025 File 10 LAD24 summaries (296), source column names     |
| icb_official      | MHCLG IoD2025 ICB24 summaries (42), source column names              |
| wards24_england   | May-2024 wards dissolved from lsoa21 by the ONS best fit (APPROX)    |
| ward19_to_ward24  | Dec-2019 ward -> May-2024 ward(s), Census 2021 population shares     |
| priority_nhsei    | NHSE/I 2021 priority/exemplar wards (838) with APPROX 2019 shapes    |
| postcodes_england | 1,489,121 English postcode units (Code-Point Open 2025) + lsoa21cd   |

lsoa21: lsoa21cd, lsoa21nm, lad22cd, lad24cd, lad24nm (the LAD24 holding the LSOA's
  LAD22, as MHCLG counts it), same_code_as_lsoa2011, {m}_score/_rank/_decile for m in
  MEASURES, {sub-domain}_score/_rank/_decile (children_and_young_people, adult_skills,
  geographical_barriers, wider_barriers, indoors, outdoors), pop2021 (Census 2021
  usual residents), wd24cd, wd24nm, wd24_lad24cd (ONS LSOA21->WD24 best fit and that
  ward's district), sicbl24cd, sicbl24cdh (00Q), sicbl24nm, icb24cd, icb24cdh (QE1),
  icb24nm (ONS April 2024), pwc_lon, pwc_lat, pwc_easting, pwc_northing (mean of the
  postcode units inside the generalised polygon), n_postcodes, pwc_fallback (True:
  no postcode inside, representative point used), geometry.
lsoa11_england: lsoa11cd, lsoa11nm, wd19cd, wd19nm, lad19cd, lad19nm, sicbl22cd,
  sicbl22cdh, sicbl22nm, icb22cd, icb22cdh, icb22nm, lad22cd, lad22nm, geometry.
  IoD2019 values stay in england19 (join on lsoa11cd; geo.icb.lsoas(..., vintage=2019)).
icb: icb24cd, icb24cdh, icb24nm, short_name, nhser22cd, nhser22nm, n_lsoa21, n_subicb,
  pop2021, geometry.
wards24_england: wd24cd, wd24nm, lad24cd, lad24nm, icb24cd, icb24nm (ICB of most of
  its people), n_icb, n_lsoa21, pop2021, approximate_geometry (True), geometry.
ward19_to_ward24: wd19cd, wd19nm, wd24cd, wd24nm, icb24cd, pop2021, share, n_lsoa21.
priority_nhsei: wd19cd, wd19nm, status (Priority/Exemplar), stp, ccg19cd, ccg19nm
  ("; "-joined for the 10 wards listed twice), n_rows, lad19cd, lad19nm, icb24cd,
  icb_basis, n_lsoa11_bestfit, approximate_geometry (True), geometry.
postcodes_england: postcode, postcode_key (no spaces), latitude, longitude, easting,
  northing, lsoa21cd (categorical; point-in-polygon on the BSC polygons, blank for the
  ~2,000 units outside every generalised polygon).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import pandas as pd

from geo.errors import StoreMissing
from geo.paths import store_dir

STORE_VERSION = 1

MEASURES = ["imd", "income", "employment", "education", "health", "crime", "barriers", "living_env"]
MEASURE_LABELS = {
    "imd": "Index of Multiple Deprivation",
    "income": "Income",
    "employment": "Employment",
    "education": "Education, Skills and Training",
    "health": "Health Deprivation and Disability",
    "crime": "Crime",
    "barriers": "Barriers to Housing and Services",
    "living_env": "Living Environment",
}
GEO_TABLES = {"lsoa", "lsoa25", "wards24", "wards19", "districts", "subicb", "place5", "place4",
              "lsoa21", "lsoa11_england", "icb", "wards24_england", "priority_nhsei"}
ENGLAND_TABLES = {"lsoa21", "lsoa11_england", "lsoa11_lsoa21", "icb", "lad24_official", "icb_official",
                  "wards24_england", "ward19_to_ward24", "priority_nhsei", "postcodes_england"}
TABLES = GEO_TABLES | {"england19", "postcodes", "lad19_official"} | ENGLAND_TABLES


def _table_readers(cls):
    """One attribute per table of TABLES (store.lsoa, store.icb, ...): the table, read on
    first use and then kept (a cached_property each, named after its table)."""
    for name in sorted(TABLES):
        def read(self, name=name):
            return self._read(name)
        read.__name__, read.__doc__ = name, f"The store table '{name}' (read once, then kept)."
        prop = cached_property(read)
        prop.__set_name__(cls, name)
        setattr(cls, name, prop)
    return cls


@_table_readers
@dataclass
class Store:
    """The built store at `path`: each table of TABLES is an attribute (store.lsoa,
    store.wards24, store.icb, ...), read on first use; StoreMissing when absent."""
    path: Path
    manifest: dict = field(repr=False)

    def _read(self, name: str):
        f = self.path / f"{name}.parquet"
        if not f.exists():
            raise StoreMissing(f"store table '{name}' missing in {self.path}: run `make store` "
                               f"(or `python -m geo build`)")
        try:
            if name in GEO_TABLES:
                import geopandas as gpd
                return gpd.read_parquet(f)
            return pd.read_parquet(f)
        except Exception as e:      # truncated / corrupt file: one line, never pyarrow's traceback
            raise StoreMissing(f"store table '{name}' in {self.path} cannot be read ({type(e).__name__}): "
                               f"run `make store` (or `python -m geo build --if-stale`) to rebuild it") from None

    def table(self, name: str):
        return getattr(self, name)

    @property
    def has_england(self) -> bool:
        """The England-wide tables were built (absent when the build had no England files)."""
        return (self.path / "lsoa21.parquet").exists()

    @property
    def attribution(self) -> str:
        return self.manifest.get("attribution", "")


def load_store(path=None) -> Store:
    p = store_dir(path)
    mf = p / "manifest.json"
    if not mf.exists():
        raise StoreMissing(f"no data store at {p}: run `make store` (or `python -m geo build`)")
    try:
        manifest = json.loads(mf.read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise StoreMissing(f"store manifest {mf} unreadable ({e}): rebuild with `python -m geo build`")
    if manifest.get("store_version") != STORE_VERSION:
        raise StoreMissing(f"store at {p} was built by another version "
                           f"({manifest.get('store_version')} != {STORE_VERSION}): run `make store`")
    return Store(p, manifest)
