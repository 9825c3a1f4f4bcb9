"""Saved service files, kept in the user-data store (geo.userdb, kind "services").

The adapter between the services reader/validator (geo.services: import_bytes,
load_register, SCHEMA; called, never changed here) and the store:

    save_result(result, name=None, *, created_by=None, db=None) -> userdb.Saved
        the accepted rows of a validated file, as CSV in the schema columns (what the
        app has always saved); saving the same rows again adds nothing
    saved_results(config=None, db=None) -> ((Entry, ImportResult), ...)
        every saved file's current version, read back through the validator
    load_register(*, include_user=True, config=None, db=None) -> Register
        shipped sources (config/services.yaml) + saved files: use this instead of
        geo.services.load_register, which reads only the pre-store folder
    token(db=None) -> str    changes whenever a saved file is saved/removed/restored

Saved rows are labelled "user data: <name>" (source_file), as before. Files the app
wrote to data/user/services/ before the store existed are migrated into it on first use
(geo.userdb.migrate), so they load from the store too, exactly once.
"""
from __future__ import annotations

import io
from pathlib import Path

import pandas as pd

from geo import services as sv
from geo import userdb
from geo.errors import GeoError

KIND = "services"


def _db(db: userdb.UserDB | None) -> userdb.UserDB:
    return db if db is not None else userdb.open_store()


def canonical_csv(records: pd.DataFrame) -> bytes:
    """Accepted records as the CSV the app saves (schema columns, UTF-8, \\n)."""
    cols = [c for c in sv.SCHEMA if c in records.columns]
    buf = io.StringIO()
    records[cols].to_csv(buf, index=False, lineterminator="\n")
    return buf.getvalue().encode("utf-8")


def default_name(filename: str) -> str:
    return Path(str(filename)).name or "services.csv"


def save_result(result: sv.ImportResult, name: str | None = None, *, created_by: str | None = None,
                db: userdb.UserDB | None = None) -> userdb.Saved:
    """Save a validated file's accepted rows under `name` (default: its file name)."""
    if result.fatal:
        raise GeoError(f"{result.file}: not saved: {result.fatal}")
    if not len(result.records):
        raise GeoError(f"{result.file}: not saved: no row was accepted")
    meta = {"rejected": int(len(result.rejected)), "warnings": int(len(result.warnings)),
            "categories": {str(k): int(v) for k, v in result.records["category"].value_counts().items()}}
    return _db(db).save(KIND, name or default_name(result.file), canonical_csv(result.records),
                        created_by=created_by, source_file=result.file, rows=int(len(result.records)), meta=meta)


def token(db: userdb.UserDB | None = None) -> str:
    d = _db(db)
    return f"{d.location}#{d.generation()}"


_CACHE: dict[tuple, tuple] = {}      # one entry, shared by every caller: a tuple, so none can change it


def saved_results(config: dict | None = None, db: userdb.UserDB | None = None
                  ) -> tuple[tuple[userdb.Entry, sv.ImportResult], ...]:
    """(entry, validated result) for every saved services file (current versions)."""
    d = _db(db)
    key = (d.location, d.generation(), id(config))
    if key in _CACHE:
        return _CACHE[key]
    out = []
    for e in d.list(KIND):
        v = d.version(KIND, e.name, e.version)
        # migrated files keep their own format; the app saves accepted rows as CSV
        fname = (e.source_file or e.name) if e.meta.get("migrated_from") else Path(e.name).stem + ".csv"
        saved_on = (e.meta.get("file_modified") or e.created_at.isoformat())[:10]
        r = sv.import_bytes(v.content, fname, config=config, data_date=f"saved {saved_on}")
        r.records["source_file"] = f"user data: {e.name}"
        out.append((e, r))
    _CACHE.clear()
    _CACHE[key] = out = tuple(out)
    return out


def load_register(*, include_user: bool = True, config: dict | None = None,
                  db: userdb.UserDB | None = None) -> sv.Register:
    """Shipped sources + saved files from the store (the one place saved files live)."""
    reg = sv.load_register(include_user=False, config=config)
    if not include_user:
        return reg
    d = _db(db)
    if db is None:
        d.migrate()                 # a file dropped into data/user/services/ since: imported once
    frames, results = [reg.records], list(reg.results)
    for _, r in saved_results(reg.config, d):
        results.append(r)
        if len(r.records):
            frames.append(r.records)
    recs = pd.concat([f for f in frames if len(f)], ignore_index=True) if any(len(f) for f in frames) \
        else reg.records
    return sv.Register(recs, results, reg.config)
