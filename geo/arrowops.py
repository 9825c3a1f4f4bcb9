"""Small vectorised helpers for pandas' Arrow-backed string columns.

pandas 3 stores text as Arrow strings; `Series.isin(other_series)` then converts every
value of `other` to a pyarrow scalar in Python (about 2 s for 33k LSOA codes). `isin`
here hands both sides to pyarrow's hash-based `is_in` instead (about 20 ms)."""
from __future__ import annotations

import numpy as np
import pandas as pd


def _arrow_strings(values):
    import pyarrow as pa
    if isinstance(values, (set, frozenset, dict)):
        values = list(values)
    if isinstance(values, (pd.Series, pd.Index)):
        values = values.astype("str") if values.dtype != "str" else values
        arr = pa.array(values, from_pandas=True)
    else:
        arr = pa.array([None if v is None else str(v) for v in values], type=pa.string())
    return arr.cast(pa.large_string()) if arr.type != pa.large_string() else arr


def isin(values, allowed) -> np.ndarray:
    """Boolean array: which of `values` (strings; missing -> False) are in `allowed`."""
    import pyarrow.compute as pc
    a = _arrow_strings(values)
    if len(a) == 0:
        return np.zeros(0, dtype=bool)
    b = _arrow_strings(allowed)
    return pc.fill_null(pc.is_in(a, value_set=b), False).to_numpy(zero_copy_only=False)
