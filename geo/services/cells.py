"""Cell parsing for service rows: text, numbers (decimal commas), dates, times."""
from __future__ import annotations

import datetime as dt
import re
import numpy as np

from geo.tabular import parse_date, parse_number


# --- cell parsing ------------------------------------------------------------------

_CTRL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_MARKUP = re.compile(r"<\s*/?\s*[a-zA-Z!][^>]*>|javascript:|on\w+\s*=", re.I)


def _text(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        if np.isnan(v):
            return ""
        return repr(int(v)) if v.is_integer() else repr(v)
    if isinstance(v, (dt.datetime, dt.date)):
        return v.isoformat()[:10]
    return _CTRL.sub("", str(v)).strip()


def _number(v, decimal: str = ".") -> float | None:
    """Float from a cell, None when blank; ValueError(reason) when not a finite number
    (decimal commas in ';' files, thousands separators: geo.tabular.parse_number)."""
    return parse_number(v, decimal)


def _date(v) -> str | None:
    """ISO date string from a cell; None when blank; ValueError(reason) when not a date
    ('202511' is refused: geo.tabular.parse_date)."""
    return parse_date(v)


def _time(v) -> str | None:
    if v is None:
        return None
    if isinstance(v, dt.time):
        return v.strftime("%H:%M")
    if isinstance(v, dt.datetime):
        return v.strftime("%H:%M")
    if isinstance(v, float) and 0 <= v < 1:     # Excel time fraction
        m = int(round(v * 24 * 60))
        return f"{m // 60:02d}:{m % 60:02d}"
    s = re.sub(r"^\d{4}-\d{2}-\d{2}[ T]", "", str(v).strip())
    if not s:
        return None
    m = re.fullmatch(r"(\d{1,2})[:.](\d{2})(?::\d{2})?", s)
    if not m or int(m.group(1)) > 23 or int(m.group(2)) > 59:
        raise ValueError(s)
    return f"{int(m.group(1)):02d}:{m.group(2)}"
