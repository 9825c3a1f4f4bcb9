"""Reading indicator files (through geo.tabular) and normalising any supported layout
to the long frame."""
from __future__ import annotations

import math
from pathlib import Path
import numpy as np
import pandas as pd
from geo.errors import SourceError, UsageError
from geo.tabular import Limits, TabularError, describe_columns, display_name, read_tabular
from geo.tabular import parse_number as parse_tab_number

from geo.indicators.model import Report
from geo.indicators.vocab import MISSING_MARKERS, SUPPRESSED_MARKERS, _CODE_RE, _ODS_SICBL_RE, _norm, _pick_columns


# ----------------------------------------------------------------------------- reading

LIMITS = Limits(max_bytes=50_000_000, max_rows=300_000, max_cols=1_000, max_cells=6_000_000)


def _has_code_column(cols) -> bool:
    return "code" in _pick_columns(cols)


def read_bytes(data: bytes, filename: str, *, limits: Limits | None = None, label: str | None = None) -> pd.DataFrame:
    """CSV/XLSX bytes -> DataFrame of strings (header = the first row, of the first 20,
    that names a code column). SourceError naming the user's file for whole-file
    problems (label: how to name it instead, e.g. the path a CLI user typed); attrs:
    header_row, rownums, problems (unreadable rows), notes, sheet."""
    name = display_name(filename)
    try:
        t = read_tabular(data, name, limits=limits or LIMITS, header_test=_has_code_column,
                         prefer_sheets=("data", "indicators"), what="indicator file")
    except TabularError as e:
        msg = str(e)
        raise SourceError(label or name, msg[len(name) + 2:] if msg.startswith(name + ": ") else msg)
    df = t.frame
    if t.decimal == ",":
        df = df.apply(lambda col: col.map(_dot_decimal))
    df.attrs.update(header_row=t.header_row, rownums=list(t.rownums), problems=list(t.problems),
                    notes=list(t.notes), sheet=t.sheet)
    return df


def _dot_decimal(v):
    """'1,5' / '1.234,5' (a ';' file) -> '1.5' / '1234.5'; anything else unchanged."""
    if isinstance(v, str) and "," in v and any(ch.isdigit() for ch in v):
        try:
            x = parse_tab_number(v, ",")
        except ValueError:
            return v
        return v if x is None else repr(x)
    return v


def read_table(path) -> pd.DataFrame:
    """CSV/XLSX file -> DataFrame of strings (see read_bytes)."""
    p = Path(path)
    if not p.exists():
        raise SourceError(p, "file not found")
    if p.is_dir():
        raise SourceError(p, "is a folder, not a file")
    try:
        data = p.read_bytes()
    except OSError as e:
        raise SourceError(p, f"cannot read ({e.strerror})")
    return read_bytes(data, p.name, label=str(p))


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
    t = s.replace("%", "").replace("£", "").strip()
    try:
        f = parse_tab_number(t)
    except ValueError:
        return math.nan, "invalid"
    return (math.nan, "missing") if f is None else (f, "ok")


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
                                    "'lsoa11cd', 'ward_code' holding ONS codes like E01012345); found "
                                    + describe_columns(df.columns))
        cols["code"] = best
    n = len(df)
    nums = df.attrs.get("rownums")
    rows = np.asarray(nums) if nums is not None and len(nums) == n else np.arange(n) + header_row + 1
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
