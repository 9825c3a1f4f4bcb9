"""The version check both private-API modules share (layers/_st_private.py,
layers/_folium_private.py): is the installed library one the module was written for, and
if not, one warning (or an error under $LSC_STRICT_PRIVATE_API=1)."""
from __future__ import annotations

import os


def version_tuple(v: str) -> tuple[int, ...]:
    out = []
    for part in v.split(".")[:2]:
        digits = "".join(ch for ch in part if ch.isdigit())
        out.append(int(digits or 0))
    return tuple(out)


def installed_version(library: str) -> str:
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version(library)
    except PackageNotFoundError:
        return "not installed"


def check(library: str, version: str, written_for: tuple, module: str, fallback: str, warned: bool, log) -> tuple[bool, bool]:
    """(ok, warned now): ok when `version` is in `written_for` [from, to); otherwise the
    message names `module` and what the app does instead (`fallback`), raised under
    $LSC_STRICT_PRIVATE_API=1, else logged once (`warned`: already said)."""
    lo, hi = written_for
    ok = version != "not installed" and lo <= version_tuple(version) < hi
    if not ok:
        msg = (f"{library} {version} is installed, but {module} was written for "
               f"{'.'.join(map(str, lo))}.x (requirements.txt): {fallback}. Check each function "
               "there against the new version, then widen WRITTEN_FOR.")
        if os.environ.get("LSC_STRICT_PRIVATE_API") == "1":
            raise RuntimeError(msg)
        if not warned:
            log.warning(msg)
        warned = True
    return ok, warned
