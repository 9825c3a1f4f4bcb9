"""The shipped indicator datasets (IoD 2019 / 2025, Census ward, Fingertips LAD)."""
from __future__ import annotations

from pathlib import Path
import numpy as np
import pandas as pd
from geo.errors import SourceError, UsageError

from geo.indicators.config import apply_config, load_config
from geo.indicators.match import import_file, import_frame
from geo.indicators.model import IndicatorData, Report
from geo.indicators.read import read_table
from geo.indicators.refs import reference
from geo.indicators.vocab import ICB_CODE


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
