"""Neutralise spreadsheet formula injection in exported tables.

A cell whose text starts with ``= + - @`` (or a tab / carriage return) is run as a
formula by Excel, LibreOffice and Google Sheets when a CSV is opened. OWASP's advice
is to prefix such cells with a single quote so they are shown as text. Numbers are left
alone (a negative longitude is data, not a formula), including numeric-looking text
such as ``"-2.5"``.

    from geo.csvsafe import neutralise_cell, safe_csv_bytes
    data = safe_csv_bytes(df)          # bytes ready for st.download_button / a file
"""
from __future__ import annotations

import io
import re

import pandas as pd

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def needs_neutralising(value) -> bool:
    """True if `value` is text that a spreadsheet would treat as a formula."""
    if not isinstance(value, str) or not value:
        return False
    if not value.startswith(TRIGGERS):
        return False
    return not _NUMBER.match(value.strip())


def neutralise_cell(value):
    """Return `value` made safe for a spreadsheet: formula-like text gets a leading '."""
    if needs_neutralising(value):
        return "'" + value
    return value


def neutralise_frame(df: pd.DataFrame) -> pd.DataFrame:
    """Copy of `df` with every text cell (and column name) neutralised."""
    out = df.copy()
    for col in out.columns:
        s = out[col]
        if s.dtype == object or pd.api.types.is_string_dtype(s):
            out[col] = s.map(neutralise_cell)
    out.columns = [neutralise_cell(str(c)) for c in out.columns]
    return out


def safe_csv_bytes(df: pd.DataFrame, *, index: bool = False, encoding: str = "utf-8-sig") -> bytes:
    """CSV bytes of `df` with formula-like text neutralised (UTF-8 with BOM for Excel)."""
    buf = io.StringIO()
    neutralise_frame(df).to_csv(buf, index=index, lineterminator="\n")
    return buf.getvalue().encode(encoding)
