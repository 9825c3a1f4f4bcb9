"""The text side of geo.tabular: how the user's file name and values appear in messages
(display_name, short, describe_columns), cells as numbers and dates (parse_number,
parse_date), and bytes as text (decode_text: encodings; sniff_delimiter). Also
TabularError, the one whole-file error every reader raises.

geo.tabular re-exports every public name here.
"""
from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from pathlib import PurePath
from typing import Iterable

DELIMITERS = (",", ";", "\t", "|")
_CTRL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u2028\u2029]")
_PLAIN_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_THOUSANDS_DOT = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")       # 1,234,567.8
_THOUSANDS_COMMA = re.compile(r"^[+-]?\d{1,3}(\.\d{3})+(,\d+)?$")     # 1.234.567,8
_DECIMAL_COMMA = re.compile(r"^[+-]?\d*,\d+$")                        # 1,5  ,5
_NOT_FINITE = {"inf", "+inf", "-inf", "infinity", "+infinity", "-infinity", "nan", "-nan", "+nan"}


class TabularError(Exception):
    """The whole file cannot be read; str() is the user-facing message."""


# ----------------------------------------------------------------------------- names, text

def display_name(filename) -> str:
    """The user's file name as shown in messages: line breaks and control characters
    become one space, at most 80 characters; a path (absolute, or with a folder
    separator and no other oddity) is cut to its base name, so a server temp path never
    shows. Escaping for markdown/HTML is the caller's job (layers.base.md / esc)."""
    s = re.sub(r"[\x00-\x1f\x7f\u2028\u2029]+", " ", str(filename or ""))
    s = re.sub(r" {2,}", " ", s).strip()
    if re.match(r"^(/|[A-Za-z]:[\\/]|\\\\|\.\.?[\\/])", s):
        s = PurePath(s.replace("\\", "/")).name
    s = s or "upload"
    return s if len(s) <= 80 else s[:79] + "…"


def short(value, n: int = 40) -> str:
    """One-line, length-capped text of a user value for a message."""
    s = _CTRL.sub(" ", str(value if value is not None else "")).replace("\n", " ").replace("\r", " ").strip()
    return s if len(s) <= n else s[: n - 1] + "…"


def describe_columns(cols: Iterable, n: int = 8) -> str:
    """"'a', 'b', 'c' and 5 more": a column list for a message, never the whole header."""
    cols = [str(c) for c in cols]
    if not cols:
        return "no columns"
    head = ", ".join(repr(short(c, 30)) for c in cols[:n])
    return head + (f" and {len(cols) - n} more" if len(cols) > n else "")


# ----------------------------------------------------------------------------- numbers, dates

def parse_number(raw, decimal: str = ".") -> float | None:
    """Float from a cell; None when blank; ValueError(reason) when not a finite number.
    `decimal` is the file's decimal mark (',' for ';'-separated files): '1,5' and
    '1.234,5' read in a ',' file, '1,234.5' (thousands) in a '.' file; 'inf', 'nan'
    and '1_000' are refused."""
    if raw is None:
        return None
    if isinstance(raw, bool):
        raise ValueError(f"'{raw}' is not a number")
    if isinstance(raw, (int, float)):
        if isinstance(raw, float) and math.isnan(raw):
            return None
        if not math.isfinite(raw):
            raise ValueError(f"'{raw}' is not a finite number")
        return float(raw)
    s = unicodedata.normalize("NFKC", str(raw)).strip().replace("\u2212", "-")
    if not s:
        return None
    if s.lower() in _NOT_FINITE:
        raise ValueError(f"'{short(s, 12)}' is not a finite number")
    s = re.sub(r"(?<=\d)[ \u00a0\u202f'](?=\d{3}\b)", "", s)     # 1 234 567 / 1'234
    if decimal == ",":
        if _THOUSANDS_COMMA.match(s):
            s = s.replace(".", "").replace(",", ".")
        elif _DECIMAL_COMMA.match(s):
            s = s.replace(",", ".")
        elif _THOUSANDS_DOT.match(s):
            raise ValueError(f"'{short(s, 20)}' has a ',' thousands separator but this file uses decimal commas")
    else:
        if _THOUSANDS_DOT.match(s):
            s = s.replace(",", "")
        elif _DECIMAL_COMMA.match(s):
            s = s.replace(",", ".")
    if not _PLAIN_NUMBER.match(s):
        raise ValueError(f"'{short(raw, 20)}' is not a number")
    x = float(s)
    if not math.isfinite(x):
        raise ValueError(f"'{short(raw, 20)}' is not a finite number")
    return x


