"""A tiny synthetic store, so unit tests of geo/ run without ../shared/data.

Written in the store's own format (geo.storefile.write_store: Parquet tables plus a
manifest with STORE_VERSION) and read back with geo.store.load_store, exactly as the app
reads the real one. Every code is in a range no real area uses (E01900001, E05900001,
E06900001...) and every name says "Synthetic", so nothing here can be mistaken for data.

The numbers are chosen to be checked by hand; the tests in tests/unit/test_tiny_store.py
spell each expected value out as arithmetic on the rows below.

IoD2019, LSOA 2011 (table lsoa; england19 adds two LSOAs elsewhere in England):

| LSOA      | ward 2024 | district | imd_score | imd_rank | decile | pop2015 | pop2019 |
|-----------|-----------|----------|-----------|----------|--------|---------|---------|
| E01900001 | A         | North    | 60        | 100      | 1      | 1000    | 1100    |
| E01900002 | A         | North    | 30        | 5000     | 2      | 3000    | 3100    |
| E01900003 | B         | North    | 20        | 9000     | 3      | 2000    | 2000    |
| E01900004 | B         | North    | 10        | 20000    | 7      | 3000    | 1900    |
| E01900005 | C         | South    | 45        | 1500     | 1      | 1500    | 1600    |
| E01900006 | C         | South    | 5         | 30000    | 10     | 500     | 400     |
| E01900007 | -         | Elsewhere| 70        | 50       | 1      | 1000    | 1000    |  (england19 only)
| E01900008 | -         | Elsewhere| 8         | 25000    | 8      | 3000    | 3000    |  (england19 only)

Ward D (E05900004, South) has no best-fit LSOA. Places: North is in place5 "Synthetic
place P", South in "Synthetic place R"; both are in place4 "Synthetic place Q".

IoD2025, LSOA 2021 (tables lsoa25 and lsoa21; the 2011 -> 2021 pairs in lsoa11_lsoa21):

| LSOA 2021 | from 2011          | chgind | ward | imd_score | imd_rank | decile | pop2021 |
|-----------|--------------------|--------|------|-----------|----------|--------|---------|
| E01900001 | E01900001          | U      | A    | 58        | 150      | 1      | 1100    |
| E01900002 | E01900002          | U      | A    | 26        | 8000     | 3      | 2900    |
| E01900901 | E01900003 + ..004  | M      | B    | 14        | 15000    | 5      | 4200    |
| E01900902 | E01900005 (split)  | S      | C    | 50        | 1000     | 1      | 800     |
| E01900903 | E01900005 (split)  | S      | C    | 40        | 2500     | 1      | 900     |
| E01900006 | E01900006          | U      | C    | 6         | 31000    | 10     | 600     |
"""
from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
from shapely.geometry import box
from shapely.ops import unary_union

from geo.storefile import write_store
from geo.store import STORE_VERSION

DISTRICTS = {"E06900001": ("Synthetic district North", "Synthetic place P"),
             "E07900002": ("Synthetic district South", "Synthetic place R"),
             "E08900003": ("Synthetic district Elsewhere", None)}
PLACE4 = "Synthetic place Q"
SUBICB = {"E06900001": ("99A", "E38900001", "Synthetic sub-ICB North"),
          "E07900002": ("99B", "E38900002", "Synthetic sub-ICB South")}
WARDS24 = {"E05900001": ("Synthetic ward A", "E06900001"), "E05900002": ("Synthetic ward B", "E06900001"),
           "E05900003": ("Synthetic ward C", "E07900002"), "E05900004": ("Synthetic ward D", "E07900002")}
WARD_OF = {"A": "E05900001", "B": "E05900002", "C": "E05900003"}
WARD19_OF = {"A": "E05800001", "B": "E05800002", "C": "E05800003"}

#            lsoa11cd,  ward, district,  score, rank, decile, pop2015, pop2019
IOD2019 = [("E01900001", "A", "E06900001", 60.0, 100, 1, 1000, 1100),
           ("E01900002", "A", "E06900001", 30.0, 5000, 2, 3000, 3100),
           ("E01900003", "B", "E06900001", 20.0, 9000, 3, 2000, 2000),
           ("E01900004", "B", "E06900001", 10.0, 20000, 7, 3000, 1900),
           ("E01900005", "C", "E07900002", 45.0, 1500, 1, 1500, 1600),
           ("E01900006", "C", "E07900002", 5.0, 30000, 10, 500, 400)]
ELSEWHERE_2019 = [("E01900007", None, "E08900003", 70.0, 50, 1, 1000, 1000),
                  ("E01900008", None, "E08900003", 8.0, 25000, 8, 3000, 3000)]
