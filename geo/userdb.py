"""One store for everything a person saves: nothing is overwritten, nothing is lost.

Every saved thing is an *item* `(kind, name)` with numbered *versions*. Each save adds a
version (content bytes, sha256, created_at UTC, created_by, source file name, row
count, metadata JSON); the current version is the highest number. A save whose content
equals the current version adds nothing and says so (idempotent). A removal is a soft
delete that `restore` undoes; saving under a removed name brings it back. Several
processes may save under one name at the same moment: each gets its own version.

Where it lives
- SQLite (default): `<LSC_USER_DATA_DIR or data/user>/userdata.sqlite`, WAL journal,
  30 s busy timeout, writes in `BEGIN IMMEDIATE` transactions (one writer at a time,
  readers never blocked).
- PostgreSQL when `LSC_DATABASE_URL` is set (e.g. `postgresql://user@host/db`; the
  psycopg 3 driver is used): the same code, the item row locked `FOR UPDATE` per save.
- Races that still collide (two first saves of a new name; SQLite "database is locked";
  PostgreSQL serialization failures) hit unique constraints or lock errors and the whole
  transaction is retried with jittered back-off.

Public API (module functions act on the default store; `UserDB` has the same methods)::

    KINDS = ("services", "plan", "schedule", "area", "indicator", "traveltimes")
    save(kind, name, content, *, created_by=None, source_file=None, rows=None,
         meta=None) -> Saved          # Saved.created False = identical to current
    current(kind, name) -> Version | None          # None when absent or removed
    version(kind, name, number) -> Version         # any version, removed or not
    list(kind=None, *, removed=False) -> [Entry]   # current version of each item
    remove(kind, name, *, by=None) -> Entry        # soft delete (undo with restore)
    restore(kind, name, *, by=None) -> Entry
    history(kind, name) -> [Version]               # oldest first, content not loaded
    generation() -> int          # grows on every save/remove/restore (cache keys)
    migrate(user_dir=None) -> [Migrated]           # import data/user files once
    open_store(url=None) -> UserDB                 # default: LSC_DATABASE_URL or SQLite

`NotFound` (no such item/version) and `UserDBError` (bad kind, name or content) are
`GeoError`s: their text is a complete message for the person.

Migration: files the app wrote before this store existed (`data/user/services/*.csv|
xlsx|geojson|json`) are imported once, byte for byte, as versions of an item named
after the file. The originals stay in place; `MIGRATED-TO-USERDB.txt` in that folder
lists what was imported, and a table keyed on (path, sha256) makes the import run once
per file content: a file changed later is imported again as a new version.
"""
from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import os
import random
import socket
import threading
import time
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

from geo.errors import GeoError

KINDS = ("services", "plan", "schedule", "area", "indicator", "traveltimes")
DB_FILE = "userdata.sqlite"
MARKER = "MIGRATED-TO-USERDB.txt"
MAX_NAME = 200
MAX_CONTENT = 512 * 1024 * 1024
RETRIES = 60
# sub-folder of the user-data folder -> (kind, file suffixes the app read from it)
LEGACY_DIRS = {"services": ("services", (".csv", ".xlsx", ".geojson", ".json"))}


class UserDBError(GeoError):
    """Bad kind, name or content; or the store cannot be opened."""


class NotFound(UserDBError):
    """No such saved item or version."""


# --- schema ----------------------------------------------------------------------------

