"""Cell parsing for service rows: text, numbers (decimal commas), dates, times."""
from __future__ import annotations

import datetime as dt
import re
import numpy as np


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


def _number(v) -> float | None:
    """Float from a cell, None when blank; raises ValueError when not a number."""
    if v is None:
        return None
    if isinstance(v, bool):
        raise ValueError(str(v))
    if isinstance(v, (int, float)):
        return None if (isinstance(v, float) and np.isnan(v)) else float(v)
    s = str(v).strip().replace("\u2212", "-")
    if not s:
        return None
    if re.fullmatch(r"-?\d+,\d+", s):          # decimal comma (European Excel)
        s = s.replace(",", ".")
    x = float(s)                               # ValueError if junk
    if not np.isfinite(x):
        raise ValueError(s)
    return x


def _date(v) -> str | None:
    """ISO date string from a cell; None when blank; ValueError when not a date."""
    if v is None:
        return None
    if isinstance(v, dt.datetime):
        return v.date().isoformat()
    if isinstance(v, dt.date):
        return v.isoformat()
    s = str(v).strip()
    if not s:
        return None
    for fmt in ("%Y-%m-%d", "%d/%m/%Y", "%Y%m%d", "%d-%m-%Y", "%d.%m.%Y", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"):
        try:
            return dt.datetime.strptime(s, fmt).date().isoformat()
        except ValueError:
            pass
    raise ValueError(s)


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
    s = str(v).strip()
    if not s:
        return None
    m = re.fullmatch(r"(\d{1,2})[:.](\d{2})(?::\d{2})?", s)
    if not m or int(m.group(1)) > 23 or int(m.group(2)) > 59:
        raise ValueError(s)
    return f"{int(m.group(1)):02d}:{m.group(2)}"
