"""Where things live. Every path can be overridden by an environment variable."""
from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONFIG_DIR = ROOT / "config"


def source_dir(override: str | os.PathLike | None = None) -> Path:
    """Folder holding the raw open data (default ../shared/data)."""
    if override:
        return Path(override).expanduser().resolve()
    env = os.environ.get("LSC_DATA_DIR")
    if env:
        p = Path(env).expanduser()
        return (p if p.is_absolute() else (ROOT / p)).resolve()
    return (ROOT.parent / "shared" / "data").resolve()


def store_dir(override: str | os.PathLike | None = None) -> Path:
    """Folder of the built store (git-ignored)."""
    if override:
        return Path(override).expanduser().resolve()
    env = os.environ.get("LSC_STORE_DIR")
    if env:
        return Path(env).expanduser().resolve()
    return ROOT / "data" / "store"


def user_data_dir() -> Path:
    """Folder for data the user saves from the app; never touched by a build."""
    env = os.environ.get("LSC_USER_DATA_DIR")
    return Path(env).expanduser().resolve() if env else ROOT / "data" / "user"
