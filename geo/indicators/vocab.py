"""Indicator vocabulary: code kinds and vintages, markers for suppressed / missing
values, column aliases and how columns are picked."""
from __future__ import annotations

import re


# ----------------------------------------------------------------------------- vocabulary

SUPPRESSED_MARKERS = {"*", "**", "..", "c", "[c]", "x", "[x]", "supp", "suppressed", "[low]", "<5", "low"}
MISSING_MARKERS = {"", "-", ":", "n/a", "na", "nan", "null", "none", "[z]", "#n/a", "missing"}

ICB_CODE = "E54000048"
ENGLAND_CODE = "E92000001"

VINTAGES = {  # key -> (family, label)
    "lsoa11": ("lsoa", "LSOA 2011"),
    "lsoa21": ("lsoa", "LSOA 2021"),
    "wd19": ("ward", "Ward Dec-2019"),
    "wd24": ("ward", "Ward May-2024"),
    "lad19": ("district", "District (LAD 2019-2023)"),
    "lad24": ("district", "District (LAD 2024)"),
    "sicbl22": ("subicb", "Sub-ICB location (Jul 2022)"),
    "place5": ("place", "Place (legacy five)"),
    "place4": ("place", "Place (current four)"),
}
FAMILY_LABEL = {"lsoa": "LSOA", "ward": "ward", "district": "district", "subicb": "sub-ICB",
                "icb": "ICB", "place": "place"}
# family -> drawable target vintage(s) in order of preference
FAMILY_TARGETS = {"lsoa": ["lsoa11"], "ward": ["wd24", "wd19"], "district": ["lad19"],
                  "subicb": ["sicbl22"], "place": ["place5", "place4"]}
# --by choices and the levels they can be aggregated from
BY_LEVELS = {"lsoa": 0, "ward": 1, "district": 2, "place": 3}
FAMILY_LEVEL = {"lsoa": 0, "ward": 1, "district": 2, "place": 3, "subicb": 2, "icb": 4}

_CODE_RE = re.compile(r"^[EWSNK]\d{8}$")
_ODS_SICBL_RE = re.compile(r"^\d{2}[A-Z]$")
_PRACTICE_RE = re.compile(r"^[A-Z]\d{5}$")

PREFIX_KIND = {
    "E01": "lsoa", "W01": "lsoa_wales", "E02": "msoa", "E00": "oa", "E05": "ward", "W05": "ward_wales",
    "E06": "district", "E07": "district", "E08": "district", "E09": "district", "W06": "district_wales",
    "E10": "county", "E11": "metcounty", "E12": "region", "E38": "subicb", "E54": "icb", "E92": "england",
    "E40": "nhsregion", "K02": "uk", "K04": "england_wales", "S12": "scotland", "N09": "ni",
}
FAMILIES = {"lsoa", "ward", "district", "subicb", "icb"}


def code_kind(code: str) -> str:
    c = (code or "").strip().upper()
    if _CODE_RE.match(c):
        return PREFIX_KIND.get(c[:3], "other_ons")
    if _ODS_SICBL_RE.match(c):
        return "subicb_ods"
    if _PRACTICE_RE.match(c):
        return "practice"
    return "unknown"


# ----------------------------------------------------------------------------- column aliases

def _norm(col: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", str(col).lower()).strip()


ALIASES = {
    "code": ["area code", "area_code", "areacode", "code", "geography code", "ons code",
             "lsoa11cd", "lsoa21cd", "lsoa code", "lsoa11 code", "lsoa21 code", "lsoa 2011 code", "lsoa 2021 code",
             "ward code", "wd19cd", "wd22cd", "wd23cd", "wd24cd", "lad code", "lad19cd", "lad24cd", "la code",
             "district code", "local authority code", "sicbl code", "sub icb code", "sicbl22cd", "icb code", "area"],
    "name": ["area name", "name", "ward name", "lad name", "lsoa name", "lsoa11nm", "lsoa21nm", "wd19nm",
             "wd24nm", "lad19nm", "district name", "local authority name", "geography", "la name"],
    "area_type": ["area type"],
    "indicator_id": ["indicator id", "indicator key", "indicator code", "indicatorid"],
    "indicator": ["indicator name", "indicator", "label", "measure", "indicator label"],
    "period": ["time period", "period", "year", "timeperiod"],
    "value": ["value", "val"],
    "lower": ["lower ci 95 0 limit", "lower ci 95 limit", "lower ci", "lower", "ci lower", "lci", "lower 95 ci",
              "lower ci 95"],
    "upper": ["upper ci 95 0 limit", "upper ci 95 limit", "upper ci", "upper", "ci upper", "uci", "upper 95 ci",
              "upper ci 95"],
    "count": ["count", "numerator"],
    "denominator": ["denominator", "denom"],
    "note": ["value note", "note", "notes"],
    "sex": ["sex"],
    "age": ["age"],
    "category_type": ["category type"],
    "category": ["category"],
    "unit": ["unit", "units"],
    "source": ["source"],
    "england_value": ["england value", "england"],
    "region_value": ["nw value", "region value", "regional value", "north west value"],
}
_ALIAS_INDEX = {a: k for k, names in ALIASES.items() for a in (_norm(n) for n in names)}


def _pick_columns(columns) -> dict:
    """role -> original column name (first match wins, by alias order)."""
    out = {}
    norm = {c: _norm(c) for c in columns}
    for role, names in ALIASES.items():
        for n in (_norm(x) for x in names):
            hit = next((c for c, nc in norm.items() if nc == n and c not in out.values()), None)
            if hit is not None:
                out[role] = hit
                break
    if "code" not in out:  # e.g. "lad_code", "ward_code", "LSOA11CD "
        for c, nc in norm.items():
            if (nc.endswith(" code") or nc.endswith("cd")) and c not in out.values():
                out["code"] = c
                break
    if "name" not in out and "code" in out:
        base = _norm(out["code"])
        for c, nc in norm.items():
            if c in out.values():
                continue
            if nc.endswith(" name") or nc.endswith("nm"):
                if nc.split(" ")[0] == base.split(" ")[0] or nc[:-2] == base[:-2]:
                    out["name"] = c
                    break
    return out
