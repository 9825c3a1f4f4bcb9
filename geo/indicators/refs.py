"""Reference code lists of the drawable areas (from the store) and the reasons a code
does not match."""
from __future__ import annotations

from dataclasses import dataclass, field
import pandas as pd


# ----------------------------------------------------------------------------- reference

@dataclass
class Reference:
    """Code lists of the drawable areas (from the store) plus what is needed to say why
    a code does not match."""
    names: dict                      # vintage -> {code: name}
    lsoa: pd.DataFrame               # store.lsoa without geometry
    lsoa21_to_11: dict               # LSOA21 code -> [LSOA11 codes it is drawn on] (changed codes only)
    ward_district: dict              # vintage -> {ward code: lad19cd}
    district_place: dict             # place vintage -> {lad19cd: place name}
    sicbl_ods: dict                  # 00Q -> E38000014
    outside: dict = field(default_factory=dict)   # code -> reason (known codes outside the footprint)
    lsoa21_lookup: str = "store lsoa25.lsoa11cd (ONS best fit)"
    england_lsoa11: frozenset = frozenset()

    @classmethod
    def from_store(cls, store) -> "Reference":
        lsoa = pd.DataFrame(store.lsoa.drop(columns="geometry"))
        l25 = pd.DataFrame(store.lsoa25.drop(columns="geometry"))
        w19 = pd.DataFrame(store.wards19.drop(columns="geometry"))
        w24 = pd.DataFrame(store.wards24.drop(columns="geometry"))
        d = pd.DataFrame(store.districts.drop(columns="geometry"))
        sub = pd.DataFrame(store.subicb.drop(columns="geometry"))
        p5 = pd.DataFrame(store.place5.drop(columns="geometry"))
        p4 = pd.DataFrame(store.place4.drop(columns="geometry"))
        names = {
            "lsoa11": dict(zip(lsoa.lsoa11cd, lsoa.lsoa11nm)),
            "lsoa21": dict(zip(l25.lsoa21cd, l25.lsoa21nm)),
            "wd19": dict(zip(w19.wd19cd, w19.wd19nm)),
            "wd24": dict(zip(w24.wd24cd, w24.wd24nm)),
            "lad19": dict(zip(d.lad19cd, d.lad19nm)),
            "lad24": {c: n for c, n in zip(w24.lad24cd, w24.lad24nm)},
            "sicbl22": dict(zip(sub.sicbl22cd, sub.sicbl22nm)),
            "place5": dict(zip(p5.code, p5.name)),
            "place4": dict(zip(p4.code, p4.name)),
        }
        # LSOA 2021 codes that are not 2011 codes: draw on the 2011 polygon(s) whose ONS
        # best-fit successor they are (store.lsoa25.lsoa11cd).
        l11 = set(lsoa.lsoa11cd)
        ch = l25[~l25.lsoa21cd.isin(l11) & l25.lsoa11cd.notna()]
        lsoa21_to_11 = {}
        for c21, c11 in zip(ch.lsoa21cd, ch.lsoa11cd):
            lsoa21_to_11.setdefault(c21, []).append(c11)
        outside = {}
        # LAD 2024 codes: W&F covers former Eden (outside LSC)
        for c, n in list(names["lad24"].items()):
            if c not in names["lad19"]:
                outside[c] = (f"{n} ({c}) is a 2023+ district that also covers areas outside LSC "
                              f"(former Eden); it cannot be split into Barrow-in-Furness / South Lakeland, "
                              f"so it is not drawn on the 2019 district polygons")
        ref = cls(
            names=names, lsoa=lsoa, lsoa21_to_11=lsoa21_to_11,
            ward_district={"wd19": dict(zip(w19.wd19cd, w19.lad19cd)), "wd24": dict(zip(w24.wd24cd, w24.lad19cd))},
            district_place={"place5": dict(zip(d.lad19cd, d.place5)), "place4": dict(zip(d.lad19cd, d.place4))},
            sicbl_ods=dict(zip(sub.subicb_code, sub.sicbl22cd)), outside=outside,
        )
        try:
            eng = store.england19
            ref.england_lsoa11 = frozenset(eng["lsoa11cd"]) - l11
        except Exception:  # pragma: no cover - optional context only
            pass
        _add_source_context(ref)
        return ref

    def vintage_codes(self, v: str) -> dict:
        return self.names.get(v, {})


def _add_source_context(ref: Reference) -> None:
    """Optional extra reasons from the source lookups (e.g. former-Eden May-2024 wards,
    CCG 2020 codes, ICB-only LSOAs). Absent source folder -> generic reasons only."""
    from geo.paths import source_dir
    try:
        src = source_dir()
        w = pd.read_csv(src / "lookups" / "ward2024_lad2024_ctyua_region_ons_lsc.csv", dtype=str)
        for c, n, inn in zip(w.WD24CD, w.WD24NM, w.in_lsc_footprint):
            if str(inn).lower() != "true":
                ref.outside.setdefault(c, f"May-2024 ward {n} lies in former Eden (Westmorland and Furness), "
                                          f"outside the LSC footprint")
        ccg = pd.read_csv(src / "lookups" / "lsoa11_to_ccg2020_lad2020_ons_lsc.csv", dtype=str)
        for c, h in zip(ccg.CCG20CD, ccg.CCG20CDH):
            if h in ref.sicbl_ods and c not in ref.names["sicbl22"]:
                ref.sicbl_ods.setdefault(c, ref.sicbl_ods[h])
        bf = pd.read_csv(src / "lookups" / "lsoa11_to_lsoa21_lad2022_bestfit_ons_lsc.csv", dtype=str)
        l11 = set(ref.names["lsoa11"])
        changed = bf[~bf.LSOA11CD.isin(ref.names["lsoa21"].keys()) & bf.LSOA11CD.isin(l11)]
        m = {}
        for c11, c21 in zip(changed.LSOA11CD, changed.LSOA21CD):
            if c21 not in l11:
                m.setdefault(c21, []).append(c11)
        ref.lsoa21_to_11 = m
        ref.lsoa21_lookup = "ONS LSOA 2011 -> 2021 best-fit lookup (source folder)"
        l = pd.read_csv(src / "imd" / "iod2019_lsoa11_lsc.csv", dtype=str,
                        usecols=["LSOA code (2011)", "in_lsc_16_lads"])
        for c, inn in zip(l["LSOA code (2011)"], l["in_lsc_16_lads"]):
            if str(inn).lower() != "true":
                ref.outside.setdefault(c, "LSOA in the LSC ICB sub-ICB area (Millom / Craven) but outside the "
                                          "16 footprint districts: no polygon in the store")
    except (OSError, ValueError, KeyError):
        pass


def reference(store=None) -> Reference:
    if store is None:
        from geo.store import load_store
        store = load_store()
    return _ref_cached(store)


_REFS: dict = {}


def _ref_cached(store) -> Reference:
    key = (str(getattr(store, "path", id(store))), str((store.manifest or {}).get("built_at", "")), id(store))
    if key not in _REFS:
        _REFS[key] = Reference.from_store(store)
    return _REFS[key]