_md = sa.MetaData()
_TS = sa.DateTime(timezone=True)
items = sa.Table(
    "userdata_items", _md,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("name", sa.String(MAX_NAME), nullable=False),
    sa.Column("created_at", _TS, nullable=False),
    sa.Column("created_by", sa.String(200), nullable=False),
    sa.Column("removed_at", _TS),
    sa.Column("removed_by", sa.String(200)),
    sa.UniqueConstraint("kind", "name", name="uq_userdata_item"),
)
versions = sa.Table(
    "userdata_versions", _md,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("item_id", sa.Integer, sa.ForeignKey("userdata_items.id"), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("content", sa.LargeBinary, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("created_at", _TS, nullable=False),
    sa.Column("created_by", sa.String(200), nullable=False),
    sa.Column("source_file", sa.String(500)),
    sa.Column("rows", sa.Integer),
    sa.Column("meta", sa.JSON, nullable=False),
    sa.UniqueConstraint("item_id", "version", name="uq_userdata_version"),
)
events = sa.Table(      # save / remove / restore, in order: the audit trail and generation()
    "userdata_events", _md,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("item_id", sa.Integer, sa.ForeignKey("userdata_items.id"), nullable=False),
    sa.Column("action", sa.String(16), nullable=False),
    sa.Column("version", sa.Integer),
    sa.Column("at", _TS, nullable=False),
    sa.Column("by", sa.String(200), nullable=False),
)
imports = sa.Table(     # legacy files already migrated (path relative to the user-data folder)
    "userdata_imports", _md,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("path", sa.String(1000), nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("version_id", sa.Integer, sa.ForeignKey("userdata_versions.id"), nullable=False),
    sa.Column("at", _TS, nullable=False),
    sa.UniqueConstraint("path", "sha256", name="uq_userdata_import"),
)


# --- values handed back ----------------------------------------------------------------

@dataclass(frozen=True)
class Version:
    kind: str
    name: str
    version: int
    sha256: str
    size: int
    created_at: dt.datetime
    created_by: str
    source_file: str | None
    rows: int | None
    meta: dict = field(default_factory=dict)
    content: bytes | None = None           # None in history()


@dataclass(frozen=True)
class Entry:
    kind: str
    name: str
    version: int                            # the current version
    versions: int                           # how many versions exist
    sha256: str
    size: int
    created_at: dt.datetime                 # of the current version
    created_by: str
    source_file: str | None
    rows: int | None
    meta: dict
    removed_at: dt.datetime | None = None
    removed_by: str | None = None

    @property
    def removed(self) -> bool:
        return self.removed_at is not None


@dataclass(frozen=True)
class Saved:
    kind: str
    name: str
    version: int                            # the current version after the save
    sha256: str
    created: bool                           # False: content equal to the current version
    previous: int | None                    # the version that was current before
    restored: bool = False                  # the name had been removed; it is back

    @property
    def message(self) -> str:
        back = " (it had been removed: restored)" if self.restored else ""
        if not self.created:
            return (f"'{self.name}' is already saved with exactly this content (version {self.version}): "
                    f"nothing new saved{back}.")
        prev = f"; version {self.previous} and earlier are kept in its history" if self.previous else ""
        return f"Saved '{self.name}' as version {self.version}{prev}{back}."


@dataclass(frozen=True)
class Migrated:
    path: str                               # relative to the user-data folder
    kind: str
    name: str
    version: int
    created: bool


# --- helpers ---------------------------------------------------------------------------

def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _aware(t: dt.datetime | None) -> dt.datetime | None:
    """SQLite hands back naive UTC datetimes; PostgreSQL aware ones."""
    return t if t is None or t.tzinfo is not None else t.replace(tzinfo=dt.timezone.utc)


def default_user() -> str:
    try:
        return f"{getpass.getuser()}@{socket.gethostname()}"[:200]
    except Exception:       # no login name (containers): still say where it came from
        return f"uid {os.getuid()}@{socket.gethostname()}"[:200]


def clean_name(name) -> str:
    """The name as stored: NFC, trimmed; refused when empty, too long or with control
    characters (a clear message, never a crash)."""
    s = unicodedata.normalize("NFC", str(name if name is not None else "")).strip()
    if not s:
        raise UserDBError("a saved item needs a name")
    if any(unicodedata.category(ch) == "Cc" for ch in s):
        raise UserDBError(f"name {s!r} contains control characters")
    if len(s) > MAX_NAME:
        raise UserDBError(f"name '{s[:40]}…' is longer than {MAX_NAME} characters")
    return s


def _kind(kind: str) -> str:
    if kind not in KINDS:
        raise UserDBError(f"unknown kind '{kind}' (one of {', '.join(KINDS)})")
    return kind


def _bytes(content) -> bytes:
    if isinstance(content, str):
        content = content.encode("utf-8")
    if not isinstance(content, (bytes, bytearray, memoryview)):
        raise UserDBError(f"content must be bytes or text, not {type(content).__name__}")
    b = bytes(content)
    if len(b) > MAX_CONTENT:
        raise UserDBError(f"content of {len(b):,} bytes is over the {MAX_CONTENT // 2**20} MB limit")
    return b


def _retryable(e: Exception) -> bool:
    if isinstance(e, sa.exc.IntegrityError):
        return True                          # lost a race on a unique constraint
    if isinstance(e, sa.exc.OperationalError):
        code = getattr(getattr(e, "orig", None), "sqlstate", None)
        text = str(getattr(e, "orig", e)).lower()
        return code in ("40001", "40P01", "55P03") or "locked" in text or "busy" in text
    return False


def database_url(url: str | None = None) -> str:
    """The store's SQLAlchemy URL: `url`, else LSC_DATABASE_URL, else the SQLite file."""
    url = url or os.environ.get("LSC_DATABASE_URL") or ""
    if not url:
        from geo.paths import user_data_dir
        return f"sqlite:///{user_data_dir() / DB_FILE}"
    for old in ("postgres://", "postgresql://"):
        if url.startswith(old):
            return "postgresql+psycopg://" + url[len(old):]
    return url


def redacted(url: str) -> str:
    """The URL with any password hidden (for messages and the migration marker)."""
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "(unparsable URL)"


# --- the store -------------------------------------------------------------------------

class UserDB:
    """One store (SQLite file or PostgreSQL database). Thread- and process-safe."""

    def __init__(self, url: str | None = None):
        self.url = database_url(url)
        self.is_sqlite = self.url.startswith("sqlite")
        try:
            self.engine = self._engine()
            self._create_schema()
        except UserDBError as e:
            cause = e.__cause__
            raise UserDBError(f"cannot open the user-data store {redacted(self.url)}: "
                              f"{getattr(cause, 'orig', None) or cause or e}") from e
        except sa.exc.SQLAlchemyError as e:
            raise UserDBError(f"cannot open the user-data store {redacted(self.url)}: {e.orig or e}") from e
        except OSError as e:
            raise UserDBError(f"cannot open the user-data store {redacted(self.url)}: {e.strerror} "
                              f"({e.filename}); set LSC_USER_DATA_DIR to a writable folder") from e

    def __repr__(self) -> str:
        return f"UserDB({redacted(self.url)!r})"

    @property
    def location(self) -> str:
        return redacted(self.url)

    def _engine(self) -> sa.Engine:
        if not self.is_sqlite:
            return sa.create_engine(self.url, pool_pre_ping=True, pool_size=2, max_overflow=4)
        path = sa.engine.make_url(self.url).database
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        eng = sa.create_engine(self.url, connect_args={"timeout": 30, "check_same_thread": False})

        @sa.event.listens_for(eng, "connect")
        def _on_connect(dbapi_conn, _rec):
            dbapi_conn.isolation_level = None          # we issue BEGIN ourselves
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA busy_timeout=30000")
            for _ in range(100):                       # switching to WAL needs a moment alone
                try:
                    cur.execute("PRAGMA journal_mode=WAL")
                    break
                except Exception:
                    time.sleep(0.05)
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        @sa.event.listens_for(eng, "begin")
        def _on_begin(conn):
            write = conn.get_execution_options().get("userdb_write")
            conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")
        return eng

    def _create_schema(self) -> None:
        def create(conn):
            if not self.is_sqlite:      # CREATE TABLE is not safe against itself on PostgreSQL
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(741852963)"))
            _md.create_all(conn, checkfirst=True)
        self._write(create)

    def _write(self, fn):
        """Run fn(conn) in one write transaction, retried on races and lock timeouts."""
        delay = 0.005
        for attempt in range(RETRIES):
            try:
                with self.engine.connect() as conn:
                    conn.execution_options(userdb_write=True)
                    with conn.begin():
                        return fn(conn)
            except (sa.exc.IntegrityError, sa.exc.OperationalError) as e:
                if attempt == RETRIES - 1 or not _retryable(e):
                    raise self._error("could not save", e) from e
                time.sleep(delay * random.uniform(0.5, 1.5))
                delay = min(delay * 2, 0.5)
            except sa.exc.SQLAlchemyError as e:
                raise self._error("could not save", e) from e

    def _read(self, fn):
        try:
            with self.engine.connect() as conn, conn.begin():
                return fn(conn)
        except sa.exc.SQLAlchemyError as e:
            raise self._error("could not read", e) from e

    def _error(self, what: str, e: Exception) -> UserDBError:
        return UserDBError(f"user-data store {redacted(self.url)}: {what} ({getattr(e, 'orig', None) or e}); "
                           f"nothing saved before was changed")

    # ---------------------------------------------------------------- writes
    def save(self, kind: str, name: str, content, *, created_by: str | None = None,
             source_file: str | None = None, rows: int | None = None, meta: dict | None = None) -> Saved:
        kind, name, data = _kind(kind), clean_name(name), _bytes(content)
        sha = hashlib.sha256(data).hexdigest()
        by = (created_by or default_user())[:200]
        meta = dict(meta or {})

        def tx(conn):
            item = self._item(conn, kind, name, lock=True)
            now = _now()
            if item is None:
                item_id = conn.execute(items.insert().values(
                    kind=kind, name=name, created_at=now, created_by=by)).inserted_primary_key[0]
                removed = False
            else:
                item_id, removed = item.id, item.removed_at is not None
            cur = conn.execute(sa.select(versions.c.version, versions.c.sha256)
                               .where(versions.c.item_id == item_id)
                               .order_by(versions.c.version.desc()).limit(1)).first()
            if removed:
                conn.execute(items.update().where(items.c.id == item_id).values(removed_at=None, removed_by=None))
            if cur is not None and cur.sha256 == sha:
                if removed:
                    self._event(conn, item_id, "restore", cur.version, by, now)
                return Saved(kind, name, cur.version, sha, False, cur.version, removed)
            n = (cur.version if cur else 0) + 1
            conn.execute(versions.insert().values(
                item_id=item_id, version=n, content=data, sha256=sha, size=len(data), created_at=now,
                created_by=by, source_file=source_file, rows=rows, meta=meta))
            self._event(conn, item_id, "save", n, by, now)
            return Saved(kind, name, n, sha, True, cur.version if cur else None, removed)

        return self._write(tx)

    def remove(self, kind: str, name: str, *, by: str | None = None) -> Entry:
        return self._set_removed(kind, name, by, remove=True)

    def restore(self, kind: str, name: str, *, by: str | None = None) -> Entry:
        return self._set_removed(kind, name, by, remove=False)

    def _set_removed(self, kind, name, by, *, remove: bool) -> Entry:
        kind, name, by = _kind(kind), clean_name(name), (by or default_user())[:200]

        def tx(conn):
            item = self._item(conn, kind, name, lock=True)
            if item is None:
                raise NotFound(f"no saved {kind} named '{name}'")
            if (item.removed_at is not None) != remove:        # not already in that state
                now = _now()
                conn.execute(items.update().where(items.c.id == item.id).values(
                    removed_at=now if remove else None, removed_by=by if remove else None))
                self._event(conn, item.id, "remove" if remove else "restore", None, by, now)
        self._write(tx)
        return self._entries(kind, name, removed=True)[0]

    @staticmethod
    def _event(conn, item_id, action, number, by, at) -> None:
        conn.execute(events.insert().values(item_id=item_id, action=action, version=number, by=by, at=at))

    @staticmethod
    def _item(conn, kind, name, *, lock=False):
        q = sa.select(items).where(items.c.kind == kind, items.c.name == name)
        return conn.execute(q.with_for_update() if lock else q).first()

    # ---------------------------------------------------------------- reads
    def current(self, kind: str, name: str) -> Version | None:
        kind, name = _kind(kind), clean_name(name)

        def tx(conn):
            item = self._item(conn, kind, name)
            if item is None or item.removed_at is not None:
                return None
            row = conn.execute(sa.select(versions).where(versions.c.item_id == item.id)
                               .order_by(versions.c.version.desc()).limit(1)).first()
            return _version(kind, name, row, content=True) if row else None
        return self._read(tx)

    def version(self, kind: str, name: str, number: int) -> Version:
        kind, name = _kind(kind), clean_name(name)

        def tx(conn):
            item = self._item(conn, kind, name)
            row = None if item is None else conn.execute(sa.select(versions).where(
                versions.c.item_id == item.id, versions.c.version == int(number))).first()
            if row is None:
                raise NotFound(f"no version {number} of saved {kind} '{name}'")
            return _version(kind, name, row, content=True)
        return self._read(tx)

    def history(self, kind: str, name: str) -> list[Version]:
        kind, name = _kind(kind), clean_name(name)
        cols = [c for c in versions.c if c.name != "content"]

        def tx(conn):
            item = self._item(conn, kind, name)
            if item is None:
                raise NotFound(f"no saved {kind} named '{name}'")
            rows = conn.execute(sa.select(*cols).where(versions.c.item_id == item.id)
                                .order_by(versions.c.version)).all()
            return [_version(kind, name, r, content=False) for r in rows]
        return self._read(tx)

    def list(self, kind: str | None = None, *, removed: bool = False) -> list[Entry]:
        """The current version of every item (of `kind`), by kind then name; removed items
        only when `removed` is true."""
        return self._entries(None if kind is None else _kind(kind), None, removed=removed)

    def _entries(self, kind, name, *, removed) -> list[Entry]:
        last = (sa.select(versions.c.item_id, sa.func.max(versions.c.version).label("v"),
                          sa.func.count().label("n")).group_by(versions.c.item_id).subquery())
        v = versions
        q = (sa.select(items.c.kind, items.c.name, items.c.removed_at, items.c.removed_by, last.c.n,
                       v.c.version, v.c.sha256, v.c.size, v.c.created_at, v.c.created_by, v.c.source_file,
                       v.c.rows, v.c.meta)
             .join(last, last.c.item_id == items.c.id)
             .join(v, sa.and_(v.c.item_id == items.c.id, v.c.version == last.c.v))
             .order_by(items.c.kind, items.c.name))
        if kind is not None:
            q = q.where(items.c.kind == kind)
        if name is not None:
            q = q.where(items.c.name == name)
        if not removed:
            q = q.where(items.c.removed_at.is_(None))
        rows = self._read(lambda conn: conn.execute(q).all())
        return [Entry(r.kind, r.name, r.version, r.n, r.sha256, r.size, _aware(r.created_at), r.created_by,
                      r.source_file, r.rows, dict(r.meta or {}), _aware(r.removed_at), r.removed_by)
                for r in rows]

    def generation(self) -> int:
        """A number that grows with every save, removal and restore (0 when empty)."""
        return int(self._read(lambda c: c.execute(sa.select(sa.func.max(events.c.id))).scalar()) or 0)

    # ---------------------------------------------------------------- migration
    def migrate(self, user_dir: str | os.PathLike | None = None) -> list[Migrated]:
        """Import the files the app wrote under the user-data folder before this store
        existed (once per file content; originals left in place; marker written)."""
        from geo.userdb_migrate import migrate
        return migrate(self, user_dir)


def _version(kind, name, r, *, content: bool) -> Version:
    return Version(kind, name, r.version, r.sha256, r.size, _aware(r.created_at), r.created_by, r.source_file,
                   r.rows, dict(r.meta or {}), bytes(r.content) if content else None)


# --- the default store -----------------------------------------------------------------

_STORES: dict[tuple, UserDB] = {}
_MIGRATED: set[tuple] = set()
_LOCK = threading.Lock()


def open_store(url: str | None = None, *, migrate: bool = True) -> UserDB:
    """The store for `url` (default: LSC_DATABASE_URL or the SQLite file in the
    user-data folder), one per process; the default store imports legacy files once."""
    from geo.paths import user_data_dir
    real = database_url(url)
    key = (real, os.getpid())
    with _LOCK:
        db = _STORES.get(key)
        if db is None:
            db = _STORES[key] = UserDB(real)
    mkey = (real, str(user_data_dir()), os.getpid())
    if migrate and url is None and mkey not in _MIGRATED:
        db.migrate()
        _MIGRATED.add(mkey)
    return db


def save(kind, name, content, **kw) -> Saved:
    return open_store().save(kind, name, content, **kw)


def current(kind, name) -> Version | None:
    return open_store().current(kind, name)


def version(kind, name, number) -> Version:
    return open_store().version(kind, name, number)


def remove(kind, name, *, by=None) -> Entry:
    return open_store().remove(kind, name, by=by)


def restore(kind, name, *, by=None) -> Entry:
    return open_store().restore(kind, name, by=by)


def history(kind, name) -> list[Version]:
    return open_store().history(kind, name)


def generation() -> int:
    return open_store().generation()


def migrate(user_dir=None) -> list[Migrated]:
    return open_store(migrate=False).migrate(user_dir)


def list(kind=None, *, removed=False):   # noqa: A001 - the public name asked for; builtin unused below
    return open_store().list(kind, removed=removed)
