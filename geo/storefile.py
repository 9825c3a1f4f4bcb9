"""Writing the built store safely, and telling when it is damaged.

- Every table's sha256 and size go into the manifest; `damaged(dest)` checks them, so
  `python -m geo build --if-stale` (what `make store` runs) rebuilds a store whose files
  were truncated, edited or deleted, which is what the app's advice "run make store"
  promises.
- The new store is written into a temp folder beside it and swapped in with one atomic
  exchange of the two folders (Linux renameat2 RENAME_EXCHANGE): there is no moment
  without a store for a running app or CLI to find. Where the exchange is not available
  the old two-rename swap is used (a gap of one rename).
- Builds take a lock beside the store (one build at a time); under it, leftovers of
  builds that died (`store.tmp-*`, `store.old-*`) are removed.
- A full disk (or any write error) is one line naming the folder and the free space; the
  previous store is left as it was and no partial folder stays behind.
"""
from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import fcntl
import hashlib
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

from geo.errors import GeoError

RENAME_EXCHANGE = 2
_AT_FDCWD = -100


class StoreWriteError(GeoError):
    """The store could not be written (disk full, permissions): the old one is kept."""


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for b in iter(lambda: f.read(chunk), b""):
            h.update(b)
    return h.hexdigest()


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two existing paths (Linux); False where unsupported."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    if fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, getattr(errno, "ENOTSUP", errno.EINVAL)):
        return False
    raise OSError(err, os.strerror(err), str(a))


def swap_in(tmp: Path, dest: Path) -> None:
    """Make the folder `tmp` the store at `dest`; the old store is removed afterwards."""
    if dest.exists() and _exchange(tmp, dest):
        shutil.rmtree(tmp, ignore_errors=True)          # tmp now holds the old store
        return
    old = None
    if dest.exists():
        old = dest.parent / f"{dest.name}.old-{int(time.time() * 1000)}"
        dest.rename(old)
    tmp.rename(dest)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


@contextlib.contextmanager
def build_lock(dest: Path):
    """One build at a time per store folder (an flock on the folder holding it: no lock
    file left behind); leftovers of dead builds are removed under it."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(dest.parent, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        for p in list(dest.parent.glob(f"{dest.name}.tmp-*")) + list(dest.parent.glob(f"{dest.name}.old-*")):
            shutil.rmtree(p, ignore_errors=True)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _free_mb(folder: Path) -> str:
    try:
        return f"{shutil.disk_usage(folder).free / 1e6:,.0f} MB free"
    except OSError:
        return "free space unknown"


def write_store(tables: dict, dest: Path, manifest: dict) -> None:
    """Write every table (Parquet, zstd) and the manifest with per-table sha256 into a
    temp folder beside `dest`, then swap it in atomically."""
    dest = Path(dest)
    with build_lock(dest):
        tmp = Path(tempfile.mkdtemp(prefix=dest.name + ".tmp-", dir=dest.parent))
        try:
            for name, df in tables.items():
                f = tmp / f"{name}.parquet"
                df.to_parquet(f, index=False, compression="zstd")
                manifest.setdefault("tables", {})[name] = {"rows": int(len(df)), "bytes": f.stat().st_size,
                                                           "sha256": sha256_file(f)}
            (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str))
            swap_in(tmp, dest)
        except OSError as e:
            shutil.rmtree(tmp, ignore_errors=True)
            why = "the disk is full" if e.errno in (errno.ENOSPC, errno.EDQUOT) else (e.strerror or str(e))
            raise StoreWriteError(f"cannot write the store in {dest.parent} ({why}; {_free_mb(dest.parent)}): "
                                  f"the previous store is unchanged") from None
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise


def damaged(dest: Path, manifest: dict) -> str | None:
    """The first table that is missing, resized or changed since it was written, or None."""
    tables = manifest.get("tables") or {}
    if not tables:
        return "manifest lists no tables"
    for name, info in tables.items():
        f = Path(dest) / f"{name}.parquet"
        if not f.exists():
            return f"table {name} missing"
        if "bytes" in info and f.stat().st_size != info["bytes"]:
            return f"table {name} changed size (corrupt or truncated)"
        if "sha256" not in info:
            return f"table {name} has no checksum (store written by an older build)"
        if sha256_file(f) != info["sha256"]:
            return f"table {name} changed since it was written (checksum differs)"
    return None