#            lsoa21cd,  ward, district,  score, rank, decile, pop2021
IOD2025 = [("E01900001", "A", "E06900001", 58.0, 150, 1, 1100),
           ("E01900002", "A", "E06900001", 26.0, 8000, 3, 2900),
           ("E01900901", "B", "E06900001", 14.0, 15000, 5, 4200),
           ("E01900902", "C", "E07900002", 50.0, 1000, 1, 800),
           ("E01900903", "C", "E07900002", 40.0, 2500, 1, 900),
           ("E01900006", "C", "E07900002", 6.0, 31000, 10, 600)]
PAIRS = [("E01900001", "E01900001", "U"), ("E01900002", "E01900002", "U"),
         ("E01900003", "E01900901", "M"), ("E01900004", "E01900901", "M"),
         ("E01900005", "E01900902", "S"), ("E01900005", "E01900903", "S"),
         ("E01900006", "E01900006", "U")]


def _square(i: int):
    """A 0.01-degree square per LSOA, in a row well away from any real area's shape."""
    return box(-2.0 + 0.01 * i, 54.0, -2.0 + 0.01 * (i + 1), 54.01)


def _geo(rows: list[dict], geoms) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(pd.DataFrame(rows), geometry=list(geoms), crs=4326)


def _areas(district: str) -> dict:
    name, place5 = DISTRICTS[district]
    sub = SUBICB.get(district, (None, None, None))
    return {"lad19cd": district, "lad19nm": name, "place5": place5, "place4": PLACE4 if place5 else None,
            "subicb_code": sub[0], "sicbl22cd": sub[1], "sicbl22nm": sub[2]}


def tables() -> dict:
    """Every table the synthetic store holds, by name."""
    lsoa, eng = [], []
    for i, (code, ward, lad, score, rank, dec, p15, p19) in enumerate(IOD2019 + ELSEWHERE_2019):
        row = {"lsoa11cd": code, "lsoa11nm": f"Synthetic LSOA {code[-3:]}", **_areas(lad),
               "imd_score": score, "imd_rank": rank, "imd_decile": dec, "pop2015": p15, "pop2019": p19}
        eng.append({k: row[k] for k in ("lsoa11cd", "lsoa11nm", "lad19cd", "lad19nm", "imd_score", "imd_rank",
                                        "imd_decile", "pop2015", "pop2019")})
        if ward is not None:
            lsoa.append({**row, "wd24cd": WARD_OF[ward], "wd24nm": WARDS24[WARD_OF[ward]][0], "wd24_share": 1.0,
                         "wd19cd": WARD19_OF[ward], "wd19nm": f"Synthetic 2019 ward {ward}"})
    lsoa_g = _geo(lsoa, [_square(i) for i in range(len(lsoa))])
    l25 = []
    for code, ward, lad, score, rank, dec, p21 in IOD2025:
        l25.append({"lsoa21cd": code, "lsoa21nm": f"Synthetic LSOA 2021 {code[-3:]}", **_areas(lad),
                    "wd24cd": WARD_OF[ward], "wd24nm": WARDS24[WARD_OF[ward]][0],
                    "imd_score": score, "imd_rank": rank, "imd_decile": dec, "pop2021": p21,
                    "drawable": True, "lsoa11cd": code})
    l25_g = _geo(l25, [_square(20 + i) for i in range(len(l25))])
    l21_g = l25_g.drop(columns=["drawable", "lsoa11cd", "place5", "place4", "subicb_code"]).assign(
        icb24cd="E54900001", icb24nm="NHS Synthetic ICB")
    wards = []
    for code, (name, lad) in WARDS24.items():
        wards.append({"wd24cd": code, "wd24nm": name, **{k: v for k, v in _areas(lad).items()
                                                          if k in ("lad19cd", "lad19nm", "place5", "place4")}})
    ward_geoms = [unary_union(list(lsoa_g.geometry[lsoa_g["wd24cd"] == w["wd24cd"]])) for w in wards]
    wards_g = _geo(wards, [g if not g.is_empty else _square(40 + i) for i, g in enumerate(ward_geoms)])
    sub = [{"subicb_code": c, "sicbl22cd": cd, "sicbl22nm": nm} for c, cd, nm in SUBICB.values()]
    sub_g = _geo(sub, [unary_union(list(lsoa_g.geometry[lsoa_g["subicb_code"] == s["subicb_code"]])) for s in sub])
    return {
        "lsoa": lsoa_g,
        "england19": pd.DataFrame(eng),
        "lsoa25": l25_g,
        "lsoa21": l21_g,
        "lsoa11_lsoa21": pd.DataFrame(PAIRS, columns=["lsoa11cd", "lsoa21cd", "chgind"]),
        "wards24": wards_g,
        "subicb": sub_g,
    }


def write_tiny_store(dest: Path) -> Path:
    """Write the synthetic store into `dest` (created) and return it."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    write_store(tables(), dest, {"store_version": STORE_VERSION, "synthetic": True,
                                 "attribution": "Synthetic test data (tests/synthetic.py): not real areas"})
    return dest
