"""Migration of the files the app wrote under the user-data folder before the store
existed (geo.userdb.UserDB.migrate): each file imported once per content, byte for byte,
as a version of an item named after the file; originals left in place; a marker file
(MIGRATED-TO-USERDB.txt) in the folder lists what was imported."""
from __future__ import annotations

import datetime as dt
import hashlib
import os
from pathlib import Path

import sqlalchemy as sa

from geo.userdb import LEGACY_DIRS, MARKER, Migrated, UserDB, _aware, _now, imports, items, versions


def migrate(db: UserDB, user_dir: str | os.PathLike | None = None) -> list[Migrated]:
    """Import the files the app wrote under the user-data folder before this store
    existed (once per file content; originals left in place; marker written)."""
    from geo.paths import user_data_dir
    root = Path(user_dir) if user_dir else user_data_dir()
    done: list[Migrated] = []
    for sub, (kind, suffixes) in LEGACY_DIRS.items():
        d = root / sub
        if not d.is_dir():
            continue
        files = sorted(p for p in d.iterdir() if p.is_file() and p.suffix.lower() in suffixes
                       and not p.name.startswith("."))
        new = [m for p in files if (m := _migrate_file(db, root, p, kind)) is not None]
        if new:
            done += new
            _write_marker(db, d, root)
    return done


def _migrate_file(db: UserDB, root: Path, p: Path, kind: str) -> Migrated | None:
    try:
        data = p.read_bytes()
        mtime = dt.datetime.fromtimestamp(p.stat().st_mtime, dt.timezone.utc)
    except OSError:
        return None                     # unreadable: left for the next start
    rel, sha = p.relative_to(root).as_posix(), hashlib.sha256(data).hexdigest()
    seen = db._read(lambda c: c.execute(sa.select(imports.c.id).where(
        imports.c.path == rel, imports.c.sha256 == sha)).first())
    if seen:
        return None
    meta = {"migrated_from": rel, "file_modified": mtime.isoformat()}
    saved = db.save(kind, p.name, data, created_by="migration of data/user files",
                    source_file=p.name, meta=meta)

    def tx(conn):
        if conn.execute(sa.select(imports.c.id).where(imports.c.path == rel, imports.c.sha256 == sha)).first():
            return False                # another process imported it at the same moment
        vid = conn.execute(sa.select(versions.c.id).join(items, items.c.id == versions.c.item_id).where(
            items.c.kind == kind, items.c.name == saved.name, versions.c.version == saved.version)).scalar()
        conn.execute(imports.insert().values(path=rel, sha256=sha, version_id=vid, at=_now()))
        return True

    if not db._write(tx):
        return None
    return Migrated(rel, kind, saved.name, saved.version, saved.created)


def _write_marker(db: UserDB, d: Path, root: Path) -> None:
    from geo.atomic import write_atomic
    rows = db._read(lambda c: c.execute(
        sa.select(imports.c.path, imports.c.sha256, imports.c.at, items.c.name, versions.c.version)
        .join(versions, versions.c.id == imports.c.version_id).join(items, items.c.id == versions.c.item_id)
        .order_by(imports.c.id)).all())
    lines = [f"These files were imported into the user-data store {db.location}.",
             "The app now reads them from there (python -m geo services list); the files",
             "are kept as they were and are not read again unless their content changes.", ""]
    lines += [f"{r.path}\tsha256 {r.sha256}\t-> '{r.name}' version {r.version}\t{_aware(r.at).isoformat()}"
              for r in rows if r.path.startswith(d.relative_to(root).as_posix() + "/")]
    try:
        write_atomic(d / MARKER, ("\n".join(lines) + "\n").encode("utf-8"))
    except OSError:
        pass                            # read-only folder: the table still records it
