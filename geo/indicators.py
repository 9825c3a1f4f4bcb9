"""Indicator import: read an indicator file, detect its geography and code vintage,
match it to the store, and say exactly what did not match and why.

Layouts read (CSV or XLSX):
- OHID Fingertips export: Indicator ID, Indicator Name, Area Code, Area Name, Area Type,
  Sex, Age, Category Type, Category, Time period, Value, Lower CI 95.0 limit,
  Upper CI 95.0 limit, Count, Denominator, Value note, ... England / region rows
  in the file become comparators, category breakdown rows are skipped (counted).
- simple long: area_code, indicator, period, value[, lower, upper, count, denominator]
  (also the staged shape lad_code/indicator_key/label/ci_lower/ci_upper/england_value).
- wide: one code column plus one numeric column per indicator.

Geography is detected from the codes (E01 LSOA 2011/2021, E05 ward by vintage Dec-2019 /
May-2024, E06/E07 district 2019/2024, E38 / 00Q sub-ICB, E54 ICB) and matched to the
store's drawable areas. Where an ONS lookup exists the mapping is applied and reported
(LSOA 2021 -> 2011 polygons via the ONS best-fit lookup, CCG/ODS codes -> sub-ICB),
never silently. Everything that is not drawn is listed with a reason.

`python -m geo indicator FILE` (geo/indicators_cli.py) prints the matched table and
the report. No streamlit/folium here.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from geo.errors import SourceError, UsageError

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


# ----------------------------------------------------------------------------- results

@dataclass
class Report:
    """The code-vintage report: what matched, what did not and why."""
    file: str
    layout: str = ""
    rows_read: int = 0
    family: str | None = None
    detected: str | None = None                 # code vintage most rows match
    target: str | None = None                   # vintage of the polygons drawn
    vintage_matches: dict = field(default_factory=dict)   # vintage label -> codes matched
    matched_rows: int = 0
    matched_codes: int = 0
    n_target_areas: int = 0
    mapped: list = field(default_factory=list)      # {code, to, via}
    unmatched: list = field(default_factory=list)   # {row, code, name, reason}
    problems: list = field(default_factory=list)    # {row, column, problem}
    comparator_rows: int = 0
    skipped: dict = field(default_factory=dict)     # reason -> count
    notes: list = field(default_factory=list)
    status_counts: dict = field(default_factory=dict)   # matched table rows by status (ok/suppressed/...)

    def problem(self, row, column, problem):
        self.problems.append({"file": self.file, "row": row, "column": column, "problem": problem})

    def unmatch(self, row, code, name, reason):
        key = (row, code)
        seen = self.__dict__.setdefault("_seen_unmatched", set())
        if key in seen:
            return
        seen.add(key)
        self.unmatched.append({"row": row, "code": code, "name": name, "reason": reason})

    def map_code(self, code, to, via):
        seen = self.__dict__.setdefault("_seen_mapped", set())
        if code in seen:
            return
        seen.add(code)
        self.mapped.append({"code": code, "to": to, "via": via})

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in (
            "file", "layout", "rows_read", "family", "detected", "target", "vintage_matches", "matched_rows",
            "matched_codes", "n_target_areas", "mapped", "unmatched", "problems", "comparator_rows", "skipped",
            "notes", "status_counts")}

    def unmatched_by_reason(self) -> dict:
        out = {}
        for u in self.unmatched:
            out.setdefault(_reason_head(u["reason"]), []).append(u)
        return out

    def text(self, max_list: int = 40) -> str:
        L = [f"{self.file}: {self.layout} layout, {self.rows_read} data rows"]
        if self.family:
            L.append(f"geography: {FAMILY_LABEL.get(self.family, self.family)} codes; "
                     f"detected vintage {VINTAGES.get(self.detected, (0, self.detected))[1]}; "
                     f"drawn on {VINTAGES.get(self.target, (0, self.target))[1]} areas")
        if self.vintage_matches:
            L.append("codes matching each vintage: " + ", ".join(f"{k} {v}" for k, v in self.vintage_matches.items()))
        L.append(f"matched: {self.matched_rows} rows, {self.matched_codes} of {self.n_target_areas} areas")
        if self.status_counts:
            L.append("values in the matched table: " + ", ".join(f"{k} {v}" for k, v in self.status_counts.items()))
        if self.comparator_rows:
            L.append(f"comparator rows (England/region/ICB): {self.comparator_rows}")
        for why, n in self.skipped.items():
            L.append(f"skipped: {n} rows — {why}")
        if self.mapped:
            L.append(f"mapped through a lookup: {len(self.mapped)} areas")
            for m in self.mapped[:max_list]:
                L.append(f"  {m['code']} -> {m['to']} ({m['via']})")
        if self.unmatched:
            L.append(f"unmatched: {len(self.unmatched)} rows")
            for u in self.unmatched[:max_list]:
                nm = f" {u['name']}" if u.get("name") else ""
                L.append(f"  row {u['row']}: {u['code']}{nm} — {u['reason']}")
            if len(self.unmatched) > max_list:
                L.append(f"  ... {len(self.unmatched) - max_list} more")
        if self.problems:
            L.append(f"problems: {len(self.problems)}")
            for p in self.problems[:max_list]:
                col = f", column '{p['column']}'" if p.get("column") else ""
                row = f", row {p['row']}" if p.get("row") is not None else ""
                L.append(f"  {p['file']}{row}{col}: {p['problem']}")
            if len(self.problems) > max_list:
                L.append(f"  ... {len(self.problems) - max_list} more")
        L.extend(f"note: {n}" for n in self.notes)
        return "\n".join(L)


def _reason_head(reason: str) -> str:
    return reason.split(":")[0].split(";")[0]


TABLE_COLUMNS = ["code", "name", "geography", "indicator", "label", "period", "value", "lower", "upper",
                 "count", "denominator", "status", "sex", "age", "source_code", "source_name", "mapped_via",
                 "note", "row"]


@dataclass
class IndicatorData:
    """One imported file: the matched long table, comparators, metadata and report."""
    table: pd.DataFrame            # TABLE_COLUMNS; status in ok|suppressed|missing|invalid
    comparators: pd.DataFrame      # indicator, period, comparator, value, how
    meta: dict                     # indicator -> {label, unit, polarity, source, ...}
    report: Report
    family: str | None = None
    target: str | None = None
    dataset: str = ""              # short name shown in pickers
    source: str = ""               # provenance line for the legend

    # Lookups are memoised per object (these objects are read-only once built and are
    # cached by the app): a rerun must not filter the long table again.
    def _memo(self) -> dict:
        m = self.__dict__.setdefault("_memo_d", {})
        if m.get("_table_id") != id(self.table):
            m.clear()
            m["_table_id"] = id(self.table)
        return m

    def indicators(self) -> list[str]:
        m = self._memo()
        if "indicators" not in m:
            m["indicators"] = list(dict.fromkeys(self.table["indicator"].tolist())) if len(self.table) else []
        return m["indicators"]

    def periods(self, indicator: str) -> list[str]:
        m = self._memo()
        if "periods" not in m:
            g = self.table.groupby("indicator", sort=False)["period"]
            m["periods"] = {k: sorted(v.dropna().unique().tolist(), key=_period_key) for k, v in g}
        return m["periods"].get(indicator, [])

    def latest_period(self, indicator: str) -> str | None:
        p = self.periods(indicator)
        return p[-1] if p else None

    def values(self, indicator: str, period: str | None = None) -> pd.DataFrame:
        """One row per area for an indicator/period (latest period by default)."""
        period = period or self.latest_period(indicator)
        memo = self._memo()
        if "groups" not in memo:
            memo["groups"] = self.table.groupby(["indicator", "period"], sort=False).indices if len(
                self.table) else {}
        m = memo.setdefault("values", {})
        key = (indicator, period)
        if key not in m:
            idx = memo["groups"].get(key)
            t = self.table.iloc[idx] if idx is not None else self.table.iloc[0:0]
            m[key] = t.drop_duplicates("code").set_index("code")
        return m[key]

    def prepare(self) -> "IndicatorData":
        """Fill the lookups for every indicator/period once (so a first switch is warm)."""
        for ind in self.indicators():
            for per in self.periods(ind):
                self.values(ind, per)
            self.comparator(ind, None, "England")
        return self

    def comparator(self, indicator: str, period: str | None, which: str) -> tuple[float | None, str]:
        """(value, description) of comparator `which` ('England', 'Region', 'ICB', 'LSC')."""
        c = self.comparators
        if c is None or not len(c):
            return None, ""
        memo = self._memo()
        if memo.get("_comp_id") != id(c):
            d = {}
            for r in c.to_dict("records"):
                per = r["period"] if isinstance(r["period"], str) else None
                d.setdefault((r["indicator"], per, r["comparator"]), (float(r["value"]), str(r.get("how", ""))))
            memo["_comp_id"], memo["comp"] = id(c), d
        d = memo["comp"]
        hit = d.get((indicator, period, which))
        if hit is None and period is not None:
            hit = d.get((indicator, None, which))
        return hit if hit is not None else (None, "")


def _period_key(p):
    s = str(p)
    nums = [int(x) for x in re.findall(r"\d{4}", s)]
    return (nums[-1] if nums else 0, nums[0] if nums else 0, s)


# ----------------------------------------------------------------------------- reading

def read_table(path) -> pd.DataFrame:
    """CSV/XLSX -> DataFrame of strings (header = first row that names a code column)."""
    p = Path(path)
    if not p.exists():
        raise SourceError(p, "file not found")
    if p.is_dir():
        raise SourceError(p, "is a folder, not a file")
    suf = p.suffix.lower()
    try:
        if suf in (".xlsx", ".xlsm"):
            raw = pd.read_excel(p, sheet_name=None, header=None, dtype=str, engine="openpyxl")
            best = None
            for sheet, df in raw.items():
                df = df.fillna("")
                for i in range(min(len(df), 20)):
                    cols = [str(x).strip() for x in df.iloc[i].tolist()]
                    if "code" in _pick_columns(cols):
                        best = (df.iloc[i + 1:].reset_index(drop=True), cols, i)
                        break
                if best:
                    break
            if best is None:
                first = next(iter(raw.values()), pd.DataFrame()).fillna("")
                if not len(first):
                    raise SourceError(p, "the workbook is empty")
                cols = [str(x).strip() for x in first.iloc[0].tolist()]
                best = (first.iloc[1:].reset_index(drop=True), cols, 0)
            df, cols, hdr = best
            df.columns = _dedupe(cols)
            df.attrs["header_row"] = hdr + 1
            return df.astype(str)
        if suf in (".xls",):
            raise SourceError(p, "old .xls workbooks are not supported: save as .xlsx or CSV")
        for enc in ("utf-8-sig", "cp1252"):
            try:
                df = pd.read_csv(p, dtype=str, keep_default_na=False, encoding=enc, sep=None, engine="python")
                df.columns = _dedupe([str(c).strip() for c in df.columns])
                df.attrs["header_row"] = 1
                return df
            except UnicodeDecodeError:
                continue
        raise SourceError(p, "cannot decode the text (not UTF-8 or Windows-1252)")
    except SourceError:
        raise
    except pd.errors.EmptyDataError:
        raise SourceError(p, "the file is empty")
    except (pd.errors.ParserError, ValueError, OSError, KeyError) as e:
        raise SourceError(p, f"cannot read as {'a workbook' if suf.startswith('.xls') else 'CSV'}: {e}")
    except Exception as e:  # zipfile.BadZipFile etc. from openpyxl
        raise SourceError(p, f"cannot read the file: {type(e).__name__}: {e}")


def _dedupe(cols):
    seen, out = {}, []
    for c in cols:
        c = c or "unnamed"
        if c in seen:
            seen[c] += 1
            out.append(f"{c}.{seen[c]}")
        else:
            seen[c] = 0
            out.append(c)
    return out


def parse_number(raw) -> tuple[float, str]:
    """-> (value, status) with status ok | suppressed | missing | invalid."""
    if raw is None:
        return math.nan, "missing"
    if isinstance(raw, (int, float, np.integer, np.floating)) and not isinstance(raw, bool):
        f = float(raw)
        return (f, "ok") if math.isfinite(f) else (math.nan, "missing")
    s = str(raw).strip()
    low = s.lower()
    if low in MISSING_MARKERS:
        return math.nan, "missing"
    if low in SUPPRESSED_MARKERS:
        return math.nan, "suppressed"
    t = s.replace(",", "").replace("%", "").replace("£", "").strip()
    try:
        f = float(t)
    except ValueError:
        return math.nan, "invalid"
    return (f, "ok") if math.isfinite(f) else (math.nan, "invalid")


def _numeric_share(series: pd.Series) -> float:
    vals = [v for v in series.astype(str).str.strip() if v.lower() not in MISSING_MARKERS | SUPPRESSED_MARKERS]
    if not vals:
        return 0.0
    ok = sum(1 for v in vals if parse_number(v)[1] == "ok")
    return ok / len(vals)


def _codeish_share(series: pd.Series) -> float:
    s = series.astype(str).str.strip().str.upper()
    s = s[s != ""]
    if not len(s):
        return 0.0
    return float(s.map(lambda c: bool(_CODE_RE.match(c) or _ODS_SICBL_RE.match(c))).mean())


def normalise_frame(df: pd.DataFrame, file: str, report: Report, default_indicator: str | None = None) -> pd.DataFrame:
    """Any supported layout -> long frame with columns: row, code, name, area_type,
    indicator, label, period, sex, age, category, value_raw, lower_raw, upper_raw,
    count_raw, denominator_raw, note, unit, source, england_value, region_value."""
    header_row = df.attrs.get("header_row", 1)
    cols = _pick_columns(df.columns)
    if "code" in cols and _codeish_share(df[cols["code"]]) < 0.5:
        # the column named like a code column does not hold codes: look at the content
        others = {c: _codeish_share(df[c]) for c in df.columns if c != cols["code"]}
        best = max(others, key=others.get) if others else None
        if best is not None and others[best] >= 0.5:
            report.notes.append(f"column '{cols['code']}' does not hold area codes; using '{best}'")
            cols["code"] = best
    if "code" not in cols:
        # content-based: the column holding ONS codes
        shares = {c: _codeish_share(df[c]) for c in df.columns}
        best = max(shares, key=shares.get) if shares else None
        if best is None or shares[best] < 0.5:
            raise SourceError(file, "no recognisable area-code column (expected e.g. 'Area Code', 'area_code', "
                                    "'lsoa11cd', 'ward_code' holding ONS codes like E01012345); columns are: "
                                    + ", ".join(map(str, df.columns[:30])))
        cols["code"] = best
    n = len(df)
    rows = np.arange(n) + header_row + 1
    base = pd.DataFrame({"row": rows, "code": df[cols["code"]].astype(str).str.strip().str.upper()})
    base["name"] = df[cols["name"]].astype(str).str.strip() if "name" in cols else ""
    for role in ("area_type", "sex", "age", "category_type", "category", "note", "unit", "source"):
        base[role] = df[cols[role]].astype(str).str.strip() if role in cols else ""
    for role in ("england_value", "region_value"):
        base[role] = df[cols[role]] if role in cols else ""
    if "value" in cols:
        layout = "Fingertips export" if {"indicator_id", "area_type"} <= set(cols) or "lower" in cols and _norm(
            cols["lower"]).startswith("lower ci 95") else "long"
        ind_id = df[cols["indicator_id"]].astype(str).str.strip() if "indicator_id" in cols else None
        ind_nm = df[cols["indicator"]].astype(str).str.strip() if "indicator" in cols else None
        if ind_id is None and ind_nm is None:
            name = default_indicator or Path(file).stem
            ind_id = pd.Series([name] * n)
            report.notes.append(f"no indicator column: all values are treated as one indicator '{name}'")
        base["indicator"] = (ind_id if ind_id is not None else ind_nm).values
        base["label"] = (ind_nm if ind_nm is not None else ind_id).values
        base["period"] = df[cols["period"]].astype(str).str.strip().values if "period" in cols else ""
        if "period" not in cols:
            report.notes.append("no period column: period shown as 'not stated'")
            base["period"] = "not stated"
        for role in ("value", "lower", "upper", "count", "denominator"):
            base[f"{role}_raw"] = df[cols[role]].values if role in cols else ""
        report.layout = layout
        return base
    # wide: every other mostly-numeric column is an indicator
    skip = set(cols.values())
    value_cols = [c for c in df.columns if c not in skip and _numeric_share(df[c]) >= 0.8]
    if not value_cols:
        raise SourceError(file, "no value column: expected 'Value' (Fingertips), 'value' (long layout) or "
                                "numeric indicator columns next to the area codes")
    parts = []
    for c in value_cols:
        p = base.copy()
        p["indicator"], p["label"] = c, c
        p["period"] = "not stated"
        p["value_raw"] = df[c].values
        for role in ("lower", "upper", "count", "denominator"):
            p[f"{role}_raw"] = ""
        parts.append(p)
    report.layout = f"wide ({len(value_cols)} indicator columns)"
    report.notes.append("wide layout: no period column, period shown as 'not stated'")
    return pd.concat(parts, ignore_index=True)


# ----------------------------------------------------------------------------- matching

def _family_of(kind: str) -> str | None:
    if kind in ("lsoa", "ward", "district", "subicb", "icb"):
        return kind
    if kind == "subicb_ods":
        return "subicb"
    return None


def _candidates_for(code, fam, ref: Reference) -> list[str]:
    return [v for v, (f, _) in VINTAGES.items() if f == fam and code in ref.names.get(v, {})]


def _same_name_elsewhere(code, name, ref: Reference) -> str | None:
    if not name:
        return None
    nm = _norm(name)
    for v in ("wd24", "wd19"):
        for c, n in ref.names[v].items():
            if _norm(n) == nm or _norm(re.sub(r"\s*\(.*\)$", "", n)) == nm:
                return f"a {VINTAGES[v][1]} ward of the same name exists ({c} {n})"
    return None


def _unmatched_reason(code, name, kind, fam, target, ref: Reference, main_family) -> str:
    fam = fam if isinstance(fam, str) else None
    name = name if isinstance(name, str) else ""
    if fam is None:
        what = {
            "msoa": "MSOA code: MSOAs are not mapped (no MSOA polygons in the store)",
            "oa": "output-area code: OAs are not mapped",
            "county": "county code: counties are not mapped (use the district rows)",
            "metcounty": "metropolitan county code: not mapped",
            "practice": "GP practice code: practice-level values are not mapped as areas",
            "lsoa_wales": "Welsh LSOA: outside LSC",
            "ward_wales": "Welsh ward: outside LSC",
            "district_wales": "Welsh district: outside LSC",
            "nhsregion": "NHS region code: used only as a comparator",
            "unknown": "not an ONS area code (expected e.g. E01012345, E05001234, E07000117)",
        }
        return what.get(kind, f"{kind} code: not a geography this map draws")
    if main_family and fam != main_family:
        return (f"mixed area types: this row is a {FAMILY_LABEL[fam]}, the file is mostly "
                f"{FAMILY_LABEL[main_family]} rows (put these rows in a file of their own to map them)")
    if code in ref.outside:
        return "outside the LSC footprint: " + ref.outside[code]
    if fam == "lsoa":
        if code in ref.england_lsoa11:
            return "LSOA outside the LSC footprint (an England LSOA 2011 not in the 16 districts)"
        if code in ref.names["lsoa21"]:
            return ("LSOA 2021 code (split or new in 2021) with no 2011 polygon: not the ONS best fit of any "
                    "2011 LSOA, so it is not drawn")
        return "LSOA code not in the LSC footprint (neither LSOA 2011 nor LSOA 2021 of the 16 districts)"
    if fam == "ward":
        other = [v for v in ("wd19", "wd24") if v != target and code in ref.names[v]]
        if other:
            v = other[0]
            return (f"{VINTAGES[v][1]} code: not in the {VINTAGES[target][1]} wards drawn "
                    f"(ward boundaries reviewed in between; no ONS ward-to-ward lookup) — choose ward vintage "
                    f"{'2019' if v == 'wd19' else '2024'} to draw it")
        hint = _same_name_elsewhere(code, name, ref)
        base = ("ward code in neither the Dec-2019 nor the May-2024 ward lists (e.g. a 2020-2023 code replaced by "
                "a later review)")
        if hint:
            return base + f"; {hint}, but no ONS lookup links the codes, so it is not mapped"
        return base + "; not mapped"
    if fam == "district":
        if kind == "district" and code.startswith(("E06", "E07", "E08", "E09")):
            return "district outside the LSC footprint"
    if fam == "subicb":
        return "sub-ICB code not in LSC (expected one of " + ", ".join(sorted(ref.names["sicbl22"])) + ")"
    if fam == "icb":
        return "ICB code other than LSC (E54000048)"
    return "code not found in the store"


def import_frame(long: pd.DataFrame, ref: Reference, report: Report, *, ward_vintage: str | None = None,
                 family: str | None = None, use_lookups: bool = True) -> IndicatorData:
    """Match a normalised long frame to the store. Returns IndicatorData (table at the
    file's own geography, drawn vintage chosen automatically unless ward_vintage)."""
    file = report.file
    report.rows_read = int(long["row"].nunique())
    df = long.copy()
    # category breakdown rows (Fingertips "Category Type" set) are not area values
    cat = (df["category_type"].astype(str).str.strip() != "") | (df["category"].astype(str).str.strip() != "")
    if cat.any():
        report.skipped["category breakdown rows (e.g. by deprivation decile), not area values"] = int(cat.sum())
        df = df[~cat]
    df["kind"] = df["code"].map(code_kind)
    df["family"] = df["kind"].map(_family_of)
    # ODS sub-ICB codes (00Q) and CCG20 codes -> E38 SICBL codes (lookup)
    ods = df["kind"].eq("subicb_ods") | (df["kind"].eq("subicb") & ~df["code"].isin(ref.names["sicbl22"].keys()))
    mapped_via = pd.Series("", index=df.index)
    if ods.any():
        newc = df.loc[ods, "code"].map(ref.sicbl_ods)
        ok = newc.notna()
        for c, n in zip(df.loc[ods][ok]["code"], newc[ok]):
            if c != n:
                report.map_code(c, n, "ODS/CCG 2020 code -> sub-ICB location (ONS lookup)")
        mapped_via.loc[newc[ok].index] = "ONS CCG20/ODS -> SICBL22"
        df.loc[newc[ok].index, "source_code_orig"] = df.loc[newc[ok].index, "code"]
        df.loc[newc[ok].index, "code"] = newc[ok]
        df.loc[newc[ok].index, "family"] = "subicb"
    df["mapped_via"] = mapped_via
    # comparators
    is_eng = df["kind"].eq("england")
    is_reg = df["kind"].isin(["region", "nhsregion"])
    fams = df.loc[df["family"].notna() & ~is_eng & ~is_reg, "family"]
    counts = fams.value_counts()
    fam_counts = {f: int(n) for f, n in counts.items()}
    main = family or (None if counts.empty else counts.index[0])
    if main == "icb" and len(counts) > 1:
        main = counts.index[1]
    is_icb_comp = df["family"].eq("icb") & df["code"].eq(ICB_CODE) & (main != "icb")
    comp_rows = is_eng | is_reg | is_icb_comp
    comps = []
    for r in df[comp_rows].to_dict("records"):
        v, st = parse_number(r["value_raw"])
        if st == "ok":
            which = "England" if r["kind"] == "england" else ("ICB" if r["family"] == "icb" else "Region")
            nm = r["name"] or which
            comps.append({"indicator": r["indicator"], "period": r["period"], "comparator": which, "value": v,
                          "how": f"{nm} row in the file"})
    report.comparator_rows = int(comp_rows.sum())
    # columns of England / region comparators on each row (staged layout)
    for col, which in (("england_value", "England"), ("region_value", "Region")):
        if df[col].astype(str).str.strip().ne("").any():
            g = df[~comp_rows].groupby(["indicator", "period"], sort=False)[col].first()
            for (ind, per), raw in g.items():
                v, st = parse_number(raw)
                if st == "ok":
                    comps.append({"indicator": ind, "period": per, "comparator": which, "value": v,
                                  "how": f"'{which.lower()} value' column in the file"})
    df = df[~comp_rows]
    if len(fam_counts) > 1:
        others = ", ".join(f"{n} {FAMILY_LABEL.get(f, f)}" for f, n in fam_counts.items() if f != main)
        report.problem(None, None, f"mixed area types: {fam_counts.get(main, 0)} {FAMILY_LABEL.get(main, main)} rows "
                                   f"and {others} rows; mapping the {FAMILY_LABEL.get(main, main)} rows, "
                                   f"the others are listed as unmatched")
    report.family = main
    if main is None:
        for r in df.to_dict("records"):
            report.unmatch(int(r["row"]), r["code"], r["name"],
                           _unmatched_reason(r["code"], r["name"], r["kind"], r["family"], None, ref, None))
        return _finish(pd.DataFrame(columns=TABLE_COLUMNS), comps, report, None, None, ref)
    if main == "icb":
        for r in df.to_dict("records"):
            report.unmatch(int(r["row"]), r["code"], r["name"],
                           "ICB-level value: one area, not mapped as a choropleth (kept as the ICB comparator)")
            v, st = parse_number(r["value_raw"])
            if st == "ok" and r["code"] == ICB_CODE:
                comps.append({"indicator": r["indicator"], "period": r["period"], "comparator": "ICB", "value": v,
                              "how": "ICB row in the file"})
        return _finish(pd.DataFrame(columns=TABLE_COLUMNS), comps, report, main, None, ref)
    # vintage detection within the family
    mine = df[df["family"] == main]
    codes = set(mine["code"])
    vm = {}
    for v, (f, label) in VINTAGES.items():
        if f == main:
            vm[v] = len(codes & set(ref.names.get(v, {})))
    report.vintage_matches = {VINTAGES[v][1]: n for v, n in vm.items()}
    detected = max(vm, key=lambda v: (vm[v], v in FAMILY_TARGETS[main])) if vm else None
    report.detected = detected
    if main == "ward":
        if ward_vintage:
            target = {"2019": "wd19", "2024": "wd24", "wd19": "wd19", "wd24": "wd24"}.get(str(ward_vintage))
            if target is None:
                raise UsageError(f"unknown ward vintage {ward_vintage!r}; valid: 2019, 2024")
        else:
            target = "wd24" if vm.get("wd24", 0) >= vm.get("wd19", 0) else "wd19"
    else:
        target = FAMILY_TARGETS[main][0]
    report.target = target
    tnames = ref.names[target]
    report.n_target_areas = len(tnames)

    out = []
    for r in df.to_dict("records"):
        code, fam = r["code"], r["family"]
        if fam != main:
            report.unmatch(int(r["row"]), code, r["name"],
                           _unmatched_reason(code, r["name"], r["kind"], fam, target, ref, main))
            continue
        if code in tnames:
            out.append((r, code, r["mapped_via"]))
        elif main == "lsoa" and code in ref.lsoa21_to_11 and use_lookups:
            targets = [c for c in ref.lsoa21_to_11[code]]
            for c11 in targets:
                out.append((r, c11, "ONS LSOA11->LSOA21 best fit"))
            report.map_code(code, ", ".join(targets),
                            "ONS LSOA 2011 -> 2021 best-fit lookup (the 2011 polygon shows its 2021 successor's value)")
        else:
            report.unmatch(int(r["row"]), code, r["name"],
                           _unmatched_reason(code, r["name"], r["kind"], fam, target, ref, main))
    if not out:
        return _finish(pd.DataFrame(columns=TABLE_COLUMNS), comps, report, main, target, ref)
    recs = []
    for r, code, via in out:
        soc = r.get("source_code_orig")
        rec = {"code": code, "name": tnames.get(code, ""), "geography": target, "indicator": r["indicator"],
               "label": r["label"], "period": r["period"], "sex": r["sex"], "age": r["age"],
               "source_code": soc if isinstance(soc, str) else r["code"],
               "source_name": r["name"], "mapped_via": via or "", "row": int(r["row"]), "note": r["note"],
               "unit": r["unit"], "source": r["source"]}
        v, st = parse_number(r["value_raw"])
        if st == "invalid":
            report.problem(int(r["row"]), "value", f"non-numeric value {str(r['value_raw'])!r}: drawn as no data")
        if st == "missing" and r["note"] and "suppress" in r["note"].lower():
            st = "suppressed"
        rec["value"], rec["status"] = v, st
        for role in ("lower", "upper", "count", "denominator"):
            x, s2 = parse_number(r[f"{role}_raw"])
            if s2 == "invalid":
                report.problem(int(r["row"]), role, f"non-numeric {role} {str(r[f'{role}_raw'])!r}: ignored")
            rec[role] = x
        recs.append(rec)
    t = pd.DataFrame(recs)
    # indicator identity: split by sex/age when they vary within an indicator
    for dim in ("sex", "age"):
        nun = t.groupby("indicator")[dim].nunique()
        multi = nun[nun > 1].index
        if len(multi):
            m = t["indicator"].isin(multi)
            t.loc[m, "indicator"] = t.loc[m, "indicator"] + " | " + t.loc[m, dim]
            t.loc[m, "label"] = t.loc[m, "label"] + " (" + t.loc[m, dim] + ")"
    # duplicates: same indicator/area/period (after mapping)
    key = ["indicator", "code", "period"]
    dup = t.duplicated(key, keep=False)
    if dup.any():
        drop = []
        for _, g in t[dup].groupby(key, sort=False):
            mapped_only = g["mapped_via"].str.startswith("ONS LSOA11")
            if mapped_only.all():
                # several 2021 successors best-fit to one 2011 polygon: cannot pick one honestly
                drop.extend(g.index)
                report.unmatch(int(g["row"].iloc[0]), g["code"].iloc[0], g["name"].iloc[0],
                               "several LSOA 2021 rows map to this 2011 polygon (merged in 2021 best fit): "
                               "values not combined, drawn as no data")
                continue
            rows = ", ".join(str(x) for x in g["row"])
            vals = g["value"].tolist()
            same = all((a == b) or (math.isnan(a) and math.isnan(b)) for a, b in zip(vals, vals[1:]))
            if same:
                drop.extend(g.index[1:])
                report.problem(int(g["row"].iloc[1]), None,
                               f"duplicate rows {rows} for {g['code'].iloc[0]} / {g['indicator'].iloc[0]} / "
                               f"{g['period'].iloc[0]} with the same value: kept row {g['row'].iloc[0]}")
            else:
                drop.extend(g.index)
                report.problem(int(g["row"].iloc[0]), "value",
                               f"duplicate rows {rows} for {g['code'].iloc[0]} / {g['indicator'].iloc[0]} / "
                               f"{g['period'].iloc[0]} with different values ({', '.join(f'{v:g}' for v in vals)}): "
                               f"none used, the area is drawn as no data")
                for i in g.index:
                    report.unmatch(int(t.loc[i, "row"]), t.loc[i, "code"], t.loc[i, "source_name"],
                                   "conflicting duplicate row for the same area/indicator/period")
        keep_missing = t.loc[drop].drop_duplicates(key)
        t = t.drop(index=drop)
        # areas whose duplicates conflicted still appear, as invalid (drawn as no data)
        conflicting = keep_missing[~keep_missing.set_index(key).index.isin(t.set_index(key).index)]
        if len(conflicting):
            conflicting = conflicting.assign(value=np.nan, status="invalid", lower=np.nan, upper=np.nan,
                                             note="conflicting duplicate rows")
            t = pd.concat([t, conflicting], ignore_index=True)
    return _finish(t, comps, report, main, target, ref)


def _finish(t, comps, report, family, target, ref) -> IndicatorData:
    t = t.copy()
    for c in TABLE_COLUMNS:
        if c not in t.columns:
            t[c] = np.nan if c in ("value", "lower", "upper", "count", "denominator") else ""
    extra = [c for c in ("unit", "source") if c in t.columns]
    t = t[TABLE_COLUMNS + extra].reset_index(drop=True)
    report.matched_rows = int(t["row"].nunique()) if len(t) else 0
    report.matched_codes = int(t["code"].nunique()) if len(t) else 0
    report.status_counts = {k: int(v) for k, v in t["status"].value_counts().items()} if len(t) else {}
    cdf = pd.DataFrame(comps, columns=["indicator", "period", "comparator", "value", "how"]).drop_duplicates(
        ["indicator", "period", "comparator"])
    meta = {}
    for ind, g in t.groupby("indicator", sort=False):
        unit = next((u for u in g.get("unit", pd.Series(dtype=str)) if isinstance(u, str) and u), "")
        src = next((u for u in g.get("source", pd.Series(dtype=str)) if isinstance(u, str) and u), "")
        meta[ind] = {"label": g["label"].iloc[0], "unit": unit, "source": src}
    return IndicatorData(t, cdf, meta, report, family, target)


def import_file(path, ref: Reference | None = None, *, ward_vintage: str | None = None, family: str | None = None,
                use_lookups: bool = True, store=None) -> IndicatorData:
    """Read and match one indicator file (CSV/XLSX)."""
    if ref is None:
        ref = reference(store)
    report = Report(file=str(path))
    raw = read_table(path)
    if not len(raw):
        raise SourceError(path, "no data rows under the header")
    long = normalise_frame(raw, str(path), report)
    data = import_frame(long, ref, report, ward_vintage=ward_vintage, family=family, use_lookups=use_lookups)
    data.dataset = Path(path).name
    data.source = f"user file {Path(path).name}"
    apply_config(data)
    return data


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


# ----------------------------------------------------------------------------- config

@lru_cache(maxsize=1)
def load_config() -> dict:
    import yaml
    from geo.paths import CONFIG_DIR
    p = CONFIG_DIR / "indicators.yaml"
    try:
        return yaml.safe_load(p.read_text()) or {}
    except (OSError, yaml.YAMLError) as e:
        raise SourceError(p, f"cannot read indicator config: {e}")


def apply_config(data: IndicatorData) -> None:
    """Fill polarity/unit/label/source from config/indicators.yaml (by indicator key or
    exact label); unknown indicators get polarity 'neutral' and say so."""
    cfg = load_config().get("indicators", {}) or {}
    by_label = {str(v.get("label", "")).lower(): v for v in cfg.values()}
    for ind, m in data.meta.items():
        base = ind.split(" | ")[0]
        c = cfg.get(base) or by_label.get(str(m.get("label", "")).lower()) or {}
        m["polarity"] = c.get("polarity", m.get("polarity") or "neutral")
        m["polarity_from"] = "config/indicators.yaml" if c.get("polarity") else "not configured"
        for k in ("unit", "source", "short", "definition", "period_note"):
            if c.get(k) and not m.get(k):
                m[k] = c[k]
        if c.get("label") and base == ind:
            m["label"] = c["label"]
        m.setdefault("unit", "")
        m.setdefault("source", data.source)
        if not m.get("source"):
            m["source"] = data.source


# ----------------------------------------------------------------------------- aggregation

def _pooled_scale(g: pd.DataFrame) -> float | None:
    """If value == count/denominator * s for every row (within 0.5%), return s."""
    ok = g["value"].notna() & g["count"].notna() & g["denominator"].notna() & (g["denominator"] > 0)
    if not ok.all() or not len(g):
        return None
    crude = g["count"] / g["denominator"]
    if (crude <= 0).any():
        return None
    s = (g["value"] / crude).median()
    for cand in (1, 100, 1000, 10000, 100000):
        if abs(s - cand) / cand < 0.005:
            s = cand
            break
    rel = ((crude * s) - g["value"]).abs() / g["value"].abs().clip(lower=1e-9)
    return float(s) if (rel < 0.005).all() else None


def area_frame(store, level: str, ward_vintage: str = "wd24") -> pd.DataFrame:
    """Per-area population, IMD score and Core20 share from geo.report.build_table
    (IoD2019, best-fit LSOAs), indexed by code."""
    from geo.report import build_table
    if level in ("lsoa", "lsoa11"):
        l = pd.DataFrame(store.lsoa.drop(columns="geometry"))
        return pd.DataFrame({"name": l.lsoa11nm.values, "population": l.pop2015.values,
                             "imd_score": l.imd_score.values, "imd_decile": l.imd_decile.values,
                             "core20_share": (l.imd_decile <= 2).astype(float).values,
                             "lad19cd": l.lad19cd.values}, index=l.lsoa11cd.values)
    kw = {}
    if level in ("wd19", "wd24"):
        by, kw["ward_vintage"] = "ward", (2019 if level == "wd19" else 2024)
    elif level == "lad19":
        by = "district"
    elif level in ("place5", "place4"):
        by, kw["grouping"] = "place", level
    elif level == "sicbl22":
        by = "subicb"
    else:
        raise UsageError(f"no area table for {level}")
    t = build_table(store, by, **kw).set_index("code")
    out = pd.DataFrame({"name": t["name"], "population": t["population"], "imd_score": t["imd_score"],
                        "core20_share": t["pct_core20"] / 100.0})
    if level == "sicbl22":  # build_table codes sub-ICBs by ODS code (00Q)
        m = dict(zip(store.subicb.subicb_code, store.subicb.sicbl22cd))
        out.index = [m.get(c, c) for c in out.index]
    return out


def aggregate(data: IndicatorData, by: str, store, ward_vintage: str | None = None) -> IndicatorData:
    """Aggregate a matched table to a coarser level (--by). Pooled count/denominator where
    the values are crude rates of them; otherwise population-weighted mean of the area
    values (flagged approximate). An area gets a value only when all its parts have one."""
    if by not in BY_LEVELS:
        raise UsageError(f"unknown --by {by!r}; valid: {', '.join(BY_LEVELS)}")
    fam = data.family
    if fam is None:
        return data
    src_level = FAMILY_LEVEL.get(fam, 9)
    if fam not in ("lsoa", "ward", "district", "place"):
        raise UsageError(f"{FAMILY_LABEL.get(fam, fam)} values cannot be shown by {by}: sub-ICB areas do not nest "
                         f"in wards/districts/places (omit --by)")
    if BY_LEVELS[by] < src_level:
        valid = [b for b, lv in BY_LEVELS.items() if lv >= src_level]
        raise UsageError(f"cannot show {FAMILY_LABEL[fam]} values by {by}: values can only be combined into larger "
                         f"areas, not split; valid --by for this file: {', '.join(valid)}")
    if BY_LEVELS[by] == src_level:
        return data
    src = data.target
    tgt = {"ward": {"2019": "wd19", "2024": "wd24", None: "wd24"}.get(str(ward_vintage) if ward_vintage else None,
                                                                       "wd24"),
           "district": "lad19", "place": "place5"}[by]
    lsoa = pd.DataFrame(store.lsoa.drop(columns="geometry")).set_index("lsoa11cd")
    if src == "lsoa11":
        col = {"wd19": "wd19cd", "wd24": "wd24cd", "lad19": "lad19cd", "place5": "place5"}[tgt]
        parent = lsoa[col]
        pop = lsoa["pop2015"]
        members = lsoa.groupby(col).size()
    else:
        ref = reference(store)
        af = area_frame(store, src)
        if src in ("wd19", "wd24"):
            lad = pd.Series(ref.ward_district[src])
            parent = lad if tgt == "lad19" else lad.map(ref.district_place["place5"])
        elif src == "lad19":
            parent = pd.Series(ref.district_place["place5"])
        else:
            raise UsageError(f"cannot aggregate {src} areas by {by}")
        pop = af["population"].reindex(parent.index)
        members = parent.groupby(parent).size()
    tnames = reference(store).names[tgt]
    recs = []
    t = data.table
    for (ind, per), g in t.groupby(["indicator", "period"], sort=False):
        g = g.drop_duplicates("code").set_index("code")
        g = g.assign(parent=parent.reindex(g.index).values, pop=pop.reindex(g.index).values)
        scale = _pooled_scale(g[g.status == "ok"])
        for pcode, n_members in members.items():
            sub = g[g.parent == pcode]
            okm = sub[sub.status == "ok"]
            rec = {"code": pcode, "name": tnames.get(pcode, pcode), "geography": tgt, "indicator": ind,
                   "label": g["label"].iloc[0], "period": per, "sex": "", "age": "", "source_code": "",
                   "source_name": "", "mapped_via": "", "row": 0, "lower": np.nan, "upper": np.nan,
                   "count": np.nan, "denominator": np.nan}
            if len(okm) < n_members:
                rec.update(value=np.nan, status="suppressed" if (sub.status == "suppressed").any() else "missing",
                           note=f"incomplete: {len(okm)} of {n_members} {FAMILY_LABEL[fam]} areas have a value")
            elif scale is not None:
                rec.update(value=okm["count"].sum() / okm["denominator"].sum() * scale, count=okm["count"].sum(),
                           denominator=okm["denominator"].sum(), status="ok",
                           note=f"pooled count/denominator of {len(okm)} {FAMILY_LABEL[fam]} areas")
            else:
                w = okm["pop"].fillna(0)
                if w.sum() <= 0:
                    rec.update(value=np.nan, status="missing", note="no population to weight by")
                else:
                    rec.update(value=float((okm["value"] * w).sum() / w.sum()), status="ok",
                               note=f"approximate: population-weighted mean of {len(okm)} "
                                    f"{FAMILY_LABEL[fam]} values")
            recs.append(rec)
    out = pd.DataFrame(recs)
    rep = data.report
    rep.notes.append(f"aggregated from {VINTAGES[src][1]} to {VINTAGES[tgt][1]}"
                     + (" (LSOA best-fit lookups, mid-2015 population weights)" if src == "lsoa11" else
                        " (population weights: IoD2019 mid-2015, best-fit LSOAs)"))
    kept = (rep.matched_rows, rep.matched_codes)
    res = _finish(out, [], rep, {"ward": "ward", "district": "district", "place": "place"}[by], tgt, None)
    rep.matched_rows = kept[0]
    rep.n_target_areas = len(tnames)
    rep.matched_codes = int(out.loc[out.status == "ok", "code"].nunique()) if len(out) else 0
    rep.notes.append(f"{rep.matched_codes} of {len(tnames)} {VINTAGES[tgt][1]} areas have a complete value")
    res.comparators = data.comparators
    res.meta = {k: dict(v) for k, v in data.meta.items()}
    res.dataset, res.source = data.dataset, data.source
    return res


# ----------------------------------------------------------------------------- cross-views

def imd_decile_cuts(store) -> pd.Series:
    """Lowest IMD 2019 score in each national decile (all 32,844 England LSOAs)."""
    return store.england19.groupby("imd_decile")["imd_score"].min().sort_index()


def by_imd_decile(data: IndicatorData, indicator: str, period: str | None, store, *, af: pd.DataFrame | None = None,
                  cuts: pd.Series | None = None) -> pd.DataFrame:
    """Indicator by national IMD 2019 decile: for LSOAs their own decile; for larger
    areas the national LSOA decile their population-weighted IMD score falls in
    (cut-offs from all 32,844 England LSOAs). Value = pooled count/denominator where
    possible, else population-weighted mean."""
    v = data.values(indicator, period)
    v = v[v.status == "ok"]
    af = area_frame(store, data.target) if af is None else af
    if data.target == "lsoa11":
        dec = af["imd_decile"]
    else:
        cuts = imd_decile_cuts(store) if cuts is None else cuts   # decile 1 = highest scores
        score = af["imd_score"]
        dec = pd.Series(np.nan, index=af.index)
        for d in range(10, 0, -1):  # ascending thresholds: decile 10 lowest scores
            dec[score >= cuts.get(d, np.inf)] = d
    df = pd.DataFrame({"value": v["value"], "count": v["count"], "denominator": v["denominator"]})
    df["decile"] = dec.reindex(df.index).values
    df["pop"] = af["population"].reindex(df.index).values
    df = df[df.decile.notna()]
    scale = _pooled_scale(v.assign(value=v["value"]))
    rows = []
    for d in range(1, 11):
        g = df[df.decile == d]
        if not len(g):
            rows.append({"imd_decile": d, "n_areas": 0, "value": np.nan, "method": ""})
            continue
        if scale is not None:
            val, how = g["count"].sum() / g["denominator"].sum() * scale, "pooled"
        elif g["pop"].fillna(0).sum() > 0:
            val, how = float((g["value"] * g["pop"].fillna(0)).sum() / g["pop"].fillna(0).sum()), "pop-weighted mean"
        else:
            val, how = float(g["value"].mean()), "mean"
        rows.append({"imd_decile": d, "n_areas": int(len(g)), "value": val, "method": how})
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------------- output

def output_table(data: IndicatorData) -> pd.DataFrame:
    cols = ["code", "name", "geography", "indicator", "label", "period", "value", "lower", "upper", "count",
            "denominator", "status", "mapped_via", "source_code", "row", "note"]
    return data.table[cols]


# ----------------------------------------------------------------------------- shipped datasets

LONG_COLUMNS = ["row", "code", "name", "area_type", "indicator", "label", "period", "sex", "age", "category_type",
                "category", "value_raw", "lower_raw", "upper_raw", "count_raw", "denominator_raw", "note", "unit",
                "source", "england_value", "region_value"]


def long_frame(codes, indicator, label, period, values, *, names=None, lower=None, upper=None, count=None,
               denominator=None, unit="", source="", rows=None) -> pd.DataFrame:
    """Build a normalised long frame (the input of import_frame) from arrays."""
    n = len(codes)
    blank = [""] * n

    def col(x):
        return blank if x is None else list(x)

    return pd.DataFrame({
        "row": list(rows) if rows is not None else list(range(2, n + 2)),
        "code": [str(c).strip().upper() for c in codes], "name": col(names), "area_type": blank,
        "indicator": [indicator] * n, "label": [label] * n, "period": [period] * n, "sex": blank, "age": blank,
        "category_type": blank, "category": blank, "value_raw": col(values), "lower_raw": col(lower),
        "upper_raw": col(upper), "count_raw": col(count), "denominator_raw": col(denominator), "note": blank,
        "unit": [unit] * n, "source": [source] * n, "england_value": blank, "region_value": blank})


def wilson_interval(count, denominator, z: float = 1.959963984540054, scale: float = 100.0):
    """Wilson score 95% interval for a proportion, as (lower, upper) * scale."""
    k = np.asarray(count, dtype=float)
    n = np.asarray(denominator, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        den = 1 + z * z / n
        centre = (p + z * z / (2 * n)) / den
        half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return (centre - half) * scale, (centre + half) * scale


BUILTINS = ["iod2019", "iod2025", "census_ward", "fingertips_lad"]


def builtin_labels() -> dict:
    ds = load_config().get("datasets", {})
    return {k: ds.get(k, {}).get("label", k) for k in BUILTINS}


def _source_path(rel: str, source=None) -> Path:
    from geo.paths import source_dir
    p = source_dir(source) / rel
    if not p.exists():
        raise SourceError(p, "staged indicator file not found (set LSC_DATA_DIR to the source folder)")
    return p


def load_builtin(name: str, store, *, source=None, ward_vintage: str | None = None) -> IndicatorData:
    """One of the shipped indicator datasets, matched like any user file."""
    cfg = load_config()
    ds = cfg.get("datasets", {}).get(name)
    if ds is None:
        raise UsageError(f"unknown indicator dataset {name!r}; valid: {', '.join(BUILTINS)}")
    ref = reference(store)
    inds = cfg.get("indicators", {})
    if name == "fingertips_lad":
        data = import_file(_source_path(ds["file"], source), ref)
        data.report.notes.append(ds.get("caveat", ""))
    elif name == "census_ward":
        path = _source_path(ds["file"], source)
        raw = read_table(path)
        parts = []
        for key, m in ds["measures"].items():
            num = _sum_cols(raw, path, m.get("numerator"), m.get("numerator_all_but"), m.get("denominator_prefix"))
            den = _sum_cols(raw, path, m.get("denominator"), None, m.get("denominator_prefix"))
            val = np.where(den > 0, num / den * 100.0, np.nan)
            lo, hi = wilson_interval(num, den)
            meta = inds.get(key, {})
            parts.append(long_frame(raw[ds["code_column"]], key, meta.get("label", key), ds["period"],
                                    np.round(val, 4), names=raw[ds["name_column"]], lower=np.round(lo, 4),
                                    upper=np.round(hi, 4), count=num, denominator=den, unit=meta.get("unit", ""),
                                    source=ds["source"], rows=np.arange(len(raw)) + 2))
        rep = Report(file=str(path), layout="Census ward table (counts; % and Wilson CI computed)")
        data = import_frame(pd.concat(parts, ignore_index=True), ref, rep, ward_vintage=ward_vintage)
        data.report.notes.append(ds.get("caveat", ""))
        # LSC comparator: pooled counts over every ward in the file (14 Lancashire districts)
        comps = [data.comparators]
        for key in ds["measures"]:
            g = pd.concat(parts)
            g = g[g.indicator == key]
            c = pd.to_numeric(g["count_raw"]).sum()
            d = pd.to_numeric(g["denominator_raw"]).sum()
            comps.append(pd.DataFrame([{"indicator": key, "period": ds["period"], "comparator": "LSC",
                                        "value": c / d * 100.0,
                                        "how": "14 Lancashire districts, pooled Census counts of all wards in the file"}]))
        data.comparators = pd.concat(comps, ignore_index=True)
    elif name in ("iod2019", "iod2025"):
        tab = store.lsoa if name == "iod2019" else store.lsoa25
        code_col, name_col = ("lsoa11cd", "lsoa11nm") if name == "iod2019" else ("lsoa21cd", "lsoa21nm")
        parts, comps = [], []
        icb = None
        if name == "iod2025" and ds.get("comparator_file"):
            try:
                icbf = pd.read_csv(_source_path(ds["comparator_file"], source))
                icb = icbf[icbf.icb24_code == ICB_CODE].iloc[0]
            except (SourceError, IndexError, OSError):
                icb = None
        eng = store.england19 if name == "iod2019" else None
        for key, m in inds.items():
            if not key.startswith(name + "_"):
                continue
            c = m["column"]
            parts.append(long_frame(tab[code_col], key, m["label"], ds["period"], tab[c], names=tab[name_col],
                                    unit=m.get("unit", ""), source=ds["source"], rows=np.arange(len(tab)) + 1))
            if eng is not None and c.endswith("_score"):
                w = eng["pop2015"]
                comps.append({"indicator": key, "period": ds["period"], "comparator": "England",
                              "value": float((eng[c] * w).sum() / w.sum()),
                              "how": "England: population-weighted mean of all 32,844 LSOA scores (mid-2015)"})
            if eng is not None and c.endswith("_rank"):
                comps.append({"indicator": key, "period": ds["period"], "comparator": "England",
                              "value": (len(eng) + 1) / 2.0, "how": "England: middle rank (by definition)"})
            if name == "iod2019" and c.endswith("_score"):
                w = tab["pop2015"]
                comps.append({"indicator": key, "period": ds["period"], "comparator": "LSC",
                              "value": float((tab[c] * w).sum() / w.sum()),
                              "how": "16 LSC districts: population-weighted mean of LSOA scores (mid-2015)"})
            if icb is not None and m.get("icb_prefix") and f"{m['icb_prefix']}_average_score" in icb.index:
                comps.append({"indicator": key, "period": ds["period"], "comparator": "ICB",
                              "value": float(icb[f"{m['icb_prefix']}_average_score"]),
                              "how": "LSC ICB average score, official MHCLG IoD2025 ICB summary"})
        rep = Report(file=f"store:{'lsoa' if name == 'iod2019' else 'lsoa25'}",
                     layout=f"{ds['label']} (store table)")
        data = import_frame(pd.concat(parts, ignore_index=True), ref, rep)
        data.comparators = pd.concat([data.comparators, pd.DataFrame(comps)], ignore_index=True)
    data.dataset = name
    data.source = ds.get("source", "")
    for m in data.meta.values():
        m["source"] = ds.get("source", m.get("source", ""))
    apply_config(data)
    data.report.notes = [n for n in data.report.notes if n]
    return data


def _sum_cols(raw, path, cols=None, all_but=None, prefix=None) -> np.ndarray:
    if cols:
        use = list(cols)
    elif prefix:
        use = [c for c in raw.columns if c.startswith(prefix)]
        if all_but:
            use = [c for c in use if c != all_but]
    else:
        use = []
    missing = [c for c in use if c not in raw.columns]
    if missing or not use:
        raise SourceError(path, f"expected count column(s) not found: {', '.join(missing) or prefix}")
    out = np.zeros(len(raw))
    for c in use:
        v = pd.to_numeric(raw[c], errors="coerce")
        if v.isna().any():
            bad = int(v.isna().idxmax())
            raise SourceError(path, f"non-numeric count {raw[c].iloc[bad]!r}", column=c, row=bad + 2)
        out += v.to_numpy()
    return out


# ----------------------------------------------------------------------------- ward profile

def compare_to(value, lower, upper, comp, polarity) -> str:
    """'worse/better/similar than the comparator' from the 95% CI (no CI: not tested)."""
    if comp is None or value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if lower is None or upper is None or any(isinstance(x, float) and math.isnan(x) for x in (lower, upper)):
        return "no CI: not tested"
    if lower > comp:
        side = "higher"
    elif upper < comp:
        side = "lower"
    else:
        return "similar (95% CI includes it)"
    if polarity == "higher_is_worse":
        return f"{side} = worse"
    if polarity == "higher_is_better":
        return f"{side} = {'better' if side == 'higher' else 'worse'}"
    return side


def ward_profile_rows(datasets, wd24cd: str, store) -> pd.DataFrame:
    """One row per indicator for a May-2024 ward: the ward's own value where the data are
    on May-2024 ward codes, else its district's value (labelled), with 95% CI, LSC and
    England comparators and a CI-based comparison with England."""
    w = store.wards24
    hit = w[w["wd24cd"] == wd24cd]
    if hit.empty:
        raise UsageError(f"ward {wd24cd!r} is not a May-2024 LSC ward")
    lad, ladnm = hit["lad19cd"].iloc[0], hit["lad19nm"].iloc[0]
    rows = []
    for d in datasets:
        if d.target == "wd24":
            code, level = wd24cd, "Ward"
        elif d.target == "lad19":
            code, level = lad, f"District: {ladnm}"
        else:
            continue
        for ind in d.indicators():
            # the latest period with a value for THIS area (periods can differ by area)
            pers = d.periods(ind)
            per = next((p for p in reversed(pers) if code in d.values(ind, p).index
                        and d.values(ind, p).loc[code, "status"] == "ok"), pers[-1] if pers else None)
            v = d.values(ind, per)
            meta = d.meta.get(ind, {})
            eng, _ = d.comparator(ind, per, "England")
            lsc, _ = d.comparator(ind, per, "LSC")
            base = {"Indicator": meta.get("label", ind), "Level": level, "Period": per, "Unit": meta.get("unit", ""),
                    "LSC": lsc, "England": eng}
            if code not in v.index or v.loc[code, "status"] != "ok":
                why = ("no value on this May-2024 ward code (the Census used 2022 ward codes; "
                       "boundaries reviewed since)" if d.target == "wd24" and code not in v.index
                       else str(v.loc[code, "status"]) if code in v.index else "no value")
                rows.append({**base, "Value": None, "Lower 95% CI": None, "Upper 95% CI": None,
                             "Compared with LSC": "", "Compared with England": "", "Note": why})
                continue
            r = v.loc[code]
            lo = None if pd.isna(r["lower"]) else float(r["lower"])
            hi = None if pd.isna(r["upper"]) else float(r["upper"])
            rows.append({**base, "Value": float(r["value"]), "Lower 95% CI": lo, "Upper 95% CI": hi,
                         "Compared with LSC": compare_to(float(r["value"]), lo, hi, lsc, meta.get("polarity")),
                         "Compared with England": compare_to(float(r["value"]), lo, hi, eng,
                                                             meta.get("polarity")),
                         "Note": "" if d.target == "wd24" else "district value (no ward-level data)"})
    cols = ["Indicator", "Level", "Period", "Value", "Lower 95% CI", "Upper 95% CI", "LSC", "England",
            "Compared with LSC", "Compared with England", "Unit", "Note"]
    return pd.DataFrame(rows, columns=cols)