_DATE_FORMATS = (("%Y-%m-%d", r"\d{4}-\d{1,2}-\d{1,2}"), ("%d/%m/%Y", r"\d{1,2}/\d{1,2}/\d{4}"),
                 ("%Y%m%d", r"\d{8}"), ("%d-%m-%Y", r"\d{1,2}-\d{1,2}-\d{4}"), ("%d.%m.%Y", r"\d{1,2}\.\d{1,2}\.\d{4}"),
                 ("%Y/%m/%d", r"\d{4}/\d{1,2}/\d{1,2}"))


def parse_date(raw) -> str | None:
    """ISO date from a cell; None when blank; ValueError(reason) otherwise. The shape is
    checked before parsing: '202511' (a year and month) is refused, not read as
    2025-01-01 as a lenient parser would."""
    if raw is None:
        return None
    if isinstance(raw, dt.datetime):
        return raw.date().isoformat()
    if isinstance(raw, dt.date):
        return raw.isoformat()
    s = str(raw).strip()
    if not s:
        return None
    s = re.sub(r"[T ]00:00(:00)?$", "", s)
    if re.fullmatch(r"\d{6}", s) or re.fullmatch(r"\d{4}-\d{2}", s):
        raise ValueError(f"'{s}' is a year and month, not a date (use YYYY-MM-DD)")
    for fmt, shape in _DATE_FORMATS:
        if re.fullmatch(shape, s):
            try:
                return dt.datetime.strptime(s, fmt).date().isoformat()
            except ValueError:
                raise ValueError(f"'{short(s, 20)}' is not a real date")
    raise ValueError(f"'{short(s, 20)}' is not a date (use YYYY-MM-DD)")


# ----------------------------------------------------------------------------- decoding

def decode_text(data: bytes, filename: str) -> tuple[str, list[str]]:
    """Bytes -> text and notes. BOMs honoured; UTF-8 else Windows-1252 (noted)."""
    name = display_name(filename)
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace"), []
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace"), ["read as UTF-16 (byte-order mark)"]
    head = data[:8192]
    if b"\x00" in head or head.startswith(b"PK\x03\x04"):
        raise TabularError(f"{name}: binary content, not a text file (save it as CSV UTF-8 or XLSX)")
    try:
        return data.decode("utf-8"), []
    except UnicodeDecodeError as e:
        line = data[:e.start].count(b"\n") + 1
        return data.decode("cp1252", errors="replace"), [
            f"not valid UTF-8 (first bad byte on line {line}): read as Windows-1252; check accented names"]


def sniff_delimiter(text: str) -> str:
    """',', ';', TAB or '|': the one splitting the first non-blank lines most
    consistently (quoted text is ignored)."""
    lines = [ln for ln in text.splitlines()[:50] if ln.strip()][:10]
    if not lines:
        return ","
    best, score = ",", (0, 0)
    for d in DELIMITERS:
        counts = [len(re.sub(r'"[^"]*"', "", ln).split(d)) - 1 for ln in lines]
        first = counts[0]
        if first == 0:
            continue
        same = sum(1 for c in counts if c == first)
        sc = (same, first)
        if sc > score:
            best, score = d, sc
    return best
