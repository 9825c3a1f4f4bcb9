"""Saved uploads in the user-data folder (written atomically, never overwritten)."""
from __future__ import annotations

import io
import re
from pathlib import Path
import pandas as pd
from geo.atomic import write_atomic
from geo.paths import CONFIG_DIR, ROOT, source_dir, user_data_dir

from geo.services.config import SCHEMA


# --- user data (saved uploads) -------------------------------------------------------

def user_services_dir() -> Path:
    return user_data_dir() / "services"


def atomic_write_bytes(path: Path, data: bytes) -> Path:
    """Write via a temp file in the same folder + os.replace: never a half-written file."""
    return write_atomic(path, data, fsync=True)


def _safe_stem(name: str) -> str:
    s = re.sub(r"[^A-Za-z0-9_.-]+", "_", Path(name).stem).strip("._") or "services"
    return s[:60]


def save_user_records(records: pd.DataFrame, original_name: str) -> Path:
    """Save accepted records (schema columns) as a CSV in the user-data folder.
    Never overwrites: an existing name gets a numbered suffix."""
    d = user_services_dir()
    d.mkdir(parents=True, exist_ok=True)
    stem = _safe_stem(original_name)
    p = d / f"{stem}.csv"
    k = 2
    while p.exists():
        p = d / f"{stem}-{k}.csv"
        k += 1
    cols = [c for c in SCHEMA if c in records.columns]
    buf = io.StringIO()
    records[cols].to_csv(buf, index=False, lineterminator="\n")
    return atomic_write_bytes(p, buf.getvalue().encode("utf-8"))


def user_files() -> list[Path]:
    d = user_services_dir()
    return sorted(p for p in d.glob("*") if p.suffix.lower() in (".csv", ".xlsx", ".geojson", ".json")
                  and not p.name.startswith(".")) if d.exists() else []
